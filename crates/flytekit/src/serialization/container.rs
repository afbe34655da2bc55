//! Reading a serialized task's container back: the image, args and environment Propeller
//! would start, from a plain `Container` target or the primary container of a `K8sPod` target
//! (named by the template's `primary_container_name` config, as flytekit writes it).

use flytekit_idl::core::{TaskTemplate, task_template};

/// What a serialized task runs: its (primary) container's image, args and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrimaryContainer {
    /// The image reference.
    pub image: String,
    /// The container args (the entrypoint command line).
    pub args: Vec<String>,
    /// Environment variables, in order.
    pub env: Vec<(String, String)>,
}

/// Why a template has no container to run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ContainerError {
    /// The target is neither a container nor a pod.
    #[error("the task template has no container")]
    NoContainer,
    /// The pod spec lacks the container its config names as primary.
    #[error("pod spec has no container '{0}' (the template's primary_container_name)")]
    NoPrimary(String),
}

/// The container a serialized task runs: the `Container` target, or the pod's primary container.
pub(crate) fn primary_container(t: &TaskTemplate) -> Result<PrimaryContainer, ContainerError> {
    match &t.target {
        Some(task_template::Target::Container(c)) => Ok(PrimaryContainer {
            image: c.image.clone(),
            args: c.args.clone(),
            env: c
                .env
                .iter()
                .map(|kv| (kv.key.clone(), kv.value.clone()))
                .collect(),
        }),
        Some(task_template::Target::K8sPod(pod)) => {
            let primary = t
                .config
                .get("primary_container_name")
                .cloned()
                .unwrap_or_else(|| crate::task::PRIMARY_CONTAINER_DEFAULT_NAME.to_string());
            let spec = pod
                .pod_spec
                .as_ref()
                .map(crate::type_engine::dataclass::struct_to_json)
                .unwrap_or_default();
            let c = spec["containers"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["name"] == primary.as_str()))
                .ok_or(ContainerError::NoPrimary(primary))?;
            let args = c["args"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let env = c["env"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| {
                            Some((
                                e["name"].as_str()?.to_string(),
                                e["value"].as_str().unwrap_or("").to_string(),
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            Ok(PrimaryContainer {
                image: c["image"].as_str().unwrap_or_default().to_string(),
                args,
                env,
            })
        }
        _ => Err(ContainerError::NoContainer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flytekit_idl::core::{Container, K8sPod, KeyValuePair};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn container_targets_are_read_as_written() {
        let t = TaskTemplate {
            target: Some(task_template::Target::Container(Container {
                image: "img:1".into(),
                args: strings(&["x", "execute"]),
                env: vec![KeyValuePair {
                    key: "A".into(),
                    value: "1".into(),
                }],
                ..Default::default()
            })),
            ..Default::default()
        };
        let c = primary_container(&t).unwrap();
        assert_eq!(c.image, "img:1");
        assert_eq!(c.args, strings(&["x", "execute"]));
        assert_eq!(c.env, vec![("A".to_string(), "1".to_string())]);
        assert_eq!(
            primary_container(&TaskTemplate::default()),
            Err(ContainerError::NoContainer)
        );
    }

    #[test]
    fn pods_give_their_primary_container() {
        let spec = serde_json::json!({"containers": [
            {"name": "sidecar", "image": "side:1", "args": ["s"]},
            {"name": "main", "image": "img:2", "args": ["a", "b"],
             "env": [{"name": "K", "value": "v"}, {"name": "E"}]},
        ]});
        let mut t = TaskTemplate {
            target: Some(task_template::Target::K8sPod(K8sPod {
                pod_spec: Some(crate::type_engine::dataclass::json_to_struct(&spec).unwrap()),
                ..Default::default()
            })),
            ..Default::default()
        };
        t.config
            .insert("primary_container_name".into(), "main".into());
        let c = primary_container(&t).unwrap();
        assert_eq!(c.image, "img:2");
        assert_eq!(c.args, strings(&["a", "b"]));
        assert_eq!(
            c.env,
            vec![("K".into(), "v".into()), ("E".into(), String::new())]
        );
        t.config
            .insert("primary_container_name".into(), "other".into());
        assert_eq!(
            primary_container(&t),
            Err(ContainerError::NoPrimary("other".into()))
        );
    }
}
