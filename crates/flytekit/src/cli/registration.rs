//! What a registering command (`serialize`, `package`, `build`, `register`) is told: the
//! registration flags (project, domain, version, images, binary, environment) and the
//! serialization settings they make, with `--image` ImageSpec files replaced by their images.

use std::collections::BTreeMap;

use crate::image::{ImageBuildEngine, ImageSpec, spec_file};
use crate::settings::{FastSerializationSettings, SerializationSettings};

/// Where and how entities are registered: shared by `serialize`, `package` and `build`.
///
/// Without `-p`, `-d` or `--version`, every identifier is written with that part empty, as
/// `pyflyte package` and `pyflyte serialize` write them, so that the registrar decides:
/// `flytectl register files` fills empty parts from its own `-p`, `-d` and `--version`
/// ([`super::registrar`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RegistrationArgs {
    /// Flyte project written into every identifier. Default: empty (flytectl's `-p` decides).
    #[arg(long, short = 'p')]
    pub project: Option<String>,
    /// Flyte domain written into every identifier. Default: empty (flytectl's `-d` decides).
    #[arg(long, short = 'd')]
    pub domain: Option<String>,
    /// Version written into every identifier. Default: empty (flytectl's `--version` decides);
    /// the content version (a hash of what is shipped) is printed with the command to register
    /// under it.
    #[arg(long, short = 'v')]
    pub version: Option<String>,
    /// Write the content version into every identifier (flytectl then keeps it and ignores its
    /// own `--version` unless given `--force`).
    #[arg(long, conflicts_with = "version")]
    pub content_version: bool,
    /// Images: `uri` (the default image) or `name=uri`, repeatable; tasks without an image use
    /// the default (also taken from `FLYTE_INTERNAL_IMAGE`).
    #[arg(long, short = 'i', value_name = "[NAME=]URI")]
    pub image: Vec<String>,
    /// The binary's name or path inside the image (default: this binary's file name).
    #[arg(long, value_name = "PATH")]
    pub binary: Option<String>,
    /// Environment for every task, `KEY=VALUE`, repeatable (before each task's own).
    #[arg(long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
}

impl RegistrationArgs {
    /// The serialization settings these arguments describe; the version is `--version` or empty
    /// (see [`serialize_versioned`](super::serialize::serialize_versioned) for the content
    /// version).
    pub fn settings(&self) -> Result<SerializationSettings, String> {
        let image_config = crate::image::ImageConfig::from_cli_values(&self.image, "image")
            .map_err(|e| e.to_string())?;
        let mut env = Vec::new();
        for kv in &self.env {
            let (k, v) = kv
                .split_once('=')
                .ok_or_else(|| format!("--env {kv}: expected KEY=VALUE"))?;
            env.push((k.to_string(), v.to_string()));
        }
        if self.version.as_deref() == Some("") {
            return Err(
                "--version is empty; give a version, or leave it out for the registrar to choose"
                    .into(),
            );
        }
        let mut s = SerializationSettings::new(
            self.project.as_deref().unwrap_or_default(),
            self.domain.as_deref().unwrap_or_default(),
            self.version.as_deref().unwrap_or_default(),
        )
        .with_image_config(image_config);
        s.env = env;
        if let Some(b) = &self.binary {
            s.binary = b.clone();
        }
        Ok(s)
    }

    /// How the version of the identifiers is chosen.
    pub fn versioning(&self) -> Versioning {
        match (&self.version, self.content_version) {
            (Some(v), _) => Versioning::Given(v.clone()),
            (None, true) => Versioning::ContentWritten,
            (None, false) => Versioning::ContentPrinted,
        }
    }
}

/// How the version of a registration's identifiers is chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Versioning {
    /// `--version`: written into every identifier.
    Given(String),
    /// The default of `serialize`/`package`: identifiers carry no version (the registrar's
    /// `--version` decides); the content version is computed and printed for the registration
    /// command.
    ContentPrinted,
    /// `--content-version`, and `register` without `--version` (it is the registrar): the
    /// content version is written into every identifier.
    ContentWritten,
}

/// The images of `--image` values that are ImageSpec YAML files, by image name.
#[derive(Debug, Clone, Default)]
pub struct SpecImages {
    specs: BTreeMap<String, ImageSpec>,
}

impl SpecImages {
    /// The spec that makes the image `name`, if one does.
    pub fn get(&self, name: &str) -> Option<&ImageSpec> {
        self.specs.get(name)
    }
}

/// The serialization settings of `package` for these arguments (with fast registration
/// unpacking to `fast_dest` when given), `--image` spec files replaced by their image names.
pub(crate) fn registration_settings(
    reg: &RegistrationArgs,
    fast_dest: Option<&str>,
) -> Result<(SerializationSettings, SpecImages), String> {
    let mut reg = reg.clone();
    let binary = reg
        .binary
        .clone()
        .unwrap_or_else(crate::settings::current_binary_name);
    let mut specs = SpecImages::default();
    for value in reg.image.iter_mut() {
        let (name, file) = match value.split_once('=') {
            Some((n, f)) if spec_file::is_spec_file(f) => (Some(n.to_string()), f.to_string()),
            _ if spec_file::is_spec_file(value) => (None, value.clone()),
            _ => continue,
        };
        let spec = spec_file::load(std::path::Path::new(&file))
            .and_then(|s| spec_file::with_default_binary(s, &binary))
            .map_err(|e| format!("--image {file}: {e}"))?;
        let mode = spec.binary_copy_for(fast_dest.is_some());
        let spec = spec.with_binary_copy(mode);
        let image = ImageBuildEngine::global()
            .image_name(&spec)
            .map_err(|e| format!("--image {file}: {e}"))?;
        *value = match name {
            Some(n) => format!("{n}={image}"),
            None => image.clone(),
        };
        specs.specs.insert(image, spec);
    }
    let mut settings = reg.settings()?;
    if let Some(dest) = fast_dest {
        settings.fast = Some(FastSerializationSettings {
            destination_dir: Some(dest.to_string()),
            distribution_location: None,
        });
    }
    Ok((settings, specs))
}
