//! Fast registration: ship new code without building a new image.
//!
//! A fast-registration bundle is a gzipped tar, `fast<digest>.tar.gz`, holding the task binary and
//! any declared files. It is uploaded once to blob storage; at run time the container downloads it
//! and unpacks it into its working directory (flytekit's `pyflyte-fast-execute`, contract §10).
//!
//! # Determinism
//! The archive is byte-for-byte reproducible for the same file contents, archive paths and
//! executable bits, on any machine: entries are sorted by archive path, every entry has
//! `mtime = 315532800` (1980-01-01 UTC, flytekit's value), `uid = gid = 0`, empty owner names,
//! mode `0755` (source has an executable bit) or `0644`, GNU tar headers, and gzip is written with
//! `mtime = 0`, no file name and the pure-Rust deflate backend at the default level.
//!
//! # Digest
//! The `<digest>` in the file name is flytekit's `ls_files` digest (contract §10.2), so a bundle of
//! the same tree gets the same name from both SDKs: MD5, hex, over every file in archive-path order
//! (byte order), updating first with the file's bytes and then with its archive path with every
//! `/` removed. File modes and mtimes are not part of it (as in flytekit); only contents and paths.
//!
//! # Unpacking
//! [`unpack`] refuses absolute paths, `..` components, links whose target leaves the destination,
//! writing through a symlink that already exists under the destination, and special files
//! (devices, FIFOs), each with an error naming the entry.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};

use md5::{Digest as _, Md5};

use crate::storage::{Storage, StorageError};

/// Prefix of a bundle's file name (flytekit's `FAST_PREFIX`).
pub const FAST_PREFIX: &str = "fast";
/// Suffix of a bundle's file name (flytekit's `FAST_FILEENDING`).
pub const FAST_FILEENDING: &str = ".tar.gz";
/// The modification time every archive entry gets: 1980-01-01T00:00:00Z, flytekit's value.
pub const NORMALIZED_MTIME: u64 = 315_532_800;

/// Errors from creating, uploading or unpacking a bundle.
#[derive(Debug, thiserror::Error)]
pub enum FastError {
    /// A declared source file could not be read.
    #[error("cannot read {path}: {source}; check that the file exists and is readable")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The bundle (or an unpacked file) could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// A declared source is not a regular file (directories must be listed file by file).
    #[error("{path} is not a regular file; list the files to ship one by one")]
    NotAFile {
        /// The offending source path.
        path: PathBuf,
    },
    /// An archive path is not a clean relative path.
    #[error(
        "invalid archive path {path:?}: {reason}; use a relative path with `/` separators and no `.` or `..` components"
    )]
    InvalidArchivePath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two sources map to the same archive path.
    #[error("two files map to the archive path {0:?}; give each file its own path")]
    DuplicatePath(String),
    /// An archive entry would land outside the destination or is not a plain file, directory or link.
    #[error("refusing to unpack {archive}: entry {entry:?} {reason}")]
    UnsafeEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's path as stored.
        entry: String,
        /// Why it is refused.
        reason: String,
    },
    /// The archive is not a readable gzipped tar.
    #[error("cannot unpack {archive}: {source}; is it a .tar.gz made by FastBundle::create?")]
    Corrupt {
        /// The archive.
        archive: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The unpack destination is not an existing directory (flytekit's message).
    #[error(
        "Destination path is required to download distribution and it should be a directory: {0}"
    )]
    NotADirectory(PathBuf),
    /// A downloaded distribution has a name flytekit does not know how to handle.
    #[error("Unrecognized additional distribution format for {0}")]
    UnrecognizedFormat(String),
    /// Blob storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A fast-registration bundle on local disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FastBundle {
    /// Path of the `fast<digest>.tar.gz` file.
    pub path: PathBuf,
    /// The content digest (see the module docs), 32 lowercase hex characters.
    pub digest: String,
}

impl FastBundle {
    /// The file name, `fast<digest>.tar.gz`.
    pub fn file_name(&self) -> String {
        bundle_file_name(&self.digest)
    }

    /// Creates `fast<digest>.tar.gz` in `output_dir` from `(source path, archive path)` pairs.
    ///
    /// Sources must be regular files (symlinks are followed). When a bundle with the same digest
    /// already exists in `output_dir` it is reused: only the digest pass (reading every file once)
    /// is paid. The bundle is written to a temporary file and renamed into place, so a crash never
    /// leaves a truncated bundle under the final name.
    pub fn create<S: AsRef<Path>, A: AsRef<str>>(
        files: &[(S, A)],
        output_dir: &Path,
    ) -> Result<FastBundle, FastError> {
        let entries = plan(files)?;
        let digest = digest_of(&entries)?;
        let path = output_dir.join(bundle_file_name(&digest));
        if path.is_file() {
            tracing::debug!("{} already exists; reusing it", path.display());
            return Ok(FastBundle { path, digest });
        }
        std::fs::create_dir_all(output_dir).map_err(|source| FastError::Write {
            path: output_dir.to_path_buf(),
            source,
        })?;
        let temp =
            tempfile::NamedTempFile::new_in(output_dir).map_err(|source| FastError::Write {
                path: output_dir.to_path_buf(),
                source,
            })?;
        let write_err = |source| FastError::Write {
            path: path.clone(),
            source,
        };
        {
            let gz = gzip_writer(BufWriter::new(temp.as_file()));
            let mut tar = tar::Builder::new(gz);
            for (archive_path, src) in &entries {
                let file = File::open(src).map_err(|source| FastError::Read {
                    path: src.clone(),
                    source,
                })?;
                let meta = file.metadata().map_err(|source| FastError::Read {
                    path: src.clone(),
                    source,
                })?;
                let mut header =
                    normalized_header(tar::EntryType::Regular, meta.len(), file_mode(&meta));
                tar.append_data(&mut header, archive_path, BufReader::new(file))
                    .map_err(|source| FastError::Read {
                        path: src.clone(),
                        source,
                    })?;
            }
            let gz = tar.into_inner().map_err(write_err)?;
            gz.finish().and_then(|mut w| w.flush()).map_err(write_err)?;
        }
        temp.persist(&path).map_err(|e| write_err(e.error))?;
        Ok(FastBundle { path, digest })
    }
}

/// `fast<digest>.tar.gz`.
pub fn bundle_file_name(digest: &str) -> String {
    format!("{FAST_PREFIX}{digest}{FAST_FILEENDING}")
}

/// Computes the bundle digest of `(source path, archive path)` pairs without writing anything.
pub fn compute_digest<S: AsRef<Path>, A: AsRef<str>>(
    files: &[(S, A)],
) -> Result<String, FastError> {
    digest_of(&plan(files)?)
}

/// Lowercase hex SHA-256 of a file's bytes, read in 1 MiB chunks.
pub fn file_sha256(path: &Path) -> Result<String, FastError> {
    use sha2::{Digest as _, Sha256};
    let read = |source| FastError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(read)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Validates the pairs and orders them by archive path.
fn plan<S: AsRef<Path>, A: AsRef<str>>(
    files: &[(S, A)],
) -> Result<BTreeMap<String, PathBuf>, FastError> {
    let mut entries = BTreeMap::new();
    for (src, archive_path) in files {
        let archive_path = validate_archive_path(archive_path.as_ref())?;
        let src = src.as_ref();
        let meta = std::fs::metadata(src).map_err(|source| FastError::Read {
            path: src.to_path_buf(),
            source,
        })?;
        if !meta.is_file() {
            return Err(FastError::NotAFile {
                path: src.to_path_buf(),
            });
        }
        if entries
            .insert(archive_path.clone(), src.to_path_buf())
            .is_some()
        {
            return Err(FastError::DuplicatePath(archive_path));
        }
    }
    Ok(entries)
}

fn digest_of(entries: &BTreeMap<String, PathBuf>) -> Result<String, FastError> {
    let mut hasher = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    for (archive_path, src) in entries {
        let mut file = File::open(src).map_err(|source| FastError::Read {
            path: src.clone(),
            source,
        })?;
        loop {
            let n = file.read(&mut buf).map_err(|source| FastError::Read {
                path: src.clone(),
                source,
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        hasher.update(archive_path.replace('/', "").as_bytes());
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Checks that `path` is a clean relative archive path and returns it normalized (no leading
/// `./`, no trailing `/`).
pub(crate) fn validate_archive_path(path: &str) -> Result<String, FastError> {
    let invalid = |reason| FastError::InvalidArchivePath {
        path: path.to_string(),
        reason,
    };
    let trimmed = path
        .strip_prefix("./")
        .unwrap_or(path)
        .trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(invalid("it is empty"));
    }
    if trimmed.starts_with('/') {
        return Err(invalid("it is absolute"));
    }
    if trimmed.contains('\\') || trimmed.contains('\0') {
        return Err(invalid("it contains a backslash or NUL"));
    }
    for part in trimmed.split('/') {
        match part {
            "" => return Err(invalid("it has an empty component")),
            "." | ".." => return Err(invalid("it has a `.` or `..` component")),
            _ => {}
        }
    }
    Ok(trimmed.to_string())
}

/// A GNU tar header with the normalized attributes (module docs); the caller sets path/link.
pub(crate) fn normalized_header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(mode);
    header.set_mtime(NORMALIZED_MTIME);
    header.set_uid(0);
    header.set_gid(0);
    // Empty owner names, like flytekit's `tar_strip_file_attributes`.
    let _ = header.set_username("");
    let _ = header.set_groupname("");
    header
}

/// `0755` when any executable bit is set on the source, else `0644`.
pub(crate) fn file_mode(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 != 0 {
            return 0o755;
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    0o644
}

/// A gzip writer with a reproducible header (mtime 0, no name, OS "unknown").
pub(crate) fn gzip_writer<W: Write>(w: W) -> flate2::write::GzEncoder<W> {
    flate2::GzBuilder::new()
        .mtime(0)
        .write(w, flate2::Compression::default())
}

/// Unpacks a bundle into the existing directory `dest`, overwriting files (like `tar -xf`).
///
/// Refuses, before writing the entry: absolute paths, `..` components, symlinks or hard links
/// whose target would resolve outside `dest`, entries whose parent path under `dest` is a
/// symlink (a previously unpacked or pre-existing link used to escape), and special files.
/// Returns the unpacked entry paths, relative to `dest`, in archive order.
pub fn unpack(archive: &Path, dest: &Path) -> Result<Vec<String>, FastError> {
    if !dest.is_dir() {
        return Err(FastError::NotADirectory(dest.to_path_buf()));
    }
    let corrupt = |source| FastError::Corrupt {
        archive: archive.to_path_buf(),
        source,
    };
    let file = File::open(archive).map_err(|source| FastError::Read {
        path: archive.to_path_buf(),
        source,
    })?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(BufReader::new(file)));
    tar.set_overwrite(true);
    // Permission bits only (mode & 0o777): executables stay executable, setuid/setgid are dropped.
    tar.set_preserve_permissions(false);
    let mut unpacked = Vec::new();
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let refuse = |reason: String| FastError::UnsafeEntry {
            archive: archive.to_path_buf(),
            entry: raw.clone(),
            reason,
        };
        let rel = safe_relative(&raw).map_err(|r| refuse(r.to_string()))?;
        if rel.as_os_str().is_empty() {
            continue; // "./"
        }
        let kind = entry.header().entry_type();
        match kind {
            tar::EntryType::Regular
            | tar::EntryType::Continuous
            | tar::EntryType::Directory
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink
            | tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader => {}
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .ok_or_else(|| refuse("is a link without a target".into()))?;
                let base = if kind == tar::EntryType::Symlink {
                    rel.parent().unwrap_or(Path::new("")).to_path_buf()
                } else {
                    // Hard-link targets are relative to the archive root.
                    PathBuf::new()
                };
                if Path::new(&target).is_absolute()
                    || escapes(&base, Path::new(&target))
                    || resolves_outside(dest, &base, Path::new(&target))
                {
                    return Err(refuse(format!(
                        "is a link to {target:?}, which points outside the destination"
                    )));
                }
            }
            other => {
                return Err(refuse(format!(
                    "has type {other:?}; only files, directories and links are unpacked"
                )));
            }
        }
        // Never write through a symlink that already exists under dest.
        let mut prefix = dest.to_path_buf();
        let components: Vec<_> = rel.components().collect();
        for (i, c) in components.iter().enumerate() {
            prefix.push(c);
            let last = i + 1 == components.len();
            let through_link = !last
                && std::fs::symlink_metadata(&prefix)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(false);
            if through_link {
                return Err(refuse(format!(
                    "would be written through the symlink {}",
                    prefix.display()
                )));
            }
        }
        let ok = entry.unpack_in(dest).map_err(|source| FastError::Write {
            path: dest.join(&rel),
            source,
        })?;
        if !ok {
            return Err(refuse("resolves outside the destination".into()));
        }
        unpacked.push(rel.to_string_lossy().into_owned());
    }
    Ok(unpacked)
}

/// The entry path as a clean relative path, or why it is unsafe.
fn safe_relative(raw: &str) -> Result<PathBuf, &'static str> {
    let path = Path::new(raw);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir => return Err("has a `..` component"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    Ok(out)
}

/// Whether `target`, taken relative to the directory `base` (relative to the root), climbs
/// above the root.
fn escapes(base: &Path, target: &Path) -> bool {
    let mut depth: i64 = base
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count() as i64;
    for c in target.components() {
        match c {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return true,
        }
    }
    false
}

/// Whether `target`, taken relative to `base` (a directory relative to `dest`), resolves outside
/// `dest` when followed through the links already under `dest`, the way the OS follows them
/// (`y -> .` makes `y/y/../..` two levels above `dest`). Absolute link targets, unreadable links
/// and more than 40 hops (the kernel's limit) count as outside.
fn resolves_outside(dest: &Path, base: &Path, target: &Path) -> bool {
    use std::collections::VecDeque;
    use std::ffi::OsString;
    enum Step {
        Name(OsString),
        Up,
    }
    let steps = |p: &Path| -> Option<Vec<Step>> {
        p.components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(Some(Step::Name(n.to_os_string()))),
                Component::ParentDir => Some(Some(Step::Up)),
                Component::CurDir => None,
                Component::RootDir | Component::Prefix(_) => Some(None),
            })
            .collect()
    };
    let (Some(b), Some(t)) = (steps(base), steps(target)) else {
        return true;
    };
    let mut pending: VecDeque<Step> = b.into_iter().chain(t).collect();
    let mut at: Vec<OsString> = Vec::new();
    let mut hops = 0;
    while let Some(step) = pending.pop_front() {
        match step {
            Step::Up => {
                if at.pop().is_none() {
                    return true;
                }
            }
            Step::Name(name) => {
                at.push(name);
                let here: PathBuf = at.iter().fold(dest.to_path_buf(), |p, n| p.join(n));
                let is_link = std::fs::symlink_metadata(&here)
                    .map(|m| m.file_type().is_symlink())
                    .unwrap_or(false);
                if !is_link {
                    continue;
                }
                hops += 1;
                let Ok(link) = std::fs::read_link(&here) else {
                    return true;
                };
                let Some(link_steps) = steps(&link) else {
                    return true;
                };
                if hops > 40 {
                    return true;
                }
                at.pop();
                for s in link_steps.into_iter().rev() {
                    pending.push_front(s);
                }
            }
        }
    }
    false
}

/// Uploads `bundle` to `<prefix>/<file name>` unless an object already exists there (the name
/// is the content digest), and returns the object's URI.
pub async fn upload_bundle(
    storage: &Storage,
    prefix: &str,
    bundle: &FastBundle,
) -> Result<String, FastError> {
    let uri = crate::storage::join(prefix, &bundle.file_name());
    if storage.exists(&uri).await? {
        tracing::info!("{uri} already uploaded; skipping");
    } else {
        storage.upload_file(&bundle.path, &uri).await?;
    }
    Ok(uri)
}

/// Downloads a distribution into the existing directory `dest` and, for a `.tar.gz`, unpacks it
/// there (flytekit's `download_distribution`). A `pkl.gz` is kept as is; any other name is an
/// error. Returns the downloaded file's local path.
pub async fn download_distribution(
    storage: &Storage,
    uri: &str,
    dest: &Path,
) -> Result<PathBuf, FastError> {
    if !dest.is_dir() {
        return Err(FastError::NotADirectory(dest.to_path_buf()));
    }
    let name = uri.rsplit('/').next().unwrap_or(uri);
    if !(name.ends_with(FAST_FILEENDING) || name == "pkl.gz") {
        return Err(FastError::UnrecognizedFormat(uri.to_string()));
    }
    let local = dest.join(name);
    storage.download_file(uri, &local).await?;
    if name.ends_with(FAST_FILEENDING) {
        let archive = local.clone();
        let dest = dest.to_path_buf();
        tokio::task::spawn_blocking(move || unpack(&archive, &dest))
            .await
            .map_err(|e| FastError::Write {
                path: local.clone(),
                source: io::Error::other(e),
            })??;
    }
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_are_validated() {
        assert_eq!(validate_archive_path("./a/b").unwrap(), "a/b");
        assert_eq!(validate_archive_path("bin/").unwrap(), "bin");
        for bad in ["", "/etc/passwd", "a/../b", "..", "a//b", "a\\b", "./"] {
            assert!(validate_archive_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn escape_detection() {
        assert!(!escapes(Path::new("a/b"), Path::new("../c")));
        assert!(!escapes(Path::new("a"), Path::new("../c")));
        assert!(escapes(Path::new("a"), Path::new("../../c")));
        assert!(escapes(Path::new(""), Path::new("..")));
        assert!(!escapes(Path::new(""), Path::new("x/../y")));
    }
}
