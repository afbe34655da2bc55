//! Why a dataset could not be found, read or written. Every error names the URI (or path), and
//! the column or row group when one is at fault.

use crate::storage::StorageError;

/// A failure to find, read or write a structured dataset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// Nothing is stored at the dataset's URI: no object, and no files under it as a prefix.
    #[error(
        "no dataset at {uri}: there is no file there and no part files under it; check that the producing task wrote it and that the URI is right"
    )]
    NotFound {
        /// The dataset's URI.
        uri: String,
    },
    /// The literal has no URI.
    #[error("the structured dataset has no URI")]
    NoUri,
    /// A file of the dataset is not Parquet (or its footer is damaged).
    #[error(
        "{uri} is not a Parquet file ({reason}); flytekit-rs reads structured datasets stored as Parquet"
    )]
    NotParquet {
        /// The file.
        uri: String,
        /// What the Parquet reader said.
        reason: String,
    },
    /// The dataset's format is one flytekit-rs cannot read.
    #[error(
        "{uri} is stored as \"{format}\"; flytekit-rs reads and writes structured datasets as Parquet (format \"parquet\" or \"\")"
    )]
    UnsupportedFormat {
        /// The dataset's URI.
        uri: String,
        /// Its declared format.
        format: String,
    },
    /// A declared column is not in the file.
    #[error(
        "column '{column}' is declared ({declared}) but {uri} has no such column; its columns are: {available}"
    )]
    MissingColumn {
        /// The declared column.
        column: String,
        /// Its declared Flyte type.
        declared: String,
        /// The file.
        uri: String,
        /// The file's columns, comma-separated.
        available: String,
    },
    /// A declared column holds values of another type.
    #[error("column '{column}' of {uri} holds {found}, but it is declared {declared}")]
    ColumnType {
        /// The column.
        column: String,
        /// The file (or, when writing, the output).
        uri: String,
        /// The declared Flyte type.
        declared: String,
        /// The Arrow type found.
        found: String,
    },
    /// A declared column could not be converted to its declared Arrow type, or holds nulls where
    /// the declaration does not allow them.
    #[error("column '{column}' of {uri}: {reason}")]
    ColumnValues {
        /// The column.
        column: String,
        /// The file.
        uri: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Data of the file could not be decoded (a damaged row group, page or column chunk).
    #[error("cannot read {uri}, row group {row_group}{}: {reason}", column.as_ref().map(|c| format!(", column '{c}'")).unwrap_or_default())]
    Corrupt {
        /// The file.
        uri: String,
        /// The row group (0-based).
        row_group: usize,
        /// The column at fault, when it could be told.
        column: Option<String>,
        /// What the Parquet reader said.
        reason: String,
    },
    /// A part file's columns differ from the first part's.
    #[error("part {uri} has columns [{found}], unlike the dataset's first part [{expected}]")]
    PartSchema {
        /// The part file.
        uri: String,
        /// The first part's columns.
        expected: String,
        /// This part's columns.
        found: String,
    },
    /// Record batches given to build a dataset do not fit together or with the declaration.
    #[error("{0}")]
    Batches(String),
    /// Building or converting Arrow data failed (`?` on Arrow calls in a task).
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// Writing Parquet failed.
    #[error("cannot write the dataset to {path}: {reason}")]
    Write {
        /// The file being written.
        path: String,
        /// Why.
        reason: String,
    },
    /// Reading a remote dataset synchronously needs the tokio runtime the task was started on.
    #[error(
        "cannot read {uri} synchronously outside a flytekit task: there is no tokio runtime; use `stream().await` in async code"
    )]
    NoRuntime {
        /// The dataset's URI.
        uri: String,
    },
    /// The storage failed (listing, reading or uploading).
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An input variable's dataset failed; wraps the cause with the variable's name.
    #[error("input '{variable}': {source}")]
    Input {
        /// The task input the dataset was read from.
        variable: String,
        /// What went wrong.
        #[source]
        source: Box<DatasetError>,
    },
}

impl DatasetError {
    /// Prefixes the error with the input variable it concerns (once).
    pub(crate) fn for_input(self, variable: Option<&str>) -> Self {
        match (variable, self) {
            (_, e @ DatasetError::Input { .. }) => e,
            (Some(v), e) => DatasetError::Input {
                variable: v.to_string(),
                source: Box::new(e),
            },
            (None, e) => e,
        }
    }
}

impl From<DatasetError> for crate::type_engine::TypeError {
    fn from(e: DatasetError) -> Self {
        crate::type_engine::TypeError::Dataset(Box::new(e))
    }
}
