//! An [`ImageSpec`] in a YAML file, for the command line: `--image spec.yaml` (or
//! `--image NAME=spec.yaml`) makes the spec the default (or named) image of `build`, `package`,
//! `serialize` and `run --sandbox --in-image`, as flytekit's `--image image_spec.yaml` does.
//!
//! ```yaml
//! name: my-tasks
//! registry: ghcr.io/acme
//! base_image: gcr.io/distroless/cc-debian12
//! env: {RUST_LOG: info}
//! copy:
//!   - {src: config/prod.toml, dest: /etc/my-tasks/prod.toml}
//!   - data/lookup.csv          # to <workdir>/data/lookup.csv
//! ```
//!
//! The fields are [`ImageSpec`]'s (`name`, `registry`, `base_image`, `platform`, `env`, `copy`,
//! `entrypoint`, `workdir`, `tag_format`, `builder`, `apt_packages`, `commands`, `binary`,
//! `binary_copy`, `insecure_registry`); unknown fields are an error. Relative source paths are
//! relative to the YAML file. Without `binary`, the image ships the running binary at
//! `/usr/local/bin/<name>`, the name the container args start (see [`with_default_binary`]).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ImageError;
use super::spec::{BaseImage, BinaryCopy, CopyEntry, DEFAULT_BINARY_DIR, ImageSpec};

/// Whether a `--image` value names an ImageSpec YAML file (an existing `.yaml`/`.yml` file).
pub fn is_spec_file(value: &str) -> bool {
    (value.ends_with(".yaml") || value.ends_with(".yml")) && Path::new(value).is_file()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecFile {
    name: Option<String>,
    registry: Option<String>,
    base_image: Option<String>,
    platform: Option<String>,
    #[serde(default)]
    apt_packages: Vec<String>,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    copy: Vec<CopyItem>,
    #[serde(default)]
    commands: Vec<String>,
    entrypoint: Option<Vec<String>>,
    workdir: Option<String>,
    tag_format: Option<String>,
    builder: Option<String>,
    binary: Option<CopyItem>,
    binary_copy: Option<BinaryCopy>,
    #[serde(default)]
    insecure_registry: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CopyItem {
    /// `path`: to the same relative path under the working directory.
    Path(String),
    /// `{src, dest}`.
    Entry { src: String, dest: String },
}

/// Reads the ImageSpec in the YAML file `path`.
pub fn load(path: &Path) -> Result<ImageSpec, ImageError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file: SpecFile = serde_yaml::from_str(&text).map_err(|e| {
        ImageError::Spec(format!(
            "{} is not an ImageSpec YAML file: {e}",
            path.display()
        ))
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let local = |p: &str| -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    let mut spec = ImageSpec::new(file.name.unwrap_or_else(|| "flytekit".into()));
    spec.registry = file.registry.map(|r| r.to_lowercase());
    spec.base_image = file.base_image.map(BaseImage::Name);
    if let Some(p) = file.platform {
        spec.platform = p;
    }
    spec.apt_packages = file.apt_packages;
    spec.env = file.env;
    spec.copy = file
        .copy
        .into_iter()
        .map(|c| match c {
            CopyItem::Path(p) => CopyEntry {
                src: local(&p),
                dest: p,
            },
            CopyItem::Entry { src, dest } => CopyEntry {
                src: local(&src),
                dest,
            },
        })
        .collect();
    spec.commands = file.commands;
    spec.entrypoint = file.entrypoint;
    spec.workdir = file.workdir;
    spec.tag_format = file.tag_format;
    spec.builder = file.builder;
    spec.binary = file.binary.map(|b| match b {
        CopyItem::Path(p) => {
            let name = Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            CopyEntry {
                src: local(&p),
                dest: format!("{DEFAULT_BINARY_DIR}/{name}"),
            }
        }
        CopyItem::Entry { src, dest } => CopyEntry {
            src: local(&src),
            dest,
        },
    });
    spec.binary_copy = file.binary_copy;
    spec.insecure_registry = file.insecure_registry;
    spec.validate()?;
    Ok(spec)
}

/// `spec` shipping the running binary when it names none: at `binary` when that is an absolute
/// path (the `--binary` of the registration), else at `/usr/local/bin/<binary>`, where the
/// container runtime finds the bare name the container args start with.
pub fn with_default_binary(spec: ImageSpec, binary: &str) -> Result<ImageSpec, ImageError> {
    if spec.binary.is_some() {
        return Ok(spec);
    }
    let exe = std::env::current_exe().map_err(|source| ImageError::Io {
        path: PathBuf::from("/proc/self/exe"),
        source,
    })?;
    let dest = if binary.starts_with('/') {
        binary.to_string()
    } else {
        let name = Path::new(binary)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| binary.to_string());
        format!("{DEFAULT_BINARY_DIR}/{name}")
    };
    Ok(spec.with_binary_at(exe, dest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_specs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spec.yaml");
        std::fs::write(
            &path,
            "name: Tasks\nregistry: localhost:5000/acme\nbase_image: localhost:5000/base:1\n\
             env: {A: '1'}\ncopy:\n  - data/x.csv\n  - {src: /etc/hostname, dest: /etc/h}\n",
        )
        .unwrap();
        assert!(is_spec_file(path.to_str().unwrap()));
        assert!(!is_spec_file("ghcr.io/acme/x:1"));
        let spec = load(&path).unwrap();
        assert_eq!(spec.name, "tasks");
        assert_eq!(spec.registry.as_deref(), Some("localhost:5000/acme"));
        assert_eq!(spec.env["A"], "1");
        assert_eq!(spec.copy[0].src, dir.path().join("data/x.csv"));
        assert_eq!(spec.copy[0].dest, "data/x.csv");
        assert_eq!(spec.copy[1].dest, "/etc/h");
        let spec = with_default_binary(spec, "quickstart").unwrap();
        assert_eq!(
            spec.binary.as_ref().unwrap().dest,
            "/usr/local/bin/quickstart"
        );
        std::fs::write(&path, "name: x\nregistyr: typo\n").unwrap();
        let e = load(&path).unwrap_err().to_string();
        assert!(e.contains("spec.yaml") && e.contains("registyr"), "{e}");
    }
}
