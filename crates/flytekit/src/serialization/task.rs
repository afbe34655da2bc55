//! Serialization of a plain task to the `TaskTemplate` Flyte registers (contract §4.2–§4.7): the
//! container command, resources, env, pod template, extended resources and metadata, field for
//! field as flytekit emits them.

use flytekit_idl::core::{
    Container, ExtendedResources, Identifier, K8sObjectMetadata, K8sPod, KeyValuePair,
    ResourceType, RetryStrategy, RuntimeMetadata, SecurityContext, TaskMetadata, TaskTemplate,
    runtime_metadata::RuntimeType, task_metadata::InterruptibleValue, task_template::Target,
};

use super::error::SerializeError;
use crate::image::get_registerable_container_image;
use crate::settings::SerializationSettings;
use crate::task::{ContainerImage, Task};

/// `<binary> <subcommand> --inputs {{.input}} --output-prefix {{.outputPrefix}}
/// --raw-output-data-prefix ... --checkpoint-path ... --prev-checkpoint ... --resolver <resolver>
/// -- <loader args>`: the container args of every task (`execute`) and map task (`map-execute`),
/// Propeller's template variables left for Propeller to fill.
pub(crate) fn entrypoint_command(
    binary: &str,
    subcommand: &str,
    resolver: &str,
    loader_args: Vec<String>,
) -> Vec<String> {
    let mut args: Vec<String> = [
        binary,
        subcommand,
        "--inputs",
        "{{.input}}",
        "--output-prefix",
        "{{.outputPrefix}}",
        "--raw-output-data-prefix",
        "{{.rawOutputDataPrefix}}",
        "--checkpoint-path",
        "{{.checkpointOutputPrefix}}",
        "--prev-checkpoint",
        "{{.prevCheckpointPrefix}}",
        "--resolver",
        resolver,
        "--",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(loader_args);
    args
}

impl Task {
    /// The default container args (flytekit's `get_default_command`):
    /// `<binary> execute --inputs {{.input}} ... --resolver <location> -- <loader args>`.
    pub fn get_default_command(
        &self,
        settings: &SerializationSettings,
    ) -> Result<Vec<String>, SerializeError> {
        let (resolver, loader_args) =
            crate::resolver::target(self, settings).map_err(|e| SerializeError::Resolver {
                task: self.name().to_string(),
                message: e.to_string(),
            })?;
        Ok(entrypoint_command(
            &settings.binary,
            "execute",
            &resolver,
            loader_args,
        ))
    }

    /// The task's image spec as registered with `settings`, when its image is a spec: the spec
    /// with its copy handling decided by `settings` ([`ImageSpec::for_settings`]). Build it with
    /// [`ImageBuildEngine::build`](crate::image::ImageBuildEngine::build) to make the image
    /// [`image`](Self::image) names.
    ///
    /// [`ImageSpec::for_settings`]: crate::image::ImageSpec::for_settings
    pub fn image_spec_for(
        &self,
        settings: &SerializationSettings,
    ) -> Option<crate::image::ImageSpec> {
        match &self.config().image {
            Some(ContainerImage::Spec(spec)) => Some(spec.for_settings(settings)),
            _ => None,
        }
    }

    /// The image name for `settings` (flytekit's `get_image`): placeholders resolved against
    /// `settings.image_config`; an image spec is first given its copy handling for `settings`
    /// ([`image_spec_for`](Self::image_spec_for): without fast registration the binary's content
    /// is in the tag, with it not), then named as flytekit names it: an image configured under
    /// the spec's id, else the spec's image name (as a builder reported it, when one did).
    pub fn image(&self, settings: &SerializationSettings) -> Result<String, SerializeError> {
        let err = |message: String| SerializeError::Image {
            task: self.name().to_string(),
            message,
        };
        match &self.config().image {
            None => get_registerable_container_image(None, &settings.image_config).map_err(|e| {
                err(format!(
                    "{e}; pass --image <uri> (or set FLYTE_INTERNAL_IMAGE, or give the task an image)"
                ))
            }),
            Some(ContainerImage::Name(n)) => {
                get_registerable_container_image(Some(n), &settings.image_config).map_err(|e| err(e.to_string()))
            }
            Some(ContainerImage::Spec(spec)) => crate::image::ImageBuildEngine::global()
                .registerable_image_name(&spec.for_settings(settings), &settings.image_config)
                .map_err(|e| err(e.to_string())),
        }
    }

    /// The full container args: `args`, with the fast-execute prefix when fast registration is
    /// on.
    fn container_args(&self, settings: &SerializationSettings, args: Vec<String>) -> Vec<String> {
        match &settings.fast {
            Some(fast) => {
                let mut prefixed = vec![
                    settings.binary.clone(),
                    "fast-execute".to_string(),
                    "--additional-distribution".to_string(),
                    fast.distribution_location
                        .clone()
                        .unwrap_or_else(|| "{{ .remote_package_path }}".to_string()),
                    "--dest-dir".to_string(),
                    fast.destination_dir
                        .clone()
                        .unwrap_or_else(|| "{{ .dest_dir }}".to_string()),
                    "--".to_string(),
                ];
                prefixed.extend(args);
                prefixed
            }
            None => args,
        }
    }

    /// The `TaskTemplate` of a plain task whose container args are `args` (before the
    /// fast-registration prefix): what [`Task::template`] gives a task without a kind, and a map
    /// task's inner task with the map's command.
    pub(super) fn plain_template(
        &self,
        settings: &SerializationSettings,
        args: Vec<String>,
    ) -> Result<TaskTemplate, SerializeError> {
        let c = self.config();
        let image = self.image(settings)?;
        let args = self.container_args(settings, args);
        let resources = match (&settings.default_resources, c.resources.is_empty()) {
            (Some(d), true) => d.clone(),
            _ => c.resources.clone(),
        };
        // `{**settings.env, **task.environment}`: a task value replaces the registration's in
        // the registration's position (dict semantics), new names follow in order.
        let mut env: Vec<(String, String)> = Vec::new();
        for (k, v) in settings.env.iter().chain(&c.environment) {
            match env.iter_mut().find(|(x, _)| x == k) {
                Some(slot) => slot.1 = v.clone(),
                None => env.push((k.clone(), v.clone())),
            }
        }
        let mut config = std::collections::BTreeMap::new();
        let target = match &c.pod_template {
            Some(pod) => {
                config.insert(
                    "primary_container_name".to_string(),
                    pod.primary_container_name.clone(),
                );
                let resolve = |img: &str| {
                    get_registerable_container_image(
                        Some(img).filter(|s| !s.is_empty()),
                        &settings.image_config,
                    )
                    .map_err(|e| e.to_string())
                };
                let spec = pod
                    .serialize(&image, &args, &resources, &env, &resolve)
                    .map_err(|source| SerializeError::Config {
                        task: self.name().to_string(),
                        source,
                    })?;
                Target::K8sPod(K8sPod {
                    metadata: Some(K8sObjectMetadata {
                        labels: pod.labels.clone().into_iter().collect(),
                        annotations: pod.annotations.clone().into_iter().collect(),
                    }),
                    pod_spec: crate::type_engine::dataclass::json_to_struct(&spec),
                    data_config: None,
                    primary_container_name: String::new(),
                })
            }
            None => Target::Container(Container {
                image,
                command: Vec::new(),
                args,
                resources: Some(resources.to_idl()),
                env: env
                    .into_iter()
                    .map(|(key, value)| KeyValuePair { key, value })
                    .collect(),
                ..Default::default()
            }),
        };
        let extended_resources =
            (c.accelerator.is_some() || c.shared_memory.is_some()).then(|| ExtendedResources {
                gpu_accelerator: c.accelerator.as_ref().map(|a| a.to_idl()),
                shared_memory: c.shared_memory.as_ref().map(|s| s.to_idl()),
            });
        Ok(TaskTemplate {
            id: Some(Identifier {
                resource_type: ResourceType::Task as i32,
                project: settings.project.clone(),
                domain: settings.domain.clone(),
                name: self.name().to_string(),
                version: settings.version.clone(),
                ..Default::default()
            }),
            r#type: c.task_type.clone(),
            metadata: Some(self.metadata()),
            interface: Some(self.interface().clone()),
            custom: None,
            task_type_version: 0,
            security_context: (!c.secrets.is_empty()).then(|| SecurityContext {
                secrets: c.secrets.iter().map(|s| s.to_idl()).collect(),
                ..Default::default()
            }),
            extended_resources,
            config,
            target: Some(target),
        })
    }

    /// The task metadata (flytekit's `TaskMetadata.to_taskmetadata_model`).
    pub fn metadata(&self) -> TaskMetadata {
        let c = self.config();
        TaskMetadata {
            discoverable: c.cache,
            runtime: Some(RuntimeMetadata {
                r#type: RuntimeType::FlyteSdk as i32,
                version: env!("CARGO_PKG_VERSION").to_string(),
                flavor: "rust".to_string(),
            }),
            timeout: c
                .timeout
                .filter(|t| !t.is_zero())
                .map(|t| prost_types::Duration {
                    seconds: t.as_secs() as i64,
                    nanos: t.subsec_nanos() as i32,
                }),
            retries: Some(RetryStrategy { retries: c.retries }),
            discovery_version: c.cache_version.clone(),
            deprecated_error_message: c.deprecated.clone().unwrap_or_default(),
            cache_serializable: c.cache_serialize,
            tags: c.tags.clone().into_iter().collect(),
            pod_template_name: c.pod_template_name.clone().unwrap_or_default(),
            cache_ignore_input_vars: c.cache_ignored_inputs.clone(),
            is_eager: false,
            generates_deck: Some(c.enable_deck),
            metadata: Some(K8sObjectMetadata {
                labels: c.labels.clone().into_iter().collect(),
                annotations: c.annotations.clone().into_iter().collect(),
            }),
            interruptible_value: c.interruptible.map(InterruptibleValue::Interruptible),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{BinaryCopy, ImageConfig, ImageSpec};
    use crate::settings::FastSerializationSettings;
    use flytekit_idl::core::task_template::Target;

    fn task(spec: ImageSpec) -> Task {
        Task::builder("copy_handling")
            .resolver(
                "flytekit.resolver.default",
                vec!["task-module".into(), "m".into()],
            )
            .image_spec(spec)
            .body(|_cx, inputs| async move { Ok(inputs) })
            .build()
            .unwrap()
    }

    #[test]
    fn image_specs_follow_the_copy_handling_of_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("tasks");
        let spec = ImageSpec::new("tasks")
            .with_registry("ghcr.io/org")
            .with_base_image("ghcr.io/org/base:1")
            .with_binary(&bin);
        let plain = SerializationSettings::new("p", "d", "v");
        let fast = plain
            .clone()
            .with_fast(FastSerializationSettings::default());
        let images = |t: &Task| (t.image(&plain).unwrap(), t.image(&fast).unwrap());

        std::fs::write(&bin, "v1").unwrap();
        let (plain1, fast1) = images(&task(spec.clone()));
        assert_ne!(plain1, fast1);
        std::fs::write(&bin, "v2").unwrap();
        let (plain2, fast2) = images(&task(spec.clone()));
        assert_ne!(plain2, plain1, "without fast, the binary is in the tag");
        assert_eq!(fast2, fast1, "with fast, it is not");
        let pinned = task(spec.clone().with_binary_copy(BinaryCopy::Current));
        assert_eq!(images(&pinned), (plain2.clone(), plain2.clone()));
        assert_eq!(
            task(spec.clone())
                .image_spec_for(&fast)
                .unwrap()
                .image_name()
                .unwrap(),
            fast1
        );
        match task(spec).template(&fast).unwrap().target {
            Some(Target::Container(c)) => {
                assert_eq!(c.image, fast1);
                assert_eq!(c.args[1], "fast-execute");
            }
            other => panic!("{other:?}"),
        }
        // An image configured under the spec's id wins, as in flytekit.
        let spec_id = ImageSpec::new("tasks")
            .with_registry("ghcr.io/org")
            .with_base_image("ghcr.io/org/base:1")
            .with_binary(&bin)
            .id()
            .unwrap();
        let cfg =
            ImageConfig::from_images(None, [(spec_id.as_str(), "ghcr.io/org/pre:7")]).unwrap();
        let t = task(
            ImageSpec::new("tasks")
                .with_registry("ghcr.io/org")
                .with_base_image("ghcr.io/org/base:1")
                .with_binary(&bin),
        );
        assert_eq!(
            t.image(&fast.clone().with_image_config(cfg)).unwrap(),
            "ghcr.io/org/pre:7"
        );
    }
}
