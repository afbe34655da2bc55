//! Registry credentials the way users already have them, looked up per registry host:
//!
//! 1. `FLYTEKIT_REGISTRY_USERNAME` / `FLYTEKIT_REGISTRY_PASSWORD` (every registry);
//! 2. Docker's `config.json` (in `$DOCKER_CONFIG`, else `~/.docker`), as `docker login` writes it:
//!    a `credHelpers` entry for the registry runs `docker-credential-<helper> get`; else an
//!    `auths` entry (`auth` = base64 `user:password`, or `username`/`password`); else the
//!    `credsStore` helper; a store that has nothing for the registry means anonymous;
//! 3. otherwise anonymous.
//!
//! Every failure names the registry and the setting to fix (the variable, the file and key, or
//! the helper). Secrets never appear in errors or logs: [`Credentials`]' `Debug` redacts them.
//!
//! Hand-written rather than the `docker_credential` crate: that crate reports a missing helper,
//! a failing helper and a store without an entry alike, without saying which helper or file, and
//! fails on a store without an entry, where Docker pulls anonymously.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::ImageError;

/// The environment variable with the registry username for every registry.
pub const USERNAME_ENV: &str = "FLYTEKIT_REGISTRY_USERNAME";
/// The environment variable with the registry password or token for every registry.
pub const PASSWORD_ENV: &str = "FLYTEKIT_REGISTRY_PASSWORD";

/// Where a credential came from, to name it in errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Given in code ([`RegistryClient::with_credentials`](super::RegistryClient::with_credentials)).
    Explicit,
    /// `FLYTEKIT_REGISTRY_USERNAME` / `FLYTEKIT_REGISTRY_PASSWORD`.
    Environment,
    /// An `auths` entry of a Docker config file.
    DockerAuths {
        /// The config file.
        file: PathBuf,
        /// The entry's key.
        key: String,
    },
    /// A credential helper named by a Docker config file.
    Helper {
        /// The config file.
        file: PathBuf,
        /// `credHelpers` or `credsStore`.
        setting: &'static str,
        /// The helper program, `docker-credential-<name>`.
        program: String,
    },
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Explicit => f.write_str("the credentials given in code"),
            CredentialSource::Environment => write!(f, "{USERNAME_ENV}/{PASSWORD_ENV}"),
            CredentialSource::DockerAuths { file, key } => {
                write!(f, "auths.\"{key}\" in {}", file.display())
            }
            CredentialSource::Helper {
                file,
                setting,
                program,
            } => write!(f, "{program} ({setting} in {})", file.display()),
        }
    }
}

/// A username and password (or token) for one registry, and where they came from.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username.
    pub username: String,
    /// The password or token.
    pub password: String,
    /// Where they came from.
    pub source: CredentialSource,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .field("source", &self.source)
            .finish()
    }
}

/// Where anonymous access was decided, to say in an authentication error what was looked at.
pub fn searched_places() -> String {
    format!(
        "{USERNAME_ENV}/{PASSWORD_ENV} and {}",
        docker_config_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the Docker config ($DOCKER_CONFIG or ~/.docker)".into())
    )
}

/// The credentials for `registry` (a host with optional port, e.g. `ghcr.io`,
/// `127.0.0.1:5000`, `docker.io`), or `None` for anonymous access.
pub fn lookup(registry: &str) -> Result<Option<Credentials>, ImageError> {
    if let (Ok(username), Ok(password)) = (std::env::var(USERNAME_ENV), std::env::var(PASSWORD_ENV))
        && !username.is_empty()
    {
        return Ok(Some(Credentials {
            username,
            password,
            source: CredentialSource::Environment,
        }));
    }
    match docker_config_path() {
        Some(file) if file.is_file() => from_docker_config(&file, registry),
        _ => Ok(None),
    }
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG").filter(|v| !v.is_empty()) {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => std::env::var_os("HOME")
            .filter(|v| !v.is_empty())
            .map(|home| PathBuf::from(home).join(".docker").join("config.json")),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    registrytoken: Option<String>,
}

/// The credentials for `registry` from the Docker config `file`.
pub fn from_docker_config(file: &Path, registry: &str) -> Result<Option<Credentials>, ImageError> {
    let fail = |setting: String, message: String| ImageError::Credentials {
        registry: registry.to_string(),
        setting,
        message,
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| fail(file.display().to_string(), format!("cannot read it: {e}")))?;
    let config: DockerConfig = serde_json::from_str(&text).map_err(|e| {
        fail(
            file.display().to_string(),
            format!("it is not a valid Docker config (JSON): {e}"),
        )
    })?;
    let wanted = normalize(registry);
    if let Some((_, helper)) = config
        .cred_helpers
        .iter()
        .find(|(k, v)| normalize(k) == wanted && !v.is_empty())
    {
        return run_helper(file, "credHelpers", helper, registry);
    }
    if let Some((key, entry)) = config.auths.iter().find(|(k, _)| normalize(k) == wanted) {
        let source = CredentialSource::DockerAuths {
            file: file.to_path_buf(),
            key: key.clone(),
        };
        let setting = source.to_string();
        if entry
            .identitytoken
            .as_deref()
            .is_some_and(|t| !t.is_empty())
        {
            return Err(fail(
                setting,
                "it holds an identity token (an OAuth2 refresh token), which flytekit-rs does not \
                 exchange; log in with a username and password or access token instead \
                 (docker login -u USER REGISTRY), or set FLYTEKIT_REGISTRY_USERNAME and \
                 FLYTEKIT_REGISTRY_PASSWORD"
                    .into(),
            ));
        }
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    fail(
                        setting.clone(),
                        "its `auth` is not base64 of `user:password`; log in again (docker login)"
                            .into(),
                    )
                })?;
            let (username, password) = decoded.split_once(':').ok_or_else(|| {
                fail(
                    setting.clone(),
                    "its `auth` does not decode to `user:password`; log in again (docker login)"
                        .into(),
                )
            })?;
            return Ok(Some(Credentials {
                username: username.to_string(),
                password: password.to_string(),
                source,
            }));
        }
        if let (Some(username), Some(password)) = (&entry.username, &entry.password) {
            return Ok(Some(Credentials {
                username: username.clone(),
                password: password.clone(),
                source,
            }));
        }
        if entry
            .registrytoken
            .as_deref()
            .is_some_and(|t| !t.is_empty())
        {
            return Err(fail(
                setting,
                "it holds only a registry token, which flytekit-rs does not use; log in with a \
                 username and password or access token (docker login)"
                    .into(),
            ));
        }
        // An empty entry (`docker login` with a credsStore leaves `{}`): ask the store.
    }
    match config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        Some(store) => run_helper(file, "credsStore", store, registry),
        None => Ok(None),
    }
}

/// The registry key as Docker compares them: no scheme, no path, Docker Hub's aliases as one.
fn normalize(key: &str) -> String {
    let key = key.trim();
    let stripped = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = stripped.split('/').next().unwrap_or(stripped);
    match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "index.docker.io".to_string(),
        other => other.to_ascii_lowercase(),
    }
}

/// What Docker passes a helper for `registry` (Docker Hub's legacy server URL for Docker Hub).
fn server_url(registry: &str) -> String {
    if normalize(registry) == "index.docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// Runs `docker-credential-<helper> get` with the server URL on stdin.
fn run_helper(
    file: &Path,
    setting: &'static str,
    helper: &str,
    registry: &str,
) -> Result<Option<Credentials>, ImageError> {
    let program = format!("docker-credential-{helper}");
    let source = CredentialSource::Helper {
        file: file.to_path_buf(),
        setting,
        program: program.clone(),
    };
    let fail = |message: String| ImageError::Credentials {
        registry: registry.to_string(),
        setting: source.to_string(),
        message,
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                fail(format!(
                    "the credential helper `{program}` is not on PATH; install it, or remove \
                     \"{helper}\" from {setting} in {}",
                    file.display()
                ))
            } else {
                fail(format!("cannot start `{program}`: {e}"))
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server_url(registry).as_bytes())
            .map_err(|e| fail(format!("cannot write to `{program}`: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("`{program}` did not finish: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // The helper protocol's answer for "nothing stored": Docker then pulls anonymously.
        if stdout.contains("credentials not found") {
            return Ok(None);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said: String = format!("{} {}", stdout.trim(), stderr.trim())
            .trim()
            .chars()
            .take(300)
            .collect();
        return Err(fail(format!(
            "`{program} get` failed ({}): {said}",
            out.status
        )));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|e| {
        fail(format!(
            "`{program} get` answered something other than {{\"Username\", \"Secret\"}} JSON: {e}"
        ))
    })?;
    if answer.username == "<token>" {
        return Err(fail(format!(
            "`{program}` gave an identity token (an OAuth2 refresh token), which flytekit-rs \
             does not exchange; store a username and password or access token for {registry}"
        )));
    }
    Ok(Some(Credentials {
        username: answer.username,
        password: answer.secret,
        source,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) -> PathBuf {
        let file = dir.join("config.json");
        std::fs::write(&file, json).unwrap();
        file
    }

    #[test]
    fn auths_entries() {
        let dir = tempfile::tempdir().unwrap();
        // "alice:s3cret" and a Docker Hub entry under its legacy key.
        let file = write(
            dir.path(),
            r#"{"auths": {
                "https://ghcr.io/v2/": {"auth": "YWxpY2U6czNjcmV0"},
                "https://index.docker.io/v1/": {"username": "bob", "password": "pw"},
                "quay.io": {}
            }}"#,
        );
        let c = from_docker_config(&file, "ghcr.io").unwrap().unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("alice", "s3cret")
        );
        assert!(
            c.source
                .to_string()
                .contains("auths.\"https://ghcr.io/v2/\"")
        );
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = from_docker_config(&file, "docker.io").unwrap().unwrap();
        assert_eq!(c.username, "bob");
        assert_eq!(from_docker_config(&file, "quay.io").unwrap(), None);
        assert_eq!(from_docker_config(&file, "127.0.0.1:5000").unwrap(), None);
    }

    #[test]
    fn bad_configs_name_the_file_and_registry() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "{not json");
        let e = from_docker_config(&file, "ghcr.io")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ghcr.io") && e.contains("config.json"), "{e}");
        let file = write(dir.path(), r#"{"auths": {"ghcr.io": {"auth": "!!"}}}"#);
        let e = from_docker_config(&file, "ghcr.io")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("auths.\"ghcr.io\"") && e.contains("docker login"),
            "{e}"
        );
        let file = write(
            dir.path(),
            r#"{"credHelpers": {"ghcr.io": "flytekit-rs-no-such-helper"}}"#,
        );
        let e = from_docker_config(&file, "ghcr.io")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("docker-credential-flytekit-rs-no-such-helper")
                && e.contains("not on PATH")
                && e.contains("credHelpers"),
            "{e}"
        );
    }

    #[test]
    fn keys_normalize_like_docker() {
        assert_eq!(normalize("https://index.docker.io/v1/"), "index.docker.io");
        assert_eq!(normalize("registry-1.docker.io"), "index.docker.io");
        assert_eq!(normalize("http://localhost:5000"), "localhost:5000");
        assert_eq!(server_url("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(server_url("ghcr.io"), "ghcr.io");
    }
}
