//! [`Image`], [`ImageConfig`] and container-image placeholders, as in flytekit
//! (`flytekit/configuration/__init__.py`, `python_auto_container.py`; contract §5.1–5.2).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::ImageError;

/// Name of the default image (`DEFAULT_IMAGE_NAME`).
pub const DEFAULT_IMAGE_NAME: &str = "default";
/// Environment variable that names the default image (`FLYTE_INTERNAL_IMAGE`).
pub const FLYTE_INTERNAL_IMAGE_ENV: &str = "FLYTE_INTERNAL_IMAGE";

/// A named container image: `fqn` plus an optional tag or digest (never both).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Image {
    /// The friendly name placeholders refer to (`default`, or a name from the config).
    pub name: String,
    /// Fully qualified name without tag or digest, e.g. `ghcr.io/org/img`.
    pub fqn: String,
    /// The tag, e.g. `v1`.
    pub tag: Option<String>,
    /// The digest, e.g. `sha256:abcd…`.
    pub digest: Option<String>,
}

impl Image {
    /// An image; giving both a tag and a digest is an error (flytekit's message).
    pub fn new(
        name: impl Into<String>,
        fqn: impl Into<String>,
        tag: Option<String>,
        digest: Option<String>,
    ) -> Result<Image, ImageError> {
        if let (Some(tag), Some(digest)) = (&tag, &digest) {
            return Err(ImageError::Config(format!(
                "Cannot specify both tag and digest. Got tag={tag} and digest={digest}"
            )));
        }
        Ok(Image {
            name: name.into(),
            fqn: fqn.into(),
            tag,
            digest,
        })
    }

    /// `fqn@digest` with a digest, else `fqn:tag`.
    ///
    /// Like flytekit, an image with neither renders its missing tag as `None` (`fqn:None`);
    /// [`Image::look_up_image_info`] only admits such images from config-file `[images]` entries.
    pub fn full(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => format!("{}@{digest}", self.fqn),
            (None, Some(tag)) => format!("{}:{tag}", self.fqn),
            (None, None) => format!("{}:None", self.fqn),
        }
    }

    /// The digest, else the tag.
    pub fn version(&self) -> Option<&str> {
        self.digest.as_deref().or(self.tag.as_deref())
    }

    /// Parses `identifier` into an image called `name` (flytekit's `Image.look_up_image_info`).
    /// Without a tag or digest this is an error unless `allow_no_tag_or_digest`.
    ///
    /// flytekit also accepts the path of an ImageSpec YAML file here and builds it; Rust image
    /// specs are code, so an identifier is always an image reference.
    pub fn look_up_image_info(
        name: &str,
        identifier: &str,
        allow_no_tag_or_digest: bool,
    ) -> Result<Image, ImageError> {
        let (fqn, tag, digest) = parse_image_identifier(identifier);
        if !allow_no_tag_or_digest && tag.is_none() && digest.is_none() {
            return Err(ImageError::Config(format!(
                "Incorrectly formatted image {identifier}, missing tag or digest"
            )));
        }
        Image::new(name, fqn, tag, digest)
    }
}

/// Splits an image identifier into `(fqn, tag, digest)` exactly like flytekit's
/// `_parse_image_identifier`: the last `@` starts a digest; otherwise the last `:` starts a tag
/// when what follows it has no `/` (so `localhost:5000/img` has no tag).
pub fn parse_image_identifier(identifier: &str) -> (String, Option<String>, Option<String>) {
    if let Some((fqn, digest)) = identifier.rsplit_once('@') {
        return (fqn.to_string(), None, Some(digest.to_string()));
    }
    match identifier.rsplit_once(':') {
        Some((fqn, tag)) if !tag.contains('/') => {
            return (fqn.to_string(), Some(tag.to_string()), None);
        }
        _ => {}
    }
    (identifier.to_string(), None, None)
}

/// The images available at registration: a default and named others (flytekit's `ImageConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    /// The image used when a task names none, and for `{{.image.default…}}`.
    pub default_image: Option<Image>,
    /// All images, **the default first** when there is one (as flytekit's `create_from`).
    pub images: Vec<Image>,
}

impl ImageConfig {
    /// A config with `default` (also put first in `images`) and `others`.
    pub fn create_from(default: Option<Image>, others: Vec<Image>) -> ImageConfig {
        let mut images: Vec<Image> = default.iter().cloned().collect();
        images.extend(others);
        ImageConfig {
            default_image: default,
            images,
        }
    }

    /// The default image plus `{name: identifier}` others (flytekit's `from_images`); the others
    /// need no tag.
    pub fn from_images<'a>(
        default: Option<&str>,
        others: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ImageConfig, ImageError> {
        let default = default
            .filter(|d| !d.is_empty())
            .map(|d| Image::look_up_image_info(DEFAULT_IMAGE_NAME, d, false))
            .transpose()?;
        let others = others
            .into_iter()
            .map(|(name, id)| Image::look_up_image_info(name, id, true))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ImageConfig::create_from(default, others))
    }

    /// The first image called `name`, searching the default first.
    pub fn find_image(&self, name: &str) -> Option<&Image> {
        self.default_image
            .iter()
            .chain(self.images.iter())
            .find(|i| i.name == name)
    }

    /// Parses repeated `--image` values (flytekit's `ImageConfig.validate_image`): `name=uri`, or
    /// a bare `uri` meaning `default`. Each needs a tag or digest. A second default is an error.
    /// With no default given, [`default_image`] (`FLYTE_INTERNAL_IMAGE`) is used when set.
    ///
    /// `param` names the option in the error message (flytekit passes `image`).
    pub fn from_cli_values<S: AsRef<str>>(
        values: &[S],
        param: &str,
    ) -> Result<ImageConfig, ImageError> {
        Self::from_cli_values_with(values, param, default_image())
    }

    /// [`from_cli_values`](Self::from_cli_values) with an explicit fallback default instead of
    /// reading the environment.
    pub fn from_cli_values_with<S: AsRef<str>>(
        values: &[S],
        param: &str,
        fallback_default: Option<String>,
    ) -> Result<ImageConfig, ImageError> {
        let mut default: Option<Image> = None;
        let mut images = Vec::new();
        for value in values {
            let value = value.as_ref();
            let img = match value.split_once('=') {
                Some((name, uri)) => Image::look_up_image_info(name, uri, false)?,
                None => Image::look_up_image_info(DEFAULT_IMAGE_NAME, value, false)?,
            };
            if img.name == DEFAULT_IMAGE_NAME {
                if let Some(previous) = &default {
                    return Err(ImageError::Config(format!(
                        "Only one default image can be specified. Received multiple {} & {} for {param}",
                        py_repr(previous),
                        py_repr(&img)
                    )));
                }
                default = Some(img);
            } else {
                images.push(img);
            }
        }
        if default.is_none()
            && let Some(fallback) = fallback_default.filter(|f| !f.is_empty())
        {
            default = Some(Image::look_up_image_info(
                DEFAULT_IMAGE_NAME,
                &fallback,
                false,
            )?);
        }
        Ok(ImageConfig::create_from(default, images))
    }

    /// flytekit's `ImageConfig.auto(config_file, img_name)`: the default comes from `img_name`
    /// only; named images come from the config file's INI `[images]` section or YAML `images:`
    /// map (no tag required). With `config_file` `None` the file is found as flytekit does
    /// ([`find_config_file`]); no file means no named images.
    pub fn auto(config_file: Option<&Path>, img_name: Option<&str>) -> Result<Self, ImageError> {
        let default = img_name
            .filter(|n| !n.is_empty())
            .map(|n| Image::look_up_image_info(DEFAULT_IMAGE_NAME, n, false))
            .transpose()?;
        let file = match config_file {
            Some(path) => Some(path.to_path_buf()),
            None => find_config_file(),
        };
        let others = match file {
            Some(path) => images_from_config_file(&path)?
                .into_iter()
                .map(|(name, id)| Image::look_up_image_info(&name, &id, true))
                .collect::<Result<Vec<_>, _>>()?,
            None => Vec::new(),
        };
        Ok(ImageConfig::create_from(default, others))
    }

    /// [`auto`](Self::auto) with [`default_image`] as the default.
    pub fn auto_default_image() -> Result<Self, ImageError> {
        Self::auto(None, default_image().as_deref())
    }
}

/// Python's `repr` of an `Image` dataclass, for flytekit-identical messages.
fn py_repr(img: &Image) -> String {
    let opt = |v: &Option<String>| match v {
        Some(s) => format!("'{s}'"),
        None => "None".to_string(),
    };
    format!(
        "Image(name='{}', fqn='{}', tag={}, digest={})",
        img.name,
        img.fqn,
        opt(&img.tag),
        opt(&img.digest)
    )
}

/// The default image: `FLYTE_INTERNAL_IMAGE` when set and non-empty.
///
/// flytekit falls back to its own Python image (`cr.flyte.org/flyteorg/flytekit:py3.x-…`); a
/// Rust task cannot run there, so there is no fallback here: build one with an
/// [`ImageSpec`](super::ImageSpec) or pass `--image`.
pub fn default_image() -> Option<String> {
    std::env::var(FLYTE_INTERNAL_IMAGE_ENV)
        .ok()
        .filter(|s| !s.is_empty())
}

/// Finds the config file like flytekit's `get_config_file(None)`: `$_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE`,
/// else `$FLYTECTL_CONFIG` (when the file exists), then `./flytekit.config`, `~/.flyte/config`,
/// `~/.flyte/config.yaml`.
pub fn find_config_file() -> Option<PathBuf> {
    let from_env = std::env::var_os("_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE")
        .or_else(|| std::env::var_os("FLYTECTL_CONFIG"));
    if let Some(path) = from_env {
        let path = PathBuf::from(path);
        if path.exists() {
            return Some(path);
        }
        tracing::warn!(
            "flytectl config file {} does not exist, ignoring...",
            path.display()
        );
    }
    let local = PathBuf::from("flytekit.config");
    if local.exists() {
        return Some(local);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from)?;
    [home.join(".flyte/config"), home.join(".flyte/config.yaml")]
        .into_iter()
        .find(|p| p.exists())
}

/// The `(name, identifier)` pairs of a config file's images, in file order: YAML (`.yaml`/`.yml`
/// suffix, flytekit's rule) `images:` map, else the INI `[images]` section (option names
/// lowercased, as Python's configparser does).
pub fn images_from_config_file(path: &Path) -> Result<Vec<(String, String)>, ImageError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ImageError::Config(format!(
            "cannot read the config file {}: {e}",
            path.display()
        ))
    })?;
    let name = path.to_string_lossy();
    if name.ends_with("yaml") || name.ends_with("yml") {
        images_from_yaml(&text)
            .map_err(|e| ImageError::Config(format!("invalid YAML config {}: {e}", path.display())))
    } else {
        images_from_ini(&text)
            .map_err(|e| ImageError::Config(format!("invalid config {}: {e}", path.display())))
    }
}

/// The `images:` map of a flytectl YAML config.
pub(crate) fn images_from_yaml(text: &str) -> Result<Vec<(String, String)>, String> {
    let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    let Some(images) = doc.get("images") else {
        return Ok(Vec::new());
    };
    let map = images
        .as_mapping()
        .ok_or_else(|| "`images` must be a map of name: image".to_string())?;
    map.iter()
        .map(|(k, v)| {
            let scalar = |v: &serde_yaml::Value| match v {
                serde_yaml::Value::String(s) => Some(s.clone()),
                serde_yaml::Value::Number(n) => Some(n.to_string()),
                serde_yaml::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            };
            match (scalar(k), scalar(v)) {
                (Some(k), Some(v)) => Ok((k, v)),
                _ => Err(format!(
                    "images entry {k:?}: {v:?} is not a name: image pair"
                )),
            }
        })
        .collect()
}

/// The `[images]` section of an INI config, parsed like Python's `configparser` for the
/// subset flytekit configs use: `key = value` or `key: value` (the first `=` or `:` splits),
/// `#`/`;` comment lines, indented continuation lines, lowercased and stripped option names.
pub(crate) fn images_from_ini(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut in_images = false;
    let mut out: Vec<(String, String)> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(section) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            in_images = section == "images";
            continue;
        }
        if !in_images {
            continue;
        }
        if line.starts_with([' ', '\t'])
            && let Some((_, value)) = out.last_mut()
        {
            value.push('\n');
            value.push_str(trimmed);
            continue;
        }
        let Some(pos) = trimmed.find(['=', ':']) else {
            return Err(format!(
                "line {}: {trimmed:?} is not `name = image`",
                lineno + 1
            ));
        };
        let key = trimmed[..pos].trim().to_lowercase();
        let value = trimmed[pos + 1..].trim().to_string();
        if out.iter().any(|(k, _)| *k == key) {
            return Err(format!(
                "line {}: option {key:?} in section 'images' already exists",
                lineno + 1
            ));
        }
        out.push((key, value));
    }
    Ok(out)
}

/// flytekit's `_IMAGE_REPLACE_REGEX` (case-insensitive).
static IMAGE_REPLACE_REGEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(\{\{\s*\.image[s]?(?:\.([a-zA-Z0-9_-]+))(?:\.([a-zA-Z0-9_-]+))?\s*\}\})")
        .expect("the placeholder regex is valid")
});

/// Resolves a task's image string to the image to register (flytekit's
/// `get_registerable_container_image` for strings; contract §5.1).
///
/// - `None` or `""`: the default image's [`full`](Image::full) name, or an error without one.
/// - A string with `{{.image.NAME}}`, `{{.image.NAME.fqn}}` or `{{.image.NAME.version}}`
///   placeholders (case-insensitive, spaces allowed, `images` accepted): each is replaced from
///   `cfg`. A digest version replaces `:{{…version}}` with `@sha256:…`. An image with no version
///   takes the default image's.
/// - Any other string is returned as is.
///
/// Errors use flytekit's messages.
pub fn get_registerable_container_image(
    img: Option<&str>,
    cfg: &ImageConfig,
) -> Result<String, ImageError> {
    let Some(img) = img.filter(|i| !i.is_empty()) else {
        return cfg.default_image.as_ref().map(Image::full).ok_or_else(|| {
            ImageError::Config("An image is required for PythonAutoContainer tasks".into())
        });
    };
    let matches: Vec<(String, String, String)> = IMAGE_REPLACE_REGEX
        .captures_iter(img)
        .map(|c| {
            let group = |i| c.get(i).map_or("", |m| m.as_str()).to_string();
            (group(1), group(2), group(3))
        })
        .collect();
    let mut out = img.to_string();
    for (whole, name, attr) in matches {
        if name.is_empty() {
            return Err(ImageError::Config(format!(
                "Image format is incorrect ('{whole}', '{name}', '{attr}')"
            )));
        }
        let img_cfg = cfg.find_image(&name).ok_or_else(|| {
            ImageError::Config(format!(
                "Image Config with name {name} not found in the configuration"
            ))
        })?;
        match attr.as_str() {
            "version" => {
                let version = img_cfg
                    .version()
                    .or_else(|| cfg.default_image.as_ref().and_then(Image::version))
                    .ok_or_else(|| {
                        ImageError::Config(format!(
                            "Image {name} has no tag or digest and there is no default image version to use for {whole}"
                        ))
                    })?;
                if version.contains(':') {
                    let colon_prefixed = format!(":{whole}");
                    if out.contains(&colon_prefixed) {
                        out = out.replace(&colon_prefixed, &format!("@{version}"));
                    } else {
                        out = out.replace(&whole, version);
                    }
                } else {
                    out = out.replace(&whole, version);
                }
            }
            "fqn" => out = out.replace(&whole, &img_cfg.fqn),
            "" => out = out.replace(&whole, &img_cfg.full()),
            other => {
                return Err(ImageError::Config(format!(
                    "Only fqn and version are supported replacements, {other} is not supported"
                )));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ImageConfig {
        ImageConfig::from_images(
            Some("ghcr.io/org/img:v1"),
            [
                ("other", "ghcr.io/org/other:v2"),
                ("d", "ghcr.io/org/d@sha256:abcd"),
                ("notag", "ghcr.io/org/notag"),
            ],
        )
        .unwrap()
    }

    fn resolve(s: &str) -> Result<String, String> {
        get_registerable_container_image(Some(s), &cfg()).map_err(|e| e.to_string())
    }

    #[test]
    fn verified_examples() {
        assert_eq!(
            resolve("{{.image.default.fqn}}:{{.image.default.version}}").unwrap(),
            "ghcr.io/org/img:v1"
        );
        assert_eq!(resolve("{{.image.other}}").unwrap(), "ghcr.io/org/other:v2");
        assert_eq!(
            resolve("{{ .IMAGE.other.fqn }}:x").unwrap(),
            "ghcr.io/org/other:x"
        );
        assert_eq!(
            resolve("{{.images.other.fqn}}:x").unwrap(),
            "ghcr.io/org/other:x"
        );
        assert_eq!(
            resolve("{{.image.d.fqn}}:{{.image.d.version}}").unwrap(),
            "ghcr.io/org/d@sha256:abcd"
        );
        assert_eq!(
            resolve("{{.image.notag.fqn}}:{{.image.notag.version}}").unwrap(),
            "ghcr.io/org/notag:v1"
        );
        assert_eq!(
            resolve("{{.image.other.tag}}").unwrap_err(),
            "Only fqn and version are supported replacements, tag is not supported"
        );
        assert_eq!(
            resolve("{{.image.nope}}").unwrap_err(),
            "Image Config with name nope not found in the configuration"
        );
        assert_eq!(resolve("plain:latest").unwrap(), "plain:latest");
        assert_eq!(
            get_registerable_container_image(None, &cfg()).unwrap(),
            "ghcr.io/org/img:v1"
        );
        assert_eq!(
            get_registerable_container_image(Some(""), &ImageConfig::default())
                .unwrap_err()
                .to_string(),
            "An image is required for PythonAutoContainer tasks"
        );
    }

    #[test]
    fn identifiers_parse_like_flytekit() {
        let p = |s| parse_image_identifier(s);
        assert_eq!(p("a/b:1"), ("a/b".into(), Some("1".into()), None));
        assert_eq!(
            p("localhost:5000/b"),
            ("localhost:5000/b".into(), None, None)
        );
        assert_eq!(
            p("localhost:5000/b:t"),
            ("localhost:5000/b".into(), Some("t".into()), None)
        );
        assert_eq!(p("x@sha256:1"), ("x".into(), None, Some("sha256:1".into())));
    }

    #[test]
    fn cli_values() {
        let c = ImageConfig::from_cli_values_with(&["a:1", "x=b:2"], "image", None).unwrap();
        assert_eq!(c.default_image.as_ref().unwrap().full(), "a:1");
        assert_eq!(c.images.len(), 2);
        let err =
            ImageConfig::from_cli_values_with(&["a:1", "default=b:2"], "image", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Only one default image can be specified. Received multiple Image(name='default', fqn='a', tag='1', digest=None) & Image(name='default', fqn='b', tag='2', digest=None) for image"
        );
        let c =
            ImageConfig::from_cli_values_with(&["x=b:2"], "image", Some("env:1".into())).unwrap();
        assert_eq!(c.default_image.unwrap().full(), "env:1");
        assert!(ImageConfig::from_cli_values_with(&["nover"], "image", None).is_err());
    }

    #[test]
    fn config_files() {
        let ini =
            "[platform]\nurl: x:1\n[images]\n# c\nMy_Img = ghcr.io/a/b:1\nother: docker.io/flyte\n";
        assert_eq!(
            images_from_ini(ini).unwrap(),
            vec![
                ("my_img".into(), "ghcr.io/a/b:1".into()),
                ("other".into(), "docker.io/flyte".into())
            ]
        );
        let yaml = "admin:\n  endpoint: x\nimages:\n  a: ghcr.io/a:1\n  b: ghcr.io/b\n";
        assert_eq!(
            images_from_yaml(yaml).unwrap(),
            vec![
                ("a".into(), "ghcr.io/a:1".into()),
                ("b".into(), "ghcr.io/b".into())
            ]
        );
    }
}
