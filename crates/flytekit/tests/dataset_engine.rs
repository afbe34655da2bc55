//! Datasets everywhere values go on this machine: `run` with a Parquet file or directory as an
//! input flag and dataset outputs printed as URI, row count and columns; workflow bindings with
//! column subsetting; map tasks over lists of datasets; dynamic tasks; async tasks; all in-process
//! and under `--sandbox` (each task a subprocess of `execute`). The `datasets` example runs as a
//! real subprocess; pandas (the oracle's) writes the input files.

use std::path::Path;
use std::process::{Command, Output};

use flytekit::dataset::{DatasetColumns, StructuredDataset};
use flytekit::workflow::{WorkflowBuilder, WorkflowError};
use serde_json::{Value, json};

fn datasets(args: &[&str], cwd: &Path) -> Output {
    Command::new(flytekit_oracle::example_binary("datasets"))
        .args(args)
        .current_dir(cwd)
        .env("FLYTEKIT_CACHE_DIR", cwd.join("cache"))
        .output()
        .expect("the datasets example runs")
}

fn outputs(o: &Output) -> Value {
    assert!(o.status.success(), "{o:?}");
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {o:?}"))
}

/// Writes sales with pandas: one file, or a directory of two part files.
fn write_sales(dir: &Path) {
    flytekit_oracle::run_code(
        "import sys, os, pandas as pd\n\
         d = sys.argv[1]\n\
         pd.DataFrame({'region': ['north', 'south', 'north'], 'amount': [10.0, 5.5, 2.5], 'id': [1, 2, 3]})\
           .to_parquet(os.path.join(d, 'sales.parquet'))\n\
         os.makedirs(os.path.join(d, 'parts'))\n\
         pd.DataFrame({'region': ['east'], 'amount': [1.0]}).to_parquet(os.path.join(d, 'parts', '00000'))\n\
         pd.DataFrame({'region': ['east', 'west'], 'amount': [2.0, 4.0]}).to_parquet(os.path.join(d, 'parts', '00001'))\n\
         open(os.path.join(d, 'parts', '_SUCCESS'), 'w').close()\n",
        &[dir.to_str().unwrap()],
        b"",
    );
}

/// The rows of a dataset `run` printed, read back by pandas.
fn pandas_rows(uri: &str) -> Value {
    let out = flytekit_oracle::run_code(
        "import sys, json, pandas as pd\n\
         df = pd.read_parquet(sys.argv[1])\n\
         print(json.dumps(df.to_dict(orient='records')))\n",
        &[uri],
        b"",
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn run_reads_parquet_files_and_directories_and_prints_dataset_outputs() {
    let dir = tempfile::tempdir().unwrap();
    write_sales(dir.path());
    for sandbox in [false, true] {
        let mut args = vec!["run", "totals", "--sales", "sales.parquet", "-q"];
        if sandbox {
            args.push("--sandbox");
        }
        let out = outputs(&datasets(&args, dir.path()));
        let o0 = &out["o0"];
        assert_eq!(o0["rows"], 2, "{out:#}");
        assert_eq!(o0["format"], "parquet");
        assert_eq!(
            o0["columns"],
            json!(["region: string", "total: double", "sales: int64"])
        );
        assert_eq!(
            pandas_rows(o0["uri"].as_str().unwrap()),
            json!([{"region": "north", "total": 12.5, "sales": 2}, {"region": "south", "total": 5.5, "sales": 1}]),
            "sandbox: {sandbox}"
        );
    }
    // A directory of parts (markers skipped), synchronously and asynchronously.
    let out = outputs(&datasets(
        &["run", "count_rows", "--data", "parts", "-q"],
        dir.path(),
    ));
    assert_eq!(out["o0"], 3);
    let out = outputs(&datasets(
        &[
            "run",
            "count_rows_async",
            "--data",
            "parts",
            "-q",
            "--sandbox",
        ],
        dir.path(),
    ));
    assert_eq!(out["o0"], 3);
}

#[test]
fn run_rejects_a_missing_path_and_reports_a_file_that_is_not_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let o = datasets(&["run", "totals", "--sales", "missing.parquet"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--sales")
            && err.contains("missing.parquet")
            && err.contains("does not exist"),
        "{err}"
    );

    std::fs::write(dir.path().join("notes.txt"), "region,amount\n").unwrap();
    let o = datasets(&["run", "totals", "--sales", "notes.txt", "-q"], dir.path());
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("variable 'sales'")
            && err.contains("notes.txt")
            && err.contains("is not a Parquet file"),
        "{err}"
    );
}

#[test]
fn workflows_map_and_dynamic_tasks_pass_datasets() {
    let dir = tempfile::tempdir().unwrap();
    write_sales(dir.path());
    for sandbox in [false, true] {
        let extra: &[&str] = if sandbox { &["--sandbox"] } else { &[] };
        // A producer streams 1000 rows through a writer; a consumer totals them.
        let out = outputs(&datasets(
            &[&["run", "sales_report", "--n", "1000", "-q"], extra].concat(),
            dir.path(),
        ));
        assert_eq!(out["o0"]["rows"], 4, "{out:#}");
        let rows = pandas_rows(out["o0"]["uri"].as_str().unwrap());
        assert_eq!(
            rows[0],
            json!({"region": "east", "total": 12500.0, "sales": 250}),
            "{rows}"
        );

        // Column subsetting between nodes: the consumer declares one of three columns.
        let out = outputs(&datasets(
            &[&["run", "report_regions", "--n", "10", "-q"], extra].concat(),
            dir.path(),
        ));
        assert_eq!(out["o0"], json!(["east", "north", "south", "west"]));

        // A map task over a list of datasets.
        let parts = json!([
            dir.path().join("sales.parquet").display().to_string(),
            dir.path().join("parts").display().to_string(),
        ])
        .to_string();
        let out = outputs(&datasets(
            &[&["run", "totals_each", "--parts", &parts, "-q"], extra].concat(),
            dir.path(),
        ));
        let totals: Vec<i64> = out["o0"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|d| d["rows"].as_i64().unwrap())
            .collect();
        assert_eq!(totals, vec![2, 2], "{out:#}");

        // A dynamic task producing datasets and mapping over them.
        let out = outputs(&datasets(
            &[
                &["run", "totals_dyn", "--parts", "3", "--n", "8", "-q"],
                extra,
            ]
            .concat(),
            dir.path(),
        ));
        let rows: Vec<i64> = out["o0"]
            .as_array()
            .expect("a list")
            .iter()
            .map(|d| d["rows"].as_i64().unwrap())
            .collect();
        assert_eq!(rows, vec![4, 4, 4], "sandbox {sandbox}: {out:#}");
    }
}

#[derive(DatasetColumns)]
struct Wide {
    region: String,
    total: f64,
}

#[derive(DatasetColumns)]
struct Other {
    region: String,
    units: i64,
}

#[test]
fn viewing_a_dataset_with_columns_it_does_not_have_fails_the_workflow_build() {
    let wf = WorkflowBuilder::new("t.subset");
    let input = wf.input::<StructuredDataset<Wide>>("totals");
    let _ok = input.with_columns::<flytekit::dataset::AnyColumns>();
    let _bad = input.with_columns::<Other>();
    let err = wf.build().unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("column 'units' is not among the upstream columns [region, total]"),
        "{text}"
    );
    assert!(text.contains("workflow input 'totals'"), "{text}");
    let _: &WorkflowError = &err;
}
