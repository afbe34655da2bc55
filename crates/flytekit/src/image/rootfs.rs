//! Images as root filesystems on this machine: pulled from their registry and unpacked once
//! into a cache keyed by the manifest digest, for the in-image sandbox and the preflight checks.
//!
//! ```text
//! <cache>/blobs/sha256/<hex>     layer blobs, verified by digest
//! <cache>/rootfs/<hex>/          the unpacked root filesystem of manifest sha256:<hex>
//! <cache>/rootfs/<hex>.json      its image config
//! ```
//!
//! The cache is `FLYTEKIT_IMAGE_CACHE`, else `$XDG_CACHE_HOME/flytekit-rs/images`, else
//! `~/.cache/flytekit-rs/images`. A root filesystem is unpacked into a temporary directory
//! and renamed into place, so a present directory is always complete; concurrent pulls of the
//! same image in one process wait for one another, and across processes the first rename wins.
//!
//! Layers are applied in order as container runtimes apply them: a whiteout `.wh.<name>`
//! deletes `<name>` from the layers below, an opaque marker `.wh..wh..opq` empties its
//! directory of what the layers below put there, and an entry replaces whatever was at its
//! path (a directory only by a non-directory). Paths are resolved inside the root filesystem
//! (symlinks followed as a `chroot` would), so no entry, link or whiteout reaches outside it.
//! Device nodes and FIFOs are skipped (the sandbox mounts its own `/dev`).

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;

use super::ImageError;
use super::registry::{Index, MEDIA_OCI_INDEX, Manifest, Platform, Reference, RegistryClient};

/// Overrides where pulled images are cached.
pub const IMAGE_CACHE_ENV: &str = "FLYTEKIT_IMAGE_CACHE";

/// The image cache directory (see the [module docs](self)).
pub fn default_cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(IMAGE_CACHE_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => std::env::temp_dir(),
        },
    };
    base.join("flytekit-rs").join("images")
}

/// An image unpacked on this machine.
#[derive(Debug, Clone)]
pub struct PulledImage {
    /// The image as named.
    pub name: String,
    /// The digest of its (platform) manifest.
    pub manifest_digest: String,
    /// The unpacked root filesystem (read it, never write it: it is shared).
    pub rootfs: PathBuf,
    /// The image config (`config.Env`, `config.User`, `config.WorkingDir`, ...).
    pub config: oci_spec::image::ImageConfiguration,
    /// The compressed size of its layers and config, in bytes.
    pub compressed_size: u64,
}

impl PulledImage {
    /// `config.Env` as `(name, value)` pairs, in order.
    pub fn env(&self) -> Vec<(String, String)> {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.env().clone())
            .unwrap_or_default()
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.clone(), String::new()),
            })
            .collect()
    }

    /// `config.WorkingDir`, `/` when unset.
    pub fn working_dir(&self) -> String {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.working_dir().clone())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "/".to_string())
    }

    /// `config.User` (`uid`, `uid:gid`, `name` or `name:group`), empty when unset.
    pub fn user(&self) -> String {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.user().clone())
            .unwrap_or_default()
    }

    /// `config.Entrypoint`, empty when unset.
    pub fn entrypoint(&self) -> Vec<String> {
        self.config
            .config()
            .as_ref()
            .and_then(|c| c.entrypoint().clone())
            .unwrap_or_default()
    }
}

/// A cache of unpacked images (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct RootfsCache {
    dir: PathBuf,
}

/// Images being pulled in this process: one pull per manifest digest at a time.
static PULLS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

impl RootfsCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        RootfsCache { dir: dir.into() }
    }

    /// The cache in [`default_cache_dir`].
    pub fn default_location() -> Self {
        Self::new(default_cache_dir())
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Pulls `image` for `platform` (an index is resolved to that platform's manifest) and
    /// unpacks it, unless the cache has it already. The manifest is fetched every time (a tag
    /// may move); layers are downloaded and unpacked only for a manifest not yet unpacked.
    pub async fn pull(
        &self,
        client: &RegistryClient,
        image: &str,
        platform: &Platform,
    ) -> Result<PulledImage, ImageError> {
        let reference = Reference::parse(image)?;
        let (manifest, digest) = resolve_manifest(client, &reference, platform).await?;
        let hex = digest.trim_start_matches("sha256:").to_string();
        let rootfs = self.dir.join("rootfs").join(&hex);
        let config_path = self.dir.join("rootfs").join(format!("{hex}.json"));
        let compressed_size =
            manifest.config.size + manifest.layers.iter().map(|l| l.size).sum::<u64>();
        let lock = {
            let mut pulls = PULLS.lock().map_err(|_| {
                ImageError::Build("the image pull registry was poisoned by a panic".into())
            })?;
            pulls
                .entry(digest.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(())))
                .clone()
        };
        let _guard = lock.lock().await;
        if !(rootfs.is_dir() && config_path.is_file()) {
            let config = client.get_blob(&reference, &manifest.config.digest).await?;
            self.unpack_image(client, &reference, &manifest, &rootfs)
                .await?;
            write_atomic(&config_path, &config)?;
        }
        let config_bytes = std::fs::read(&config_path).map_err(|source| ImageError::Io {
            path: config_path.clone(),
            source,
        })?;
        let config: oci_spec::image::ImageConfiguration = serde_json::from_slice(&config_bytes)
            .map_err(|e| {
                ImageError::Build(format!(
                    "the config of image {image} ({}) is not an OCI image config: {e}",
                    config_path.display()
                ))
            })?;
        Ok(PulledImage {
            name: image.to_string(),
            manifest_digest: digest,
            rootfs,
            config,
            compressed_size,
        })
    }

    /// Downloads the layers `manifest` lacks in the blob cache, then applies them in order to a
    /// fresh directory renamed to `rootfs`.
    async fn unpack_image(
        &self,
        client: &RegistryClient,
        reference: &Reference,
        manifest: &Manifest,
        rootfs: &Path,
    ) -> Result<(), ImageError> {
        let blobs = self.dir.join("blobs").join("sha256");
        let tmp = self.dir.join("tmp");
        for dir in [&blobs, &tmp, &self.dir.join("rootfs")] {
            std::fs::create_dir_all(dir).map_err(|source| ImageError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mut layers = Vec::new();
        for layer in &manifest.layers {
            let path = blobs.join(layer.digest.trim_start_matches("sha256:"));
            if !path.is_file() {
                let part = tempfile::NamedTempFile::new_in(&tmp)
                    .map_err(|source| ImageError::Io {
                        path: tmp.clone(),
                        source,
                    })?
                    .into_temp_path();
                client
                    .download_blob(reference, &layer.digest, layer.size, &part)
                    .await?;
                part.persist(&path).map_err(|e| ImageError::Io {
                    path: path.clone(),
                    source: e.error,
                })?;
            }
            layers.push((path, layer.media_type.clone()));
        }
        let staging = tempfile::Builder::new()
            .prefix("rootfs-")
            .tempdir_in(&tmp)
            .map_err(|source| ImageError::Io {
                path: tmp.clone(),
                source,
            })?;
        let root = staging.path().to_path_buf();
        let name = reference.to_string();
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(layers.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:20}] {pos}/{len}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(format!("unpack {name}"));
        let done = tokio::task::spawn_blocking(move || -> Result<(), ImageError> {
            for (path, media_type) in &layers {
                apply_layer(&root, path, media_type)?;
                bar.inc(1);
            }
            bar.finish_and_clear();
            Ok(())
        })
        .await
        .map_err(|e| ImageError::Build(format!("unpacking {name} panicked: {e}")))?;
        done?;
        let staged = staging.keep();
        match std::fs::rename(&staged, rootfs) {
            Ok(()) => Ok(()),
            // Another process finished the same image first: keep its copy.
            Err(_) if rootfs.is_dir() => {
                let _ = std::fs::remove_dir_all(&staged);
                Ok(())
            }
            Err(source) => {
                let _ = std::fs::remove_dir_all(&staged);
                Err(ImageError::Io {
                    path: rootfs.to_path_buf(),
                    source,
                })
            }
        }
    }
}

/// The manifest of `r` for `platform` (an index resolved to that platform's entry) and its digest.
pub async fn resolve_manifest(
    client: &RegistryClient,
    r: &Reference,
    platform: &Platform,
) -> Result<(Manifest, String), ImageError> {
    let bad = |e: serde_json::Error| {
        ImageError::Build(format!("the image {r} has an unreadable manifest: {e}"))
    };
    let (body, media_type, digest) = client.get_manifest(r).await?;
    let parsed: Value = serde_json::from_slice(&body).map_err(bad)?;
    let (body, digest) = if parsed.get("manifests").is_some() || media_type == MEDIA_OCI_INDEX {
        let index: Index = serde_json::from_value(parsed).map_err(bad)?;
        let chosen = index
            .manifests
            .iter()
            .find(|d| {
                d.platform.as_ref().is_some_and(|p| {
                    p.os == platform.os
                        && p.architecture == platform.architecture
                        && (platform.variant.is_none() || p.variant == platform.variant)
                })
            })
            .ok_or_else(|| {
                ImageError::Build(format!(
                    "the image {r} has no {}/{} variant",
                    platform.os, platform.architecture
                ))
            })?;
        let (body, _, digest) = client.get_manifest(&r.with_digest(&chosen.digest)).await?;
        (body, digest)
    } else {
        (body, digest)
    };
    let manifest: Manifest = serde_json::from_slice(&body).map_err(bad)?;
    Ok((manifest, digest))
}

fn write_atomic(path: &Path, data: &[u8]) -> Result<(), ImageError> {
    let io = |source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    io::Write::write_all(&mut tmp, data).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Resolves `path` (absolute or relative, taken as relative to `/`) inside `root` as a process
/// chrooted there would: symlinks (absolute ones from `root`) are followed, the last component
/// only with `follow_last`, and `..` never leaves `root`. Components that do not exist are kept
/// as they are. The result is always under `root`.
pub fn resolve_in_root(root: &Path, path: &Path, follow_last: bool) -> io::Result<PathBuf> {
    let mut queue: VecDeque<OsString> = normal_components(path).into();
    let mut resolved: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(part) = queue.pop_front() {
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate = join_all(root, &resolved).join(&part);
        let is_last = queue.is_empty();
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() && (follow_last || !is_last) => {
                links += 1;
                if links > 40 {
                    return Err(io::Error::other(format!(
                        "too many levels of symbolic links resolving {}",
                        path.display()
                    )));
                }
                let target = std::fs::read_link(&candidate)?;
                if target.is_absolute() {
                    resolved.clear();
                }
                for (i, c) in normal_components(&target).into_iter().enumerate() {
                    queue.insert(i, c);
                }
            }
            _ => resolved.push(part),
        }
    }
    Ok(join_all(root, &resolved))
}

/// The `Normal` and `..` components of `path` (root and `.` dropped).
fn normal_components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

fn join_all(root: &Path, parts: &[OsString]) -> PathBuf {
    let mut p = root.to_path_buf();
    p.extend(parts);
    p
}

/// The archive path of a layer entry, relative and without `.`; `None` for the root itself.
fn entry_path(raw: &[u8]) -> Result<Option<PathBuf>, String> {
    let text = String::from_utf8_lossy(raw);
    let mut out = PathBuf::new();
    for c in Path::new(text.as_ref()).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => return Err(format!("{text:?} has a `..` component")),
            Component::Prefix(_) => return Err(format!("{text:?} is not a Unix path")),
        }
    }
    Ok((!out.as_os_str().is_empty()).then_some(out))
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// A layer's tar stream, decompressed by its media type.
fn open_layer(path: &Path, media_type: &str) -> Result<tar::Archive<Box<dyn Read>>, ImageError> {
    let file = File::open(path).map_err(|source| ImageError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader: Box<dyn Read> = if media_type.ends_with("+zstd") || media_type.ends_with(".zstd") {
        return Err(ImageError::Build(format!(
            "layer {} is zstd-compressed ({media_type}), which flytekit-rs does not unpack; \
             use gzip layers",
            path.display()
        )));
    } else if media_type.ends_with("+gzip")
        || media_type.ends_with(".gzip")
        || media_type.ends_with("tar.gzip")
    {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    Ok(tar::Archive::new(reader))
}

/// Applies one layer to `root` (see the [module docs](self)): whiteouts first, then entries.
pub fn apply_layer(root: &Path, layer: &Path, media_type: &str) -> Result<(), ImageError> {
    let corrupt =
        |e: io::Error| ImageError::Build(format!("layer {} cannot be read: {e}", layer.display()));
    let fail = |what: &Path, e: io::Error| ImageError::Io {
        path: root.join(what),
        source: e,
    };
    // Pass 1: whiteouts and opaque directories, against the layers below.
    let mut opaque = Vec::new();
    let mut deleted = Vec::new();
    for entry in open_layer(layer, media_type)?.entries().map_err(corrupt)? {
        let entry = entry.map_err(corrupt)?;
        let Some(rel) = entry_path(&entry.path_bytes())
            .map_err(|why| ImageError::Build(format!("layer {}: entry {why}", layer.display())))?
        else {
            continue;
        };
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parent = rel.parent().unwrap_or(Path::new("")).to_path_buf();
        if name == OPAQUE_MARKER {
            opaque.push(parent);
        } else if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            deleted.push(parent.join(hidden));
        }
    }
    for dir in &opaque {
        let real = resolve_in_root(root, dir, true).map_err(|e| fail(dir, e))?;
        if real.is_dir() {
            for child in std::fs::read_dir(&real).map_err(|e| fail(dir, e))? {
                let child = child.map_err(|e| fail(dir, e))?.path();
                remove_any(&child).map_err(|e| fail(dir, e))?;
            }
        }
    }
    for path in &deleted {
        let real = resolve_in_root(root, path, false).map_err(|e| fail(path, e))?;
        if std::fs::symlink_metadata(&real).is_ok() {
            remove_any(&real).map_err(|e| fail(path, e))?;
        }
    }
    // Pass 2: everything else.
    let is_root = euid() == 0;
    for entry in open_layer(layer, media_type)?.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let Some(rel) = entry_path(&entry.path_bytes())
            .map_err(|why| ImageError::Build(format!("layer {}: entry {why}", layer.display())))?
        else {
            continue;
        };
        let name = rel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with(WHITEOUT_PREFIX) {
            continue;
        }
        let parent = rel.parent().unwrap_or(Path::new(""));
        let real_parent = resolve_in_root(root, parent, true).map_err(|e| fail(parent, e))?;
        std::fs::create_dir_all(&real_parent).map_err(|e| fail(parent, e))?;
        let target = real_parent.join(rel.file_name().unwrap_or_default());
        let header = entry.header();
        let kind = header.entry_type();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let owner = (
            header.uid().unwrap_or(0) as u32,
            header.gid().unwrap_or(0) as u32,
        );
        let existing = std::fs::symlink_metadata(&target).ok();
        use std::os::unix::fs::PermissionsExt;
        match kind {
            tar::EntryType::Directory => {
                if !existing.as_ref().is_some_and(|m| m.is_dir()) {
                    if existing.is_some() {
                        remove_any(&target).map_err(|e| fail(&rel, e))?;
                    }
                    std::fs::create_dir(&target).map_err(|e| fail(&rel, e))?;
                }
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| fail(&rel, e))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if existing.is_some() {
                    remove_any(&target).map_err(|e| fail(&rel, e))?;
                }
                let mut out = File::create(&target).map_err(|e| fail(&rel, e))?;
                io::copy(&mut entry, &mut out).map_err(|e| fail(&rel, e))?;
                out.set_permissions(std::fs::Permissions::from_mode(mode))
                    .map_err(|e| fail(&rel, e))?;
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(corrupt)?
                    .ok_or_else(|| {
                        ImageError::Build(format!(
                            "layer {}: symlink {} has no target",
                            layer.display(),
                            rel.display()
                        ))
                    })?
                    .into_owned();
                if existing.is_some() {
                    remove_any(&target).map_err(|e| fail(&rel, e))?;
                }
                std::os::unix::fs::symlink(&link, &target).map_err(|e| fail(&rel, e))?;
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(corrupt)?
                    .map(|l| l.into_owned())
                    .unwrap_or_default();
                let link_rel = entry_path(link.as_os_str().as_encoded_bytes())
                    .map_err(|why| {
                        ImageError::Build(format!("layer {}: link {why}", layer.display()))
                    })?
                    .unwrap_or_default();
                let source = resolve_in_root(root, &link_rel, false).map_err(|e| fail(&rel, e))?;
                if existing.is_some() {
                    remove_any(&target).map_err(|e| fail(&rel, e))?;
                }
                std::fs::hard_link(&source, &target).map_err(|e| fail(&rel, e))?;
            }
            other => {
                tracing::debug!(
                    "layer {}: skipping {} ({other:?})",
                    layer.display(),
                    rel.display()
                );
                continue;
            }
        }
        if is_root {
            let _ = std::os::unix::fs::lchown(&target, Some(owner.0), Some(owner.1));
            if kind == tar::EntryType::Regular && mode & 0o6000 != 0 {
                // chown clears setuid/setgid: put the mode back.
                let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode));
            }
        }
    }
    Ok(())
}

/// The effective user id.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Removes a file, symlink or directory tree (never following a symlink).
fn remove_any(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzipped layer from `(path, kind, content-or-link-target)` entries.
    fn layer(dir: &Path, name: &str, entries: &[(&str, char, &str)]) -> PathBuf {
        let path = dir.join(name);
        let gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        for (p, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            match kind {
                'd' => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o755);
                    h.set_size(0);
                    tar.append_data(&mut h, p, io::empty()).unwrap();
                }
                'f' => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(0o644);
                    h.set_size(data.len() as u64);
                    tar.append_data(&mut h, p, data.as_bytes()).unwrap();
                }
                'l' => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    tar.append_link(&mut h, p, data).unwrap();
                }
                'h' => {
                    h.set_entry_type(tar::EntryType::Link);
                    h.set_size(0);
                    tar.append_link(&mut h, p, data).unwrap();
                }
                _ => unreachable!(),
            }
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    }

    const GZ: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    #[test]
    fn whiteouts_opaque_dirs_and_replacements() {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let l1 = layer(
            work.path(),
            "l1",
            &[
                ("etc/", 'd', ""),
                ("etc/keep", 'f', "keep"),
                ("etc/gone", 'f', "gone"),
                ("opt/a/", 'd', ""),
                ("opt/a/old", 'f', "old"),
                ("usr/lib/", 'd', ""),
                ("usr/lib/libx.so", 'f', "x"),
                ("lib", 'l', "usr/lib"),
                ("data", 'f', "file"),
                ("abs", 'l', "/"),
            ],
        );
        let l2 = layer(
            work.path(),
            "l2",
            &[
                ("etc/.wh.gone", 'f', ""),
                ("opt/a/.wh..wh..opq", 'f', ""),
                ("opt/a/new", 'f', "new"),
                ("lib/liby.so", 'f', "y"),
                ("data/", 'd', ""),
                ("data/inner", 'f', "inner"),
                ("hard", 'h', "etc/keep"),
                // Through an absolute symlink: stays inside the root.
                ("abs/escaped", 'f', "inside"),
            ],
        );
        apply_layer(&root, &l1, GZ).unwrap();
        apply_layer(&root, &l2, GZ).unwrap();
        let read = |p: &str| std::fs::read_to_string(root.join(p)).ok();
        assert_eq!(read("etc/keep").as_deref(), Some("keep"));
        assert_eq!(read("etc/gone"), None);
        assert_eq!(
            read("opt/a/old"),
            None,
            "an opaque dir hides what was below"
        );
        assert_eq!(read("opt/a/new").as_deref(), Some("new"));
        assert_eq!(
            read("usr/lib/liby.so").as_deref(),
            Some("y"),
            "through lib -> usr/lib"
        );
        assert_eq!(
            read("data/inner").as_deref(),
            Some("inner"),
            "a dir replaced a file"
        );
        assert_eq!(read("hard").as_deref(), Some("keep"));
        assert_eq!(read("escaped").as_deref(), Some("inside"));
        assert!(!Path::new("/escaped").exists());
    }

    #[test]
    fn bad_entries_are_refused() {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().join("root");
        std::fs::create_dir(&root).unwrap();
        // tar::Builder refuses `..` in paths, so write the name into the header directly.
        let path = work.path().join("bad");
        let gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_old();
        h.as_old_mut().name[..9].copy_from_slice(b"../escape");
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(1);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append(&h, &b"x"[..]).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
        let e = apply_layer(&root, &path, GZ).unwrap_err().to_string();
        assert!(e.contains("`..`"), "{e}");
        assert!(!work.path().join("escape").exists());
    }

    #[test]
    fn resolution_stays_inside() {
        let work = tempfile::tempdir().unwrap();
        let root = work.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
        std::os::unix::fs::symlink("/../../..", root.join("up")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert_eq!(
            resolve_in_root(root, Path::new("/bin/sh"), true).unwrap(),
            root.join("usr/bin/sh")
        );
        assert_eq!(
            resolve_in_root(root, Path::new("bin"), false).unwrap(),
            root.join("bin")
        );
        assert_eq!(
            resolve_in_root(root, Path::new("up/etc/passwd"), true).unwrap(),
            root.join("etc/passwd")
        );
        assert!(resolve_in_root(root, Path::new("loop"), true).is_err());
    }
}
