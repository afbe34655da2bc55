//! The local cache: outputs of `cache = true` tasks, persisted in SQLite.
//!
//! Keyed like flytekit's `LocalTaskCache`: task name, cache version and a hash of the inputs
//! (minus the task's ignored inputs). The database lives at `$FLYTEKIT_CACHE_DIR/local-cache.sqlite`,
//! else `$XDG_CACHE_HOME/flytekit-rs/…`, else `~/.cache/flytekit-rs/…`. Clear it with
//! `run --clear-cache` or [`LocalCache::clear`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use flytekit_idl::Message;
use flytekit_idl::core::{Literal, LiteralMap, literal, scalar};
use sha2::{Digest, Sha256};

pub use crate::disk_cache::{CACHE_DIR_ENV, default_cache_dir};

/// Why the cache could not be used. The engine reports these as warnings and runs the task.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The cache directory could not be created.
    #[error(
        "cannot create the cache directory {path}: {source}; set {CACHE_DIR_ENV} to a writable directory"
    )]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite reported an error.
    #[error(
        "local cache {path}: {source}; delete the file or run `run --clear-cache` if it is corrupt"
    )]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored entry could not be decoded.
    #[error("local cache {path}: entry {key} is corrupt: {source}")]
    Decode {
        /// The database file.
        path: PathBuf,
        /// The entry key.
        key: String,
        /// The decoding error.
        #[source]
        source: prost::DecodeError,
    },
}

/// A handle on the SQLite cache database.
#[derive(Debug)]
pub struct LocalCache {
    path: PathBuf,
    conn: Mutex<rusqlite::Connection>,
}

impl LocalCache {
    /// Opens (creating if needed) the cache in directory `dir`.
    pub fn open(dir: &Path) -> Result<Self, CacheError> {
        std::fs::create_dir_all(dir).map_err(|source| CacheError::Dir {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join("local-cache.sqlite");
        let err = |source| CacheError::Sqlite {
            path: path.clone(),
            source,
        };
        let conn = rusqlite::Connection::open(&path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS task_cache (
                 key TEXT PRIMARY KEY,
                 task TEXT NOT NULL,
                 cache_version TEXT NOT NULL,
                 outputs BLOB NOT NULL,
                 created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
             );",
        )
        .map_err(err)?;
        Ok(Self {
            path,
            conn: Mutex::new(conn),
        })
    }

    /// Opens the cache in [`default_cache_dir`].
    pub fn open_default() -> Result<Self, CacheError> {
        Self::open(&default_cache_dir())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, rusqlite::Connection> {
        // A panic while holding the lock cannot leave SQLite in a bad state; keep using it.
        self.conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached outputs for `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<LiteralMap>, CacheError> {
        let conn = self.conn();
        let row: Result<Vec<u8>, rusqlite::Error> = conn.query_row(
            "SELECT outputs FROM task_cache WHERE key = ?1",
            [key],
            |r| r.get(0),
        );
        match row {
            Ok(bytes) => flytekit_idl::codec::decode_literal_map(&bytes)
                .map(Some)
                .map_err(|source| CacheError::Decode {
                    path: self.path.clone(),
                    key: key.to_string(),
                    source,
                }),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(source) => Err(CacheError::Sqlite {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Stores `outputs` under `key`, replacing any previous entry.
    pub fn put(
        &self,
        key: &str,
        task: &str,
        cache_version: &str,
        outputs: &LiteralMap,
    ) -> Result<(), CacheError> {
        self.conn()
            .execute(
                "INSERT OR REPLACE INTO task_cache (key, task, cache_version, outputs) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    key,
                    task,
                    cache_version,
                    flytekit_idl::codec::encode_literal_map(outputs)
                ],
            )
            .map(|_| ())
            .map_err(|source| CacheError::Sqlite { path: self.path.clone(), source })
    }

    /// Deletes every entry; returns how many there were.
    pub fn clear(&self) -> Result<usize, CacheError> {
        self.conn()
            .execute("DELETE FROM task_cache", [])
            .map_err(|source| CacheError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }

    /// The number of entries.
    pub fn len(&self) -> Result<usize, CacheError> {
        self.conn()
            .query_row("SELECT COUNT(*) FROM task_cache", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|source| CacheError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> Result<bool, CacheError> {
        Ok(self.len()? == 0)
    }
}

/// The cache key of a task run: `<task>-<version>-<sha256 of the inputs>`, where the hash covers
/// every input except `ignored`, in name order, and uses a literal's own `hash` when it has one.
pub fn cache_key(
    task: &str,
    cache_version: &str,
    inputs: &LiteralMap,
    ignored: &[String],
) -> String {
    let mut h = Sha256::new();
    let mut names: Vec<&String> = inputs
        .literals
        .keys()
        .filter(|k| !ignored.contains(k))
        .collect();
    names.sort();
    for name in names {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        if let Some(l) = inputs.literals.get(name) {
            hash_literal(l, &mut h);
        }
    }
    format!("{task}-{cache_version}-{}", hex::encode(h.finalize()))
}

/// Feeds a canonical encoding of `l` to `h`: map entries in key order, so the hash does not depend
/// on the order of protobuf map fields.
fn hash_literal(l: &Literal, h: &mut Sha256) {
    if !l.hash.is_empty() {
        h.update(b"H");
        h.update(l.hash.as_bytes());
        return;
    }
    match &l.value {
        None => h.update(b"0"),
        Some(literal::Value::Scalar(s)) => match &s.value {
            Some(scalar::Value::Union(u)) => {
                h.update(b"U");
                if let Some(t) = &u.r#type {
                    h.update(t.encode_to_vec());
                }
                if let Some(v) = &u.value {
                    hash_literal(v, h);
                }
            }
            _ => {
                h.update(b"S");
                let bytes = s.encode_to_vec();
                h.update((bytes.len() as u64).to_le_bytes());
                h.update(bytes);
            }
        },
        Some(literal::Value::Collection(c)) => {
            h.update(b"C");
            h.update((c.literals.len() as u64).to_le_bytes());
            for item in &c.literals {
                hash_literal(item, h);
            }
        }
        Some(literal::Value::Map(m)) => {
            h.update(b"M");
            h.update((m.literals.len() as u64).to_le_bytes());
            let mut keys: Vec<&String> = m.literals.keys().collect();
            keys.sort();
            for k in keys {
                h.update((k.len() as u64).to_le_bytes());
                h.update(k.as_bytes());
                if let Some(v) = m.literals.get(k) {
                    hash_literal(v, h);
                }
            }
        }
        Some(literal::Value::OffloadedMetadata(o)) => {
            h.update(b"O");
            h.update(o.encode_to_vec());
        }
    }
}
