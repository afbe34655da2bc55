//! Structured datasets: dataframes between Rust and Python tasks as Arrow record batches in
//! Parquet. The README's dataset section, the dataset tests and `bench/datasets.sh` run this
//! binary:
//!
//! ```text
//! cargo run --example datasets -- run totals --sales sales.parquet
//! cargo run --example datasets -- run sales_report --n 1000
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use flytekit::dataset::DatasetError;
use flytekit::dataset::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray, RecordBatch,
    StringArray, TimestampMicrosecondArray,
};
use flytekit::dataset::arrow::datatypes::{Float64Type, Int64Type};
use flytekit::prelude::*;

#[path = "datasets/kernel.rs"]
mod kernel;

/// One sale, as the Python side writes it (other columns may exist; they are not read).
#[derive(DatasetColumns)]
pub struct Sale {
    region: String,
    amount: f64,
}

/// Sales totals per region.
#[derive(DatasetColumns)]
pub struct Total {
    region: String,
    total: f64,
    sales: i64,
}

/// Sums the sales of each region (reads two columns, one batch at a time).
#[task]
pub fn totals(sales: StructuredDataset<Sale>) -> Result<StructuredDataset<Total>, DatasetError> {
    let mut sums: BTreeMap<String, (f64, i64)> = BTreeMap::new();
    for batch in sales.reader()? {
        let batch = batch?;
        let regions = batch.column(0).as_string::<i32>();
        let amounts = batch.column(1).as_primitive::<Float64Type>();
        for (region, amount) in regions.iter().zip(amounts.values()) {
            let entry = sums
                .entry(region.unwrap_or_default().to_string())
                .or_default();
            entry.0 += amount;
            entry.1 += 1;
        }
    }
    let batch = RecordBatch::try_new(
        Arc::new(Total::arrow_schema()),
        vec![
            Arc::new(StringArray::from_iter_values(sums.keys())),
            Arc::new(Float64Array::from_iter_values(sums.values().map(|v| v.0))),
            Arc::new(Int64Array::from_iter_values(sums.values().map(|v| v.1))),
        ],
    )?;
    StructuredDataset::from_batches([batch])
}

/// `n` generated sales over four regions, streamed through a writer in batches of 1000.
#[task]
pub fn make_sales(cx: &ExecutionContext, n: i64) -> Result<StructuredDataset<Sale>, DatasetError> {
    let mut writer = StructuredDataset::<Sale>::writer(cx)?;
    let regions = ["north", "south", "east", "west"];
    let mut start = 0;
    while start < n {
        let end = (start + 1000).min(n);
        let batch = RecordBatch::try_new(
            writer.schema().clone(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    (start..end).map(|i| regions[(i % 4) as usize]),
                )),
                Arc::new(Float64Array::from_iter_values(
                    (start..end).map(|i| (i % 100) as f64),
                )),
            ],
        )?;
        writer.write(&batch)?;
        start = end;
    }
    writer.finish()
}

/// Makes sales and totals them.
#[workflow]
pub fn sales_report(n: i64) -> StructuredDataset<Total> {
    totals(make_sales(n))
}

/// Totals each dataset of a list (a map task over datasets).
#[workflow]
pub fn totals_each(parts: Vec<StructuredDataset<Sale>>) -> Vec<StructuredDataset<Total>> {
    totals::map(parts)
}

/// The regions of a totals dataset, read with fewer columns than were written.
#[derive(DatasetColumns)]
pub struct RegionOnly {
    region: String,
}

/// Counts the rows of a dataset (any columns).
#[task]
pub fn count_rows(data: StructuredDataset) -> Result<i64, DatasetError> {
    let mut n = 0;
    for batch in data.reader()? {
        n += batch?.num_rows() as i64;
    }
    Ok(n)
}

/// Lists the regions of a totals dataset (reads one of its three columns).
#[task]
pub fn regions(totals: StructuredDataset<RegionOnly>) -> Result<Vec<String>, DatasetError> {
    let mut out = Vec::new();
    for batch in totals.read_all()? {
        out.extend(
            batch
                .column(0)
                .as_string::<i32>()
                .iter()
                .map(|r| r.unwrap_or_default().to_string()),
        );
    }
    Ok(out)
}

/// Totals, then lists the regions through a narrower declaration of the same dataset.
#[workflow]
pub fn report_regions(n: i64) -> Vec<String> {
    let t = totals(make_sales(n));
    regions(t.with_columns::<RegionOnly>())
}

/// Splits sales into `parts` generated datasets and totals each, in a dynamic workflow.
#[dynamic]
pub fn totals_dyn(parts: i64, n: i64) -> Vec<StructuredDataset<Total>> {
    let made: Vec<_> = (0..parts).map(|_| make_sales(n)).collect();
    totals::map(made)
}

/// Counts rows asynchronously, by streaming.
#[task]
pub async fn count_rows_async(data: StructuredDataset) -> Result<i64, DatasetError> {
    use futures::StreamExt;
    let mut stream = data.stream().await?;
    let mut n = 0;
    while let Some(batch) = stream.next().await {
        n += batch?.num_rows() as i64;
    }
    Ok(n)
}

/// Returns its input unchanged (the literal passes through, as in flytekit).
#[task]
pub fn passthrough(data: StructuredDataset<Sale>) -> StructuredDataset<Sale> {
    data
}

/// Totals with decks on: the Input and Output decks show each dataset's first rows.
#[task(enable_deck = true)]
pub fn totals_with_deck(
    sales: StructuredDataset<Sale>,
) -> Result<StructuredDataset<Total>, DatasetError> {
    totals(sales)
}

// ---- The benchmark's task (bench/datasets.sh) ------------------------------------------------

/// The two columns the benchmark reads of its four-column dataset.
#[derive(DatasetColumns)]
pub struct Measurement {
    name: String,
    value: f64,
}

/// Per name: how many values pass the threshold, and their sum.
#[derive(DatasetColumns)]
pub struct Summary {
    name: String,
    count: i64,
    total: f64,
}

/// Keeps the values at least `threshold`, then counts and sums them per name.
#[task]
pub fn summarize(
    data: StructuredDataset<Measurement>,
    threshold: f64,
) -> Result<StructuredDataset<Summary>, DatasetError> {
    let mut groups = kernel::Groups::default();
    for batch in data.reader()? {
        kernel::aggregate(&batch?, threshold, &mut groups);
    }
    StructuredDataset::from_batches([kernel::result(&groups)?])
}

// ---- Every column kind the interop tests cross (pandas/pyarrow <-> Rust) -------------------

/// One column of each kind.
#[derive(DatasetColumns)]
pub struct Kinds {
    i: i64,
    f: f64,
    s: String,
    b: bool,
    t: DateTime<Utc>,
    n: Option<i64>,
    l: Vec<i64>,
}

/// Two of them.
#[derive(DatasetColumns)]
pub struct KindsSubset {
    s: String,
    n: Option<i64>,
}

/// Reads every kind and writes the same values back (decoded and re-encoded by Rust).
#[task]
pub fn kinds_roundtrip(
    data: StructuredDataset<Kinds>,
) -> Result<StructuredDataset<Kinds>, DatasetError> {
    let batches = data.read_all()?;
    let schema = data
        .schema()
        .unwrap_or_else(|| Arc::new(Kinds::arrow_schema()));
    StructuredDataset::from_batches_with_schema(schema, batches)
}

/// Reads two columns of the kinds and writes them back.
#[task]
pub fn kinds_subset(
    data: StructuredDataset<KindsSubset>,
) -> Result<StructuredDataset<KindsSubset>, DatasetError> {
    let batches = data.read_all()?;
    let schema = data
        .schema()
        .unwrap_or_else(|| Arc::new(KindsSubset::arrow_schema()));
    StructuredDataset::from_batches_with_schema(schema, batches)
}

/// Describes a dataset of any columns: its Arrow schema and rows, as JSON text.
#[task]
pub fn describe(data: StructuredDataset) -> Result<String, DatasetError> {
    let mut rows = 0;
    let mut schema = String::new();
    for batch in data.reader()? {
        let batch = batch?;
        rows += batch.num_rows();
        schema = batch
            .schema()
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.data_type()))
            .collect::<Vec<_>>()
            .join(",");
    }
    Ok(serde_json::json!({"rows": rows, "schema": schema}).to_string())
}

/// Builds `n` rows of every kind in Rust: `i`, `f = i / 2`, `s = "s<i>"`, `b = i even`, `t = i
/// seconds after the epoch`, `n` null for every third row, `l = [i, i + 1]`.
#[task]
pub fn make_kinds(n: i64) -> Result<StructuredDataset<Kinds>, DatasetError> {
    let ids: Vec<i64> = (0..n).collect();
    let lists = ListArray::from_iter_primitive::<Int64Type, _, _>(
        ids.iter().map(|i| Some(vec![Some(*i), Some(i + 1)])),
    );
    let schema = Arc::new(Kinds::arrow_schema());
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        Arc::new(Float64Array::from_iter_values(
            ids.iter().map(|i| *i as f64 / 2.0),
        )),
        Arc::new(StringArray::from_iter_values(
            ids.iter().map(|i| format!("s{i}")),
        )),
        Arc::new(BooleanArray::from_iter(
            ids.iter().map(|i| Some(i % 2 == 0)),
        )),
        Arc::new(
            TimestampMicrosecondArray::from_iter_values(ids.iter().map(|i| i * 1_000_000))
                .with_timezone("UTC"),
        ),
        Arc::new(Int64Array::from_iter(
            ids.iter().map(|i| (i % 3 != 0).then_some(*i)),
        )),
        Arc::new(lists),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    StructuredDataset::from_batches([batch])
}

/// The number of nulls in column `n` and the sum of its values, as JSON text (checks nullable
/// reads).
#[task]
pub fn null_stats(data: StructuredDataset<KindsSubset>) -> Result<String, DatasetError> {
    let mut nulls = 0;
    let mut sum = 0;
    for batch in data.reader()? {
        let batch = batch?;
        let n = batch.column(1).as_primitive::<Int64Type>();
        nulls += n.null_count() as i64;
        sum += n.iter().flatten().sum::<i64>();
    }
    Ok(serde_json::json!({"nulls": nulls, "sum": sum}).to_string())
}

fn main() {
    flytekit::main()
}
