//! Secrets at run time (flytekit's `SecretsManager`, contract §8): an environment variable
//! `_FSEC_<GROUP>[_<VERSION>]_<KEY>`, then a file `<dir>/<group>[/<version>]/<key>`, with the
//! `FLYTE_SECRETS_*` overrides Propeller's injector sets. Values never appear in `Debug` output,
//! logs or errors.

use std::fmt;
use std::path::PathBuf;

/// A secret's value. `Debug` and `Display` print `[redacted]`; call [`expose`](Self::expose).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// The value itself. Keep it out of logs, errors and decks.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([redacted])")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// A secret that is neither in the environment nor readable on disk.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret '{key}' of group '{group}' not found in env var {env_var} nor file {path}{}", match file_problem {
    None => format!(
        "; add .secret(Secret::new(\"{group}\", \"{key}\")) (or secrets(...) in #[task]) so Flyte mounts it"
    ),
    Some(problem) => format!(": {problem}"),
})]
pub struct SecretError {
    /// The group.
    pub group: String,
    /// The key.
    pub key: String,
    /// The environment variable tried.
    pub env_var: String,
    /// The file tried.
    pub path: String,
    /// Why the file, which exists, could not be read (it is a directory, it is not readable, ...);
    /// `None` when it does not exist.
    pub file_problem: Option<String>,
}

/// Where secrets are looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretsManager {
    env_prefix: String,
    default_dir: PathBuf,
    file_prefix: String,
    local: bool,
}

impl SecretsManager {
    /// From `FLYTE_SECRETS_ENV_PREFIX` (default `_FSEC_`), `FLYTE_SECRETS_DEFAULT_DIR` (default
    /// `/etc/secrets`) and `FLYTE_SECRETS_FILE_PREFIX` (default empty). `local` also accepts the
    /// un-prefixed variable name, as flytekit does in local runs.
    pub fn from_env(local: bool) -> Self {
        let var = |k: &str, d: &str| {
            std::env::var(k)
                .map(|v| v.trim().to_string())
                .unwrap_or_else(|_| d.to_string())
        };
        Self {
            env_prefix: var("FLYTE_SECRETS_ENV_PREFIX", "_FSEC_"),
            default_dir: PathBuf::from(var("FLYTE_SECRETS_DEFAULT_DIR", "/etc/secrets")),
            file_prefix: var("FLYTE_SECRETS_FILE_PREFIX", ""),
            local,
        }
    }

    /// The environment variable name for a secret.
    pub fn env_var(&self, group: &str, key: &str, version: Option<&str>) -> String {
        let parts: Vec<String> = [Some(group), version, Some(key)]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(|s| s.to_uppercase())
            .collect();
        format!("{}{}", self.env_prefix, parts.join("_"))
    }

    /// The file path for a secret.
    pub fn file(&self, group: &str, key: &str, version: Option<&str>) -> PathBuf {
        let mut parts: Vec<String> = [Some(group), version, Some(key)]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(|s| s.to_lowercase())
            .collect();
        if let Some(last) = parts.last_mut() {
            *last = format!("{}{}", self.file_prefix, last);
        }
        parts
            .iter()
            .fold(self.default_dir.clone(), |p, s| p.join(s))
    }

    /// Looks a secret up: prefixed env var, (locally) the bare name, then the file (trimmed).
    pub fn get(
        &self,
        group: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<SecretValue, SecretError> {
        let env_var = self.env_var(group, key, version);
        if let Ok(v) = std::env::var(&env_var) {
            return Ok(SecretValue(v));
        }
        if self.local {
            let bare = env_var.strip_prefix(&self.env_prefix).unwrap_or(&env_var);
            if let Ok(v) = std::env::var(bare) {
                return Ok(SecretValue(v));
            }
        }
        let path = self.file(group, key, version);
        let file_problem = match std::fs::read_to_string(&path) {
            Ok(v) => return Ok(SecretValue(v.trim().to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(_) if path.is_dir() => Some(format!(
                "{} is a directory, not a file; the secret's key names a file in it \
                 (check the group and key, and FLYTE_SECRETS_DEFAULT_DIR)",
                path.display()
            )),
            // The error kind only (never the content): e.g. permission denied, not UTF-8.
            Err(e) => Some(format!("it cannot be read: {}", e.kind())),
        };
        Err(SecretError {
            group: group.to_string(),
            key: key.to_string(),
            env_var,
            path: path.display().to_string(),
            file_problem,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_flytekit() {
        let m = SecretsManager {
            env_prefix: "_FSEC_".into(),
            default_dir: "/etc/secrets".into(),
            file_prefix: String::new(),
            local: false,
        };
        assert_eq!(m.env_var("grp", "KeY", Some("v1")), "_FSEC_GRP_V1_KEY");
        assert_eq!(m.env_var("grp", "key", None), "_FSEC_GRP_KEY");
        assert_eq!(
            m.file("grp", "KeY", Some("v1")),
            PathBuf::from("/etc/secrets/grp/v1/key")
        );
        let v = SecretValue("hunter2".into());
        assert!(!format!("{v:?}{v}").contains("hunter2"));
    }
}
