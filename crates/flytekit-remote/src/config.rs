//! Where FlyteAdmin is and how to reach it: the settings flytectl and pyflyte read.
//!
//! [`PlatformConfig::load`] follows flytekit's `PlatformConfig.auto()`:
//!
//! 1. The config file: `--config` when given, else `$_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE`, else
//!    `$FLYTECTL_CONFIG` (when the file exists), else `./flytekit.config`, `~/.flyte/config`,
//!    `~/.flyte/config.yaml`. A name ending in `yaml`/`yml` is flytectl's YAML (`admin.endpoint`,
//!    `admin.insecure`, ...), anything else flytekit's INI (`[platform] url`, ...).
//! 2. Every setting may be overridden by its environment variable `FLYTE_<SECTION>_<OPTION>`
//!    (`FLYTE_PLATFORM_URL`, `FLYTE_PLATFORM_INSECURE`, `FLYTE_CREDENTIALS_CLIENT_ID`, ...), which
//!    wins over the file, as in flytekit.
//!
//! Each value remembers where it came from ([`Setting`]), so errors can name the setting to fix.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a setting's value came from: named in error messages so users know what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Setting {
    /// An environment variable.
    Env(String),
    /// A key of a config file (`admin.endpoint` in YAML, `[platform] url` in INI).
    File {
        /// The key as written in the file.
        key: String,
        /// The file.
        path: PathBuf,
    },
    /// Not set anywhere; the default applies. Holds the names to set it by.
    Default(String),
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Setting::Env(name) => write!(f, "${name}"),
            Setting::File { key, path } => write!(f, "{key} in {}", path.display()),
            Setting::Default(how) => write!(f, "the default; set {how}"),
        }
    }
}

/// A setting's value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub from: Setting,
}

/// How the client gets a token when FlyteAdmin asks for one (`admin.authType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// Authorization code with PKCE in a browser (`Pkce`, `standard`), flytekit's default.
    Pkce,
    /// Client id and secret (`ClientSecret`, `basic`, `client_credentials`).
    ClientSecret,
    /// A command that prints a token (`ExternalCommand`, `external_process`).
    ExternalCommand,
    /// The device authorization flow, for machines without a browser (`DeviceFlow`).
    DeviceFlow,
}

impl AuthMode {
    /// Parses an `admin.authType` value the way flytekit does (case-insensitive, with its aliases).
    pub fn parse(s: &str) -> Option<AuthMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pkce" | "standard" => Some(AuthMode::Pkce),
            "clientsecret" | "basic" | "client_credentials" => Some(AuthMode::ClientSecret),
            "externalcommand" | "external_process" => Some(AuthMode::ExternalCommand),
            "deviceflow" => Some(AuthMode::DeviceFlow),
            _ => None,
        }
    }

    /// The value to write in `admin.authType` for this mode.
    pub fn name(self) -> &'static str {
        match self {
            AuthMode::Pkce => "Pkce",
            AuthMode::ClientSecret => "ClientSecret",
            AuthMode::ExternalCommand => "ExternalCommand",
            AuthMode::DeviceFlow => "DeviceFlow",
        }
    }
}

/// A secret string whose `Debug` output hides the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret value; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The settings of a connection to FlyteAdmin.
#[derive(Clone, Debug)]
pub struct PlatformConfig {
    /// `host:port` of FlyteAdmin's gRPC API (`admin.endpoint`, `dns:///` stripped).
    pub endpoint: Sourced<String>,
    /// Plaintext HTTP/2 instead of TLS (`admin.insecure`).
    pub insecure: Sourced<bool>,
    /// TLS without verifying the server's certificate (`admin.insecureSkipVerify`); testing only.
    pub insecure_skip_verify: Sourced<bool>,
    /// A PEM file of the CA certificates to trust instead of the system's (`admin.caCertFilePath`).
    pub ca_cert_file_path: Option<Sourced<PathBuf>>,
    /// The console's base URL, when it is not `https://<endpoint>` (`console.endpoint`).
    pub console_endpoint: Option<Sourced<String>>,
    /// How to get a token when FlyteAdmin asks for one (`admin.authType`).
    pub auth_mode: Sourced<AuthMode>,
    /// The OAuth2 client id for client credentials (`admin.clientId`).
    pub client_id: Option<Sourced<String>>,
    /// The client secret, read from `admin.clientSecretLocation` or `admin.clientSecretEnvVar`.
    pub client_secret: Option<Sourced<Secret>>,
    /// Scopes to request (`admin.scopes`); FlyteAdmin's public client config when empty.
    pub scopes: Vec<String>,
    /// The audience to request tokens for (`admin.audience`).
    pub audience: Option<String>,
    /// The command that prints a token for `ExternalCommand` (`admin.command`).
    pub command: Vec<String>,
    /// The gRPC metadata key that carries the token (`admin.authorizationHeader`); FlyteAdmin's
    /// public client config says which otherwise (default `authorization`).
    pub authorization_header: Option<String>,
    /// The largest gRPC message FlyteAdmin accepts and this client reads
    /// (`admin.maxMessageSizeBytes`, default 4 MiB, gRPC's default).
    pub max_message_size: Sourced<usize>,
    /// The project to register and run in when none is given: `$FLYTE_DEFAULT_PROJECT`, else
    /// `task.project` (`[local] project`), else `flytesnacks` (pyflyte's `-p` default).
    pub default_project: Sourced<String>,
    /// The domain likewise: `$FLYTE_DEFAULT_DOMAIN`, `task.domain`, else `development`.
    pub default_domain: Sourced<String>,
    /// The config file read, if any.
    pub file: Option<PathBuf>,
}

/// gRPC's default message size limit, which FlyteAdmin keeps unless configured otherwise.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 4 * 1024 * 1024;

/// flytekit's default endpoint (the sandbox).
pub const DEFAULT_ENDPOINT: &str = "localhost:30080";

/// An unusable configuration: which file or setting is wrong and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file cannot be read.
    #[error("cannot read the Flyte config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid YAML or INI.
    #[error("invalid Flyte config file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value does not fit its setting.
    #[error("{setting}: {message}")]
    Value {
        /// The setting.
        setting: Setting,
        /// What is wrong.
        message: String,
    },
}

/// One configuration entry: flytekit's `ConfigEntry(LegacyConfigEntry(section, option),
/// YamlConfigEntry(switch))`.
struct Entry {
    section: &'static str,
    option: &'static str,
    yaml: Option<&'static str>,
}

const URL: Entry = Entry {
    section: "platform",
    option: "url",
    yaml: Some("admin.endpoint"),
};
const INSECURE: Entry = Entry {
    section: "platform",
    option: "insecure",
    yaml: Some("admin.insecure"),
};
const INSECURE_SKIP_VERIFY: Entry = Entry {
    section: "platform",
    option: "insecure_skip_verify",
    yaml: Some("admin.insecureSkipVerify"),
};
const CA_CERT_FILE_PATH: Entry = Entry {
    section: "platform",
    option: "ca_cert_file_path",
    yaml: Some("admin.caCertFilePath"),
};
const CONSOLE_ENDPOINT: Entry = Entry {
    section: "platform",
    option: "console_endpoint",
    yaml: Some("console.endpoint"),
};
const COMMAND: Entry = Entry {
    section: "credentials",
    option: "command",
    yaml: Some("admin.command"),
};
const CLIENT_ID: Entry = Entry {
    section: "credentials",
    option: "client_id",
    yaml: Some("admin.clientId"),
};
const CLIENT_SECRET: Entry = Entry {
    section: "credentials",
    option: "client_secret",
    yaml: None,
};
const CLIENT_SECRET_LOCATION: Entry = Entry {
    section: "credentials",
    option: "client_secret_location",
    yaml: Some("admin.clientSecretLocation"),
};
const CLIENT_SECRET_ENV_VAR: Entry = Entry {
    section: "credentials",
    option: "client_secret_env_var",
    yaml: Some("admin.clientSecretEnvVar"),
};
const SCOPES: Entry = Entry {
    section: "credentials",
    option: "scopes",
    yaml: Some("admin.scopes"),
};
const AUTH_MODE: Entry = Entry {
    section: "credentials",
    option: "auth_mode",
    yaml: Some("admin.authType"),
};
const AUDIENCE: Entry = Entry {
    section: "credentials",
    option: "audience",
    yaml: Some("admin.audience"),
};
// flytectl's settings without a flytekit counterpart (environment names in flytekit's style).
const AUTHORIZATION_HEADER: Entry = Entry {
    section: "credentials",
    option: "authorization_header",
    yaml: Some("admin.authorizationHeader"),
};
const USER_PROJECT: Entry = Entry {
    section: "local",
    option: "project",
    yaml: Some("task.project"),
};
const USER_DOMAIN: Entry = Entry {
    section: "local",
    option: "domain",
    yaml: Some("task.domain"),
};
const MAX_MESSAGE_SIZE: Entry = Entry {
    section: "platform",
    option: "max_message_size_bytes",
    yaml: Some("admin.maxMessageSizeBytes"),
};

impl Entry {
    fn env_name(&self) -> String {
        format!(
            "FLYTE_{}_{}",
            self.section.to_ascii_uppercase(),
            self.option.to_ascii_uppercase()
        )
    }
}

/// A config value as read: a string or a list (YAML sequences; INI values are strings).
#[derive(Clone, Debug)]
enum Raw {
    Text(String),
    List(Vec<String>),
}

/// A parsed config file.
enum File {
    Yaml(serde_yaml::Value),
    Ini(Vec<(String, String, String)>),
}

/// Reads settings from the environment, then the file, naming where each came from.
struct Reader<'a> {
    file: Option<(&'a Path, File)>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn raw(&self, entry: &Entry) -> Option<(Raw, Setting)> {
        let env = entry.env_name();
        if let Some(v) = (self.env)(&env) {
            return Some((Raw::Text(v), Setting::Env(env)));
        }
        let (path, file) = self.file.as_ref()?;
        match file {
            File::Ini(items) => items
                .iter()
                .find(|(s, o, _)| s == entry.section && o == entry.option)
                .map(|(_, _, v)| {
                    (
                        Raw::Text(v.clone()),
                        Setting::File {
                            key: format!("[{}] {}", entry.section, entry.option),
                            path: path.to_path_buf(),
                        },
                    )
                }),
            File::Yaml(doc) => {
                let key = entry.yaml?;
                let mut node = doc;
                for part in key.split('.') {
                    node = node.get(part)?;
                }
                let raw = match node {
                    serde_yaml::Value::Null => return None,
                    serde_yaml::Value::String(s) if s.is_empty() => return None,
                    serde_yaml::Value::String(s) => Raw::Text(s.clone()),
                    serde_yaml::Value::Bool(b) => Raw::Text(b.to_string()),
                    serde_yaml::Value::Number(n) => Raw::Text(n.to_string()),
                    serde_yaml::Value::Sequence(items) => Raw::List(
                        items
                            .iter()
                            .filter_map(|i| match i {
                                serde_yaml::Value::String(s) => Some(s.clone()),
                                serde_yaml::Value::Number(n) => Some(n.to_string()),
                                serde_yaml::Value::Bool(b) => Some(b.to_string()),
                                _ => None,
                            })
                            .collect(),
                    ),
                    _ => return None,
                };
                Some((
                    raw,
                    Setting::File {
                        key: key.to_string(),
                        path: path.to_path_buf(),
                    },
                ))
            }
        }
    }

    fn text(&self, entry: &Entry) -> Option<Sourced<String>> {
        self.raw(entry).map(|(raw, from)| Sourced {
            value: match raw {
                Raw::Text(s) => s,
                Raw::List(items) => items.join(","),
            },
            from,
        })
    }

    /// flytekit's list transformer: a comma-separated string or a YAML sequence.
    fn list(&self, entry: &Entry) -> Option<Sourced<Vec<String>>> {
        self.raw(entry).map(|(raw, from)| Sourced {
            value: match raw {
                Raw::Text(s) => s
                    .split(',')
                    .map(|p| p.trim().to_string())
                    .filter(|p| !p.is_empty())
                    .collect(),
                Raw::List(items) => items,
            },
            from,
        })
    }

    /// flytekit's bool transformer: anything but `false`, `0`, `off`, `no` (and empty) is true.
    fn bool(&self, entry: &Entry) -> Option<Sourced<bool>> {
        self.text(entry).map(|s| Sourced {
            value: !matches!(
                s.value.trim().to_ascii_lowercase().as_str(),
                "" | "false" | "0" | "off" | "no"
            ),
            from: s.from,
        })
    }
}

impl PlatformConfig {
    /// Loads the configuration from `config` (the `--config` flag), or the file flytekit would
    /// find, overridden by `FLYTE_*` environment variables.
    pub fn load(config: Option<&Path>) -> Result<PlatformConfig, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        let path = match config {
            Some(p) => Some(p.to_path_buf()),
            None => find_config_file(&env),
        };
        Self::load_with(path.as_deref(), &env)
    }

    /// [`load`](Self::load) from an explicit file (or none) and environment lookup: for tests
    /// and embedders.
    pub fn load_with(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<PlatformConfig, ConfigError> {
        let file = match path {
            Some(p) => Some((p, read_file(p)?)),
            None => None,
        };
        let r = Reader { file, env };
        let value_err = |from: &Setting, message: String| ConfigError::Value {
            setting: from.clone(),
            message,
        };

        let endpoint = match r.text(&URL) {
            Some(s) => Sourced {
                value: normalize_endpoint(&s.value).map_err(|m| value_err(&s.from, m))?,
                from: s.from,
            },
            None => Sourced {
                value: DEFAULT_ENDPOINT.to_string(),
                from: Setting::Default(
                    "admin.endpoint in ~/.flyte/config.yaml or $FLYTE_PLATFORM_URL".into(),
                ),
            },
        };
        let default_bool = |entry: &Entry| Sourced {
            value: false,
            from: Setting::Default(format!(
                "{} in the config file or ${}",
                entry.yaml.unwrap_or(entry.option),
                entry.env_name()
            )),
        };
        let insecure = r.bool(&INSECURE).unwrap_or_else(|| default_bool(&INSECURE));
        let insecure_skip_verify = r
            .bool(&INSECURE_SKIP_VERIFY)
            .unwrap_or_else(|| default_bool(&INSECURE_SKIP_VERIFY));
        let ca_cert_file_path = r.text(&CA_CERT_FILE_PATH).map(|s| Sourced {
            value: expand_home(&s.value, &r),
            from: s.from,
        });
        let console_endpoint = r.text(&CONSOLE_ENDPOINT);
        let command = r.list(&COMMAND).map(|s| s.value).unwrap_or_default();
        let client_id = r.text(&CLIENT_ID);
        let audience = r.text(&AUDIENCE).map(|s| s.value);
        let scopes = r.list(&SCOPES).map(|s| s.value).unwrap_or_default();
        let authorization_header = r.text(&AUTHORIZATION_HEADER).map(|s| s.value);

        // The secret, as flytekit reads it: inline (INI/env only), then a file, then a named
        // environment variable; a file or variable also selects client-secret auth.
        let mut client_secret = r.text(&CLIENT_SECRET).map(|s| Sourced {
            value: Secret::new(s.value),
            from: s.from,
        });
        let mut secret_selects_mode = false;
        if let Some(loc) = r.text(&CLIENT_SECRET_LOCATION) {
            let path = expand_home(&loc.value, &r);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    client_secret = Some(Sourced {
                        value: Secret::new(text.trim()),
                        from: loc.from,
                    });
                    secret_selects_mode = true;
                }
                // flytekit skips a missing file silently; say so once.
                Err(e) => tracing::warn!(
                    "client secret file {} ({}) cannot be read: {e}",
                    path.display(),
                    loc.from
                ),
            }
        }
        if let Some(var) = r.text(&CLIENT_SECRET_ENV_VAR)
            && let Some(v) = (r.env)(&var.value).filter(|v| !v.is_empty())
        {
            client_secret = Some(Sourced {
                value: Secret::new(v),
                from: Setting::Env(var.value.clone()),
            });
            secret_selects_mode = true;
        }
        let mut auth_mode = match r.text(&AUTH_MODE) {
            Some(s) => Sourced {
                value: AuthMode::parse(&s.value).ok_or_else(|| {
                    value_err(
                        &s.from,
                        format!(
                            "unknown authentication type '{}'; use Pkce, ClientSecret, \
                             ExternalCommand or DeviceFlow",
                            s.value
                        ),
                    )
                })?,
                from: s.from,
            },
            None => Sourced {
                value: AuthMode::Pkce,
                from: Setting::Default("admin.authType or $FLYTE_CREDENTIALS_AUTH_MODE".into()),
            },
        };
        if secret_selects_mode && let Some(s) = &client_secret {
            auth_mode = Sourced {
                value: AuthMode::ClientSecret,
                from: s.from.clone(),
            };
        }
        let max_message_size = match r.text(&MAX_MESSAGE_SIZE) {
            Some(s) => Sourced {
                value: s.value.trim().parse::<usize>().map_err(|_| {
                    value_err(&s.from, format!("'{}' is not a number of bytes", s.value))
                })?,
                from: s.from,
            },
            None => Sourced {
                value: DEFAULT_MAX_MESSAGE_SIZE,
                from: Setting::Default(
                    "admin.maxMessageSizeBytes (FlyteAdmin's server.grpc.maxMessageSizeBytes)"
                        .into(),
                ),
            },
        };
        // pyflyte's `-p`/`-d` defaults: `$FLYTE_DEFAULT_PROJECT`, then TaskConfig.
        let default = |var: &str, entry: &Entry, fallback: &str| match (r.env)(var)
            .filter(|v| !v.is_empty())
        {
            Some(v) => Sourced {
                value: v,
                from: Setting::Env(var.to_string()),
            },
            None => r.text(entry).unwrap_or_else(|| Sourced {
                value: fallback.to_string(),
                from: Setting::Default(format!("--{} or ${var}", entry.option)),
            }),
        };
        let default_project = default("FLYTE_DEFAULT_PROJECT", &USER_PROJECT, "flytesnacks");
        let default_domain = default("FLYTE_DEFAULT_DOMAIN", &USER_DOMAIN, "development");
        Ok(PlatformConfig {
            endpoint,
            insecure,
            insecure_skip_verify,
            ca_cert_file_path,
            console_endpoint,
            auth_mode,
            client_id,
            client_secret,
            scopes,
            audience,
            command,
            authorization_header,
            max_message_size,
            default_project,
            default_domain,
            file: r.file.as_ref().map(|(p, _)| p.to_path_buf()),
        })
    }

    /// A configuration for `endpoint` with every other setting at its default.
    pub fn for_endpoint(endpoint: &str, insecure: bool) -> Result<PlatformConfig, ConfigError> {
        let env = |name: &str| match name {
            "FLYTE_PLATFORM_URL" => Some(endpoint.to_string()),
            "FLYTE_PLATFORM_INSECURE" => Some(insecure.to_string()),
            _ => None,
        };
        Self::load_with(None, &env)
    }

    /// The console's base URL: `console.endpoint`, else `http(s)://<endpoint>` (flytekit's rule).
    pub fn console_base(&self) -> String {
        match &self.console_endpoint {
            Some(c) => c.value.trim_end_matches('/').to_string(),
            None => format!(
                "{}://{}",
                if self.insecure.value { "http" } else { "https" },
                self.endpoint.value
            ),
        }
    }
}

/// `dns:///host:port`, `host:port`, `grpc://host:port` or `https://host` → `host:port` (or
/// `host`).
fn normalize_endpoint(raw: &str) -> Result<String, String> {
    let mut s = raw.trim();
    for prefix in [
        "dns:///", "dns://", "grpc://", "grpcs://", "https://", "http://",
    ] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest;
            break;
        }
    }
    let s = s.trim_end_matches('/');
    if s.is_empty() || s.contains('/') || s.contains(char::is_whitespace) {
        return Err(format!(
            "'{raw}' is not an endpoint; write it as dns:///host:port (or host:port)"
        ));
    }
    Ok(s.to_string())
}

/// `~/x` → `$HOME/x`.
fn expand_home(path: &str, r: &Reader<'_>) -> PathBuf {
    match (path.strip_prefix("~/"), (r.env)("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// flytekit's `get_config_file(None)`.
fn find_config_file(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    for var in ["_FLYTECTL_CONFIG_PYFLYTE_OVERRIDE", "FLYTECTL_CONFIG"] {
        if let Some(p) = env(var).filter(|p| !p.is_empty()) {
            let p = PathBuf::from(p);
            if p.exists() {
                return Some(p);
            }
            tracing::warn!(
                "the Flyte config file {} named by ${var} does not exist; ignoring it",
                p.display()
            );
        }
    }
    let local = PathBuf::from("flytekit.config");
    if local.exists() {
        return Some(local);
    }
    let home = PathBuf::from(env("HOME")?);
    [home.join(".flyte/config"), home.join(".flyte/config.yaml")]
        .into_iter()
        .find(|p| p.exists())
}

fn read_file(path: &Path) -> Result<File, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.to_string_lossy();
    if name.ends_with("yaml") || name.ends_with("yml") {
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(File::Yaml(doc))
    } else {
        parse_ini(&text)
            .map(File::Ini)
            .map_err(|message| ConfigError::Parse {
                path: path.to_path_buf(),
                message,
            })
    }
}

/// `(section, option, value)` triples of an INI file, parsed like Python's `configparser` for
/// what flytekit configs use: `key = value` or `key: value`, `#`/`;` comments, indented
/// continuation lines, lowercased option names.
fn parse_ini(text: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut section: Option<String> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            section = Some(name.trim().to_string());
            continue;
        }
        if line.starts_with(char::is_whitespace)
            && let Some(last) = out.last_mut()
        {
            last.2.push('\n');
            last.2.push_str(trimmed);
            continue;
        }
        let Some(sec) = &section else {
            return Err(format!("line {}: option outside a [section]", n + 1));
        };
        let split = trimmed
            .find(['=', ':'])
            .ok_or_else(|| format!("line {}: expected `key = value`", n + 1))?;
        let key = trimmed[..split].trim().to_ascii_lowercase();
        let value = trimmed[split + 1..].trim().to_string();
        out.retain(|(s, k, _)| !(s == sec && *k == key));
        out.push((sec.clone(), key, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(file: Option<(&str, &str)>, env: &[(&str, &str)]) -> PlatformConfig {
        let dir = tempfile::tempdir().unwrap();
        let path = file.map(|(name, text)| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        });
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        PlatformConfig::load_with(path.as_deref(), &|k| env.get(k).cloned()).unwrap()
    }

    #[test]
    fn reads_flytectl_yaml() {
        let c = load(
            Some((
                "config.yaml",
                "admin:\n  endpoint: dns:///flyte.example.com:443\n  insecure: false\n  \
                 authType: ClientSecret\n  clientId: app\n  scopes: [all, offline]\n\
                 console:\n  endpoint: https://console.example.com/\n",
            )),
            &[],
        );
        assert_eq!(c.endpoint.value, "flyte.example.com:443");
        assert!(matches!(&c.endpoint.from, Setting::File { key, .. } if key == "admin.endpoint"));
        assert!(!c.insecure.value);
        assert_eq!(c.auth_mode.value, AuthMode::ClientSecret);
        assert_eq!(c.client_id.as_ref().unwrap().value, "app");
        assert_eq!(c.scopes, ["all", "offline"]);
        assert_eq!(c.console_base(), "https://console.example.com");
    }

    #[test]
    fn environment_wins_over_the_file() {
        let c = load(
            Some((
                "config.yaml",
                "admin:\n  endpoint: dns:///a:1\n  insecure: true\n",
            )),
            &[
                ("FLYTE_PLATFORM_URL", "b:2"),
                ("FLYTE_PLATFORM_INSECURE", "False"),
            ],
        );
        assert_eq!(c.endpoint.value, "b:2");
        assert_eq!(c.endpoint.from, Setting::Env("FLYTE_PLATFORM_URL".into()));
        assert!(!c.insecure.value);
        assert_eq!(c.console_base(), "https://b:2");
    }

    #[test]
    fn reads_flytekit_ini() {
        let c = load(
            Some((
                "flytekit.config",
                "[platform]\nurl = localhost:30081\ninsecure = True\n\
                 [credentials]\nclient_id = x\nclient_secret = s3cr3t\nauth_mode = basic\n",
            )),
            &[],
        );
        assert_eq!(c.endpoint.value, "localhost:30081");
        assert!(c.insecure.value);
        assert_eq!(c.auth_mode.value, AuthMode::ClientSecret);
        assert_eq!(c.client_secret.as_ref().unwrap().value.expose(), "s3cr3t");
        assert!(
            !format!("{c:?}").contains("s3cr3t"),
            "Debug shows no secret"
        );
    }

    #[test]
    fn a_secret_file_or_variable_selects_client_secret_auth() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret");
        std::fs::write(&secret, "abc\n").unwrap();
        let yaml = format!(
            "admin:\n  endpoint: dns:///h:1\n  clientId: id\n  clientSecretLocation: {}\n",
            secret.display()
        );
        let c = load(Some(("c.yaml", &yaml)), &[]);
        assert_eq!(c.auth_mode.value, AuthMode::ClientSecret);
        assert_eq!(c.client_secret.unwrap().value.expose(), "abc");
        let c = load(
            Some(("c.yaml", "admin:\n  clientSecretEnvVar: MY_SECRET\n")),
            &[("MY_SECRET", "xyz")],
        );
        assert_eq!(c.auth_mode.value, AuthMode::ClientSecret);
        assert_eq!(
            c.client_secret.unwrap().from,
            Setting::Env("MY_SECRET".into())
        );
    }

    #[test]
    fn defaults_and_bad_values_are_named() {
        let c = load(None, &[]);
        assert_eq!(c.endpoint.value, DEFAULT_ENDPOINT);
        assert!(c.endpoint.from.to_string().contains("FLYTE_PLATFORM_URL"));
        assert_eq!(c.auth_mode.value, AuthMode::Pkce);
        assert_eq!(c.max_message_size.value, DEFAULT_MAX_MESSAGE_SIZE);
        assert_eq!(
            (
                c.default_project.value.as_str(),
                c.default_domain.value.as_str()
            ),
            ("flytesnacks", "development")
        );
        let c = load(
            Some(("c.yaml", "task:\n  project: fromfile\n  domain: staging\n")),
            &[("FLYTE_DEFAULT_PROJECT", "fromenv")],
        );
        assert_eq!(c.default_project.value, "fromenv");
        assert_eq!(c.default_domain.value, "staging");
        let err = PlatformConfig::load_with(None, &|k| {
            (k == "FLYTE_CREDENTIALS_AUTH_MODE").then(|| "magic".to_string())
        })
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("$FLYTE_CREDENTIALS_AUTH_MODE") && err.contains("magic"),
            "{err}"
        );
        let err = PlatformConfig::load_with(None, &|k| {
            (k == "FLYTE_PLATFORM_URL").then(|| "http://a/b/c".to_string())
        })
        .unwrap_err()
        .to_string();
        assert!(err.contains("not an endpoint"), "{err}");
    }
}
