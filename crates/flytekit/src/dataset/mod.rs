//! Structured datasets: dataframes between Rust and Python tasks, as Arrow record batches stored
//! in Parquet.
//!
//! A [`StructuredDataset`] is Flyte's structured dataset, what a Python task's `pandas.DataFrame`,
//! `pyarrow.Table` or `StructuredDataset` becomes: a URI, a format and columns. Declare the
//! columns a task reads or writes with a struct deriving [`DatasetColumns`] (the analog of
//! `Annotated[StructuredDataset, kwtypes(...)]`); read a dataset as a stream of Arrow
//! [`RecordBatch`](arrow::array::RecordBatch)es; write one from batches or through a streaming
//! [`DatasetWriter`].
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use std::sync::Arc;
//! use flytekit::dataset::arrow::array::{AsArray, Float64Array, RecordBatch, StringArray};
//! use flytekit::dataset::arrow::datatypes::Float64Type;
//! use flytekit::dataset::DatasetError;
//! use flytekit::prelude::*;
//!
//! /// The two columns this task reads of whatever the producer wrote.
//! #[derive(DatasetColumns)]
//! struct Sale {
//!     region: String,
//!     amount: f64,
//! }
//!
//! #[derive(DatasetColumns)]
//! struct Total {
//!     region: String,
//!     total: f64,
//! }
//!
//! /// Sums the sales of each region.
//! #[task]
//! fn totals(sales: StructuredDataset<Sale>) -> Result<StructuredDataset<Total>, DatasetError> {
//!     let mut sums: BTreeMap<String, f64> = BTreeMap::new();
//!     for batch in sales.reader()? {
//!         let batch = batch?;
//!         let regions = batch.column(0).as_string::<i32>();
//!         let amounts = batch.column(1).as_primitive::<Float64Type>();
//!         for (r, a) in regions.iter().zip(amounts.values()) {
//!             *sums.entry(r.unwrap_or_default().to_string()).or_default() += a;
//!         }
//!     }
//!     let batch = RecordBatch::try_new(
//!         Arc::new(Total::arrow_schema()),
//!         vec![
//!             Arc::new(StringArray::from_iter_values(sums.keys())),
//!             Arc::new(Float64Array::from_iter_values(sums.values().copied())),
//!         ],
//!     )?;
//!     StructuredDataset::from_batches([batch])
//! }
//! # fn main() {}
//! ```
//!
//! The mapping to Flyte literals is flytekit's (see [`literal`]): what a Rust task writes, a
//! Python task reads as a `pandas.DataFrame` with the declared columns, and the reverse.
//! Data moves through [`Storage`](crate::storage::Storage): local paths and every object store,
//! remote objects read by range requests (a row group at a time, never downloaded whole).
//!
//! The Apache Arrow crates are re-exported as [`arrow`] and [`parquet`], so tasks use the same
//! versions as the SDK without depending on them.

pub mod columns;
mod error;
pub mod layout;
pub mod literal;
mod object_reader;
mod read;
pub mod render;
mod value;
mod write;

pub use ::arrow;
pub use ::parquet;
pub use columns::{
    AnyColumns, ColumnType, DatasetColumn, DatasetColumns, ExternalSchema, arrow_type_matches,
    casts_from,
};
pub use error::DatasetError;
pub use flytekit_macros::DatasetColumns;
pub use value::{DatasetReader, DatasetStream, PARQUET, StructuredDataset};
pub use write::{DatasetWriter, WriteOptions};

pub(crate) use render::{describe_outputs, literal_map_deck};
