//! Pod templates (flytekit's `PodTemplate`): a task that needs more than a container (sidecars,
//! volumes, node selectors) ships a whole Kubernetes pod spec, with the task's container filled
//! into the primary container at serialization (contract §4.4).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::ConfigError;

/// The default name of the primary container.
pub const PRIMARY_CONTAINER_DEFAULT_NAME: &str = "primary";

/// A Kubernetes pod spec in its JSON (camelCase) form, plus pod labels and annotations.
#[derive(Clone, Debug, PartialEq)]
pub struct PodTemplate {
    /// The pod spec, e.g. `{"containers": [{"name": "primary"}], "nodeSelector": {...}}`.
    pub pod_spec: Value,
    /// The container that runs the task; added when the spec has none of that name.
    pub primary_container_name: String,
    /// Pod labels.
    pub labels: BTreeMap<String, String>,
    /// Pod annotations.
    pub annotations: BTreeMap<String, String>,
}

impl PodTemplate {
    /// A template over `pod_spec`, primary container `primary`.
    pub fn new(pod_spec: Value) -> Self {
        Self {
            pod_spec,
            primary_container_name: PRIMARY_CONTAINER_DEFAULT_NAME.into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// Names the primary container.
    pub fn primary_container_name(mut self, name: impl Into<String>) -> Self {
        self.primary_container_name = name.into();
        self
    }

    /// Adds a pod label.
    pub fn label(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.labels.insert(k.into(), v.into());
        self
    }

    /// Adds a pod annotation.
    pub fn annotation(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.annotations.insert(k.into(), v.into());
        self
    }

    /// Checks the template's shape.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.primary_container_name.is_empty() {
            return Err(ConfigError::PodTemplate(
                "A primary container name cannot be undefined".into(),
            ));
        }
        let Some(spec) = self.pod_spec.as_object() else {
            return Err(ConfigError::PodTemplate(
                "the pod spec must be a JSON object (a Kubernetes PodSpec)".into(),
            ));
        };
        match spec.get("containers") {
            None | Some(Value::Array(_)) => Ok(()),
            Some(_) => Err(ConfigError::PodTemplate(
                "pod spec `containers` must be an array".into(),
            )),
        }
    }

    /// The pod spec with the primary container filled in (flytekit's `_serialize_pod_spec`):
    /// `image` (kept when the template sets one), `command: []`, `args`, `resources` (when any),
    /// task env before the container's own; other containers without image get `default_image`,
    /// and their image strings go through `resolve_image`.
    pub(crate) fn serialize(
        &self,
        image: &str,
        args: &[String],
        resources: &super::ResourceSpec,
        env: &[(String, String)],
        resolve_image: &dyn Fn(&str) -> Result<String, String>,
    ) -> Result<Value, ConfigError> {
        self.validate()?;
        let mut spec = self.pod_spec.clone();
        let obj = spec.as_object_mut().expect("validated object");
        let containers = obj
            .entry("containers")
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
            .expect("validated array");
        if !containers
            .iter()
            .any(|c| c.get("name").and_then(Value::as_str) == Some(&self.primary_container_name))
        {
            containers.push(json!({ "name": self.primary_container_name }));
        }
        for c in containers.iter_mut() {
            let Some(c) = c.as_object_mut() else {
                return Err(ConfigError::PodTemplate(
                    "every pod spec container must be an object".into(),
                ));
            };
            let primary =
                c.get("name").and_then(Value::as_str) == Some(&self.primary_container_name);
            let own_image = c
                .get("image")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty());
            let new_image = match own_image {
                Some(i) => resolve_image(i).map_err(ConfigError::PodTemplate)?,
                None if primary => image.to_string(),
                None => resolve_image("").map_err(ConfigError::PodTemplate)?,
            };
            c.insert("image".into(), Value::String(new_image));
            if !primary {
                continue;
            }
            c.insert("command".into(), json!([]));
            c.insert("args".into(), json!(args));
            let k8s = |v: &[(flytekit_idl::core::resources::ResourceName, String)]| {
                v.iter()
                    .map(|(n, q)| {
                        (
                            n.as_str_name().to_lowercase().replace('_', "-"),
                            Value::String(q.clone()),
                        )
                    })
                    .collect::<serde_json::Map<_, _>>()
            };
            if !resources.is_empty() {
                c.insert(
                    "resources".into(),
                    json!({ "requests": k8s(&resources.requests), "limits": k8s(&resources.limits) }),
                );
            }
            let mut all_env: Vec<Value> = env
                .iter()
                .map(|(k, v)| json!({ "name": k, "value": v }))
                .collect();
            if let Some(Value::Array(existing)) = c.get("env") {
                all_env.extend(existing.iter().cloned());
            }
            c.insert("env".into(), Value::Array(all_env));
        }
        Ok(spec)
    }
}
