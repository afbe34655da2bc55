//! The in-image sandbox (`run --sandbox --in-image`): a task container runs inside its image,
//! isolated with bubblewrap, the way a Kubernetes node would run it.
//!
//! For each container the sandbox asks [`InImage::command`] for the process to start:
//!
//! - **the image** is pulled from its registry and unpacked once into the
//!   [`RootfsCache`] (keyed by manifest digest);
//! - **the filesystem** is the image's, read-only (a tmpfs root holding read-only binds of the
//!   image's top-level entries, remounted read-only), with a fresh `/proc`, `/dev` and a
//!   writable `/tmp`; nothing of this machine is visible but the blob store (a local store is
//!   bind-mounted read-write at its own path, so every URI means the same inside and out) and
//!   the task's secrets;
//! - **the process** is the image's `Entrypoint` followed by the container args (a bare program
//!   name is found on the image's `PATH`), in the image's `WorkingDir`, as the image's `User`;
//! - **the environment** is exactly what Propeller would give: the image's `Env`, then
//!   `FLYTE_INTERNAL_*`, `FLYTE_ATTEMPT_NUMBER` and the template's env (the `env` passed in),
//!   plus, for a remote store, this machine's storage configuration (`FLYTE_AWS_*`, `AWS_*`,
//!   `FLYTE_AZURE_*`, `FLYTE_GCP_*`, as a cluster's platform default env would carry it) — never
//!   the rest of the host's environment;
//! - **secrets** the template requests are read on this machine (flytekit's local lookup:
//!   `_FSEC_<GROUP>_<KEY>`, the bare name, or the secrets directory) and given as Propeller's
//!   injector gives them: `ANY`/`FILE` as files under `/etc/flyte/secrets/<group>/<key>` with
//!   `FLYTE_SECRETS_DEFAULT_DIR`, `ENV_VAR` as `_FSEC_<GROUP>_<KEY>`;
//! - **the network** is unshared (no network at all) for a local store, and shared with this
//!   machine for a remote one (`s3://...`), which the task then reaches as on a cluster.
//!
//! bubblewrap (`bwrap`, Debian package `bubblewrap`) needs user namespaces or root. Container
//! runtimes (podman, crun) fail on hybrid-cgroup machines; bubblewrap needs no cgroups.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flytekit_idl::core::{TaskTemplate, secret};

use crate::image::registry::{Platform, RegistryClient};
use crate::image::rootfs::{PulledImage, RootfsCache};
use crate::settings::SerializationSettings;

/// Where Propeller's injector mounts file secrets.
pub const SECRETS_DIR: &str = "/etc/flyte/secrets";

/// Prefixes of the storage configuration passed to containers when the store is remote.
const STORAGE_ENV_PREFIXES: &[&str] = &["FLYTE_AWS_", "AWS_", "FLYTE_AZURE_", "FLYTE_GCP_"];

/// Paths the sandbox mounts itself at the root of every container.
const OWN_MOUNTS: &[&str] = &["proc", "dev", "tmp", "sys"];

/// Why a container cannot be started in its image.
#[derive(Debug, thiserror::Error)]
pub enum InImageError {
    /// bubblewrap is not installed.
    #[error(
        "--in-image runs each task with bubblewrap, and `bwrap` is not on PATH: install it \
         (Debian/Ubuntu: apt-get install bubblewrap)"
    )]
    NoBubblewrap,
    /// The task template names no image.
    #[error("the task template has no container image; --in-image needs one (pass --image)")]
    NoImage,
    /// The image cannot be pulled or read.
    #[error("cannot run in image {image}: {source}")]
    Image {
        /// The image.
        image: String,
        /// Why.
        #[source]
        source: crate::image::ImageError,
    },
    /// A requested secret is not on this machine.
    #[error(
        "the task requests a secret this machine does not have ({0}); on a cluster the pod \
         would not start"
    )]
    Secret(#[source] Box<crate::secrets::SecretError>),
    /// The image's `User` does not resolve in the image.
    #[error("the image's User {user:?} is not in its {file}; the container cannot start")]
    User {
        /// The `User` of the image config.
        user: String,
        /// `/etc/passwd` or `/etc/group`.
        file: &'static str,
    },
    /// A local file operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> InImageError {
    let what = what.into();
    move |source| InImageError::Io { what, source }
}

/// Settings of in-image runs (see the [module docs](self)).
pub struct InImage {
    settings: SerializationSettings,
    client: RegistryClient,
    cache: RootfsCache,
    platform: Platform,
    bwrap: PathBuf,
    pulled: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<PulledImage>>>>,
}

impl fmt::Debug for InImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InImage")
            .field("binary", &self.settings.binary)
            .field("cache", &self.cache.dir())
            .field("bwrap", &self.bwrap)
            .finish()
    }
}

impl InImage {
    /// In-image runs of tasks serialized with `settings` (its images and binary name are the
    /// ones `package` registers), images cached in `cache`. Fails when `bwrap` is not installed.
    pub fn new(
        settings: SerializationSettings,
        cache: RootfsCache,
    ) -> Result<InImage, InImageError> {
        let bwrap = find_on_path("bwrap").ok_or(InImageError::NoBubblewrap)?;
        let client = RegistryClient::new().map_err(|source| InImageError::Image {
            image: String::new(),
            source,
        })?;
        Ok(InImage {
            settings,
            client,
            cache,
            platform: Platform {
                os: "linux".into(),
                architecture: "amd64".into(),
                variant: None,
            },
            bwrap,
            pulled: Mutex::new(HashMap::new()),
        })
    }

    /// The serialization settings of the run: the registration's images and binary, with the
    /// sandbox's identifiers.
    pub fn settings(&self, project: &str, domain: &str, version: &str) -> SerializationSettings {
        let mut s = self.settings.clone();
        s.project = project.to_string();
        s.domain = domain.to_string();
        s.version = version.to_string();
        s
    }

    /// The image, pulled once per run.
    async fn image(&self, name: &str) -> Result<PulledImage, InImageError> {
        let cell = match self.pulled.lock() {
            Ok(mut pulled) => pulled.entry(name.to_string()).or_default().clone(),
            Err(poisoned) => poisoned
                .into_inner()
                .entry(name.to_string())
                .or_default()
                .clone(),
        };
        cell.get_or_try_init(|| async {
            self.cache
                .pull(&self.client, name, &self.platform)
                .await
                .map_err(|source| InImageError::Image {
                    image: name.to_string(),
                    source,
                })
        })
        .await
        .cloned()
    }

    /// The bubblewrap command running `args` (rendered container args) of `template` in its
    /// image with the pod environment `env`, its data in the blob store `store`. The returned
    /// guard holds the secret files; keep it until the process exits.
    pub async fn command(
        &self,
        template: &TaskTemplate,
        args: &[String],
        env: &[(String, String)],
        store: &str,
    ) -> Result<(tokio::process::Command, Guard), InImageError> {
        let image_name = crate::serialization::primary_container(template)
            .ok()
            .map(|c| c.image)
            .filter(|image| !image.is_empty())
            .ok_or(InImageError::NoImage)?;
        let image = self.image(&image_name).await?;
        let guard = Guard(
            tempfile::Builder::new()
                .prefix("flytekit-in-image-")
                .tempdir()
                .map_err(io("cannot create a temporary directory"))?,
        );

        // The environment: image, pod, secrets, (remote store) storage configuration.
        let mut vars: Vec<(String, String)> = image.env();
        let mut set = |k: &str, v: &str| {
            vars.retain(|(x, _)| x != k);
            vars.push((k.to_string(), v.to_string()));
        };
        for (k, v) in env {
            set(k, v);
        }
        let local_store = local_dir(store);
        if local_store.is_none() {
            for (k, v) in std::env::vars() {
                if STORAGE_ENV_PREFIXES.iter().any(|p| k.starts_with(p)) {
                    set(&k, &v);
                }
            }
        }
        let secrets_dir = self.secrets(template, guard.0.path(), &mut set)?;
        let (uid, gid, home) = user_ids(&image.rootfs, &image.user())?;
        if !vars.iter().any(|(k, _)| k == "PATH") {
            vars.push((
                "PATH".into(),
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
            ));
        }
        if !vars.iter().any(|(k, _)| k == "HOME") {
            vars.push(("HOME".into(), home));
        }
        let hostname = vars
            .iter()
            .find(|(k, _)| k == "FLYTE_INTERNAL_EXECUTION_ID")
            .map_or("flytekit-sandbox", |(_, v)| v.as_str())
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .take(63)
            .collect::<String>();
        vars.push(("HOSTNAME".into(), hostname.clone()));

        // Mounts beyond the image: the store, secrets, name resolution, the working directory.
        let workdir = image.working_dir();
        let mut extra: Vec<Mount> = Vec::new();
        if let Some(dir) = &local_store {
            std::fs::create_dir_all(dir).map_err(io(format!(
                "cannot create the sandbox store {}",
                dir.display()
            )))?;
            extra.push(Mount::Bind(dir.clone(), dir.clone()));
        }
        if let Some(dir) = secrets_dir {
            extra.push(Mount::ReadOnly(dir, PathBuf::from(SECRETS_DIR)));
        }
        let share_net = local_store.is_none();
        if share_net {
            for f in ["/etc/resolv.conf", "/etc/hosts"] {
                if Path::new(f).is_file() {
                    extra.push(Mount::ReadOnly(PathBuf::from(f), PathBuf::from(f)));
                }
            }
        }
        if !image.rootfs.join(workdir.trim_start_matches('/')).is_dir() {
            extra.push(Mount::Dir(PathBuf::from(&workdir)));
        }

        let mut a: Vec<OsString> = Vec::new();
        let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
        push(&["--unshare-all", "--unshare-user", "--die-with-parent"]);
        if share_net {
            push(&["--share-net"]);
        }
        push(&["--uid", &uid.to_string(), "--gid", &gid.to_string()]);
        push(&["--hostname", &hostname]);
        root_mounts(&image.rootfs, Path::new("/"), &extra, &mut a).map_err(io(format!(
            "cannot read the unpacked image {image_name} ({})",
            image.rootfs.display()
        )))?;
        a.extend(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"].map(OsString::from));
        for m in &extra {
            match m {
                Mount::Bind(src, dest) => {
                    a.extend([OsString::from("--bind"), src.into(), dest.into()]);
                }
                Mount::ReadOnly(src, dest) => {
                    a.extend([OsString::from("--ro-bind"), src.into(), dest.into()]);
                }
                Mount::Dir(dest) => a.extend([OsString::from("--dir"), dest.into()]),
            }
        }
        a.extend(["--remount-ro", "/", "--chdir", &workdir, "--clearenv"].map(OsString::from));
        for (k, v) in &vars {
            a.extend([OsString::from("--setenv"), k.into(), v.into()]);
        }
        a.push("--".into());
        a.extend(image.entrypoint().iter().map(OsString::from));
        a.extend(args.iter().map(OsString::from));

        let mut cmd = tokio::process::Command::new(&self.bwrap);
        cmd.args(a).env_clear();
        Ok((cmd, guard))
    }

    /// Writes the secrets `template` requests as Propeller's injector would expose them:
    /// files under a directory (returned, to be mounted at [`SECRETS_DIR`]) or variables.
    fn secrets(
        &self,
        template: &TaskTemplate,
        scratch: &Path,
        set: &mut impl FnMut(&str, &str),
    ) -> Result<Option<PathBuf>, InImageError> {
        let requested = template
            .security_context
            .as_ref()
            .map(|s| s.secrets.clone())
            .unwrap_or_default();
        if requested.is_empty() {
            return Ok(None);
        }
        let manager = crate::secrets::SecretsManager::from_env(true);
        let dir = scratch.join("secrets");
        let mut files = false;
        for s in &requested {
            let version = Some(s.group_version.as_str()).filter(|v| !v.is_empty());
            let value = manager
                .get(&s.group, &s.key, version)
                .map_err(|e| InImageError::Secret(Box::new(e)))?;
            match secret::MountType::try_from(s.mount_requirement).unwrap_or(secret::MountType::Any)
            {
                secret::MountType::EnvVar => {
                    let name = format!("_FSEC_{}_{}", s.group.to_uppercase(), s.key.to_uppercase());
                    set(&name, value.expose());
                    set("FLYTE_SECRETS_ENV_PREFIX", "_FSEC_");
                    if !s.env_var.is_empty() {
                        set(&s.env_var, value.expose());
                    }
                }
                secret::MountType::Any | secret::MountType::File => {
                    let group = dir.join(s.group.to_lowercase());
                    std::fs::create_dir_all(&group).map_err(io("cannot write secret files"))?;
                    std::fs::write(group.join(s.key.to_lowercase()), value.expose())
                        .map_err(io("cannot write secret files"))?;
                    files = true;
                    set("FLYTE_SECRETS_DEFAULT_DIR", SECRETS_DIR);
                    set("FLYTE_SECRETS_FILE_PREFIX", "");
                    if !s.env_var.is_empty() {
                        let path = format!(
                            "{SECRETS_DIR}/{}/{}",
                            s.group.to_lowercase(),
                            s.key.to_lowercase()
                        );
                        set(&s.env_var, &path);
                    }
                }
            }
        }
        Ok(files.then_some(dir))
    }
}

/// Keeps an in-image container's secret files until it exits.
#[derive(Debug)]
pub struct Guard(tempfile::TempDir);

/// A mount beyond the image.
#[derive(Debug, Clone)]
enum Mount {
    /// Read-write bind of a host path.
    Bind(PathBuf, PathBuf),
    /// Read-only bind of a host path.
    ReadOnly(PathBuf, PathBuf),
    /// An empty directory.
    Dir(PathBuf),
}

impl Mount {
    fn dest(&self) -> &Path {
        match self {
            Mount::Bind(_, d) | Mount::ReadOnly(_, d) | Mount::Dir(d) => d,
        }
    }
}

/// The image's entries at `at` (a directory of the container) as bubblewrap mounts: each one a
/// read-only bind (a symlink recreated), except directories on the way to an `extra` mount,
/// which are made (in the tmpfs root) and filled entry by entry, so the extra mount point can
/// be created in them.
fn root_mounts(
    rootfs: &Path,
    at: &Path,
    extra: &[Mount],
    out: &mut Vec<OsString>,
) -> std::io::Result<()> {
    let host = rootfs.join(at.strip_prefix("/").unwrap_or(at));
    let mut entries: Vec<_> = std::fs::read_dir(&host)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let inside = at.join(&name);
        if at == Path::new("/") && OWN_MOUNTS.iter().any(|m| name == *m) {
            continue;
        }
        if extra.iter().any(|m| m.dest() == inside) {
            continue;
        }
        let kind = entry.file_type()?;
        let on_the_way = extra
            .iter()
            .any(|m| m.dest().starts_with(&inside) && m.dest() != inside);
        if kind.is_symlink() {
            let target = std::fs::read_link(entry.path())?;
            out.extend([OsString::from("--symlink"), target.into(), inside.into()]);
        } else if kind.is_dir() && on_the_way {
            out.extend([OsString::from("--dir"), inside.clone().into()]);
            root_mounts(rootfs, &inside, extra, out)?;
        } else if kind.is_dir() || kind.is_file() {
            out.extend([
                OsString::from("--ro-bind"),
                entry.path().into(),
                inside.into(),
            ]);
        }
    }
    Ok(())
}

/// The directory of a local blob store (`/path` or `file:///path`); `None` for a remote one.
fn local_dir(store: &str) -> Option<PathBuf> {
    if let Some(path) = store.strip_prefix("file://") {
        return Some(PathBuf::from(path));
    }
    if store.contains("://") {
        return None;
    }
    let path = PathBuf::from(store);
    Some(if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map(|d| d.join(&path))
            .unwrap_or(path)
    })
}

/// The uid, gid and home directory of an image's `User` (`uid[:gid]` or `name[:group]`,
/// names looked up in the image's `/etc/passwd` and `/etc/group`; empty means root).
fn user_ids(rootfs: &Path, user: &str) -> Result<(u32, u32, String), InImageError> {
    if user.is_empty() {
        return Ok((0, 0, "/root".into()));
    }
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let read = |file: &str| std::fs::read_to_string(rootfs.join(file)).unwrap_or_default();
    let passwd = read("etc/passwd");
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 6 && (f[0] == u || f[2] == u));
    let uid = match u.parse::<u32>() {
        Ok(n) => n,
        Err(_) => entry
            .as_ref()
            .and_then(|f| f[2].parse().ok())
            .ok_or_else(|| InImageError::User {
                user: user.to_string(),
                file: "/etc/passwd",
            })?,
    };
    let home = entry
        .as_ref()
        .map(|f| f[5].to_string())
        .unwrap_or_else(|| if uid == 0 { "/root".into() } else { "/".into() });
    let gid = match g {
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => read("etc/group")
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() >= 3 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| InImageError::User {
                    user: user.to_string(),
                    file: "/etc/group",
                })?,
        },
        None => entry
            .as_ref()
            .and_then(|f| f[3].parse().ok())
            .unwrap_or(uid),
    };
    Ok((uid, gid, home))
}

/// The first executable `name` on this machine's `PATH`.
fn find_on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH")?
        .to_string_lossy()
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(
            root.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
        )
        .unwrap();
        std::fs::write(root.path().join("etc/group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        assert_eq!(user_ids(root.path(), "").unwrap(), (0, 0, "/root".into()));
        assert_eq!(
            user_ids(root.path(), "nonroot").unwrap(),
            (65532, 65532, "/home/nonroot".into())
        );
        assert_eq!(
            user_ids(root.path(), "1000:staff").unwrap(),
            (1000, 50, "/".into())
        );
        assert!(
            user_ids(root.path(), "ghost")
                .unwrap_err()
                .to_string()
                .contains("/etc/passwd")
        );
    }

    #[test]
    fn stores() {
        assert_eq!(local_dir("/tmp/s"), Some(PathBuf::from("/tmp/s")));
        assert_eq!(local_dir("file:///tmp/s"), Some(PathBuf::from("/tmp/s")));
        assert_eq!(local_dir("s3://bucket/p"), None);
    }

    #[test]
    fn mounts_split_directories_on_the_way() {
        let root = tempfile::tempdir().unwrap();
        for d in ["usr/bin", "etc/ssl", "work/a", "tmp", "proc"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        std::fs::write(root.path().join("etc/passwd"), "").unwrap();
        std::os::unix::fs::symlink("usr/bin", root.path().join("bin")).unwrap();
        let extra = vec![
            Mount::ReadOnly("/x".into(), "/etc/flyte/secrets".into()),
            Mount::Bind("/work/a/store".into(), "/work/a/store".into()),
        ];
        let mut out = Vec::new();
        root_mounts(root.path(), Path::new("/"), &extra, &mut out).unwrap();
        let args: Vec<String> = out
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        let text = args.join(" ");
        let r = root.path().display();
        assert!(text.contains("--symlink usr/bin /bin"), "{text}");
        assert!(text.contains("--dir /etc"), "{text}");
        assert!(
            text.contains(&format!("--ro-bind {r}/etc/passwd /etc/passwd")),
            "{text}"
        );
        assert!(
            text.contains(&format!("--ro-bind {r}/etc/ssl /etc/ssl")),
            "{text}"
        );
        assert!(text.contains("--dir /work --dir /work/a"), "{text}");
        assert!(text.contains(&format!("--ro-bind {r}/usr /usr")), "{text}");
        assert!(!args.iter().any(|a| a == "/tmp" || a == "/proc"), "{text}");
    }
}
