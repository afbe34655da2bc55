//! Where a dataset's files are, as flytekit lays them out.
//!
//! flytekit's pandas and pyarrow encoders write a dataset as a *directory* (a prefix in blob
//! storage) holding one Parquet file named `00000`; the dataset's URI is the directory. Its
//! decoders hand the URI to pandas/pyarrow, which read a single file as well as a directory of
//! parts. So does this module: a URI naming a file is a one-part dataset; otherwise every file
//! under the prefix is a part, in name order, except names starting with `.` or `_` (`_SUCCESS`,
//! `.crc` files), which pyarrow's dataset discovery skips too.

use std::path::{Path, PathBuf};

use super::error::DatasetError;
use crate::storage::{self, Storage, StorageError};
use crate::type_engine::ConversionContext;

/// The name of the `i`-th part file: `00000`, `00001`, ... (flytekit's `f"{0:05}"`).
pub fn part_name(i: usize) -> String {
    format!("{i:05}")
}

/// One file of a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// A file on local disk (read with the synchronous reader, no runtime needed).
    Local(PathBuf),
    /// An object in a store (`s3://`, `gs://`, `abfs://`, `memory://`), read by range requests.
    Remote(String),
}

impl Part {
    /// The part as a URI or path, for messages.
    pub(crate) fn uri(&self) -> String {
        match self {
            Part::Local(p) => p.display().to_string(),
            Part::Remote(u) => u.clone(),
        }
    }
}

/// Whether a file under a dataset directory is data, not a marker or hidden file.
fn is_data(relative: &str) -> bool {
    relative
        .split('/')
        .all(|segment| !segment.is_empty() && !segment.starts_with(['.', '_']))
}

/// The part files of the dataset at `uri`: the file itself, or the data files under it.
pub(crate) async fn resolve_parts(storage: &Storage, uri: &str) -> Result<Vec<Part>, DatasetError> {
    if uri.is_empty() {
        return Err(DatasetError::NoUri);
    }
    if storage::is_local(uri) {
        let path = storage::local_path(uri).map_err(|source| {
            DatasetError::Storage(StorageError::Io {
                op: "resolve",
                path: PathBuf::from(uri),
                source,
            })
        })?;
        return resolve_local(&path, uri);
    }
    match storage.metadata(uri).await {
        Ok(_) => return Ok(vec![Part::Remote(uri.to_string())]),
        Err(StorageError::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    let base = uri.trim_end_matches('/');
    let parts: Vec<Part> = storage
        .list(uri)
        .await?
        .into_iter()
        .filter(|u| {
            u.strip_prefix(base)
                .map(|rel| is_data(rel.trim_start_matches('/')))
                .unwrap_or(false)
        })
        .map(Part::Remote)
        .collect();
    if parts.is_empty() {
        return Err(DatasetError::NotFound {
            uri: uri.to_string(),
        });
    }
    Ok(parts)
}

fn resolve_local(path: &Path, uri: &str) -> Result<Vec<Part>, DatasetError> {
    let io = |p: &Path, source| {
        DatasetError::Storage(StorageError::Io {
            op: "list",
            path: p.to_path_buf(),
            source,
        })
    };
    if path.is_file() {
        return Ok(vec![Part::Local(path.to_path_buf())]);
    }
    if !path.is_dir() {
        return Err(DatasetError::NotFound {
            uri: uri.to_string(),
        });
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let entry = entry.map_err(|e| io(&dir, e))?;
            let p = entry.path();
            let rel = p
                .strip_prefix(path)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            if !is_data(&rel) {
                continue;
            }
            if entry.file_type().map_err(|e| io(&p, e))?.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(DatasetError::NotFound {
            uri: uri.to_string(),
        });
    }
    Ok(files.into_iter().map(Part::Local).collect())
}

/// Where a new dataset goes: its URI, the local directory its part is written to, and whether that
/// directory is uploaded to the URI afterwards.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub uri: String,
    pub local_dir: PathBuf,
    pub upload: bool,
}

impl Target {
    /// A new dataset directory under `cx`'s raw output prefix.
    pub(crate) fn new(cx: &ConversionContext) -> Result<Self, DatasetError> {
        let name = uuid::Uuid::new_v4().simple().to_string();
        let raw = cx.raw_output_prefix();
        let uri = storage::join(raw, &name);
        if storage::is_local(raw) {
            let local_dir = storage::local_path(&uri).map_err(|source| {
                DatasetError::Storage(StorageError::Io {
                    op: "resolve",
                    path: PathBuf::from(&uri),
                    source,
                })
            })?;
            Ok(Self {
                uri,
                local_dir,
                upload: false,
            })
        } else {
            Ok(Self {
                uri,
                local_dir: cx.local_dir().join("datasets").join(name),
                upload: true,
            })
        }
    }

    /// The local path of the first part.
    pub(crate) fn part_path(&self) -> PathBuf {
        self.local_dir.join(part_name(0))
    }

    /// Uploads the written part when the dataset's URI is remote, then removes the local copy.
    pub(crate) async fn publish(&self, storage: &Storage) -> Result<(), DatasetError> {
        let part = self.part_path();
        let object = storage::join(&self.uri, &part_name(0));
        // Published already (a value returned twice): the local copy is gone, the object is there.
        if self.upload && !part.exists() && storage.exists(&object).await? {
            return Ok(());
        }
        if self.upload {
            storage.upload_file(&part, &object).await?;
            let _ = tokio::fs::remove_dir_all(&self.local_dir).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_hidden_files_are_not_parts() {
        assert!(is_data("00000"));
        assert!(is_data("year=2024/00001"));
        assert!(!is_data("_SUCCESS"));
        assert!(!is_data(".00000.crc"));
        assert!(!is_data("_tmp/00000"));
        assert_eq!(part_name(0), "00000");
        assert_eq!(part_name(12), "00012");
    }

    #[tokio::test]
    async fn files_directories_and_missing_uris_resolve() {
        let dir = tempfile::tempdir().expect("tempdir");
        let storage = Storage::new();
        let root = dir.path().join("ds");
        std::fs::create_dir_all(root.join("sub")).expect("mkdir");
        std::fs::write(root.join("00001"), b"b").expect("write");
        std::fs::write(root.join("00000"), b"a").expect("write");
        std::fs::write(root.join("_SUCCESS"), b"").expect("write");
        std::fs::write(root.join("sub/00000"), b"c").expect("write");
        let parts = resolve_parts(&storage, &root.display().to_string())
            .await
            .expect("parts");
        assert_eq!(
            parts,
            vec![
                Part::Local(root.join("00000")),
                Part::Local(root.join("00001")),
                Part::Local(root.join("sub/00000")),
            ]
        );
        let one = resolve_parts(
            &storage,
            &format!("file://{}", root.join("00001").display()),
        )
        .await
        .expect("one file");
        assert_eq!(one, vec![Part::Local(root.join("00001"))]);
        let missing = dir.path().join("nope").display().to_string();
        let err = resolve_parts(&storage, &missing).await.unwrap_err();
        assert!(matches!(err, DatasetError::NotFound { .. }), "{err}");
        assert!(err.to_string().contains(&missing), "{err}");

        storage
            .put("memory://ds/x/00000", bytes::Bytes::from_static(b"p"))
            .await
            .expect("put");
        storage
            .put("memory://ds/x/_SUCCESS", bytes::Bytes::new())
            .await
            .expect("put");
        let remote = resolve_parts(&storage, "memory://ds/x/")
            .await
            .expect("remote");
        assert_eq!(remote, vec![Part::Remote("memory://ds/x/00000".into())]);
        let err = resolve_parts(&storage, "memory://ds/none")
            .await
            .unwrap_err();
        assert!(matches!(err, DatasetError::NotFound { .. }), "{err}");
    }
}
