//! Structured datasets in process: the literal types of Rust declarations are flytekit's for the
//! same `kwtypes` (checked against flytekit 1.16), and values round-trip through the type engine
//! over local disk and the in-process object store with projection, type conversion and the
//! documented errors.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use flytekit::dataset::arrow::array::{
    ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use flytekit::dataset::arrow::datatypes::Int32Type;
use flytekit::dataset::arrow::record_batch::RecordBatchReader;
use flytekit::dataset::{
    AnyColumns, DatasetColumns, DatasetError, DatasetWriter, StructuredDataset, WriteOptions,
};
use flytekit::execution::ExecutionContext;
use flytekit::idl::Message;
use flytekit::idl::core::{LiteralMap, LiteralType, literal, scalar};
use flytekit::storage::Storage;
use flytekit::type_engine::{ConversionContext, FlyteType, TypeError, read_input};
use serde::{Deserialize, Serialize};

#[derive(DatasetColumns)]
struct Sale {
    region: String,
    amount: f64,
}

#[derive(DatasetColumns)]
struct Total {
    region: String,
    total: f64,
    sales: i64,
}

#[derive(DatasetColumns)]
struct Kinds {
    i: i64,
    f: f64,
    s: String,
    b: bool,
    t: DateTime<Utc>,
    n: Option<i64>,
    l: Vec<i64>,
}

#[derive(DatasetColumns)]
struct KindsSubset {
    s: String,
    n: Option<i64>,
}

#[derive(DatasetColumns)]
struct Summary {
    name: String,
    count: i64,
    total: f64,
}

#[derive(DatasetColumns)]
#[dataset(format = "parquet")]
struct Formatted {
    a: i64,
}

#[derive(DatasetColumns)]
struct Nested {
    m: BTreeMap<String, f64>,
    d: Duration,
    u: u32,
    w: f32,
    ll: Vec<Vec<String>>,
}

#[derive(DatasetColumns)]
#[dataset(arrow_schema)]
struct ArrowSchema {
    a: i64,
    b: String,
    t: DateTime<Utc>,
    l: Vec<i64>,
    o: Option<f64>,
}

/// A declaration read with fewer and converted columns: `b` first, `a` as `i32`.
#[derive(DatasetColumns)]
struct Narrow {
    b: String,
    a: i32,
}

/// `a` declared without `Option`.
#[derive(DatasetColumns)]
struct Strict {
    a: i64,
}

/// A column whose name is not a Rust identifier.
#[derive(DatasetColumns)]
struct Renamed {
    #[dataset(rename = "Total Amount")]
    total: f64,
}

#[test]
fn literal_types_are_flytekits_for_the_same_declarations() {
    let out = flytekit_oracle::run_script("datasets.py", &["types"], b"");
    let python: BTreeMap<String, String> = serde_json::from_slice(&out.stdout).expect("JSON");
    let rust: Vec<(&str, LiteralType)> = vec![
        ("any", StructuredDataset::<AnyColumns>::literal_type()),
        ("sale", StructuredDataset::<Sale>::literal_type()),
        ("total", StructuredDataset::<Total>::literal_type()),
        ("kinds", StructuredDataset::<Kinds>::literal_type()),
        (
            "kinds_subset",
            StructuredDataset::<KindsSubset>::literal_type(),
        ),
        ("summary", StructuredDataset::<Summary>::literal_type()),
        ("formatted", StructuredDataset::<Formatted>::literal_type()),
        ("nested", StructuredDataset::<Nested>::literal_type()),
        (
            "arrow_schema",
            StructuredDataset::<ArrowSchema>::literal_type(),
        ),
    ];
    assert_eq!(rust.len(), python.len(), "every declaration is compared");
    for (name, ours) in rust {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&python[name])
            .expect("base64");
        let theirs = LiteralType::decode(bytes.as_slice()).expect("LiteralType");
        assert_eq!(ours, theirs, "declaration {name}");
        assert_eq!(
            ours.encode_to_vec(),
            bytes,
            "declaration {name}: same bytes"
        );
    }
}

#[test]
fn derived_declarations_give_arrow_schemas() {
    let s = Kinds::arrow_schema();
    assert_eq!(s.field(4).data_type().to_string(), "Timestamp(µs, \"UTC\")");
    assert!(s.field(5).is_nullable() && !s.field(0).is_nullable());
    assert_eq!(Renamed::columns()[0].name, "Total Amount");
    assert_eq!(Renamed::arrow_schema().field(0).name(), "Total Amount");
    assert_eq!(Formatted::format(), "parquet");
    assert_eq!(AnyColumns::columns().len(), 0);
}

fn memory_cx() -> ConversionContext {
    let dir = std::env::temp_dir().join("flytekit-rs-dataset-tests");
    ConversionContext::new(Storage::new(), dir, "memory://datasets/raw")
}

fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).expect("batch")
}

fn three_rows() -> RecordBatch {
    batch(vec![
        ("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
        ("extra", Arc::new(Float64Array::from(vec![0.5, 1.5, 2.5]))),
        ("b", Arc::new(StringArray::from(vec!["x", "y", "z"]))),
    ])
}

/// Runs blocking reader code the way the SDK runs sync task bodies.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("no panic")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn values_round_trip_through_an_object_store_with_projection_and_conversion() {
    let cx = memory_cx();
    let written = StructuredDataset::<AnyColumns>::from_batches([three_rows()]).expect("batches");
    let lit = written.to_literal(&cx).await.expect("to_literal");
    let Some(literal::Value::Scalar(s)) = &lit.value else {
        panic!("not a scalar: {lit:?}")
    };
    let Some(scalar::Value::StructuredDataset(sd)) = &s.value else {
        panic!("not a dataset: {lit:?}")
    };
    assert!(sd.uri.starts_with("memory://datasets/raw/"), "{}", sd.uri);
    let sdt = sd
        .metadata
        .as_ref()
        .unwrap()
        .structured_dataset_type
        .as_ref()
        .unwrap();
    assert_eq!(sdt.format, "parquet");
    assert!(sdt.columns.is_empty());
    // flytekit's layout: the URI is a directory holding 00000.
    let listed = cx.storage().list(&sd.uri).await.expect("list");
    assert_eq!(listed, vec![format!("{}/00000", sd.uri)]);

    // Read back with a narrower, reordered, converted declaration: b first, a as Int32.
    let narrow = StructuredDataset::<Narrow>::from_literal(&lit, &cx)
        .await
        .expect("from_literal");
    let expected = Arc::new(Narrow::arrow_schema());
    assert_eq!(narrow.schema(), Some(expected.clone()));
    let batches = blocking({
        let narrow = narrow.clone();
        move || narrow.read_all()
    })
    .await
    .expect("sync read of a remote dataset");
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].schema(), expected);
    assert_eq!(
        batches[0].column(1).as_primitive::<Int32Type>().values(),
        &[1, 2, 3]
    );
    let streamed = narrow.read_all_async().await.expect("async read");
    assert_eq!(streamed, batches);
    assert_eq!(narrow.num_rows().await.expect("rows"), 3);

    // Untyped: every column, as written; Arrow readers work too.
    let any = StructuredDataset::<AnyColumns>::from_literal(&lit, &cx)
        .await
        .unwrap();
    let reader = blocking(move || any.reader().map(|r| r.into_arrow()))
        .await
        .expect("reader");
    assert_eq!(reader.schema().fields().len(), 3);
    let rows: usize = blocking(move || reader.map(|b| b.unwrap().num_rows()).sum()).await;
    assert_eq!(rows, 3);

    // Returned unchanged, the literal passes through as it came.
    assert_eq!(narrow.to_literal(&cx).await.unwrap(), lit);
}

#[tokio::test]
async fn conversion_errors_name_the_column_and_the_file() {
    let cx = memory_cx();
    let with_nulls = batch(vec![(
        "a",
        Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
    )]);
    let lit = StructuredDataset::<AnyColumns>::from_batches([with_nulls])
        .unwrap()
        .to_literal(&cx)
        .await
        .unwrap();
    let strict = StructuredDataset::<Strict>::from_literal(&lit, &cx)
        .await
        .expect("the footer has the column");
    let err = strict.read_all_async().await.unwrap_err();
    assert!(
        err.to_string().contains("column 'a'")
            && err.to_string().contains("1 of its values are null"),
        "{err}"
    );

    let big = batch(vec![
        (
            "a",
            Arc::new(Int64Array::from(vec![1i64 << 40])) as ArrayRef,
        ),
        ("b", Arc::new(StringArray::from(vec!["x"]))),
    ]);
    let lit = StructuredDataset::<AnyColumns>::from_batches([big])
        .unwrap()
        .to_literal(&cx)
        .await
        .unwrap();
    let narrow = StructuredDataset::<Narrow>::from_literal(&lit, &cx)
        .await
        .unwrap();
    let err = narrow.read_all_async().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("column 'a'") && text.contains("Int32"),
        "{text}"
    );

    // A missing column fails the input conversion, naming the input (through read_input).
    let mut inputs = LiteralMap::default();
    inputs.literals.insert("sales".into(), lit);
    let err = read_input::<StructuredDataset<Sale>>(&inputs, "sales", &cx)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("variable 'sales'")
            && text.contains("column 'region'")
            && text.contains("a, b"),
        "{text}"
    );
    assert!(matches!(err, TypeError::Variable { .. }), "{err:?}");
}

#[test]
fn batches_must_fit_the_declaration() {
    let err = StructuredDataset::<Sale>::from_batches([three_rows()]).unwrap_err();
    assert!(err.to_string().contains("column 'region'"), "{err}");
    let err = StructuredDataset::<AnyColumns>::from_batches(Vec::<RecordBatch>::new()).unwrap_err();
    assert!(err.to_string().contains("at least one batch"), "{err}");
    let other = batch(vec![("q", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]);
    let err = StructuredDataset::<AnyColumns>::from_batches([three_rows(), other]).unwrap_err();
    assert!(err.to_string().contains("batch 1 has columns [q]"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_streaming_writer_writes_row_groups_and_leaves_nothing_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw");
    let cx = ConversionContext::new(
        Storage::new(),
        dir.path().join("local"),
        raw.display().to_string(),
    );
    let ecx = ExecutionContext::local(&cx);
    let options = WriteOptions::default().max_row_group_rows(100);
    let schema = Arc::new(Sale::arrow_schema());
    let mut writer = DatasetWriter::<Sale>::with_options(&ecx, schema.clone(), &options).unwrap();
    for chunk in 0..10 {
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from_iter_values(
                    (0..50).map(|i| format!("r{}", i % 3)),
                )),
                Arc::new(Float64Array::from_iter_values(
                    (0..50).map(|i| (chunk * 50 + i) as f64),
                )),
            ],
        )
        .unwrap();
        writer.write(&b).unwrap();
    }
    let wrong = three_rows();
    assert!(
        writer
            .write(&wrong)
            .unwrap_err()
            .to_string()
            .contains("columns [a, extra, b]")
    );
    assert_eq!(writer.rows(), 500);
    let ds = writer.finish().unwrap();
    let uri = ds.uri().unwrap().to_string();
    let part = std::path::Path::new(&uri).join("00000");
    let meta = flytekit::dataset::parquet::file::reader::SerializedFileReader::new(
        std::fs::File::open(&part).unwrap(),
    )
    .unwrap();
    use flytekit::dataset::parquet::file::reader::FileReader;
    assert_eq!(meta.metadata().num_row_groups(), 5);
    let lit = ds.to_literal(&cx).await.unwrap();
    let back = StructuredDataset::<Sale>::from_literal(&lit, &cx)
        .await
        .unwrap();
    let total: f64 = blocking(move || {
        back.reader()
            .unwrap()
            .map(|b| {
                b.unwrap()
                    .column(1)
                    .as_primitive::<flytekit::dataset::arrow::datatypes::Float64Type>()
                    .values()
                    .iter()
                    .sum::<f64>()
            })
            .sum()
    })
    .await;
    assert_eq!(total, (0..500).sum::<i32>() as f64);

    // A writer dropped before finish leaves no part behind (no partial dataset).
    let mut writer = DatasetWriter::<Sale>::new(&ecx, schema.clone()).unwrap();
    let b = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec!["a"])),
            Arc::new(Float64Array::from(vec![1.0])),
        ],
    )
    .unwrap();
    writer.write(&b).unwrap();
    drop(writer);
    let leftovers: Vec<_> = walk(&raw)
        .into_iter()
        .filter(|p| !p.starts_with(&uri))
        .collect();
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out
}

#[tokio::test]
async fn parts_with_different_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    std::fs::create_dir_all(&ds).unwrap();
    for (name, b) in [
        ("00000", three_rows()),
        (
            "00001",
            batch(vec![("q", Arc::new(Int64Array::from(vec![1])) as ArrayRef)]),
        ),
    ] {
        let mut w = flytekit::dataset::parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(ds.join(name)).unwrap(),
            b.schema(),
            None,
        )
        .unwrap();
        w.write(&b).unwrap();
        w.close().unwrap();
    }
    let cx = memory_cx();
    let any = StructuredDataset::from_uri(ds.display().to_string());
    assert_eq!(any.num_rows().await.unwrap(), 4);
    let err = any.read_all_async().await.unwrap_err();
    assert!(matches!(err, DatasetError::PartSchema { .. }), "{err}");
    assert!(
        err.to_string().contains("00001") && err.to_string().contains("[q]"),
        "{err}"
    );
    // The local dataset is uploaded under the raw output prefix when it becomes a literal.
    let lit = any.to_literal(&cx).await.unwrap();
    let Some(literal::Value::Scalar(s)) = &lit.value else {
        panic!()
    };
    let Some(scalar::Value::StructuredDataset(sd)) = &s.value else {
        panic!()
    };
    assert!(sd.uri.starts_with("memory://datasets/raw/"), "{}", sd.uri);
    assert_eq!(cx.storage().list(&sd.uri).await.unwrap().len(), 2);
}

/// A dataset inside a struct, as flytekit puts one in a dataclass: `{"uri", "file_format"}`.
#[derive(Serialize, Deserialize, flytekit::prelude::FlyteType)]
struct Report {
    title: String,
    data: StructuredDataset<Sale>,
}

#[tokio::test]
async fn datasets_inside_structs_travel_as_uri_and_format() {
    // On disk: a dataset read back from a struct is read through a storage configured from the
    // environment, which does not share this test's in-process memory store.
    let dir = tempfile::tempdir().unwrap();
    let cx = ConversionContext::new(
        Storage::new(),
        dir.path().join("local"),
        dir.path().join("raw").display().to_string(),
    );
    let sales = batch(vec![
        ("region", Arc::new(StringArray::from(vec!["n"])) as ArrayRef),
        ("amount", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let lit = StructuredDataset::<Sale>::from_batches([sales])
        .unwrap()
        .to_literal(&cx)
        .await
        .unwrap();
    let stored = StructuredDataset::<Sale>::from_literal(&lit, &cx)
        .await
        .unwrap();
    let uri = stored.uri().unwrap().to_string();
    let report = Report {
        title: "q1".into(),
        data: stored,
    };
    let lit = report.to_literal(&cx).await.expect("struct literal");
    let back = Report::from_literal(&lit, &cx).await.expect("struct back");
    assert_eq!(back.data.uri(), Some(uri.as_str()));
    assert_eq!(back.data.format(), "parquet");
    let batches = back.data.read_all_async().await.unwrap();
    assert_eq!(batches[0].column(0).as_string::<i32>().value(0), "n");
    // Local, unstored data cannot be put in a struct.
    let local = Report {
        title: "x".into(),
        data: StructuredDataset::<Sale>::from_batches([batch(vec![
            ("region", Arc::new(StringArray::from(vec!["n"])) as ArrayRef),
            ("amount", Arc::new(Float64Array::from(vec![1.0]))),
        ])])
        .unwrap(),
    };
    assert!(local.to_literal(&cx).await.is_err());
}
