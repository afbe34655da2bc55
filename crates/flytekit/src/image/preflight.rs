//! Checks an image before it is pushed (or run) for what would only fail on a cluster, each
//! problem an error that names the fix:
//!
//! - **the task binary**: the program the container args start (looked up on the image's
//!   `PATH` when it is a bare name, as the container runtime does) is in the image and
//!   executable; a script's `#!` interpreter is too;
//! - **its dynamic linking**: the ELF loader (`PT_INTERP`) and every library it needs
//!   (`DT_NEEDED`, transitively, in `DT_RUNPATH`, `LD_LIBRARY_PATH` and the system library
//!   directories) are in the image, and each library defines the symbol versions the binary
//!   needs, so a binary built against a newer glibc than the base image's is caught here
//!   (`needs glibc 2.34 ... the image's libc is glibc 2.28`);
//! - **CA certificates**: a bundle at one of the paths the TLS stack reads (or `SSL_CERT_FILE` /
//!   `SSL_CERT_DIR`): the storage client does not start without them, even for `http://`;
//! - **declared files**: every `copy` source exists on this machine, and every copied file is
//!   visible in the image at its destination (not shadowed by a file or link of the base).
//!
//! The image is seen as an [`ImageView`]: a base root filesystem from the
//! [`RootfsCache`](super::rootfs::RootfsCache) with the spec's files laid over it, or a pulled
//! image as it is.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::path::{Path, PathBuf};

use super::ImageError;
use super::elf::{self, ElfInfo};
use super::registry::RegistryClient;
use super::rootfs::{PulledImage, RootfsCache, resolve_in_root};
use super::spec::{ImageSpec, ShippedFile};

/// The base image the fixes recommend: the default base for Rust tasks
/// ([`DEFAULT_BASE_IMAGE`](super::spec::DEFAULT_BASE_IMAGE), glibc 2.36 and CA certificates).
pub const RECOMMENDED_BASE: &str = super::spec::DEFAULT_BASE_IMAGE;

/// CA bundle files, as `openssl-probe` (used by `rustls-native-certs`) looks for them on Linux.
pub const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/ssl/cert.pem",
];

/// Library directories the dynamic loader searches by default on x86_64 Linux.
const SYSTEM_LIB_DIRS: &[&str] = &[
    "/lib/x86_64-linux-gnu",
    "/usr/lib/x86_64-linux-gnu",
    "/lib64",
    "/usr/lib64",
    "/lib",
    "/usr/lib",
    "/usr/local/lib",
];

/// `PATH` when an image sets none (what container runtimes use).
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One thing that would fail, with its fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which check found it: `binary`, `libraries`, `glibc`, `ca-certificates`, `files`.
    pub check: &'static str,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.check, self.message)
    }
}

/// An image as it will run: a base root filesystem (none for `scratch`) with shipped files
/// laid over it, the image's environment and working directory.
#[derive(Debug, Clone)]
pub struct ImageView {
    base: Option<PathBuf>,
    /// Shipped files by their path in the image (parents resolved through the base's links).
    files: BTreeMap<String, ShippedFile>,
    env: Vec<(String, String)>,
    workdir: String,
}

/// A file found in an [`ImageView`]: where to read it on this machine, and its image path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file on this machine (in the base root filesystem or a shipped source).
    pub host: PathBuf,
    /// Its path in the image, symlinks resolved.
    pub path: String,
}

impl ImageView {
    /// A base (`None` for `scratch`) with `files` over it, the final `env` and `workdir`.
    pub fn new(
        base: Option<&Path>,
        files: &[ShippedFile],
        env: Vec<(String, String)>,
        workdir: &str,
    ) -> ImageView {
        let mut view = ImageView {
            base: base.map(Path::to_path_buf),
            files: BTreeMap::new(),
            env,
            workdir: workdir.to_string(),
        };
        for f in files {
            let key = view.canonical(&f.dest, false);
            view.files.insert(key, f.clone());
        }
        view
    }

    /// A pulled image as it is.
    pub fn of_pulled(image: &PulledImage) -> ImageView {
        ImageView::new(Some(&image.rootfs), &[], image.env(), &image.working_dir())
    }

    /// The image's value of the environment variable `key`.
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `path` (absolute, or relative to the working directory) with the base's symlinks
    /// resolved (the last one only with `follow_last`), as an absolute image path.
    fn canonical(&self, path: &str, follow_last: bool) -> String {
        let abs = if path.starts_with('/') {
            PathBuf::from(path)
        } else {
            Path::new(&self.workdir).join(path)
        };
        let rel = match &self.base {
            Some(base) => resolve_in_root(base, &abs, follow_last)
                .ok()
                .and_then(|p| p.strip_prefix(base).ok().map(Path::to_path_buf))
                .unwrap_or_else(|| abs.strip_prefix("/").unwrap_or(&abs).to_path_buf()),
            None => {
                let mut parts: Vec<String> = Vec::new();
                for c in abs.components() {
                    match c {
                        std::path::Component::Normal(n) => {
                            parts.push(n.to_string_lossy().into_owned())
                        }
                        std::path::Component::ParentDir => {
                            parts.pop();
                        }
                        _ => {}
                    }
                }
                PathBuf::from(parts.join("/"))
            }
        };
        format!("/{}", rel.display())
    }

    /// The file at `path` in the image (symlinks followed), if there is one.
    pub fn lookup(&self, path: &str) -> Option<Found> {
        let path = self.canonical(path, true);
        if let Some(f) = self.files.get(&path) {
            return Some(Found {
                host: f.src.clone(),
                path,
            });
        }
        let base = self.base.as_ref()?;
        let host = base.join(path.trim_start_matches('/'));
        std::fs::metadata(&host)
            .is_ok_and(|m| m.is_file())
            .then_some(Found { host, path })
    }

    /// The first parent directory of the image path `at` that the base has as something other
    /// than a directory.
    fn blocked_by(&self, at: &str) -> Option<String> {
        let base = self.base.as_ref()?;
        let mut prefix = PathBuf::from("/");
        let parent = Path::new(at).parent()?;
        for part in parent.components().skip(1) {
            prefix.push(part);
            let host = base.join(prefix.strip_prefix("/").unwrap_or(&prefix));
            if std::fs::symlink_metadata(&host).is_ok()
                && !std::fs::metadata(&host).is_ok_and(|m| m.is_dir())
            {
                return Some(prefix.display().to_string());
            }
        }
        None
    }

    /// Whether `path` is a directory of the base image holding at least one file.
    fn nonempty_dir(&self, path: &str) -> bool {
        let Some(base) = &self.base else {
            return false;
        };
        let path = self.canonical(path, true);
        let host = base.join(path.trim_start_matches('/'));
        std::fs::read_dir(host).is_ok_and(|mut d| d.next().is_some())
    }

    /// Where a program name is found, as the runtime looks it up: a path as it is (relative to
    /// the working directory), a bare name on the image's `PATH`. `Err` lists where it looked.
    pub(crate) fn find_program(&self, program: &str) -> Result<Found, String> {
        if program.contains('/') {
            return self
                .lookup(program)
                .ok_or_else(|| format!("at {}", self.canonical(program, false)));
        }
        let path = self.var("PATH").unwrap_or(DEFAULT_PATH).to_string();
        path.split(':')
            .filter(|d| !d.is_empty())
            .find_map(|dir| self.lookup(&format!("{}/{program}", dir.trim_end_matches('/'))))
            .ok_or_else(|| format!("on the image's PATH ({path})"))
    }

    /// Every check of the [module docs](self) for containers started with each of `argvs`
    /// (the image's entrypoint already prepended) and the declared `copies`
    /// (`(source on this machine, destination in the image)`).
    pub fn check(&self, argvs: &[Vec<String>], copies: &[(PathBuf, String)]) -> Vec<Problem> {
        let mut problems = Vec::new();
        let programs: BTreeSet<&str> = argvs
            .iter()
            .filter_map(|a| a.first().map(String::as_str))
            .collect();
        for program in programs {
            self.check_program(program, &mut problems);
        }
        self.check_ca(&mut problems);
        self.check_copies(copies, &mut problems);
        problems
    }

    fn check_program(&self, program: &str, problems: &mut Vec<Problem>) {
        let found = match self.find_program(program) {
            Ok(found) => found,
            Err(looked) => {
                problems.push(Problem {
                    check: "binary",
                    message: format!(
                        "the task binary `{program}` that the container args start is not in the \
                         image (looked {looked}): ship it (ImageSpec `binary`, by default at \
                         /usr/local/bin/<name>) or name its path in the image with --binary"
                    ),
                });
                return;
            }
        };
        use std::os::unix::fs::PermissionsExt;
        let mode = self
            .files
            .get(&found.path)
            .map(|f| f.mode)
            .or_else(|| {
                std::fs::metadata(&found.host)
                    .ok()
                    .map(|m| m.permissions().mode())
            })
            .unwrap_or(0);
        if mode & 0o111 == 0 {
            problems.push(Problem {
                check: "binary",
                message: format!(
                    "the task binary {} is in the image but not executable (mode {:o}): ship it \
                     with its executable bit set (chmod +x)",
                    found.path,
                    mode & 0o7777
                ),
            });
            return;
        }
        if let Some(interpreter) = shebang(&found.host) {
            if self.lookup(&interpreter).is_none() {
                problems.push(Problem {
                    check: "binary",
                    message: format!(
                        "the task program {} is a script for {interpreter}, which the image lacks: \
                         use a base image that has it",
                        found.path
                    ),
                });
            }
            return;
        }
        match elf::read(&found.host) {
            Ok(info) => self.check_linking(&found.path, &info, problems),
            Err(why) => problems.push(Problem {
                check: "binary",
                message: format!(
                    "the task binary {} cannot run on linux/amd64: {}; build it for \
                     x86_64-unknown-linux-gnu",
                    found.path, why.message
                ),
            }),
        }
    }

    /// The loader, the libraries (transitively) and the symbol versions they define.
    fn check_linking(&self, binary: &str, info: &ElfInfo, problems: &mut Vec<Problem>) {
        if let Some(interp) = &info.interpreter {
            if self.lookup(interp).is_none() {
                problems.push(Problem {
                    check: "libraries",
                    message: format!(
                        "the task binary {binary} needs the dynamic loader {interp}, which the \
                         image lacks: use a glibc base image (the recommended {RECOMMENDED_BASE}) \
                         or link the binary statically"
                    ),
                });
                return;
            }
        } else if info.needed.is_empty() {
            return; // static
        }
        // Breadth-first through the needed libraries: who needs what, where each was found.
        let mut found: BTreeMap<String, (Found, ElfInfo)> = BTreeMap::new();
        let mut missing: BTreeMap<String, String> = BTreeMap::new();
        let mut queue: VecDeque<(String, String, ElfInfo)> = VecDeque::new();
        queue.push_back((binary.to_string(), binary.to_string(), info.clone()));
        while let Some((who, who_path, who_info)) = queue.pop_front() {
            for lib in &who_info.needed {
                if found.contains_key(lib) || missing.contains_key(lib) {
                    continue;
                }
                match self.find_library(lib, &who_path, &who_info) {
                    Some(f) => match elf::read(&f.host) {
                        Ok(lib_info) => {
                            queue.push_back((lib.clone(), f.path.clone(), lib_info.clone()));
                            found.insert(lib.clone(), (f, lib_info));
                        }
                        Err(why) => {
                            missing.insert(
                                lib.clone(),
                                format!("{who} (found {} but {})", f.path, why.message),
                            );
                        }
                    },
                    None => {
                        missing.insert(lib.clone(), who.clone());
                    }
                }
            }
        }
        for (lib, who) in &missing {
            problems.push(Problem {
                check: "libraries",
                message: format!(
                    "{who} needs the shared library {lib}, which the image lacks (searched \
                     DT_RUNPATH, LD_LIBRARY_PATH and {}): add it to the base image, or use a base \
                     that has it",
                    SYSTEM_LIB_DIRS.join(", ")
                ),
            });
        }
        // Symbol versions the binary needs from each library it links (the base image's own
        // libraries are its business).
        for (lib, wanted) in &info.version_needs {
            let Some((f, lib_info)) = found.get(lib) else {
                continue;
            };
            let lacking: Vec<&String> = wanted
                .iter()
                .filter(|v| !lib_info.version_defs.contains(v))
                .collect();
            if lacking.is_empty() {
                continue;
            }
            let have = elf::max_glibc(&lib_info.version_defs);
            let have_parts = have
                .as_deref()
                .and_then(|h| elf::glibc_version(&format!("GLIBC_{h}")));
            // Name the versions newer than the library's, when it is glibc.
            let newer: Vec<&String> = lacking
                .iter()
                .copied()
                .filter(|v| {
                    elf::glibc_version(v)
                        .zip(have_parts.as_ref())
                        .is_some_and(|(v, h)| v > *h)
                })
                .collect();
            let shown = if newer.is_empty() { &lacking } else { &newer };
            let list = shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let message = match (elf::max_glibc(newer.iter().copied()), have) {
                (Some(need), Some(have)) => format!(
                    "{binary} needs glibc {need} (symbol versions {list} from {lib}), but the \
                     image's {} is glibc {have}: use a base image with glibc {need} or newer (the \
                     recommended {RECOMMENDED_BASE} has 2.36), or build the binary against glibc \
                     {have} or older",
                    f.path
                ),
                _ => format!(
                    "{binary} needs symbol versions {list} of {lib}, which the image's {} does not \
                     define: use a base image with a newer {lib}",
                    f.path
                ),
            };
            problems.push(Problem {
                check: "glibc",
                message,
            });
        }
    }

    /// Where the loader would find `lib` for `who` (at image path `who_path`).
    fn find_library(&self, lib: &str, who_path: &str, who: &ElfInfo) -> Option<Found> {
        if lib.contains('/') {
            return self.lookup(lib);
        }
        let origin = Path::new(who_path)
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "/".into());
        let runpath = who
            .runpath
            .iter()
            .map(|d| d.replace("$ORIGIN", &origin).replace("${ORIGIN}", &origin));
        let ld_path: Vec<String> = self
            .var("LD_LIBRARY_PATH")
            .unwrap_or_default()
            .split(':')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        runpath
            .chain(ld_path)
            .chain(SYSTEM_LIB_DIRS.iter().map(|s| s.to_string()))
            .find_map(|dir| self.lookup(&format!("{}/{lib}", dir.trim_end_matches('/'))))
    }

    fn check_ca(&self, problems: &mut Vec<Problem>) {
        let nonempty = |f: &Found| std::fs::metadata(&f.host).is_ok_and(|m| m.len() > 0);
        let env_file = self.var("SSL_CERT_FILE").map(str::to_string);
        let has_bundle = env_file
            .iter()
            .map(String::as_str)
            .chain(CA_BUNDLES.iter().copied())
            .any(|p| self.lookup(p).is_some_and(|f| nonempty(&f)));
        let has_dir = self
            .var("SSL_CERT_DIR")
            .is_some_and(|d| d.split(':').any(|d| self.nonempty_dir(d)));
        if !(has_bundle || has_dir) {
            problems.push(Problem {
                check: "ca-certificates",
                message: format!(
                    "the image has no CA certificates (looked for {}{}); the storage client does \
                     not start without them, even for an http:// endpoint: use a base image that \
                     has them (the recommended {RECOMMENDED_BASE}; Debian: the ca-certificates \
                     package), or ship a bundle: ImageSpec copy \
                     /etc/ssl/certs/ca-certificates.crt to /etc/ssl/certs/ca-certificates.crt",
                    CA_BUNDLES.join(", "),
                    env_file
                        .map(|f| format!(" and SSL_CERT_FILE={f}"))
                        .unwrap_or_default()
                ),
            });
        }
    }

    /// Declared sources that do not exist on this machine.
    fn check_sources(&self, copies: &[(PathBuf, String)], problems: &mut Vec<Problem>) {
        for (src, dest) in copies {
            if std::fs::symlink_metadata(src).is_err() {
                problems.push(Problem {
                    check: "files",
                    message: format!(
                        "the declared file {} (copied to {dest}) does not exist on this machine: \
                         create it, or fix its path in the ImageSpec",
                        src.display()
                    ),
                });
            }
        }
    }

    fn check_copies(&self, copies: &[(PathBuf, String)], problems: &mut Vec<Problem>) {
        self.check_sources(copies, problems);
        for (src, dest) in copies {
            if !src.is_file() {
                continue;
            }
            let at = self.canonical(dest, false);
            if let Some(blocker) = self.blocked_by(&at) {
                problems.push(Problem {
                    check: "files",
                    message: format!(
                        "the declared file {} cannot be placed at {dest} in the image: the base \
                         image has {blocker}, which is not a directory, in the way: choose another \
                         destination",
                        src.display()
                    ),
                });
            }
        }
    }
}

/// Runs every check on the image `spec` would build, before it is built or pushed: the base
/// image is pulled into `cache` (not for `scratch`), the spec's files are laid over it, and
/// each of `argvs` (container args; the image's entrypoint is prepended) is checked. A nested
/// base spec must have been built already.
pub async fn check_spec(
    spec: &ImageSpec,
    argvs: &[Vec<String>],
    client: &RegistryClient,
    cache: &RootfsCache,
) -> Result<(), ImageError> {
    let copies: Vec<(PathBuf, String)> = spec
        .copy
        .iter()
        .map(|c| (c.src.clone(), c.dest.clone()))
        .collect();
    let name = || {
        spec.registry
            .as_ref()
            .map_or_else(|| spec.name.clone(), |r| format!("{r}/{}", spec.name))
    };
    // Missing sources first: nothing can be resolved (hashed) without them.
    let mut missing = Vec::new();
    ImageView::new(None, &[], Vec::new(), spec.workdir()).check_sources(&copies, &mut missing);
    if let Some(bin) = &spec.binary
        && !bin.src.is_file()
    {
        missing.push(Problem {
            check: "binary",
            message: format!(
                "the task binary {} (shipped to {}) does not exist on this machine: build it \
                     first (cargo build --release)",
                bin.src.display(),
                bin.dest
            ),
        });
    }
    into_result(&name(), missing)?;
    let resolved = spec.resolve()?;
    let base = if resolved.base_image == "scratch" {
        None
    } else {
        Some(
            cache
                .pull(client, &resolved.base_image, &resolved.platform)
                .await?,
        )
    };
    let mut env = base.as_ref().map(PulledImage::env).unwrap_or_default();
    env.retain(|(k, _)| !spec.env.contains_key(k));
    env.extend(spec.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let entrypoint = match &spec.entrypoint {
        Some(e) => e.clone(),
        None => base
            .as_ref()
            .map(PulledImage::entrypoint)
            .unwrap_or_default(),
    };
    let argvs: Vec<Vec<String>> = argvs
        .iter()
        .map(|a| entrypoint.iter().chain(a).cloned().collect())
        .collect();
    let view = ImageView::new(
        base.as_ref().map(|b| b.rootfs.as_path()),
        &resolved.files,
        env,
        &resolved.workdir,
    );
    let mut problems = view.check(&argvs, &copies);
    // What `apt_packages` and `commands` add (dockerfile builder) is not in the base: trust them
    // for what they may provide, and say so.
    let installs_ca = spec.apt_packages.iter().any(|p| p == "ca-certificates");
    let changed = |check: &str| match check {
        "ca-certificates" => installs_ca || !spec.commands.is_empty(),
        "libraries" | "glibc" => !spec.apt_packages.is_empty() || !spec.commands.is_empty(),
        _ => false,
    };
    problems.retain(|p| {
        let trusted = changed(p.check);
        if trusted {
            tracing::warn!(
                "preflight of {}: not checked, the spec's apt_packages/commands may provide it: {p}",
                resolved.image_name
            );
        }
        !trusted
    });
    into_result(&resolved.image_name, problems)
}

/// The interpreter of a `#!` script, if `path` is one.
fn shebang(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let text = std::str::from_utf8(head.get(..n)?.strip_prefix(b"#!")?).ok()?;
    text.lines()
        .next()?
        .split_whitespace()
        .next()
        .map(str::to_string)
}

/// The problems as one error for `image`, or `Ok` when there are none.
pub fn into_result(image: &str, problems: Vec<Problem>) -> Result<(), ImageError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ImageError::Preflight {
            image: image.to_string(),
            problems: problems.iter().map(Problem::to_string).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped(src: &Path, dest: &str, mode: u32) -> ShippedFile {
        ShippedFile {
            src: src.to_path_buf(),
            dest: dest.to_string(),
            mode,
            sha256: String::new(),
            size: 0,
        }
    }

    #[test]
    fn finds_programs_and_reports_what_is_missing() {
        let work = tempfile::tempdir().unwrap();
        let base = work.path().join("base");
        std::fs::create_dir_all(base.join("usr/bin")).unwrap();
        std::fs::create_dir_all(base.join("root")).unwrap();
        std::os::unix::fs::symlink("usr/bin", base.join("bin")).unwrap();
        std::fs::write(base.join("etc"), "a file where a directory should be").unwrap();
        let exe = std::env::current_exe().unwrap();
        let data = work.path().join("data.txt");
        std::fs::write(&data, "x").unwrap();
        let files = vec![
            shipped(&exe, "/bin/app", 0o755),
            shipped(&data, "/root/data.txt", 0o644),
            shipped(&data, "/etc/x.conf", 0o644),
        ];
        let env = vec![("PATH".to_string(), "/usr/local/bin:/usr/bin".to_string())];
        let view = ImageView::new(Some(&base), &files, env, "/root");
        // Shipped through the base's /bin -> usr/bin link, found on PATH in /usr/bin.
        assert_eq!(view.find_program("app").unwrap().path, "/usr/bin/app");
        assert!(
            view.find_program("nope")
                .unwrap_err()
                .contains("/usr/local/bin:/usr/bin")
        );
        let problems = view.check(
            &[vec!["app".into(), "execute".into()], vec!["nope".into()]],
            &[
                (data.clone(), "data.txt".into()),
                (data.clone(), "/etc/x.conf".into()),
                (work.path().join("missing.txt"), "m.txt".into()),
            ],
        );
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let has = |check: &str, words: &[&str]| {
            text.iter().any(|t| {
                t.starts_with(&format!("[{check}]")) && words.iter().all(|w| t.contains(w))
            })
        };
        assert!(has("binary", &["`nope`", "--binary"]), "{text:#?}");
        // This test binary needs its loader, which the bare base lacks.
        assert!(
            has("libraries", &["/usr/bin/app", "dynamic loader"]),
            "{text:#?}"
        );
        assert!(
            has("ca-certificates", &["ca-certificates.crt"]),
            "{text:#?}"
        );
        assert!(
            has("files", &["missing.txt", "does not exist"]),
            "{text:#?}"
        );
        assert!(
            has("files", &["/etc/x.conf", "base image has /etc"]),
            "{text:#?}"
        );
        assert!(
            !text.iter().any(|t| t.contains("data.txt (copied")),
            "{text:#?}"
        );
    }

    #[test]
    fn the_host_passes_for_a_binary_it_runs() {
        // This machine, seen as an image, runs this test binary: nothing to report but maybe
        // missing CA certificates.
        let exe = std::env::current_exe().unwrap();
        let view = ImageView::new(
            Some(Path::new("/")),
            &[],
            vec![("PATH".into(), "/usr/bin".into())],
            "/",
        );
        let argv = vec![exe.display().to_string()];
        let problems: Vec<Problem> = view
            .check(&[argv], &[])
            .into_iter()
            .filter(|p| p.check != "ca-certificates")
            .collect();
        assert!(problems.is_empty(), "{problems:#?}");
        let libc = view.lookup("/lib/x86_64-linux-gnu/libc.so.6").unwrap();
        let defs = elf::read(&libc.host).unwrap().version_defs;
        assert!(
            elf::max_glibc(&defs).is_some_and(|v| v.starts_with("2.")),
            "{defs:?}"
        );
    }
}
