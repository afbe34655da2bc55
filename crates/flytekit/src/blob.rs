//! Files and directories as Flyte blobs: [`FlyteFile`] and [`FlyteDirectory`].
//!
//! They follow flytekit's `FlyteFile` and `FlyteDirectory`:
//! - the literal type is `Blob { format, dimensionality }` (`SINGLE` for a file, `MULTIPART` for a
//!   directory); the format is `""` unless a [`BlobFormat`] type parameter names one
//!   (`FlyteFile<formats::Csv>` is Python's `FlyteFile["csv"]`);
//! - converting a *local* file or directory to a literal uploads it under the conversion context's
//!   raw output prefix, at `<prefix>/<32 hex digits>/<file name>` (a directory's contents go under
//!   `<prefix>/<32 hex digits>/`), and the literal holds that URI;
//! - a value that names a remote object ([`FlyteFile::from_uri`], or one read from a literal) is
//!   passed on as its URI, without copying;
//! - reading a literal downloads the object into a fresh directory under the context's local
//!   directory; [`FlyteFile::path`] is then the local copy and [`FlyteFile::remote_source`] the URI.
//!
//! ```no_run
//! # async fn demo(cx: &flytekit::type_engine::ConversionContext) -> Result<(), flytekit::type_engine::TypeError> {
//! use flytekit::FlyteFile;
//! use flytekit::type_engine::FlyteType;
//! std::fs::write("/tmp/report.txt", "hello").ok();
//! let literal = FlyteFile::new("/tmp/report.txt").to_literal(cx).await?; // uploads
//! let back: FlyteFile = FlyteFile::from_literal(&literal, cx).await?; // downloads
//! assert_eq!(std::fs::read_to_string(back.path()).ok().as_deref(), Some("hello"));
//! # Ok(()) }
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use flytekit_idl::core::{
    Blob, BlobMetadata, BlobType, Literal, LiteralType, blob_type::BlobDimensionality,
    literal_type, scalar,
};

use serde::{Deserialize, Serialize};

use crate::storage;
use crate::type_engine::literals::{scalar_literal, scalar_of, unwrap_union};
use crate::type_engine::{ConversionContext, FlyteType, TypeError};

/// A blob format: the `format` string of the Flyte blob type (`"csv"`, `"parquet"`, ...).
///
/// Implement it on a marker type to declare a format of your own:
/// `struct Fasta; impl BlobFormat for Fasta { const FORMAT: &'static str = "fasta"; }`.
pub trait BlobFormat: Send + Sync + 'static {
    /// The format string; `""` means any format.
    const FORMAT: &'static str;
}

/// Any format: the blob type's format is `""` (Python's plain `FlyteFile`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnyFormat;

impl BlobFormat for AnyFormat {
    const FORMAT: &'static str = "";
}

/// Common blob formats, as marker types for [`FlyteFile`] and [`FlyteDirectory`].
pub mod formats {
    use super::BlobFormat;

    macro_rules! format {
        ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {$(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
            pub struct $name;
            impl BlobFormat for $name {
                const FORMAT: &'static str = $value;
            }
        )*};
    }

    format! {
        /// `"csv"` (Python's `FlyteFile["csv"]` / `CSVFile`).
        Csv = "csv";
        /// `"json"` (Python's `JSONFile`).
        Json = "json";
        /// `"parquet"`.
        Parquet = "parquet";
        /// `"txt"`.
        Text = "txt";
        /// `"png"` (Python's `PNGImageFile`).
        Png = "png";
        /// `"jpeg"` (Python's `JPEGImageFile`).
        Jpeg = "jpeg";
    }
}

/// Where a blob value lives: a local path, a remote URI, or both (a downloaded remote object).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Location {
    local: Option<PathBuf>,
    remote: Option<String>,
}

impl Location {
    fn new(path: &str) -> Self {
        if storage::is_local(path) {
            let local = path.strip_prefix("file://").unwrap_or(path);
            Location {
                local: Some(PathBuf::from(local)),
                remote: None,
            }
        } else {
            Location {
                local: None,
                remote: Some(path.to_string()),
            }
        }
    }

    fn path(&self) -> &Path {
        match (&self.local, &self.remote) {
            (Some(local), _) => local,
            (None, Some(remote)) => Path::new(remote.as_str()),
            (None, None) => Path::new(""),
        }
    }
}

/// The unique name flytekit uses for uploads and downloads (32 hex digits).
fn unique_name() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The last path segment of a URI or path (`"file"` when there is none).
fn base_name(uri: &str) -> String {
    uri.trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("file")
        .to_string()
}

fn blob_literal_type(format: &str, dimensionality: BlobDimensionality) -> LiteralType {
    LiteralType {
        r#type: Some(literal_type::Type::Blob(BlobType {
            format: format.to_string(),
            dimensionality: dimensionality as i32,
        })),
        ..Default::default()
    }
}

fn blob_literal(uri: String, format: &str, dimensionality: BlobDimensionality) -> Literal {
    scalar_literal(scalar::Value::Blob(Box::new(Blob {
        metadata: Some(BlobMetadata {
            r#type: Some(BlobType {
                format: format.to_string(),
                dimensionality: dimensionality as i32,
            }),
        }),
        uri,
    })))
}

/// The URI of a blob literal of the given dimensionality (a missing blob type counts as a file).
fn read_blob_uri(
    literal: &Literal,
    expected: fn() -> LiteralType,
    dimensionality: BlobDimensionality,
) -> Result<&str, TypeError> {
    let Some(scalar::Value::Blob(blob)) = scalar_of(unwrap_union(literal)) else {
        return Err(TypeError::mismatch(&expected(), literal));
    };
    let actual = blob
        .metadata
        .as_ref()
        .and_then(|m| m.r#type.as_ref())
        .map(|t| t.dimensionality)
        .unwrap_or(0);
    if actual != dimensionality as i32 {
        return Err(TypeError::mismatch(&expected(), literal));
    }
    if blob.uri.is_empty() {
        return Err(TypeError::invalid(&expected(), "the blob has no URI"));
    }
    Ok(&blob.uri)
}

/// How flytekit's mashumaro writes a `FlyteFile`/`FlyteDirectory` dataclass field: `{"path": ...}`.
#[derive(Serialize, Deserialize)]
struct SerdeRepr {
    path: String,
}

impl Location {
    fn to_repr(&self) -> SerdeRepr {
        let path = match (&self.remote, &self.local) {
            (Some(remote), _) => remote.clone(),
            (None, Some(local)) => local.to_string_lossy().into_owned(),
            (None, None) => String::new(),
        };
        SerdeRepr { path }
    }
}

/// A file, local or in blob storage: Flyte's single-part blob, Python's `FlyteFile`.
///
/// `F` names the format (see [`formats`]); the default, [`AnyFormat`], is Python's plain
/// `FlyteFile`.
pub struct FlyteFile<F: BlobFormat = AnyFormat> {
    location: Location,
    _format: PhantomData<fn() -> F>,
}

impl FlyteFile {
    /// A file at `path`: a local path (or `file://` URI), uploaded when the value becomes a literal,
    /// or a remote URI (`s3://...`, `memory://...`), passed on as is.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self::from_location(Location::new(&path.as_ref().to_string_lossy()))
    }

    /// A file in blob storage at `uri`. It stays a URI (nothing is downloaded) until read through
    /// [`FlyteFile::download`] or a task boundary.
    pub fn from_uri(uri: impl Into<String>) -> Self {
        Self::from_location(Location::new(&uri.into()))
    }
}

impl<F: BlobFormat> FlyteFile<F> {
    /// The same file with the blob format `G` (`FlyteFile::new(p).with_format::<formats::Csv>()`).
    pub fn with_format<G: BlobFormat>(self) -> FlyteFile<G> {
        FlyteFile::from_location(self.location)
    }

    fn from_location(location: Location) -> Self {
        Self {
            location,
            _format: PhantomData,
        }
    }

    /// The local path of the file; for a remote file that was not downloaded, its URI.
    pub fn path(&self) -> &Path {
        self.location.path()
    }

    /// The local path, if the file is (also) on local disk.
    pub fn local_path(&self) -> Option<&Path> {
        self.location.local.as_deref()
    }

    /// The URI the file came from (or was given as), if it is in blob storage.
    pub fn remote_source(&self) -> Option<&str> {
        self.location.remote.as_deref()
    }

    /// The blob format (`""` for any).
    pub fn format(&self) -> &'static str {
        F::FORMAT
    }

    /// Downloads a remote file into a fresh directory under `cx.local_dir()` (once) and returns
    /// the local path.
    pub async fn download(&mut self, cx: &ConversionContext) -> Result<&Path, TypeError> {
        if self.location.local.is_none() {
            let uri = self.location.remote.clone().unwrap_or_default();
            let dest = cx.local_dir().join(unique_name()).join(base_name(&uri));
            cx.storage().download_file(&uri, &dest).await?;
            self.location.local = Some(dest);
        }
        Ok(self.path())
    }
}

impl<F: BlobFormat> Clone for FlyteFile<F> {
    fn clone(&self) -> Self {
        Self::from_location(self.location.clone())
    }
}

impl<F: BlobFormat> fmt::Debug for FlyteFile<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlyteFile")
            .field("path", &self.path())
            .field("remote_source", &self.remote_source())
            .field("format", &F::FORMAT)
            .finish()
    }
}

impl<F: BlobFormat> PartialEq for FlyteFile<F> {
    fn eq(&self, other: &Self) -> bool {
        self.location == other.location
    }
}

/// Inside a `#[derive(FlyteType)]` struct a FlyteFile is written as flytekit writes it in a dataclass,
/// `{"path": <uri>}`: its remote URI, or its local path when it has none (serialization cannot
/// upload, so give struct fields remote FlyteFiles, e.g. from [`FlyteFile::from_uri`] or read from an
/// input, when the struct leaves the machine). Reading one gives a remote FlyteFile: call
/// `download` to fetch it.
impl<F: BlobFormat> serde::Serialize for FlyteFile<F> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.location.to_repr().serialize(serializer)
    }
}

impl<'de, F: BlobFormat> serde::Deserialize<'de> for FlyteFile<F> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = SerdeRepr::deserialize(deserializer)?;
        Ok(Self::from_location(Location::new(&repr.path)))
    }
}

impl<F: BlobFormat> FlyteType for FlyteFile<F> {
    fn literal_type() -> LiteralType {
        blob_literal_type(F::FORMAT, BlobDimensionality::Single)
    }

    async fn to_literal(&self, cx: &ConversionContext) -> Result<Literal, TypeError> {
        let uri = match (&self.location.remote, &self.location.local) {
            (Some(remote), _) => remote.clone(),
            (None, Some(local)) => {
                if !local.is_file() {
                    return Err(TypeError::Other(format!(
                        "FlyteFile {} is not a file; create it before returning it, or use FlyteDirectory for a directory",
                        local.display()
                    )));
                }
                let name = local
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "file".to_string());
                let uri =
                    storage::join(cx.raw_output_prefix(), &format!("{}/{name}", unique_name()));
                cx.storage().upload_file(local, &uri).await?;
                uri
            }
            (None, None) => {
                return Err(TypeError::Other(
                    "FlyteFile has neither a path nor a URI".to_string(),
                ));
            }
        };
        Ok(blob_literal(uri, F::FORMAT, BlobDimensionality::Single))
    }

    async fn from_literal(literal: &Literal, cx: &ConversionContext) -> Result<Self, TypeError> {
        let uri = read_blob_uri(literal, Self::literal_type, BlobDimensionality::Single)?;
        let mut file = Self::from_location(Location {
            local: None,
            remote: Some(uri.to_string()),
        });
        file.download(cx).await?;
        Ok(file)
    }
}

/// A directory, local or in blob storage: Flyte's multipart blob, Python's `FlyteDirectory`.
pub struct FlyteDirectory<F: BlobFormat = AnyFormat> {
    location: Location,
    _format: PhantomData<fn() -> F>,
}

impl FlyteDirectory {
    /// A directory at `path`: a local path (or `file://` URI), uploaded when the value becomes a
    /// literal, or a remote prefix (`s3://...`, `memory://...`), passed on as is.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self::from_location(Location::new(&path.as_ref().to_string_lossy()))
    }

    /// A directory (prefix) in blob storage at `uri`; it stays a URI until downloaded.
    pub fn from_uri(uri: impl Into<String>) -> Self {
        Self::from_location(Location::new(&uri.into()))
    }
}

impl<F: BlobFormat> FlyteDirectory<F> {
    /// The same directory with the blob format `G` (`FlyteDirectory::new(p).with_format::<formats::Csv>()`).
    pub fn with_format<G: BlobFormat>(self) -> FlyteDirectory<G> {
        FlyteDirectory::from_location(self.location)
    }

    fn from_location(location: Location) -> Self {
        Self {
            location,
            _format: PhantomData,
        }
    }

    /// The local path of the directory; for a remote directory that was not downloaded, its URI.
    pub fn path(&self) -> &Path {
        self.location.path()
    }

    /// The local path, if the directory is (also) on local disk.
    pub fn local_path(&self) -> Option<&Path> {
        self.location.local.as_deref()
    }

    /// The URI the directory came from (or was given as), if it is in blob storage.
    pub fn remote_source(&self) -> Option<&str> {
        self.location.remote.as_deref()
    }

    /// The blob format (`""` for any).
    pub fn format(&self) -> &'static str {
        F::FORMAT
    }

    /// Downloads a remote directory into a fresh directory under `cx.local_dir()` (once) and
    /// returns the local path.
    pub async fn download(&mut self, cx: &ConversionContext) -> Result<&Path, TypeError> {
        if self.location.local.is_none() {
            let uri = self.location.remote.clone().unwrap_or_default();
            let dest = cx.local_dir().join(unique_name()).join(base_name(&uri));
            tokio::fs::create_dir_all(&dest)
                .await
                .map_err(|source| storage::StorageError::Io {
                    op: "create directory",
                    path: dest.clone(),
                    source,
                })?;
            cx.storage().download_dir(&uri, &dest).await?;
            self.location.local = Some(dest);
        }
        Ok(self.path())
    }

    /// The files under the local directory, recursively, sorted (empty if it is not local).
    pub fn files(&self) -> std::io::Result<Vec<PathBuf>> {
        let Some(root) = &self.location.local else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                if entry.file_type()?.is_dir() {
                    stack.push(entry.path());
                } else {
                    out.push(entry.path());
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

impl<F: BlobFormat> Clone for FlyteDirectory<F> {
    fn clone(&self) -> Self {
        Self::from_location(self.location.clone())
    }
}

impl<F: BlobFormat> fmt::Debug for FlyteDirectory<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlyteDirectory")
            .field("path", &self.path())
            .field("remote_source", &self.remote_source())
            .field("format", &F::FORMAT)
            .finish()
    }
}

impl<F: BlobFormat> PartialEq for FlyteDirectory<F> {
    fn eq(&self, other: &Self) -> bool {
        self.location == other.location
    }
}

/// Inside a `#[derive(FlyteType)]` struct a FlyteDirectory is written as flytekit writes it in a dataclass,
/// `{"path": <uri>}`: its remote URI, or its local path when it has none (serialization cannot
/// upload, so give struct fields remote FlyteDirectorys, e.g. from [`FlyteDirectory::from_uri`] or read from an
/// input, when the struct leaves the machine). Reading one gives a remote FlyteDirectory: call
/// `download` to fetch it.
impl<F: BlobFormat> serde::Serialize for FlyteDirectory<F> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.location.to_repr().serialize(serializer)
    }
}

impl<'de, F: BlobFormat> serde::Deserialize<'de> for FlyteDirectory<F> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = SerdeRepr::deserialize(deserializer)?;
        Ok(Self::from_location(Location::new(&repr.path)))
    }
}

impl<F: BlobFormat> FlyteType for FlyteDirectory<F> {
    fn literal_type() -> LiteralType {
        blob_literal_type(F::FORMAT, BlobDimensionality::Multipart)
    }

    async fn to_literal(&self, cx: &ConversionContext) -> Result<Literal, TypeError> {
        let uri = match (&self.location.remote, &self.location.local) {
            (Some(remote), _) => remote.clone(),
            (None, Some(local)) => {
                if !local.is_dir() {
                    return Err(TypeError::Other(format!(
                        "FlyteDirectory {} is not a directory; create it before returning it, or use FlyteFile for a file",
                        local.display()
                    )));
                }
                let uri = storage::join(cx.raw_output_prefix(), &unique_name());
                cx.storage().upload_dir(local, &uri).await?;
                uri
            }
            (None, None) => {
                return Err(TypeError::Other(
                    "FlyteDirectory has neither a path nor a URI".to_string(),
                ));
            }
        };
        Ok(blob_literal(uri, F::FORMAT, BlobDimensionality::Multipart))
    }

    async fn from_literal(literal: &Literal, cx: &ConversionContext) -> Result<Self, TypeError> {
        let uri = read_blob_uri(literal, Self::literal_type, BlobDimensionality::Multipart)?;
        let mut dir = Self::from_location(Location {
            local: None,
            remote: Some(uri.to_string()),
        });
        dir.download(cx).await?;
        Ok(dir)
    }
}
