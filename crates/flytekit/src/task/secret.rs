//! Secret requests of a task (flytekit's `Secret`): what Propeller must mount into the container.

use std::sync::LazyLock;

use flytekit_idl::core;
use regex::Regex;

use super::ConfigError;

/// How a secret is presented to the container.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MountRequirement {
    /// Propeller chooses (a file under `/etc/flyte/secrets`).
    #[default]
    Any,
    /// An environment variable `_FSEC_<GROUP>_<KEY>`.
    EnvVar,
    /// A file `/etc/flyte/secrets/<group>/<key>`.
    File,
}

/// A secret the task needs at run time; read it with
/// [`ExecutionContext::secret`](crate::ExecutionContext::secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Secret {
    /// The secret's group (e.g. a Kubernetes secret name).
    pub group: String,
    /// The key inside the group.
    pub key: Option<String>,
    /// The group's version, when the secret store versions secrets.
    pub group_version: Option<String>,
    /// How to mount it.
    pub mount_requirement: MountRequirement,
    /// An extra environment variable name Propeller sets to the secret (or its path).
    pub env_var: Option<String>,
}

impl Secret {
    /// A request for `key` of `group`.
    pub fn new(group: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            group: group.into(),
            key: Some(key.into()),
            group_version: None,
            mount_requirement: MountRequirement::Any,
            env_var: None,
        }
    }

    /// Sets the group version.
    pub fn group_version(mut self, v: impl Into<String>) -> Self {
        self.group_version = Some(v.into());
        self
    }

    /// Sets the mount requirement.
    pub fn mount(mut self, m: MountRequirement) -> Self {
        self.mount_requirement = m;
        self
    }

    /// Sets the extra environment variable name (must match `^[A-Z_][A-Z0-9_]*$`).
    pub fn env_var(mut self, name: impl Into<String>) -> Self {
        self.env_var = Some(name.into());
        self
    }

    /// Checks the request the way flytekit and Propeller do.
    pub fn validate(&self) -> Result<(), ConfigError> {
        static ENV: LazyLock<Regex> =
            LazyLock::new(|| Regex::new("^[A-Z_][A-Z0-9_]*$").expect("static regex"));
        if self.group.is_empty() {
            return Err(ConfigError::Secret(
                "a secret needs a group: Secret::new(\"group\", \"key\")".into(),
            ));
        }
        if let Some(v) = &self.env_var
            && !ENV.is_match(v)
        {
            return Err(ConfigError::Secret(format!(
                "secret {}/{}: env_var \"{v}\" must match ^[A-Z_][A-Z0-9_]*$",
                self.group,
                self.key.as_deref().unwrap_or("")
            )));
        }
        Ok(())
    }

    /// The IDL form.
    pub fn to_idl(&self) -> core::Secret {
        core::Secret {
            group: self.group.clone(),
            group_version: self.group_version.clone().unwrap_or_default(),
            key: self.key.clone().unwrap_or_default(),
            mount_requirement: match self.mount_requirement {
                MountRequirement::Any => 0,
                MountRequirement::EnvVar => 1,
                MountRequirement::File => 2,
            },
            env_var: self.env_var.clone().unwrap_or_default(),
        }
    }
}
