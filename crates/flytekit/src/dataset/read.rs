//! Reading a dataset's Parquet parts as Arrow record batches, one row group at a time.
//!
//! Only the declared columns are read (projection pushdown: the other column chunks are never
//! fetched or decoded), which is flytekit's column subsetting. A typed dataset's batches have
//! exactly its declared Arrow schema: columns come in declared order and are converted to the
//! declared types (`Int64` to `Int32` when a column is declared `i32`, a dictionary-encoded string
//! column to `Utf8`, ...); a value that does not fit, or a null in a column not declared `Option`,
//! is an error naming the column.
//!
//! Local files are read with the synchronous reader, page by page. Remote objects are read with
//! the async reader over `object_store`: the footer by a suffix range request, then each row
//! group's projected column chunks by range requests, so memory holds about one row group's
//! worth of the projected columns, never the whole object. A decoding failure names the file, the
//! row group and, by re-reading that row group column by column, the column.

use std::fs::File;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, make_array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use futures::{FutureExt, Stream, StreamExt};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::async_reader::{ParquetRecordBatchStream, ParquetRecordBatchStreamBuilder};
use parquet::errors::ParquetError;

use super::columns::{DatasetColumn, DatasetColumns, arrow_type_matches};
use super::error::DatasetError;
use super::layout::Part;
use super::object_reader::ObjectReader;
use crate::storage::{Storage, StorageError};
use crate::type_engine::describe_type;

/// Rows per record batch: large enough to amortize per-batch work, small enough to stay in cache.
pub(crate) const BATCH_SIZE: usize = 8192;

/// The columns a reader delivers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Projection {
    /// The declared columns; empty means every column of the file.
    pub columns: Vec<DatasetColumn>,
    /// The Arrow schema of the batches, when the declaration gives one per column.
    pub schema: Option<SchemaRef>,
}

impl Projection {
    /// The projection declared by `C`.
    pub(crate) fn of<C: DatasetColumns>() -> Self {
        let columns = C::columns();
        let schema = C::arrow_schema();
        let names_match = schema.fields().len() == columns.len()
            && schema
                .fields()
                .iter()
                .zip(&columns)
                .all(|(f, c)| f.name() == &c.name);
        Self {
            schema: (!columns.is_empty() && names_match).then(|| Arc::new(schema)),
            columns,
        }
    }
}

/// Everything needed to read one dataset.
#[derive(Clone)]
pub(crate) struct ReadPlan {
    pub storage: Storage,
    pub parts: Arc<[Part]>,
    pub projection: Arc<Projection>,
    /// The input variable the dataset was read from, for error messages.
    pub variable: Option<String>,
    /// The runtime that drives remote reads for synchronous readers.
    pub runtime: Option<tokio::runtime::Handle>,
}

fn reader_options() -> ArrowReaderOptions {
    ArrowReaderOptions::new()
}

/// Why a footer could not be read: a storage failure, or not Parquet.
fn footer_error(storage: &Storage, uri: &str, e: ParquetError) -> DatasetError {
    match storage_cause(storage, uri, e) {
        Ok(storage) => DatasetError::Storage(storage),
        Err(e) => DatasetError::NotParquet {
            uri: uri.to_string(),
            reason: e.to_string(),
        },
    }
}

/// The storage error inside a Parquet error, if that is what it is.
fn storage_cause(
    storage: &Storage,
    uri: &str,
    e: ParquetError,
) -> Result<StorageError, ParquetError> {
    let ParquetError::External(inner) = e else {
        return Err(e);
    };
    let inner = match inner.downcast::<StorageError>() {
        Ok(storage_error) => return Ok(*storage_error),
        Err(inner) => inner,
    };
    let inner = match inner.downcast::<object_store::Error>() {
        Ok(store) => return Ok(storage.store_error(uri, "read", *store)),
        Err(inner) => inner,
    };
    match inner.downcast::<std::io::Error>() {
        Ok(io) => Ok(StorageError::Io {
            op: "read",
            path: uri.into(),
            source: *io,
        }),
        Err(inner) => Err(ParquetError::External(inner)),
    }
}

/// The text of a panic payload.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Chooses a file's columns for a projection: the file's column indices in output order, the
/// schema of the output batches, and whether columns are converted to declared types.
pub(crate) fn select_columns(
    uri: &str,
    file: &Schema,
    projection: &Projection,
) -> Result<(Vec<usize>, SchemaRef, bool), DatasetError> {
    if projection.columns.is_empty() {
        return Ok((
            (0..file.fields().len()).collect(),
            Arc::new(file.clone()),
            false,
        ));
    }
    let mut indices = Vec::with_capacity(projection.columns.len());
    let mut fields: Vec<Field> = Vec::with_capacity(projection.columns.len());
    for column in &projection.columns {
        let Some((i, field)) = file.column_with_name(&column.name) else {
            return Err(DatasetError::MissingColumn {
                column: column.name.clone(),
                declared: describe_type(&column.literal_type),
                uri: uri.to_string(),
                available: column_names(file),
            });
        };
        if !arrow_type_matches(&column.literal_type, field.data_type()) {
            return Err(DatasetError::ColumnType {
                column: column.name.clone(),
                uri: uri.to_string(),
                declared: describe_type(&column.literal_type),
                found: field.data_type().to_string(),
            });
        }
        indices.push(i);
        fields.push(field.clone());
    }
    Ok(match &projection.schema {
        Some(schema) => (indices, schema.clone(), true),
        None => (indices, Arc::new(Schema::new(fields)), false),
    })
}

/// The column names of `schema`, comma-separated.
pub(crate) fn column_names(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns decoded batches into output batches: picks columns by position, converts them to the
/// declared types and checks declared non-null columns.
#[derive(Clone, Debug)]
pub(crate) struct ColumnMap {
    uri: String,
    positions: Vec<usize>,
    output: SchemaRef,
    convert: bool,
}

impl ColumnMap {
    pub(crate) fn new(
        uri: String,
        positions: Vec<usize>,
        output: SchemaRef,
        convert: bool,
    ) -> Self {
        Self {
            uri,
            positions,
            output,
            convert,
        }
    }

    /// Puts a decoded batch in output order and types.
    pub(crate) fn apply(&self, batch: RecordBatch) -> Result<RecordBatch, DatasetError> {
        let identity = !self.convert
            && self.positions.len() == batch.num_columns()
            && self.positions.iter().enumerate().all(|(i, p)| i == *p);
        if identity {
            return Ok(batch);
        }
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.positions.len());
        for (field, &pos) in self.output.fields().iter().zip(&self.positions) {
            let column = batch.column(pos);
            let column = if !self.convert || column.data_type() == field.data_type() {
                column.clone()
            } else {
                convert(column, field.data_type()).map_err(|e| DatasetError::ColumnValues {
                    column: field.name().clone(),
                    uri: self.uri.clone(),
                    reason: format!(
                        "cannot convert its {} values to the declared {}: {e}",
                        column.data_type(),
                        field.data_type()
                    ),
                })?
            };
            if self.convert && !field.is_nullable() && column.null_count() > 0 {
                return Err(DatasetError::ColumnValues {
                    column: field.name().clone(),
                    uri: self.uri.clone(),
                    reason: format!(
                        "{} of its values are null, but the column is not declared optional; declare it Option<...>",
                        column.null_count()
                    ),
                });
            }
            columns.push(column);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        RecordBatch::try_new_with_options(self.output.clone(), columns, &options).map_err(|e| {
            DatasetError::Batches(format!("cannot assemble a batch of {}: {e}", self.uri))
        })
    }
}

/// `array` with its data type replaced by `to`, which must have the same layout.
fn retyped(array: &ArrayRef, to: DataType) -> Result<ArrayRef, ArrowError> {
    Ok(make_array(
        array.to_data().into_builder().data_type(to).build()?,
    ))
}

/// A timestamp array without its time zone (the instants are unchanged: Arrow stores UTC).
pub(crate) fn without_zone(array: &ArrayRef) -> Result<ArrayRef, ArrowError> {
    match array.data_type() {
        DataType::Timestamp(unit, Some(_)) => retyped(array, DataType::Timestamp(*unit, None)),
        _ => Ok(array.clone()),
    }
}

/// `array` converted to `to`, refusing values that do not fit. Timestamps are rescaled and their
/// zone replaced without parsing zone names (no time zone database is built in): a zoned
/// timestamp holds a UTC instant, and a naive one is taken as UTC, as pandas and flytekit do.
pub(crate) fn convert(array: &ArrayRef, to: &DataType) -> Result<ArrayRef, ArrowError> {
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    match to {
        DataType::Timestamp(unit, zone) => {
            let naive = cast_with_options(
                &without_zone(array)?,
                &DataType::Timestamp(*unit, None),
                &options,
            )?;
            retyped(&naive, DataType::Timestamp(*unit, zone.clone()))
        }
        _ => cast_with_options(array, to, &options),
    }
}

/// How the columns of one part file become the batches the reader yields.
struct PartPlan {
    uri: String,
    metadata: ArrowReaderMetadata,
    mask: ProjectionMask,
    /// Root index and name of each projected column, in file order.
    roots: Vec<(usize, String)>,
    map: ColumnMap,
}

fn plan_part(
    uri: String,
    metadata: ArrowReaderMetadata,
    projection: &Projection,
    first: Option<&SchemaRef>,
) -> Result<PartPlan, DatasetError> {
    let file = metadata.schema().clone();
    if let (Some(first), true) = (first, projection.columns.is_empty()) {
        let same = first.fields().len() == file.fields().len()
            && first
                .fields()
                .iter()
                .zip(file.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
        if !same {
            return Err(DatasetError::PartSchema {
                uri,
                expected: column_names(first),
                found: column_names(&file),
            });
        }
    }
    let (indices, output, convert) = select_columns(&uri, &file, projection)?;
    let mut roots = indices.clone();
    roots.sort_unstable();
    roots.dedup();
    // The reader delivers the projected columns in file order.
    let positions = indices
        .iter()
        .map(|i| roots.binary_search(i).unwrap_or(0))
        .collect();
    let mask = ProjectionMask::roots(metadata.parquet_schema(), roots.iter().copied());
    let roots = roots
        .into_iter()
        .map(|i| (i, file.field(i).name().clone()))
        .collect();
    Ok(PartPlan {
        map: ColumnMap::new(uri.clone(), positions, output, convert),
        uri,
        metadata,
        mask,
        roots,
    })
}

impl PartPlan {
    fn row_groups(&self) -> usize {
        self.metadata.metadata().num_row_groups()
    }
}

/// Opens the footer of a local part.
fn open_local(path: &std::path::Path) -> Result<(File, ArrowReaderMetadata), DatasetError> {
    let uri = path.display().to_string();
    let file = File::open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::NotFound {
            DatasetError::NotFound { uri: uri.clone() }
        } else {
            DatasetError::Storage(StorageError::Io {
                op: "open",
                path: path.to_path_buf(),
                source,
            })
        }
    })?;
    let metadata = std::panic::catch_unwind(|| ArrowReaderMetadata::load(&file, reader_options()))
        .map_err(|p| DatasetError::NotParquet {
            uri: uri.clone(),
            reason: format!("the Parquet reader failed: {}", panic_text(p)),
        })?
        .map_err(|e| DatasetError::NotParquet {
            uri,
            reason: e.to_string(),
        })?;
    Ok((file, metadata))
}

/// Opens the footer of a remote part.
async fn open_remote(
    storage: &Storage,
    uri: &str,
) -> Result<(ObjectReader, ArrowReaderMetadata), DatasetError> {
    let mut reader = ObjectReader::new(storage, uri)?;
    let metadata = std::panic::AssertUnwindSafe(ArrowReaderMetadata::load_async(
        &mut reader,
        reader_options(),
    ))
    .catch_unwind()
    .await
    .map_err(|p| DatasetError::NotParquet {
        uri: uri.to_string(),
        reason: format!("the Parquet reader failed: {}", panic_text(p)),
    })?
    .map_err(|e| footer_error(storage, uri, e))?;
    Ok((reader, metadata))
}

/// The Arrow schema and row count of one part, from its footer.
pub(crate) async fn part_footer(
    storage: &Storage,
    part: &Part,
) -> Result<(SchemaRef, i64), DatasetError> {
    let metadata = match part {
        Part::Local(path) => open_local(path)?.1,
        Part::Remote(uri) => open_remote(storage, uri).await?.1,
    };
    Ok((
        metadata.schema().clone(),
        metadata.metadata().file_metadata().num_rows(),
    ))
}

/// Checks that `part`'s footer is Parquet and holds the projection's columns; returns the file's
/// Arrow schema (all its columns).
pub(crate) async fn check_part(
    storage: &Storage,
    part: &Part,
    projection: &Projection,
) -> Result<SchemaRef, DatasetError> {
    let metadata = match part {
        Part::Local(path) => open_local(path)?.1,
        Part::Remote(uri) => open_remote(storage, uri).await?.1,
    };
    let schema = metadata.schema().clone();
    plan_part(part.uri(), metadata, projection, None)?;
    Ok(schema)
}

// ---------------------------------------------------------------------------------------------
// Synchronous reading of local parts.

struct LocalPart {
    file: File,
    plan: PartPlan,
    row_group: usize,
    reader: Option<ParquetRecordBatchReader>,
}

impl LocalPart {
    fn reader(
        &self,
        mask: ProjectionMask,
        row_group: usize,
    ) -> Result<ParquetRecordBatchReader, ParquetError> {
        let file = self
            .file
            .try_clone()
            .map_err(|e| ParquetError::External(Box::new(e)))?;
        ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.plan.metadata.clone())
            .with_projection(mask)
            .with_row_groups(vec![row_group])
            .with_batch_size(BATCH_SIZE)
            .build()
    }

    /// Which projected column of `row_group` cannot be decoded, read one column at a time.
    fn diagnose(&self, row_group: usize) -> Option<String> {
        for (root, name) in &self.plan.roots {
            let mask = ProjectionMask::roots(self.plan.metadata.parquet_schema(), [*root]);
            let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                match self.reader(mask, row_group) {
                    Ok(reader) => reader.into_iter().any(|b| b.is_err()),
                    Err(_) => true,
                }
            }))
            .unwrap_or(true);
            if failed {
                return Some(name.clone());
            }
        }
        None
    }

    fn corrupt(&self, row_group: usize, reason: String) -> DatasetError {
        DatasetError::Corrupt {
            uri: self.plan.uri.clone(),
            row_group,
            column: self.diagnose(row_group),
            reason,
        }
    }

    /// The next batch of this part, `None` when it is exhausted.
    fn next_batch(&mut self) -> Option<Result<RecordBatch, DatasetError>> {
        loop {
            if self.reader.is_none() {
                if self.row_group >= self.plan.row_groups() {
                    return None;
                }
                match self.reader(self.plan.mask.clone(), self.row_group) {
                    Ok(r) => self.reader = Some(r),
                    Err(e) => return Some(Err(self.corrupt(self.row_group, e.to_string()))),
                }
            }
            let reader = self.reader.as_mut()?;
            let step = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next()));
            match step {
                Ok(Some(Ok(batch))) => return Some(self.plan.map.apply(batch)),
                Ok(Some(Err(e))) => return Some(Err(self.corrupt(self.row_group, e.to_string()))),
                Ok(None) => {
                    self.reader = None;
                    self.row_group += 1;
                }
                Err(p) => {
                    let reason = format!("the Parquet decoder failed: {}", panic_text(p));
                    return Some(Err(self.corrupt(self.row_group, reason)));
                }
            }
        }
    }
}

/// Reads local parts in order with the synchronous reader.
pub(crate) struct LocalCursor {
    plan: ReadPlan,
    next_part: usize,
    current: Option<LocalPart>,
    first: Option<SchemaRef>,
    done: bool,
}

impl LocalCursor {
    pub(crate) fn new(plan: ReadPlan) -> Self {
        Self {
            plan,
            next_part: 0,
            current: None,
            first: None,
            done: false,
        }
    }

    fn open_next(&mut self) -> Option<Result<(), DatasetError>> {
        let part = self.plan.parts.get(self.next_part)?.clone();
        self.next_part += 1;
        let Part::Local(path) = &part else {
            return Some(Err(DatasetError::Batches(format!(
                "{} is not a local file",
                part.uri()
            ))));
        };
        let opened = open_local(path).and_then(|(file, metadata)| {
            let plan = plan_part(
                part.uri(),
                metadata,
                &self.plan.projection,
                self.first.as_ref(),
            )?;
            Ok(LocalPart {
                file,
                plan,
                row_group: 0,
                reader: None,
            })
        });
        Some(opened.map(|p| {
            self.first
                .get_or_insert_with(|| p.plan.metadata.schema().clone());
            self.current = Some(p);
        }))
    }
}

impl Iterator for LocalCursor {
    type Item = Result<RecordBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            if self.current.is_none() {
                match self.open_next() {
                    None => {
                        self.done = true;
                        return None;
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Some(Err(e.for_input(self.plan.variable.as_deref())));
                    }
                    Some(Ok(())) => {}
                }
            }
            let part = self.current.as_mut()?;
            match part.next_batch() {
                Some(Ok(batch)) => return Some(Ok(batch)),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e.for_input(self.plan.variable.as_deref())));
                }
                None => self.current = None,
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Asynchronous reading (any store), by range requests.

/// A remote part's reader and plan (shared while a failure is diagnosed).
struct RemoteInfo {
    reader: ObjectReader,
    plan: PartPlan,
}

impl RemoteInfo {
    fn stream(
        &self,
        mask: ProjectionMask,
        row_group: usize,
    ) -> Result<ParquetRecordBatchStream<ObjectReader>, ParquetError> {
        ParquetRecordBatchStreamBuilder::new_with_metadata(
            self.reader.clone(),
            self.plan.metadata.clone(),
        )
        .with_projection(mask)
        .with_row_groups(vec![row_group])
        .with_batch_size(BATCH_SIZE)
        .build()
    }

    /// Which projected column of `row_group` cannot be decoded, read one column at a time.
    async fn diagnose(&self, row_group: usize) -> Option<String> {
        for (root, name) in &self.plan.roots {
            let mask = ProjectionMask::roots(self.plan.metadata.parquet_schema(), [*root]);
            let failed = std::panic::AssertUnwindSafe(async {
                match self.stream(mask, row_group) {
                    Ok(mut s) => {
                        while let Some(b) = s.next().await {
                            if b.is_err() {
                                return true;
                            }
                        }
                        false
                    }
                    Err(_) => true,
                }
            })
            .catch_unwind()
            .await
            .unwrap_or(true);
            if failed {
                return Some(name.clone());
            }
        }
        None
    }

    async fn failure(&self, storage: &Storage, row_group: usize, e: ParquetError) -> DatasetError {
        match storage_cause(storage, &self.plan.uri, e) {
            Ok(storage) => DatasetError::Storage(storage),
            Err(e) => DatasetError::Corrupt {
                uri: self.plan.uri.clone(),
                row_group,
                column: self.diagnose(row_group).await,
                reason: e.to_string(),
            },
        }
    }
}

struct RemotePart {
    info: RemoteInfo,
    row_group: usize,
    stream: Option<ParquetRecordBatchStream<ObjectReader>>,
}

impl RemotePart {
    async fn next_batch(&mut self, storage: &Storage) -> Option<Result<RecordBatch, DatasetError>> {
        loop {
            let row_group = self.row_group;
            if self.stream.is_none() {
                if row_group >= self.info.plan.row_groups() {
                    return None;
                }
                match self.info.stream(self.info.plan.mask.clone(), row_group) {
                    Ok(s) => self.stream = Some(s),
                    Err(e) => return Some(Err(self.info.failure(storage, row_group, e).await)),
                }
            }
            let stream = self.stream.as_mut()?;
            let step = std::panic::AssertUnwindSafe(stream.next())
                .catch_unwind()
                .await;
            match step {
                Ok(Some(Ok(batch))) => return Some(self.info.plan.map.apply(batch)),
                Ok(Some(Err(e))) => {
                    self.stream = None;
                    return Some(Err(self.info.failure(storage, row_group, e).await));
                }
                Ok(None) => {
                    self.stream = None;
                    self.row_group += 1;
                }
                Err(p) => {
                    self.stream = None;
                    return Some(Err(DatasetError::Corrupt {
                        uri: self.info.plan.uri.clone(),
                        row_group,
                        column: self.info.diagnose(row_group).await,
                        reason: format!("the Parquet decoder failed: {}", panic_text(p)),
                    }));
                }
            }
        }
    }
}

/// Reads parts in order with the async reader: local files through the local object store,
/// remote objects by range requests.
pub(crate) struct AsyncCursor {
    plan: ReadPlan,
    next_part: usize,
    current: Option<RemotePart>,
    first: Option<SchemaRef>,
    done: bool,
}

impl AsyncCursor {
    pub(crate) fn new(plan: ReadPlan) -> Self {
        Self {
            plan,
            next_part: 0,
            current: None,
            first: None,
            done: false,
        }
    }

    async fn open_next(&mut self) -> Option<Result<(), DatasetError>> {
        let part = self.plan.parts.get(self.next_part)?.clone();
        self.next_part += 1;
        let uri = match &part {
            Part::Local(path) => format!("file://{}", path.display()),
            Part::Remote(uri) => uri.clone(),
        };
        let opened = match open_remote(&self.plan.storage, &uri).await {
            Ok((reader, metadata)) => plan_part(
                part.uri(),
                metadata,
                &self.plan.projection,
                self.first.as_ref(),
            )
            .map(|plan| RemotePart {
                info: RemoteInfo { reader, plan },
                row_group: 0,
                stream: None,
            }),
            Err(e) => Err(e),
        };
        Some(opened.map(|p| {
            self.first
                .get_or_insert_with(|| p.info.plan.metadata.schema().clone());
            self.current = Some(p);
        }))
    }

    /// The next batch, `None` at the end (and after an error).
    pub(crate) async fn next_batch(&mut self) -> Option<Result<RecordBatch, DatasetError>> {
        if self.done {
            return None;
        }
        loop {
            if self.current.is_none() {
                match self.open_next().await {
                    None => {
                        self.done = true;
                        return None;
                    }
                    Some(Err(e)) => {
                        self.done = true;
                        return Some(Err(e.for_input(self.plan.variable.as_deref())));
                    }
                    Some(Ok(())) => {}
                }
            }
            let storage = self.plan.storage.clone();
            let part = self.current.as_mut()?;
            match part.next_batch(&storage).await {
                Some(Ok(batch)) => return Some(Ok(batch)),
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e.for_input(self.plan.variable.as_deref())));
                }
                None => self.current = None,
            }
        }
    }

    /// The cursor as a stream of batches.
    pub(crate) fn into_stream(
        self,
    ) -> impl Stream<Item = Result<RecordBatch, DatasetError>> + Send + 'static {
        futures::stream::unfold(self, |mut cursor| async move {
            cursor.next_batch().await.map(|item| (item, cursor))
        })
    }
}

/// Reads remote parts for a synchronous consumer: the async cursor runs on `runtime` and hands
/// batches over a channel of two, so decoding stays at most two batches ahead of the consumer.
pub(crate) struct ChannelCursor {
    receiver: tokio::sync::mpsc::Receiver<Result<RecordBatch, DatasetError>>,
}

impl ChannelCursor {
    pub(crate) fn spawn(plan: ReadPlan, runtime: &tokio::runtime::Handle) -> Self {
        let (sender, receiver) = tokio::sync::mpsc::channel(2);
        runtime.spawn(async move {
            let mut cursor = AsyncCursor::new(plan);
            while let Some(item) = cursor.next_batch().await {
                if sender.send(item).await.is_err() {
                    break; // the reader was dropped
                }
            }
        });
        Self { receiver }
    }
}

impl Iterator for ChannelCursor {
    type Item = Result<RecordBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        // Not tokio's `blocking_recv`, which refuses to run inside `block_on` (where the engine's
        // map workers call sync task bodies): a plain wait for the next message.
        futures::executor::block_on(self.receiver.recv())
    }
}

/// Checks that `schema` holds the columns `C` declares, with matching types.
pub(crate) fn check_declared<C: DatasetColumns>(
    schema: &arrow::datatypes::Schema,
    what: &str,
) -> Result<(), DatasetError> {
    let projection = Projection::of::<C>();
    if projection.columns.is_empty() {
        return Ok(());
    }
    select_columns(what, schema, &projection).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::DataType;
    use parquet::arrow::ArrowWriter;

    fn write_file(path: &std::path::Path) {
        let batch = RecordBatch::try_from_iter([
            ("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "b",
                Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
            ),
        ])
        .expect("batch");
        let mut w = ArrowWriter::try_new(File::create(path).expect("create"), batch.schema(), None)
            .expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
    }

    #[test]
    fn projections_reorder_convert_and_reject() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.parquet");
        write_file(&path);
        let (_, metadata) = open_local(&path).expect("open");
        let projection = Projection {
            columns: vec![
                DatasetColumn::of::<String>("b"),
                DatasetColumn::of::<i32>("a"),
            ],
            schema: Some(Arc::new(Schema::new(vec![
                Field::new("b", DataType::Utf8, false),
                Field::new("a", DataType::Int32, false),
            ]))),
        };
        let plan = plan_part("f".into(), metadata.clone(), &projection, None).expect("plan");
        let mut reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
            File::open(&path).expect("open"),
            metadata.clone(),
        )
        .with_projection(plan.mask.clone())
        .build()
        .expect("reader");
        let batch = plan
            .map
            .apply(reader.next().expect("one").expect("ok"))
            .expect("apply");
        assert_eq!(batch.schema().field(0).name(), "b");
        assert_eq!(batch.column(1).data_type(), &DataType::Int32);

        let missing = Projection {
            columns: vec![DatasetColumn::of::<f64>("c")],
            schema: None,
        };
        let err = plan_part("f".into(), metadata.clone(), &missing, None)
            .err()
            .expect("missing");
        assert!(
            err.to_string().contains("'c'") && err.to_string().contains("a, b"),
            "{err}"
        );
        let wrong = Projection {
            columns: vec![DatasetColumn::of::<f64>("b")],
            schema: None,
        };
        let err = plan_part("f".into(), metadata, &wrong, None)
            .err()
            .expect("wrong");
        assert!(matches!(err, DatasetError::ColumnType { .. }), "{err}");
    }
}
