//! Image builders and the registry that picks one (flytekit's `ImageSpecBuilder` and
//! `ImageBuildEngine`, contract §5.3).
//!
//! | name | priority | what it does |
//! |---|---|---|
//! | `oci` | 2 (default) | daemonless: base image layers + one deterministic layer, pushed with the registry API |
//! | `dockerfile` | 1 | writes a build context and Dockerfile, runs `docker buildx build --push` |
//! | `noop` | 0 | builds nothing; the image is the spec's base image |

mod dockerfile;
mod noop;
mod oci;

pub use dockerfile::DockerfileBuilder;
pub use noop::NoOpBuilder;
pub use oci::{Layer, OciBuildReport, OciBuilder};

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use async_trait::async_trait;

use super::ImageError;
use super::registry::RegistryClient;
use super::spec::{BaseImage, ImageSpec};

/// Builds an [`ImageSpec`] into an image in its registry.
#[async_trait]
pub trait ImageBuilder: Send + Sync {
    /// Whether to build: by default, when the image is absent from its registry, subject to
    /// `FLYTE_FORCE_PUSH_IMAGE_SPEC` and `FLYTE_IMG_FAST_FAIL` ([`ImageSpec::should_build`]).
    async fn should_build(&self, spec: &ImageSpec) -> Result<bool, ImageError> {
        let client = RegistryClient::new()?.insecure(spec.insecure_registry);
        let existence = spec.exists(&client).await;
        spec.should_build(&existence)
    }

    /// Builds and pushes the image. Returns the fully qualified name when it differs from
    /// [`ImageSpec::image_name`] (as the `noop` builder's does), else `None`.
    async fn build_image(&self, spec: &ImageSpec) -> Result<Option<String>, ImageError>;
}

/// The result of [`ImageBuildEngine::build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOutcome {
    /// The image to put in task templates.
    pub image_name: String,
    /// Whether a builder ran (`false` when the image already existed).
    pub built: bool,
}

/// A registered builder: name, builder, priority.
type Entry = (String, Arc<dyn ImageBuilder>, i32);

/// A registry of named builders with priorities; the highest priority is the default.
pub struct ImageBuildEngine {
    builders: RwLock<Vec<Entry>>,
    real_names: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for ImageBuildEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<(String, i32)> = self
            .builders
            .read()
            .map(|b| b.iter().map(|(n, _, p)| (n.clone(), *p)).collect())
            .unwrap_or_default();
        f.debug_struct("ImageBuildEngine")
            .field("builders", &names)
            .finish()
    }
}

impl Default for ImageBuildEngine {
    fn default() -> Self {
        Self::with_defaults()
    }
}

impl ImageBuildEngine {
    /// An engine with no builders.
    pub fn empty() -> Self {
        ImageBuildEngine {
            builders: RwLock::new(Vec::new()),
            real_names: Mutex::new(HashMap::new()),
        }
    }

    /// An engine with `oci` (2), `dockerfile` (1) and `noop` (0).
    pub fn with_defaults() -> Self {
        let engine = Self::empty();
        engine.register("oci", Arc::new(OciBuilder::default()), 2);
        engine.register("dockerfile", Arc::new(DockerfileBuilder::default()), 1);
        engine.register("noop", Arc::new(NoOpBuilder), 0);
        engine
    }

    /// The process-wide engine (with the defaults), where plugins register their builders.
    pub fn global() -> &'static ImageBuildEngine {
        static GLOBAL: OnceLock<ImageBuildEngine> = OnceLock::new();
        GLOBAL.get_or_init(Self::with_defaults)
    }

    /// Registers (or replaces) the builder `name` with `priority`.
    pub fn register(&self, name: &str, builder: Arc<dyn ImageBuilder>, priority: i32) {
        if let Ok(mut builders) = self.builders.write() {
            match builders.iter_mut().find(|(n, _, _)| n == name) {
                Some(entry) => {
                    entry.1 = builder;
                    entry.2 = priority;
                }
                None => builders.push((name.to_string(), builder, priority)),
            }
        }
    }

    /// The registered builder names with their priorities, in registration order.
    pub fn builders(&self) -> Vec<(String, i32)> {
        self.builders
            .read()
            .map(|b| b.iter().map(|(n, _, p)| (n.clone(), *p)).collect())
            .unwrap_or_default()
    }

    /// The name of the highest-priority builder (the first registered among equals).
    pub fn default_builder(&self) -> Option<String> {
        let builders = self.builders.read().ok()?;
        let mut best: Option<&Entry> = None;
        for entry in builders.iter() {
            if best.is_none_or(|b| entry.2 > b.2) {
                best = Some(entry);
            }
        }
        best.map(|(n, _, _)| n.clone())
    }

    /// The builder called `name`, or the default; flytekit's errors when there is none.
    pub fn get_builder(&self, name: Option<&str>) -> Result<Arc<dyn ImageBuilder>, ImageError> {
        let name = match name {
            Some(n) => n.to_string(),
            None => self.default_builder().ok_or_else(|| {
                ImageError::Builder("There is no image builder registered.".into())
            })?,
        };
        self.builders
            .read()
            .ok()
            .and_then(|b| {
                b.iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, b, _)| b.clone())
            })
            .ok_or_else(|| ImageError::Builder(format!("Image builder {name} is not registered.")))
    }

    /// The spec with a nested base spec replaced by that base's (real) image name.
    fn flatten(&self, spec: &ImageSpec) -> Result<ImageSpec, ImageError> {
        let mut spec = spec.clone();
        if let Some(BaseImage::Spec(base)) = &spec.base_image {
            let name = self.image_name(base)?;
            spec.base_image = Some(BaseImage::Name(name));
        }
        Ok(spec)
    }

    /// The image name of `spec`, mapped to the name a builder reported (as flytekit's
    /// `_IMAGE_NAME_TO_REAL_NAME`).
    pub fn image_name(&self, spec: &ImageSpec) -> Result<String, ImageError> {
        let name = self.flatten(spec)?.image_name()?;
        Ok(self
            .real_names
            .lock()
            .ok()
            .and_then(|m| m.get(&name).cloned())
            .unwrap_or(name))
    }

    /// The image to register for a task whose image is `spec` (flytekit's
    /// `get_registerable_container_image` for an ImageSpec): an image named by the spec's
    /// [`id`](ImageSpec::id) in `cfg` wins; otherwise the spec is built (when needed) and its
    /// image name is used.
    pub async fn registerable_image(
        &self,
        spec: &ImageSpec,
        cfg: &crate::image::ImageConfig,
    ) -> Result<String, ImageError> {
        match configured_image(spec, cfg)? {
            Some(image) => Ok(image),
            None => Ok(self.build(spec).await?.image_name),
        }
    }

    /// The name [`registerable_image`](Self::registerable_image) would return, without
    /// building: an image configured under the spec's [`id`](ImageSpec::id) in `cfg`, else
    /// [`image_name`](Self::image_name).
    pub fn registerable_image_name(
        &self,
        spec: &ImageSpec,
        cfg: &crate::image::ImageConfig,
    ) -> Result<String, ImageError> {
        match configured_image(spec, cfg)? {
            Some(image) => Ok(image),
            None => self.image_name(spec),
        }
    }

    /// Builds `spec` (a nested base spec first) with its builder when the builder says so, and
    /// returns the image name to register.
    pub async fn build(&self, spec: &ImageSpec) -> Result<BuildOutcome, ImageError> {
        if let Some(BaseImage::Spec(base)) = &spec.base_image {
            Box::pin(self.build(base)).await?;
        }
        let flat = self.flatten(spec)?;
        let name = flat.image_name()?;
        let builder = self.get_builder(flat.builder.as_deref())?;
        let built = builder.should_build(&flat).await?;
        if built {
            if let Some(real) = builder.build_image(&flat).await?
                && let Ok(mut names) = self.real_names.lock()
            {
                names.insert(name.clone(), real);
            }
        } else {
            tracing::info!("image {name} exists; skipping the build");
        }
        Ok(BuildOutcome {
            image_name: self.image_name(spec)?,
            built,
        })
    }
}

/// The image configured in `cfg` under the spec's [`id`](ImageSpec::id), if any (flytekit lets
/// `--image <spec id>=<uri>` stand in for building the spec).
fn configured_image(
    spec: &ImageSpec,
    cfg: &crate::image::ImageConfig,
) -> Result<Option<String>, ImageError> {
    Ok(cfg.find_image(&spec.id()?).map(|image| image.full()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_and_priorities() {
        let engine = ImageBuildEngine::empty();
        assert_eq!(
            engine.get_builder(None).err().unwrap().to_string(),
            "There is no image builder registered."
        );
        engine.register("noop", Arc::new(NoOpBuilder), 0);
        engine.register("oci", Arc::new(OciBuilder::default()), 2);
        engine.register("other", Arc::new(NoOpBuilder), 2);
        assert_eq!(engine.default_builder().as_deref(), Some("oci"));
        assert_eq!(
            engine.get_builder(Some("envd")).err().unwrap().to_string(),
            "Image builder envd is not registered."
        );
        engine.register("other", Arc::new(NoOpBuilder), 3);
        assert_eq!(engine.default_builder().as_deref(), Some("other"));
        let defaults = ImageBuildEngine::with_defaults();
        assert_eq!(defaults.default_builder().as_deref(), Some("oci"));
    }

    #[tokio::test]
    async fn noop_builds_to_the_base_image() {
        let engine = ImageBuildEngine::with_defaults();
        let spec = ImageSpec::new("x")
            .with_registry("ghcr.io/org")
            .with_base_image("ghcr.io/org/base:1")
            .with_builder("noop");
        let outcome = engine.build(&spec).await.unwrap();
        assert_eq!(outcome.image_name, "ghcr.io/org/base:1");
        assert!(outcome.built);
        // An image configured under the spec's id wins over building.
        let cfg = crate::image::ImageConfig::from_images(
            Some("ghcr.io/org/default:1"),
            [(spec.id().unwrap().as_str(), "ghcr.io/org/prebuilt:7")],
        )
        .unwrap();
        assert_eq!(
            engine.registerable_image(&spec, &cfg).await.unwrap(),
            "ghcr.io/org/prebuilt:7"
        );
        let empty = crate::image::ImageConfig::default();
        assert_eq!(
            engine.registerable_image(&spec, &empty).await.unwrap(),
            "ghcr.io/org/base:1"
        );
    }
}
