//! The [`StructuredDataset`] value: a table stored as Parquet (a URI, a format and columns), read
//! as Arrow record batches and written from them.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use flytekit_idl::core::StructuredDataset as DatasetLiteral;
use futures::{Stream, StreamExt};

use super::columns::{AnyColumns, DatasetColumns};
use super::error::DatasetError;
use super::layout::{Part, Target, resolve_parts};
use super::read::{
    AsyncCursor, ChannelCursor, ColumnMap, LocalCursor, Projection, ReadPlan, check_declared,
    part_footer, select_columns,
};
use crate::storage::{self, Storage};

/// The Parquet format name, flytekit's `PARQUET`.
pub const PARQUET: &str = "parquet";

/// What a dataset value holds.
#[derive(Clone)]
pub(crate) enum State {
    /// Read from a literal (a task input): stored data, passed on unchanged when returned.
    Stored(Arc<Stored>),
    /// A URI or local path given by the user (flytekit's `StructuredDataset(uri=...)`): passed on
    /// (uploaded first when local) when returned.
    Uri { uri: String, format: String },
    /// Batches in memory, written as Parquet when the value becomes a literal.
    Batches {
        schema: SchemaRef,
        batches: Arc<[RecordBatch]>,
    },
    /// Written by a [`DatasetWriter`](super::DatasetWriter); uploaded when the value becomes a literal if its URI is remote.
    Written {
        target: Target,
        schema: SchemaRef,
        rows: usize,
    },
}

/// A dataset read from a literal.
pub(crate) struct Stored {
    pub literal: DatasetLiteral,
    pub storage: Storage,
    pub parts: Arc<[Part]>,
    /// The Arrow schema of the first part's file (all columns).
    pub file_schema: SchemaRef,
    pub variable: Option<String>,
    pub runtime: Option<tokio::runtime::Handle>,
}

/// A table stored as Parquet files: Flyte's structured dataset, Python's `StructuredDataset` (and
/// the `pandas.DataFrame` or `pyarrow.Table` a Python task returns).
///
/// `C` declares the columns ([`DatasetColumns`], usually `#[derive(DatasetColumns)]` on a struct);
/// the default, [`AnyColumns`], declares none. A task input of type `StructuredDataset<C>` reads
/// only `C`'s columns, converted to `C`'s Arrow types, whatever else the producer wrote; a
/// mismatch (a missing column, a column of another kind) fails the input conversion and names the
/// input, the column and the file.
///
/// Reading streams: [`reader`](Self::reader) (synchronous tasks) and [`stream`](Self::stream)
/// (async tasks) yield record batches one row group at a time. Writing: return
/// [`from_batches`](Self::from_batches), or stream through a [`DatasetWriter`](super::DatasetWriter)
/// ([`writer`](Self::writer)). Returning an input unchanged passes its literal on, without copying.
pub struct StructuredDataset<C: DatasetColumns = AnyColumns> {
    pub(crate) state: State,
    _columns: PhantomData<fn() -> C>,
}

impl<C: DatasetColumns> Clone for StructuredDataset<C> {
    fn clone(&self) -> Self {
        Self::from_state(self.state.clone())
    }
}

impl<C: DatasetColumns> fmt::Debug for StructuredDataset<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("StructuredDataset");
        d.field("uri", &self.uri()).field("format", &self.format());
        if let State::Batches { batches, .. } = &self.state {
            d.field("batches", &batches.len());
        }
        d.field(
            "columns",
            &C::columns()
                .iter()
                .map(|c| c.name.clone())
                .collect::<Vec<_>>(),
        )
        .finish()
    }
}

impl StructuredDataset<AnyColumns> {
    /// A dataset stored at `uri`: a Parquet file or a directory of parts, local (a path or
    /// `file://` URI, uploaded when the value becomes a literal) or remote (passed on as is).
    /// The format is `""` unless set with [`with_format`](Self::with_format), as for flytekit's
    /// `StructuredDataset(uri=...)`.
    pub fn from_uri(uri: impl Into<String>) -> Self {
        Self::from_state(State::Uri {
            uri: uri.into(),
            format: String::new(),
        })
    }
}

impl<C: DatasetColumns> StructuredDataset<C> {
    pub(crate) fn from_state(state: State) -> Self {
        Self {
            state,
            _columns: PhantomData,
        }
    }

    pub(crate) fn written(target: Target, schema: SchemaRef, rows: usize) -> Self {
        Self::from_state(State::Written {
            target,
            schema,
            rows,
        })
    }

    /// A dataset of `batches` (at least one; use [`from_batches_with_schema`](Self::from_batches_with_schema)
    /// for none), written as Parquet under the raw output prefix when the value becomes a literal.
    /// All batches must share a schema holding the columns `C` declares.
    pub fn from_batches(
        batches: impl IntoIterator<Item = RecordBatch>,
    ) -> Result<Self, DatasetError> {
        let batches: Vec<RecordBatch> = batches.into_iter().collect();
        let Some(first) = batches.first() else {
            return Err(DatasetError::Batches(
                "from_batches needs at least one batch to know the schema; use from_batches_with_schema for an empty dataset".into(),
            ));
        };
        let schema = first.schema();
        Self::from_batches_with_schema(schema, batches)
    }

    /// A dataset of `batches`, all of schema `schema` (which must hold the columns `C` declares).
    pub fn from_batches_with_schema(
        schema: SchemaRef,
        batches: impl IntoIterator<Item = RecordBatch>,
    ) -> Result<Self, DatasetError> {
        let batches: Vec<RecordBatch> = batches.into_iter().collect();
        check_declared::<C>(&schema, "the dataset's batches")?;
        for (i, b) in batches.iter().enumerate() {
            if b.schema().fields() != schema.fields() {
                return Err(DatasetError::Batches(format!(
                    "batch {i} has columns [{}], unlike the dataset's [{}]",
                    super::read::column_names(&b.schema()),
                    super::read::column_names(&schema)
                )));
            }
        }
        Ok(Self::from_state(State::Batches {
            schema,
            batches: batches.into(),
        }))
    }

    /// The same stored data seen through another declaration `D`: reading yields `D`'s columns
    /// (checked when read). In a workflow, use [`Promise::with_columns`](crate::Promise::with_columns).
    pub fn with_columns<D: DatasetColumns>(self) -> StructuredDataset<D> {
        StructuredDataset::from_state(self.state)
    }

    /// The same dataset with the format recorded in its literal set to `format` (flytekit's
    /// `file_format`); meaningful for values made with [`from_uri`](StructuredDataset::from_uri).
    pub fn with_format(self, format: impl Into<String>) -> Self {
        let state = match self.state {
            State::Uri { uri, .. } => State::Uri {
                uri,
                format: format.into(),
            },
            other => other,
        };
        Self::from_state(state)
    }

    /// The URI of the stored data; `None` for batches not written yet.
    pub fn uri(&self) -> Option<&str> {
        match &self.state {
            State::Stored(s) => Some(&s.literal.uri),
            State::Uri { uri, .. } => Some(uri),
            State::Batches { .. } => None,
            State::Written { target, .. } => Some(&target.uri),
        }
    }

    /// The storage format: the literal's for read values, `"parquet"` for written ones.
    pub fn format(&self) -> &str {
        match &self.state {
            State::Stored(s) => s
                .literal
                .metadata
                .as_ref()
                .and_then(|m| m.structured_dataset_type.as_ref())
                .map(|t| t.format.as_str())
                .unwrap_or(""),
            State::Uri { format, .. } => format,
            State::Batches { .. } | State::Written { .. } => PARQUET,
        }
    }

    /// The literal this value was read from, if it was read from one.
    pub fn literal(&self) -> Option<&DatasetLiteral> {
        match &self.state {
            State::Stored(s) => Some(&s.literal),
            _ => None,
        }
    }

    /// The schema of the batches a reader yields, when it is known without I/O (values read from
    /// a literal, batches, written datasets).
    pub fn schema(&self) -> Option<SchemaRef> {
        let projection = Projection::of::<C>();
        match &self.state {
            State::Stored(s) => select_columns(&s.literal.uri, &s.file_schema, &projection)
                .ok()
                .map(|(_, schema, _)| schema),
            State::Batches { schema, .. } | State::Written { schema, .. } => {
                select_columns("", schema, &projection)
                    .ok()
                    .map(|(_, schema, _)| schema)
            }
            State::Uri { .. } => None,
        }
    }

    /// The plan for reading: storage, parts, projection.
    fn plan(&self, parts: Arc<[Part]>, storage: Storage) -> ReadPlan {
        let (variable, runtime) = match &self.state {
            State::Stored(s) => (s.variable.clone(), s.runtime.clone()),
            _ => (None, tokio::runtime::Handle::try_current().ok()),
        };
        ReadPlan {
            storage,
            parts,
            projection: Arc::new(Projection::of::<C>()),
            variable,
            runtime,
        }
    }

    /// The in-memory batches through `C`'s projection.
    fn memory_batches(
        &self,
        schema: &SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<(SchemaRef, Vec<RecordBatch>), DatasetError> {
        let projection = Projection::of::<C>();
        let (indices, output, convert) =
            select_columns("the dataset's batches", schema, &projection)?;
        let map = ColumnMap::new(
            "the dataset's batches".into(),
            indices,
            output.clone(),
            convert,
        );
        let batches = batches
            .iter()
            .map(|b| map.apply(b.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((output, batches))
    }

    /// Reads the dataset synchronously, one batch at a time (for `fn` tasks). Local files are read
    /// in place; remote objects are fetched by range requests on the task's runtime. In `async`
    /// code use [`stream`](Self::stream) instead.
    pub fn reader(&self) -> Result<DatasetReader, DatasetError> {
        match &self.state {
            State::Batches { schema, batches } => {
                let (schema, batches) = self.memory_batches(schema, batches)?;
                Ok(DatasetReader {
                    schema,
                    source: Source::Memory(batches.into_iter()),
                })
            }
            State::Stored(s) => {
                let plan = self.plan(s.parts.clone(), s.storage.clone());
                let schema = select_columns(&s.literal.uri, &s.file_schema, &plan.projection)
                    .map_err(|e| e.for_input(s.variable.as_deref()))?
                    .1;
                Ok(DatasetReader::over(plan, schema)?)
            }
            State::Written { target, .. } => {
                let parts: Arc<[Part]> = vec![Part::Local(target.part_path())].into();
                self.local_reader(parts)
            }
            State::Uri { uri, .. } if storage::is_local(uri) => {
                let parts = futures::executor::block_on(resolve_parts(&Storage::new(), uri))?;
                self.local_reader(parts.into())
            }
            State::Uri { uri, .. } => Err(DatasetError::Batches(format!(
                "{uri} is remote and was not read from a task input; read it with `stream().await`"
            ))),
        }
    }

    fn local_reader(&self, parts: Arc<[Part]>) -> Result<DatasetReader, DatasetError> {
        let first = parts.first().cloned();
        let plan = self.plan(parts, Storage::new());
        let file_schema = match &first {
            Some(part) => futures::executor::block_on(part_footer(&plan.storage, part))?.0,
            None => return Err(DatasetError::NoUri),
        };
        let uri = first.map(|p| p.uri()).unwrap_or_default();
        let schema = select_columns(&uri, &file_schema, &plan.projection)?.1;
        DatasetReader::over(plan, schema)
    }

    /// Reads the whole dataset into memory (see [`reader`](Self::reader)).
    pub fn read_all(&self) -> Result<Vec<RecordBatch>, DatasetError> {
        self.reader()?.collect()
    }

    /// Reads the dataset asynchronously, one batch at a time (for `async fn` tasks), by range
    /// requests for remote objects.
    pub async fn stream(&self) -> Result<DatasetStream, DatasetError> {
        match &self.state {
            State::Batches { schema, batches } => {
                let (schema, batches) = self.memory_batches(schema, batches)?;
                Ok(DatasetStream {
                    schema,
                    inner: futures::stream::iter(batches.into_iter().map(Ok)).boxed(),
                })
            }
            State::Stored(s) => {
                let plan = self.plan(s.parts.clone(), s.storage.clone());
                let schema = select_columns(&s.literal.uri, &s.file_schema, &plan.projection)
                    .map_err(|e| e.for_input(s.variable.as_deref()))?
                    .1;
                Ok(DatasetStream {
                    schema,
                    inner: AsyncCursor::new(plan).into_stream().boxed(),
                })
            }
            State::Written { target, .. } => {
                let parts: Arc<[Part]> = vec![Part::Local(target.part_path())].into();
                self.open_stream(parts, Storage::new()).await
            }
            State::Uri { uri, .. } => {
                let storage = Storage::new();
                let parts = resolve_parts(&storage, uri).await?;
                self.open_stream(parts.into(), storage).await
            }
        }
    }

    async fn open_stream(
        &self,
        parts: Arc<[Part]>,
        storage: Storage,
    ) -> Result<DatasetStream, DatasetError> {
        let first = parts.first().cloned().ok_or(DatasetError::NoUri)?;
        let file_schema = part_footer(&storage, &first).await?.0;
        let plan = self.plan(parts, storage);
        let schema = select_columns(&first.uri(), &file_schema, &plan.projection)?.1;
        Ok(DatasetStream {
            schema,
            inner: AsyncCursor::new(plan).into_stream().boxed(),
        })
    }

    /// Reads the whole dataset into memory asynchronously (see [`stream`](Self::stream)).
    pub async fn read_all_async(&self) -> Result<Vec<RecordBatch>, DatasetError> {
        let mut stream = self.stream().await?;
        let mut out = Vec::new();
        while let Some(batch) = stream.next().await {
            out.push(batch?);
        }
        Ok(out)
    }

    /// The number of rows, from the Parquet footers (no data is read).
    pub async fn num_rows(&self) -> Result<u64, DatasetError> {
        let (storage, parts): (Storage, Arc<[Part]>) = match &self.state {
            State::Batches { batches, .. } => {
                return Ok(batches.iter().map(|b| b.num_rows() as u64).sum());
            }
            State::Written { rows, .. } => return Ok(*rows as u64),
            State::Stored(s) => (s.storage.clone(), s.parts.clone()),
            State::Uri { uri, .. } => {
                let storage = Storage::new();
                let parts = resolve_parts(&storage, uri).await?;
                (storage, parts.into())
            }
        };
        let mut rows = 0u64;
        for part in parts.iter() {
            rows += u64::try_from(part_footer(&storage, part).await?.1).unwrap_or(0);
        }
        Ok(rows)
    }
}

enum Source {
    Memory(std::vec::IntoIter<RecordBatch>),
    Local(Box<LocalCursor>),
    Channel(ChannelCursor),
}

/// A synchronous reader of a dataset's record batches (see [`StructuredDataset::reader`]).
///
/// An error ends the iteration; it names the file, the row group and, when it can be told, the
/// column.
pub struct DatasetReader {
    schema: SchemaRef,
    source: Source,
}

impl DatasetReader {
    fn over(plan: ReadPlan, schema: SchemaRef) -> Result<Self, DatasetError> {
        let local = plan.parts.iter().all(|p| matches!(p, Part::Local(_)));
        let source = if local {
            Source::Local(Box::new(LocalCursor::new(plan)))
        } else {
            let uri = plan.parts.first().map(|p| p.uri()).unwrap_or_default();
            let Some(runtime) = plan.runtime.clone() else {
                return Err(DatasetError::NoRuntime { uri });
            };
            Source::Channel(ChannelCursor::spawn(plan, &runtime))
        };
        Ok(Self { schema, source })
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// This reader as an Arrow `RecordBatchReader` (errors become `ArrowError::ExternalError`).
    pub fn into_arrow(self) -> impl arrow::record_batch::RecordBatchReader + Send {
        ArrowReader(self)
    }
}

impl Iterator for DatasetReader {
    type Item = Result<RecordBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.source {
            Source::Memory(it) => it.next().map(Ok),
            Source::Local(c) => c.next(),
            Source::Channel(c) => c.next(),
        }
    }
}

impl fmt::Debug for DatasetReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatasetReader")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

struct ArrowReader(DatasetReader);

impl Iterator for ArrowReader {
    type Item = Result<RecordBatch, arrow::error::ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0
            .next()
            .map(|r| r.map_err(|e| arrow::error::ArrowError::ExternalError(Box::new(e))))
    }
}

impl arrow::record_batch::RecordBatchReader for ArrowReader {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}

/// An asynchronous stream of a dataset's record batches (see [`StructuredDataset::stream`]).
pub struct DatasetStream {
    schema: SchemaRef,
    inner: futures::stream::BoxStream<'static, Result<RecordBatch, DatasetError>>,
}

impl DatasetStream {
    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

impl Stream for DatasetStream {
    type Item = Result<RecordBatch, DatasetError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.inner.poll_next_unpin(cx)
    }
}

impl fmt::Debug for DatasetStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatasetStream")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}
