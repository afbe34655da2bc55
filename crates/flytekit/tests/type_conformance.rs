//! Conformance of the type engine with Python flytekit 1.16 (the oracle in `.venv`).
//!
//! For every case in `conformance/types_cases.py` (the same names appear below with the Rust type
//! and value):
//! - `flytekit_writes_rust_reads`: flytekit's `TypeEngine.to_literal` makes the literal and Rust
//!   reads it back to the expected value;
//! - `rust_writes_flytekit_reads`: Rust makes the literal and flytekit's `TypeEngine.to_python_value`
//!   reads it back to the expected Python value;
//! - `literal_types_match_flytekit`: Rust's `literal_type()` equals flytekit's
//!   `TypeEngine.to_literal_type(python_type)` as protobuf messages (struct JSON schemas included).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use flytekit::blob::formats::Csv;
use flytekit::idl::Message;
use flytekit::idl::core::{Binary, Literal, LiteralMap, scalar};
use flytekit::prelude::*;
use flytekit::storage::Storage;
use flytekit::type_engine::literals::scalar_literal;
use flytekit::type_engine::{ConversionContext, read_input, serde_duration, write_output};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, FlyteType)]
#[serde(rename_all = "lowercase")]
enum Color {
    Red,
    Green,
    Blue,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, FlyteType)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Level {
    Low,
    VeryHigh,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Point {
    x: f64,
    y: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Inner {
    name: String,
    tags: Vec<String>,
    weight: Option<f64>,
}

fn default_note() -> String {
    "none".to_string()
}

fn default_retries() -> i64 {
    3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Everything {
    id: i64,
    label: String,
    ok: bool,
    ratio: f64,
    color: Color,
    inner: Inner,
    points: Vec<Point>,
    counts: HashMap<String, i64>,
    maybe: Option<Inner>,
    when: DateTime<Utc>,
    #[serde(with = "serde_duration")]
    took: Duration,
    nested: Vec<Vec<i64>>,
    by_name: BTreeMap<String, Point>,
    #[serde(default = "default_note")]
    note: String,
    #[serde(default = "default_retries")]
    retries: i64,
    #[serde(default)]
    extra: Vec<String>,
}

fn low() -> Level {
    Level::Low
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct Config {
    r#type: String,
    #[serde(rename = "max_retries")]
    retries: i64,
    #[serde(default)]
    timeout: Option<f64>,
    #[serde(default = "low")]
    level: Level,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, FlyteType)]
struct WithBlobs {
    report: FlyteFile,
    data: FlyteDirectory,
    #[serde(default)]
    extra: Option<FlyteFile>,
}

fn with_blobs() -> WithBlobs {
    WithBlobs {
        report: FlyteFile::from_uri("s3://bucket/r.txt"),
        data: FlyteDirectory::from_uri("s3://bucket/d"),
        extra: None,
    }
}

fn everything() -> Everything {
    Everything {
        id: 7,
        label: "all the things".into(),
        ok: true,
        ratio: 0.25,
        color: Color::Blue,
        inner: Inner {
            name: "in".into(),
            tags: vec!["a".into(), "b".into()],
            weight: None,
        },
        points: vec![Point { x: 1.0, y: 2.0 }, Point { x: -3.5, y: 4.25 }],
        counts: HashMap::from([("x".to_string(), 1), ("y".to_string(), -2)]),
        maybe: Some(Inner {
            name: "maybe".into(),
            tags: vec![],
            weight: Some(1.5),
        }),
        when: utc(2024, 2, 29, 12, 34, 56, 789_012),
        took: Duration::from_secs_f64(90.5),
        nested: vec![vec![1, 2], vec![], vec![3]],
        by_name: BTreeMap::from([("origin".to_string(), Point { x: 0.0, y: 0.0 })]),
        note: "custom".into(),
        retries: 5,
        extra: vec!["e".into()],
    }
}

#[allow(clippy::too_many_arguments)]
fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .expect("valid date")
        + chrono::Duration::microseconds(micros.into())
}

fn s(v: &str) -> String {
    v.to_string()
}

/// Every case: name (as in types_cases.py), Rust type, Rust value.
macro_rules! for_each_case {
    ($m:ident) => {
        $m! {
            "int", i64, 42;
            "int_neg", i64, -7;
            "int_big", i64, 1i64 << 62;
            "i8", i8, -128;
            "u8", u8, 255;
            "i16", i16, 32767;
            "u16", u16, 65535;
            "i32", i32, i32::MIN;
            "u32", u32, u32::MAX;
            "float", f64, 3.25;
            "float_neg", f64, -1e-300;
            "f32", f32, 1.5;
            "str", String, s("héllo ✓ \n\t\"quoted\"");
            "str_empty", String, String::new();
            "bool_true", bool, true;
            "bool_false", bool, false;
            "datetime", DateTime<Utc>, utc(2024, 2, 29, 12, 34, 56, 789_012);
            "datetime_epoch", DateTime<Utc>, utc(1970, 1, 1, 0, 0, 0, 0);
            "datetime_old", DateTime<Utc>, utc(1900, 6, 1, 0, 0, 1, 0);
            "duration", Duration, Duration::new(86_403, 500_000);
            "duration_zero", Duration, Duration::ZERO;
            "list_int", Vec<i64>, vec![1, 2, 3];
            "list_empty", Vec<String>, Vec::<String>::new();
            "list_nested", Vec<Vec<i64>>, vec![vec![1], vec![2, 3], vec![]];
            "dict_float", HashMap<String, f64>, HashMap::from([(s("a"), 1.5), (s("b"), -2.0)]);
            "dict_empty", BTreeMap<String, i64>, BTreeMap::<String, i64>::new();
            "dict_nested", HashMap<String, Vec<String>>, HashMap::from([(s("k"), vec![s("v1"), s("v2")]), (s("e"), vec![])]);
            "dict_dict", BTreeMap<String, HashMap<String, i64>>, BTreeMap::from([(s("outer"), HashMap::from([(s("inner"), 1)]))]);
            "opt_some", Option<i64>, Some(5);
            "opt_none", Option<i64>, None::<i64>;
            "opt_str", Option<String>, Some(s("s"));
            "opt_list", Option<Vec<String>>, Some(vec![s("a"), s("b")]);
            "opt_list_none", Option<Vec<String>>, None::<Vec<String>>;
            "list_opt", Vec<Option<i64>>, vec![Some(1), None, Some(3)];
            "opt_datetime", Option<DateTime<Utc>>, Some(utc(2001, 1, 1, 0, 0, 0, 0));
            "enum", Color, Color::Green;
            "enum_renamed", Level, Level::VeryHigh;
            "list_enum", Vec<Color>, vec![Color::Red, Color::Blue];
            "opt_enum", Option<Color>, Some(Color::Red);
            "struct", Point, Point { x: 1.5, y: -2.0 };
            "struct_nested", Everything, everything();
            "struct_config", Config, Config { r#type: s("batch"), retries: 2, timeout: None, level: Level::VeryHigh };
            "struct_blobs", WithBlobs, with_blobs();
            "list_struct", Vec<Point>, vec![Point { x: 0.0, y: 1.0 }, Point { x: 2.0, y: 3.0 }];
            "opt_struct", Option<Point>, Some(Point { x: 9.0, y: 8.0 });
            "opt_struct_none", Option<Point>, None::<Point>;
            "dict_struct", HashMap<String, Inner>, HashMap::from([(s("k"), Inner { name: s("n"), tags: vec![s("t")], weight: Some(2.0) })]);
        }
    };
}

const FILE_CONTENT: &str = "hello through flyte\n";

struct Fixture {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    cx: ConversionContext,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let cx = ConversionContext::new(
        Storage::new(),
        root.join("local"),
        root.join("raw").to_string_lossy().into_owned(),
    );
    Fixture {
        _dir: dir,
        root,
        cx,
    }
}

fn failures_of(output: &str) -> Vec<&str> {
    output.lines().filter(|l| l.starts_with("FAIL")).collect()
}

#[tokio::test]
async fn flytekit_writes_rust_reads() {
    let fx = fixture();
    let workdir = fx.root.to_string_lossy().into_owned();
    let out = flytekit_oracle::run_script("types_oracle.py", &["write", &workdir], b"");
    let map = LiteralMap::decode(out.stdout.as_slice()).expect("flytekit wrote a LiteralMap");
    let cx = &fx.cx;
    let mut failures = Vec::new();
    let mut passed = 0;

    macro_rules! check {
        ($($name:literal, $ty:ty, $value:expr;)*) => {$(
            match read_input::<$ty>(&map, $name, cx).await {
                Ok(got) if got == $value => passed += 1,
                Ok(got) => failures.push(format!("{}: expected {:?}, got {:?}", $name, $value, got)),
                Err(e) => failures.push(format!("{}: {e}", $name)),
            }
        )*};
    }
    for_each_case!(check);

    // Dataclasses in the legacy generic JSON form (every number a double).
    check! {
        "legacy_struct", Point, Point { x: 1.0, y: -2.5 };
        "legacy_struct_nested", Everything, everything();
    }

    // Files and directories: read (downloading into the local dir) and compare contents.
    match read_input::<FlyteFile>(&map, "file", cx).await {
        Ok(f) => {
            assert!(
                f.path().starts_with(cx.local_dir()),
                "downloaded into the local dir: {f:?}"
            );
            assert!(
                f.remote_source().is_some_and(|u| u.ends_with("hello.txt")),
                "{f:?}"
            );
            assert_eq!(
                std::fs::read_to_string(f.path()).expect("read file"),
                FILE_CONTENT
            );
            passed += 1;
        }
        Err(e) => failures.push(format!("file: {e}")),
    }
    match read_input::<FlyteFile<Csv>>(&map, "file_csv", cx).await {
        Ok(f) => {
            assert_eq!(
                std::fs::read_to_string(f.path()).expect("read file"),
                FILE_CONTENT
            );
            passed += 1;
        }
        Err(e) => failures.push(format!("file_csv: {e}")),
    }
    match read_input::<FlyteDirectory>(&map, "dir", cx).await {
        Ok(d) => {
            let files = d.files().expect("list");
            let rel: Vec<String> = files
                .iter()
                .map(|p| {
                    p.strip_prefix(d.path())
                        .expect("under the dir")
                        .to_string_lossy()
                        .into_owned()
                })
                .collect();
            assert_eq!(rel, vec!["a.txt", "sub/b.txt"]);
            assert_eq!(
                std::fs::read_to_string(d.path().join("sub/b.txt")).expect("read"),
                "B"
            );
            passed += 1;
        }
        Err(e) => failures.push(format!("dir: {e}")),
    }

    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("flytekit -> rust: {passed} cases passed");
}

#[tokio::test]
async fn rust_writes_flytekit_reads() {
    let fx = fixture();
    let cx = &fx.cx;
    let mut map = LiteralMap::default();

    macro_rules! write {
        ($($name:literal, $ty:ty, $value:expr;)*) => {$(
            let value: $ty = $value;
            write_output(&mut map, $name, &value, cx).await.expect($name);
        )*};
    }
    for_each_case!(write);

    let src = fx.root.join("rust_src");
    std::fs::create_dir_all(src.join("dir/sub")).expect("mkdir");
    std::fs::write(src.join("hello.txt"), FILE_CONTENT).expect("write");
    std::fs::write(src.join("dir/a.txt"), "A").expect("write");
    std::fs::write(src.join("dir/sub/b.txt"), "B").expect("write");
    write_output(&mut map, "file", &FlyteFile::new(src.join("hello.txt")), cx)
        .await
        .expect("file");
    write_output(
        &mut map,
        "file_csv",
        &FlyteFile::new(src.join("hello.txt")).with_format::<Csv>(),
        cx,
    )
    .await
    .expect("file_csv");
    write_output(&mut map, "dir", &FlyteDirectory::new(src.join("dir")), cx)
        .await
        .expect("dir");
    // Uploads went under the raw output prefix, under a unique name.
    let raw = cx.raw_output_prefix();
    for name in ["file", "dir"] {
        let json = flytekit::type_engine::literal_to_json(&map.literals[name]);
        let uri = json.as_str().expect("a blob renders as its URI");
        assert!(uri.starts_with(raw), "{name} uploaded under {raw}: {uri}");
    }

    let out = flytekit_oracle::run_script("types_oracle.py", &["read"], &map.encode_to_vec());
    let text = out.stdout_str();
    assert!(
        failures_of(&text).is_empty(),
        "flytekit could not read what Rust wrote:\n{text}\n{}",
        out.stderr
    );
    assert!(text.contains("PASSED"), "{text}\n{}", out.stderr);
    eprintln!("rust -> flytekit: {}", text.trim());
}

#[tokio::test]
async fn literal_types_match_flytekit() {
    let mut map = LiteralMap::default();
    let mut add = |name: &str, t: flytekit::idl::core::LiteralType| {
        let literal: Literal = scalar_literal(scalar::Value::Binary(Box::new(Binary {
            value: t.encode_to_vec(),
            tag: "literal_type".into(),
        })));
        map.literals.insert(name.to_string(), literal);
    };
    macro_rules! types {
        ($($name:literal, $ty:ty, $value:expr;)*) => {$(
            add($name, <$ty as FlyteType>::literal_type());
        )*};
    }
    for_each_case!(types);
    add("file", <FlyteFile>::literal_type());
    add("file_csv", FlyteFile::<Csv>::literal_type());
    add("dir", <FlyteDirectory>::literal_type());

    let out = flytekit_oracle::run_script("types_oracle.py", &["types"], &map.encode_to_vec());
    let text = out.stdout_str();
    assert!(
        failures_of(&text).is_empty(),
        "literal types differ from flytekit's:\n{text}\n{}",
        out.stderr
    );
    eprintln!("literal types: {}", text.trim());
}
