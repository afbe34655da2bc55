//! Writing datasets: Arrow record batches into a Parquet part, laid out as flytekit lays datasets
//! out (`<raw output prefix>/<32 hex digits>/00000`).
//!
//! A [`DatasetWriter`] streams: each batch is encoded as it is written and a row group is flushed
//! to disk when full, so memory holds at most one row group being encoded. When the raw output
//! prefix is local the part is written in place (a hidden temporary file renamed when complete);
//! otherwise it is written to the task's scratch space and uploaded when the dataset becomes a
//! literal. Either way nothing appears at the dataset's URI before the part is complete.

use std::fs::File;
use std::io::BufWriter;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::columns::{AnyColumns, DatasetColumns};
use super::error::DatasetError;
use super::layout::{Target, part_name};
use super::read::{check_declared, column_names};
use super::value::StructuredDataset;
use crate::execution::ExecutionContext;
use crate::type_engine::ConversionContext;

/// How Parquet is written: compression and row group size.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    compression: Compression,
    max_row_group_rows: usize,
}

impl Default for WriteOptions {
    /// Snappy compression (pandas' and pyarrow's default) and row groups of up to 1,048,576 rows
    /// (pyarrow's default).
    fn default() -> Self {
        Self {
            compression: Compression::SNAPPY,
            max_row_group_rows: 1024 * 1024,
        }
    }
}

impl WriteOptions {
    /// Sets the compression (`Compression::ZSTD(Default::default())`, `Compression::UNCOMPRESSED`, ...).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets the largest number of rows in a row group (at least 1). Smaller row groups bound the
    /// memory of readers and writers; larger ones compress better.
    pub fn max_row_group_rows(mut self, rows: usize) -> Self {
        self.max_row_group_rows = rows.max(1);
        self
    }

    fn properties(&self) -> WriterProperties {
        WriterProperties::builder()
            .set_compression(self.compression)
            .set_max_row_group_row_count(Some(self.max_row_group_rows))
            .build()
    }
}

/// One Parquet file being written: a hidden temporary file, renamed into place when closed and
/// removed if dropped unfinished.
pub(crate) struct PartWriter {
    writer: Option<ArrowWriter<BufWriter<File>>>,
    temp: PathBuf,
    path: PathBuf,
    rows: usize,
}

impl PartWriter {
    pub(crate) fn create(
        path: PathBuf,
        schema: SchemaRef,
        options: &WriteOptions,
    ) -> Result<Self, DatasetError> {
        let failed = |reason: String| DatasetError::Write {
            path: path.display().to_string(),
            reason,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| failed(format!("cannot create {}: {e}", dir.display())))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| part_name(0));
        let temp = dir.join(format!(".{name}.{}.part", uuid::Uuid::new_v4().simple()));
        let file = File::create(&temp).map_err(|e| failed(e.to_string()))?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            schema,
            Some(options.properties()),
        )
        .map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            failed(e.to_string())
        })?;
        Ok(Self {
            writer: Some(writer),
            temp,
            path,
            rows: 0,
        })
    }

    pub(crate) fn write(&mut self, batch: &RecordBatch) -> Result<(), DatasetError> {
        let path = self.path.display().to_string();
        let writer = self.writer.as_mut().ok_or_else(|| DatasetError::Write {
            path: path.clone(),
            reason: "the writer is closed".into(),
        })?;
        writer.write(batch).map_err(|e| DatasetError::Write {
            path,
            reason: e.to_string(),
        })?;
        self.rows += batch.num_rows();
        Ok(())
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Finishes the file and renames it into place.
    pub(crate) fn close(mut self) -> Result<PathBuf, DatasetError> {
        let failed = |reason: String| DatasetError::Write {
            path: self.path.display().to_string(),
            reason,
        };
        let writer = self
            .writer
            .take()
            .ok_or_else(|| failed("the writer is closed".into()))?;
        let file = writer
            .into_inner()
            .map_err(|e| failed(e.to_string()))
            .and_then(|mut inner| {
                // into_inner writes the footer; then the buffered bytes reach the file.
                use std::io::Write as _;
                inner.flush().map_err(|e| failed(e.to_string()))?;
                inner.into_inner().map_err(|e| failed(e.to_string()))
            });
        drop(file?);
        // Renamed whole into place: readers see the complete part or none (as outputs.pb, it is
        // not fsynced; a pod's outputs live in blob storage).
        std::fs::rename(&self.temp, &self.path).map_err(|e| failed(e.to_string()))?;
        Ok(self.path.clone())
    }
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl<C: DatasetColumns> StructuredDataset<C> {
    /// A streaming writer of a new dataset of type `C`, for batches of `C`'s Arrow schema
    /// ([`DatasetColumns::arrow_schema`]); see [`DatasetWriter`]. For [`AnyColumns`] use
    /// [`DatasetWriter::new`] with a schema.
    pub fn writer(cx: &ExecutionContext) -> Result<DatasetWriter<C>, DatasetError> {
        let schema = C::arrow_schema();
        if schema.fields().is_empty() {
            return Err(DatasetError::Batches(
                "a dataset without declared columns has no schema to write; use DatasetWriter::new(cx, schema)".into(),
            ));
        }
        DatasetWriter::new(cx, Arc::new(schema))
    }
}

/// Streams record batches into a new dataset (one Parquet part), under the task's raw output
/// prefix.
///
/// ```no_run
/// use std::sync::Arc;
/// use flytekit::dataset::arrow::array::{Float64Array, RecordBatch, StringArray};
/// use flytekit::prelude::*;
///
/// #[derive(DatasetColumns)]
/// struct Total {
///     region: String,
///     amount: f64,
/// }
///
/// #[task]
/// fn totals(cx: &ExecutionContext) -> Result<StructuredDataset<Total>, flytekit::dataset::DatasetError> {
///     let mut writer = StructuredDataset::<Total>::writer(cx)?;
///     for chunk in 0..3 {
///         let batch = RecordBatch::try_new(
///             writer.schema().clone(),
///             vec![
///                 Arc::new(StringArray::from(vec![format!("r{chunk}")])),
///                 Arc::new(Float64Array::from(vec![chunk as f64])),
///             ],
///         )?;
///         writer.write(&batch)?;
///     }
///     writer.finish()
/// }
/// # fn main() {}
/// ```
pub struct DatasetWriter<C: DatasetColumns = AnyColumns> {
    part: PartWriter,
    target: Target,
    schema: SchemaRef,
    _columns: PhantomData<fn() -> C>,
}

impl<C: DatasetColumns> DatasetWriter<C> {
    /// A writer of batches with schema `schema` (which must hold the columns `C` declares), with
    /// the default [`WriteOptions`].
    pub fn new(cx: &ExecutionContext, schema: SchemaRef) -> Result<Self, DatasetError> {
        Self::with_options(cx, schema, &WriteOptions::default())
    }

    /// A writer with explicit [`WriteOptions`].
    pub fn with_options(
        cx: &ExecutionContext,
        schema: SchemaRef,
        options: &WriteOptions,
    ) -> Result<Self, DatasetError> {
        let target = Target::new(cx.conversion())?;
        check_declared::<C>(&schema, &target.uri)?;
        let part = PartWriter::create(target.part_path(), schema.clone(), options)?;
        Ok(Self {
            part,
            target,
            schema,
            _columns: PhantomData,
        })
    }

    /// The schema every written batch must have.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.part.rows()
    }

    /// Encodes `batch` (its columns must be the writer's schema's).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), DatasetError> {
        let same = batch.schema().fields().len() == self.schema.fields().len()
            && batch
                .schema()
                .fields()
                .iter()
                .zip(self.schema.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same {
            return Err(DatasetError::Batches(format!(
                "a batch with columns [{}] was written to a dataset of columns [{}]",
                column_names(&batch.schema()),
                column_names(&self.schema)
            )));
        }
        self.part.write(batch)
    }

    /// Finishes the part and returns the dataset; when the raw output prefix is remote, the part
    /// is uploaded when the dataset becomes a task output.
    pub fn finish(self) -> Result<StructuredDataset<C>, DatasetError> {
        let rows = self.part.rows();
        self.part.close()?;
        Ok(StructuredDataset::written(self.target, self.schema, rows))
    }
}

impl<C: DatasetColumns> std::fmt::Debug for DatasetWriter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatasetWriter")
            .field("uri", &self.target.uri)
            .field("rows", &self.part.rows())
            .finish_non_exhaustive()
    }
}

/// Batches up to this many rows are encoded on the calling thread.
const INLINE_ROWS: usize = 65_536;

/// Writes in-memory batches as a new dataset under `cx`'s raw output prefix and publishes it;
/// returns its URI.
pub(crate) async fn write_batches(
    cx: &ConversionContext,
    schema: &SchemaRef,
    batches: &[RecordBatch],
) -> Result<String, DatasetError> {
    let target = Target::new(cx)?;
    let part_path = target.part_path();
    let schema = schema.clone();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    let batches: Vec<RecordBatch> = batches.to_vec();
    let encode = move || {
        let mut part = PartWriter::create(part_path, schema, &WriteOptions::default())?;
        for batch in &batches {
            part.write(batch)?;
        }
        part.close().map(|_| ())
    };
    if rows <= INLINE_ROWS {
        // A small result encodes in well under a millisecond: no thread hand-off.
        encode()?;
    } else {
        // Encoding is CPU work: off the async threads.
        tokio::task::spawn_blocking(encode)
            .await
            .map_err(|e| DatasetError::Write {
                path: target.uri.clone(),
                reason: format!("the encoder stopped: {e}"),
            })??;
    }
    target.publish(cx.storage()).await?;
    Ok(target.uri)
}
