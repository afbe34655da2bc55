//! Dataframes between Python and Rust tasks, through the real container entrypoint.
//!
//! flytekit 1.16 with pandas or pyarrow writes a task's dataset output (its own encoders, its own
//! layout) into `inputs.pb`; a subprocess of the `datasets` example runs `execute` on it exactly as
//! Propeller starts a container; flytekit reads the Rust task's `outputs.pb` back into a pandas
//! DataFrame with the declared columns and dtypes (`conformance/datasets.py`). Locally and on a
//! real S3 store (Garage, started by `scripts/test`). Bad input (a missing dataset, a file that is
//! not Parquet, a missing or mistyped column, a damaged row group) gives the documented `error.pb`
//! naming the input, the column and the file, and no `outputs.pb`.

use std::path::{Path, PathBuf};
use std::process::Command;

use flytekit::dataset::arrow::array::{Float64Array, RecordBatch, StringArray};
use flytekit::dataset::parquet::arrow::ArrowWriter;
use flytekit::dataset::parquet::basic::Compression;
use flytekit::dataset::parquet::file::properties::WriterProperties;
use flytekit::dataset::parquet::file::reader::{FileReader, SerializedFileReader};
use flytekit::idl::Message;
use flytekit::idl::core::{
    Literal, LiteralMap, Scalar, StructuredDataset, StructuredDatasetMetadata,
    StructuredDatasetType, literal, scalar,
};
use serde_json::{Value, json};

const RESOLVER: &str = "flytekit.resolver.default";

/// One task run: a scratch directory, `inputs.pb`, an output prefix and a raw output prefix.
struct Run {
    dir: tempfile::TempDir,
    inputs: PathBuf,
    out: PathBuf,
    raw: String,
    env: Vec<(&'static str, String)>,
}

impl Run {
    fn new() -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        Run {
            inputs: dir.path().join("inputs.pb"),
            out: dir.path().join("out"),
            raw: dir.path().join("raw-rs").display().to_string(),
            dir,
            env: Vec::new(),
        }
    }

    /// Inputs written by flytekit: `spec` maps inputs to `[producer, declaration]` or plain values.
    fn python_inputs(self, prefix: &str, spec: Value) -> Run {
        let out = Command::new(flytekit_oracle::python())
            .arg(flytekit_oracle::conformance_dir().join("datasets.py"))
            .args(["write-inputs", self.inputs.to_str().unwrap(), prefix])
            .arg(spec.to_string())
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("FLYTE_SDK_LOGGING_LEVEL", "40")
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "write-inputs failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self
    }

    /// Inputs written here: one dataset literal per input, at the given URIs.
    fn dataset_inputs(self, inputs: &[(&str, &str)]) -> Run {
        let mut map = LiteralMap::default();
        for (name, uri) in inputs {
            map.literals.insert(name.to_string(), dataset_literal(uri));
        }
        std::fs::write(&self.inputs, map.encode_to_vec()).expect("write inputs");
        self
    }

    /// Runs `execute` for task `task` of the `datasets` example.
    fn execute(&self, task: &str) -> std::process::Output {
        let mut cmd = Command::new(flytekit_oracle::example_binary("datasets"));
        cmd.args(["execute", "--inputs"])
            .arg(&self.inputs)
            .arg("--output-prefix")
            .arg(&self.out)
            .args(["--raw-output-data-prefix", &self.raw])
            .args(["--checkpoint-path", "{{.checkpointOutputPrefix}}"])
            .args(["--prev-checkpoint", "\"\"", "--resolver", RESOLVER, "--"])
            .args(["task-module", "datasets", "task-name", task])
            .env_remove("FLYTE_FAIL_ON_ERROR")
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .current_dir(self.dir.path());
        let o = cmd.output().expect("the datasets example runs");
        assert!(o.status.success(), "execute {task}: {o:?}");
        o
    }

    /// What flytekit reads from the output prefix, `o0` read as `declaration`.
    fn report(&self, declaration: &str) -> Value {
        report(&self.out, declaration, &self.env)
    }
}

fn report(dir: &Path, declaration: &str, env: &[(&'static str, String)]) -> Value {
    let out = Command::new(flytekit_oracle::python())
        .arg(flytekit_oracle::conformance_dir().join("datasets.py"))
        .args(["read", dir.to_str().unwrap(), declaration])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("FLYTE_SDK_LOGGING_LEVEL", "40")
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "read failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("report is JSON")
}

/// The rows the producer's data has, read as `declaration` (pandas' view).
fn expected_rows(producer: &str, declaration: &str) -> Value {
    let out = flytekit_oracle::run_script("datasets.py", &["expect", producer, declaration], b"");
    serde_json::from_slice(&out.stdout).expect("rows are JSON")
}

fn dataset_literal(uri: &str) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Scalar {
            value: Some(scalar::Value::StructuredDataset(Box::new(
                StructuredDataset {
                    uri: uri.to_string(),
                    metadata: Some(StructuredDatasetMetadata {
                        structured_dataset_type: Some(StructuredDatasetType {
                            format: "parquet".into(),
                            ..Default::default()
                        }),
                    }),
                },
            ))),
        })),
        ..Default::default()
    }
}

/// Integers that pandas reads back as floats (a nullable column without pandas metadata) compare
/// equal to the integers.
fn normalized(rows: &Value) -> Value {
    match rows {
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalized(v))).collect())
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => json!(f as i64),
            _ => rows.clone(),
        },
        other => other.clone(),
    }
}

fn assert_error(report: &Value, code: &str, kind: &str, origin: &str, parts: &[&str]) {
    let e = &report["error"];
    assert_eq!(e["code"], code, "{report:#}");
    assert_eq!(e["kind"], kind, "{report:#}");
    assert_eq!(e["origin"], origin, "{report:#}");
    let msg = e["message"].as_str().unwrap_or_default();
    for part in parts {
        assert!(msg.contains(part), "message {msg:?} lacks {part:?}");
    }
    assert_eq!(report["files"], json!(["error.pb"]), "{report:#}");
}

#[test]
fn pandas_and_pyarrow_datasets_are_read_by_rust_and_written_back_for_pandas() {
    for (producer, declaration) in [
        ("pandas_kinds", "plain"),
        ("pandas_kinds", "kinds"),
        ("arrow_kinds", "plain"),
    ] {
        let run = Run::new();
        let prefix = run.dir.path().join("raw-py").display().to_string();
        let run = run.python_inputs(&prefix, json!({"data": [producer, declaration]}));
        run.execute("kinds_roundtrip");
        let rep = run.report("kinds");
        assert!(rep.get("error").is_none(), "{producer}: {rep:#}");
        assert_eq!(
            rep["metadata_matches_flytekit"], true,
            "{producer}: {rep:#}"
        );
        assert_eq!(
            rep["dataset_files"],
            json!(["00000"]),
            "{producer}: {rep:#}"
        );
        assert_eq!(rep["metadata"]["format"], "parquet");
        assert_eq!(
            rep["dtypes"],
            json!({"i": "int64", "f": "float64", "s": "object", "b": "bool",
                   "t": "datetime64[us, UTC]", "n": "float64", "l": "object"}),
            "{producer}: {rep:#}"
        );
        assert_eq!(
            normalized(&rep["rows"]),
            normalized(&expected_rows("pandas_kinds", "kinds")),
            "{producer} -> Rust -> pandas changed the values"
        );
    }
}

#[test]
fn rust_reads_only_the_declared_columns_of_a_wider_dataset() {
    let run = Run::new();
    let prefix = run.dir.path().join("raw-py").display().to_string();
    let run = run.python_inputs(&prefix, json!({"data": ["pandas_wide", "plain"]}));
    run.execute("kinds_subset");
    let rep = run.report("kinds_subset");
    assert_eq!(rep["metadata"]["columns"], json!(["s", "n"]), "{rep:#}");
    assert_eq!(rep["metadata_matches_flytekit"], true, "{rep:#}");
    assert_eq!(rep["dtypes"], json!({"s": "object", "n": "float64"}));
    assert_eq!(
        normalized(&rep["rows"]),
        normalized(&expected_rows("pandas_wide", "kinds_subset"))
    );
    // The file the Rust task wrote holds only the two declared columns.
    let uri = rep["uri"].as_str().unwrap();
    let reader =
        SerializedFileReader::new(std::fs::File::open(Path::new(uri).join("00000")).expect("part"))
            .expect("parquet");
    let schema = reader.metadata().file_metadata().schema_descr();
    let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
    assert_eq!(names, ["s", "n"]);

    // Nulls of a nullable column survive; the values are pandas' Int64 [NA, 1, 2, NA, 4].
    let run = Run::new();
    let prefix = run.dir.path().join("raw-py").display().to_string();
    let run = run.python_inputs(&prefix, json!({"data": ["pandas_wide", "kinds_subset"]}));
    run.execute("null_stats");
    let out =
        flytekit_oracle::run_script("entrypoint.py", &["read", run.out.to_str().unwrap()], b"");
    let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stats: Value = serde_json::from_str(rep["outputs"]["o0"].as_str().expect("text")).unwrap();
    assert_eq!(stats, json!({"nulls": 2, "sum": 7}), "{rep:#}");
}

#[test]
fn an_undeclared_dataset_reads_every_column_with_its_arrow_type() {
    let run = Run::new();
    let prefix = run.dir.path().join("raw-py").display().to_string();
    let run = run.python_inputs(&prefix, json!({"data": ["pandas_wide", "plain"]}));
    run.execute("describe");
    let out =
        flytekit_oracle::run_script("entrypoint.py", &["read", run.out.to_str().unwrap()], b"");
    let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
    let described: Value =
        serde_json::from_str(rep["outputs"]["o0"].as_str().expect("a string")).unwrap();
    assert_eq!(described["rows"], 5);
    assert_eq!(
        described["schema"],
        "extra_first:Utf8,i:Int64,f:Float64,s:Utf8,b:Boolean,t:Timestamp(µs, \"UTC\"),n:Int64,l:List(Int64, field: 'element'),extra_last:Float64"
    );
}

#[test]
fn rust_datasets_are_read_by_flytekit_as_pandas_dataframes() {
    let run = Run::new();
    let mut map = LiteralMap::default();
    map.literals.insert(
        "n".into(),
        Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Primitive(flytekit::idl::core::Primitive {
                    value: Some(flytekit::idl::core::primitive::Value::Integer(4)),
                })),
            })),
            ..Default::default()
        },
    );
    std::fs::write(&run.inputs, map.encode_to_vec()).unwrap();
    run.execute("make_kinds");
    let rep = run.report("kinds");
    assert_eq!(rep["metadata_matches_flytekit"], true, "{rep:#}");
    assert_eq!(rep["dataset_files"], json!(["00000"]));
    assert_eq!(
        rep["dtypes"],
        json!({"i": "int64", "f": "float64", "s": "object", "b": "bool",
               "t": "datetime64[us, UTC]", "n": "float64", "l": "object"})
    );
    assert_eq!(
        rep["rows"],
        json!([
            {"i": 0, "f": 0.0, "s": "s0", "b": true, "t": "1970-01-01T00:00:00+00:00", "n": null, "l": [0, 1]},
            {"i": 1, "f": 0.5, "s": "s1", "b": false, "t": "1970-01-01T00:00:01+00:00", "n": 1.0, "l": [1, 2]},
            {"i": 2, "f": 1.0, "s": "s2", "b": true, "t": "1970-01-01T00:00:02+00:00", "n": 2.0, "l": [2, 3]},
            {"i": 3, "f": 1.5, "s": "s3", "b": false, "t": "1970-01-01T00:00:03+00:00", "n": null, "l": [3, 4]},
        ])
    );
    // A Python consumer that declares fewer columns gets just those.
    let rep = run.report("kinds_subset");
    assert_eq!(rep["dtypes"], json!({"s": "object", "n": "float64"}));
}

#[test]
fn an_input_returned_unchanged_passes_its_literal_on() {
    let run = Run::new();
    let prefix = run.dir.path().join("raw-py").display().to_string();
    let run = run.python_inputs(&prefix, json!({"data": ["pandas_sales", "sale"]}));
    run.execute("passthrough");
    let inputs = LiteralMap::decode(std::fs::read(&run.inputs).unwrap().as_slice()).unwrap();
    let outputs = LiteralMap::decode(
        std::fs::read(run.out.join("outputs.pb"))
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    assert_eq!(outputs.literals["o0"], inputs.literals["data"]);
}

#[test]
fn decks_show_the_first_rows_of_dataset_inputs_and_outputs() {
    let run = Run::new();
    let prefix = run.dir.path().join("raw-py").display().to_string();
    let run = run.python_inputs(&prefix, json!({"sales": ["pandas_sales", "plain"]}));
    run.execute("totals_with_deck");
    let deck = std::fs::read_to_string(run.out.join("deck.html")).expect("deck.html");
    // Input deck: the producer's rows; output deck: the totals (north = 12.5 over 2 sales).
    assert!(
        deck.contains("<th>region<br><small>string</small></th>"),
        "{deck}"
    );
    assert!(deck.contains("<td>south</td><td>5.5</td>"), "{deck}");
    assert!(
        deck.contains("<td>north</td><td>12.5</td><td>2</td>"),
        "{deck}"
    );
}

/// A Parquet file of sales in three row groups of two rows, plain (not dictionary) encoded and
/// uncompressed, so that damaging one column chunk cannot go unnoticed elsewhere.
fn write_sales_file(path: &Path) {
    let schema = std::sync::Arc::new(flytekit::dataset::arrow::datatypes::Schema::new(vec![
        flytekit::dataset::arrow::datatypes::Field::new(
            "region",
            flytekit::dataset::arrow::datatypes::DataType::Utf8,
            false,
        ),
        flytekit::dataset::arrow::datatypes::Field::new(
            "amount",
            flytekit::dataset::arrow::datatypes::DataType::Float64,
            false,
        ),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            std::sync::Arc::new(StringArray::from(vec!["a", "b", "c", "d", "e", "f"])),
            std::sync::Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(2))
        .set_dictionary_enabled(false)
        .set_compression(Compression::SNAPPY)
        .build();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn bad_datasets_give_the_documented_error_and_no_outputs() {
    // A URI where nothing is stored: the input does not convert (SYSTEM, non-recoverable).
    let run = Run::new();
    let missing = run.dir.path().join("nowhere").display().to_string();
    let run = run.dataset_inputs(&[("sales", &missing)]);
    run.execute("totals");
    assert_error(
        &run.report("total"),
        "SYSTEM",
        "NON_RECOVERABLE",
        "SYSTEM",
        &["variable 'sales'", "no dataset at", &missing],
    );

    // A file that is not Parquet.
    let run = Run::new();
    let dir = run.dir.path().join("notparquet");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("00000"), "region,amount\nnorth,1\n").unwrap();
    let part = dir.join("00000").display().to_string();
    let run = run.dataset_inputs(&[("sales", dir.to_str().unwrap())]);
    run.execute("totals");
    assert_error(
        &run.report("total"),
        "SYSTEM",
        "NON_RECOVERABLE",
        "SYSTEM",
        &["variable 'sales'", &part, "is not a Parquet file"],
    );

    // A declared column the producer did not write.
    let run = Run::new();
    let prefix = run.dir.path().join("raw-py").display().to_string();
    let run = run.python_inputs(&prefix, json!({"sales": ["pandas_kinds", "plain"]}));
    run.execute("totals");
    assert_error(
        &run.report("total"),
        "SYSTEM",
        "NON_RECOVERABLE",
        "SYSTEM",
        &[
            "variable 'sales'",
            "column 'region'",
            "has no such column",
            &prefix,
            "i, f, s, b, t, n, l",
        ],
    );

    // A declared column of another type (strings where floats are declared).
    let run = Run::new();
    let prefix = run.dir.path().join("raw-py").display().to_string();
    let run = run.python_inputs(&prefix, json!({"sales": ["pandas_wrong_type", "plain"]}));
    run.execute("totals");
    assert_error(
        &run.report("total"),
        "SYSTEM",
        "NON_RECOVERABLE",
        "SYSTEM",
        &[
            "variable 'sales'",
            "column 'amount'",
            "holds Utf8",
            "declared FLOAT",
        ],
    );

    // A damaged row group: the footer is fine, so the input converts; reading fails in the task,
    // naming the input, the row group, the column and the file (a USER error, as flytekit's
    // reading inside the task would be).
    let run = Run::new();
    let path = run.dir.path().join("damaged/00000");
    write_sales_file(&path);
    let meta = SerializedFileReader::new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .metadata()
        .clone();
    let chunk = meta.row_group(1).column(1);
    let start = chunk.data_page_offset() as usize;
    let len = chunk.compressed_size() as usize;
    let mut bytes = std::fs::read(&path).unwrap();
    // Keep the page header, garble the compressed values.
    for b in &mut bytes[start + len / 2..start + len] {
        *b = 0xff;
    }
    std::fs::write(&path, bytes).unwrap();
    let dir = path.parent().unwrap().display().to_string();
    let run = run.dataset_inputs(&[("sales", &dir)]);
    run.execute("totals");
    assert_error(
        &run.report("total"),
        "USER:RuntimeError",
        "NON_RECOVERABLE",
        "USER",
        &[
            "input 'sales'",
            "row group 1",
            "column 'amount'",
            &path.display().to_string(),
        ],
    );
}

/// The same exchange through a real S3 store: flytekit writes the pandas dataset to S3, the Rust
/// task reads it by range requests and writes its output to S3, flytekit reads that back.
#[test]
fn datasets_cross_an_s3_store() {
    let mut env = flytekit_oracle::s3_env();
    // botocore reads the region from AWS_DEFAULT_REGION; without it HEAD requests (which carry no
    // error body to redirect on) are signed for us-east-1 and Garage refuses them.
    env.push((
        "AWS_DEFAULT_REGION",
        flytekit_oracle::test_env("FLYTEKIT_TEST_S3_REGION"),
    ));
    let bucket = flytekit_oracle::test_env("FLYTEKIT_TEST_S3_BUCKET");
    let base = format!("s3://{bucket}/datasets/{}", flytekit_oracle::nonce());
    let mut run = Run::new();
    run.env = env.clone();
    run.raw = format!("{base}/raw-rs");
    let run = run.python_inputs(
        &format!("{base}/raw-py"),
        json!({"data": ["pandas_wide", "kinds"]}),
    );
    let inputs = LiteralMap::decode(std::fs::read(&run.inputs).unwrap().as_slice()).unwrap();
    match &inputs.literals["data"].value {
        Some(literal::Value::Scalar(Scalar {
            value: Some(scalar::Value::StructuredDataset(sd)),
        })) => assert!(sd.uri.starts_with(&format!("{base}/raw-py/")), "{}", sd.uri),
        other => panic!("not a dataset: {other:?}"),
    }
    run.execute("kinds_roundtrip");
    let rep = run.report("kinds");
    assert!(rep.get("error").is_none(), "{rep:#}");
    assert!(
        rep["uri"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/raw-rs/")),
        "{rep:#}"
    );
    assert_eq!(rep["metadata_matches_flytekit"], true, "{rep:#}");
    assert_eq!(
        normalized(&rep["rows"]),
        normalized(&expected_rows("pandas_kinds", "kinds"))
    );

    // A missing dataset on S3 is named too.
    let mut run = Run::new();
    run.env = env;
    run.raw = format!("{base}/raw-rs");
    let missing = format!("{base}/nothing-here");
    let run = run.dataset_inputs(&[("sales", &missing)]);
    run.execute("totals");
    assert_error(
        &run.report("total"),
        "SYSTEM",
        "NON_RECOVERABLE",
        "SYSTEM",
        &["variable 'sales'", &missing],
    );
}
