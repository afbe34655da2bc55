//! The `noop` builder: the image is the spec's base image; nothing is built.

use async_trait::async_trait;

use super::ImageBuilder;
use crate::image::ImageError;
use crate::image::spec::{BaseImage, ImageSpec};

/// Builds nothing and returns the base image (flytekit's `NoOpBuilder`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOpBuilder;

#[async_trait]
impl ImageBuilder for NoOpBuilder {
    /// Always `true`: "building" only names the base image, so no registry check is needed.
    async fn should_build(&self, _spec: &ImageSpec) -> Result<bool, ImageError> {
        Ok(true)
    }

    async fn build_image(&self, spec: &ImageSpec) -> Result<Option<String>, ImageError> {
        match &spec.base_image {
            Some(BaseImage::Name(name)) => Ok(Some(name.clone())),
            _ => Err(ImageError::Build(
                "The noop builder needs base_image to be an image name (a string): set \
                 ImageSpec::with_base_image(\"registry/image:tag\")"
                    .into(),
            )),
        }
    }
}
