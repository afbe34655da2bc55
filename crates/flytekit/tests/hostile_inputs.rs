//! Hostile inputs, through the real binary (the `hostile` example) as a cluster would run it: every
//! row of [`ROWS`] writes its inputs, runs `execute`, and checks the answer: the outputs, or the
//! `error.pb` code, kind and origin (and what the message names). Where flytekit answers, the row
//! also runs `pyflyte-execute` on the twin Python tasks (`conformance/hostile_tasks.py`) with the
//! same inputs and the answers must be equal. The cases that are not one `execute` (fast bundles,
//! `run`, storage endpoints, decks) follow the table.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use flytekit::idl::Message;
use flytekit::idl::core::{
    Binary, Blob, BlobMetadata, BlobType, ContainerError, ErrorDocument, Literal,
    LiteralCollection, LiteralMap, LiteralOffloadedMetadata, Primitive, Scalar, blob_type,
    container_error, execution_error, literal, primitive, scalar,
};
use serde_json::{Value, json};

const RESOLVER: &str = "flytekit.resolver.default";
const PY_RESOLVER: &str = "flytekit.core.python_auto_container.default_task_resolver";

// ------------------------------------------------------------------------------------------------
// Literals

fn prim(v: primitive::Value) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Scalar {
            value: Some(scalar::Value::Primitive(Primitive { value: Some(v) })),
        })),
        ..Default::default()
    }
}

fn int(i: i64) -> Literal {
    prim(primitive::Value::Integer(i))
}

fn float(f: f64) -> Literal {
    prim(primitive::Value::FloatValue(f))
}

fn string(s: String) -> Literal {
    prim(primitive::Value::StringValue(s))
}

fn list(items: Vec<Literal>) -> Literal {
    Literal {
        value: Some(literal::Value::Collection(LiteralCollection {
            literals: items,
        })),
        ..Default::default()
    }
}

fn pointer(uri: &Path) -> Literal {
    Literal {
        value: Some(literal::Value::OffloadedMetadata(Box::new(
            LiteralOffloadedMetadata {
                uri: uri.display().to_string(),
                size_bytes: 8,
                inferred_type: None,
            },
        ))),
        ..Default::default()
    }
}

fn msgpack(bytes: Vec<u8>) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Scalar {
            value: Some(scalar::Value::Binary(Box::new(Binary {
                value: bytes,
                tag: "msgpack".into(),
            }))),
        })),
        ..Default::default()
    }
}

fn file(uri: &str) -> Literal {
    Literal {
        value: Some(literal::Value::Scalar(Scalar {
            value: Some(scalar::Value::Blob(Box::new(Blob {
                metadata: Some(BlobMetadata {
                    r#type: Some(BlobType {
                        format: String::new(),
                        dimensionality: blob_type::BlobDimensionality::Single as i32,
                    }),
                }),
                uri: uri.to_string(),
            }))),
        })),
        ..Default::default()
    }
}

fn write_literal(path: &Path, lit: &Literal) {
    std::fs::write(path, lit.encode_to_vec()).unwrap();
}

fn write_inputs(path: &Path, values: Vec<(&str, Literal)>) {
    let map = LiteralMap {
        literals: values
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<BTreeMap<_, _>>(),
    };
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, map.encode_to_vec()).unwrap();
}

// ------------------------------------------------------------------------------------------------
// Running `execute` (ours and flytekit's) and reading its answer

/// How a row runs the entrypoint: relative paths are as given, from `cwd`.
struct Invocation {
    task: &'static str,
    inputs: String,
    output_prefix: String,
    cwd: PathBuf,
    /// Where the outputs land (the output prefix, resolved).
    out_dir: PathBuf,
    env: Vec<(String, String)>,
}

/// What an entrypoint run answered.
#[derive(Debug)]
struct Answer {
    status: std::process::ExitStatus,
    stderr: String,
    files: Vec<String>,
    outputs: Option<Value>,
    error: Option<ContainerError>,
}

impl Answer {
    fn kind(&self) -> Option<(String, &'static str, &'static str)> {
        self.error.as_ref().map(|e| {
            let kind = match container_error::Kind::try_from(e.kind) {
                Ok(container_error::Kind::Recoverable) => "RECOVERABLE",
                _ => "NON_RECOVERABLE",
            };
            let origin = match execution_error::ErrorKind::try_from(e.origin) {
                Ok(execution_error::ErrorKind::User) => "USER",
                Ok(execution_error::ErrorKind::System) => "SYSTEM",
                _ => "UNKNOWN",
            };
            (e.code.clone(), kind, origin)
        })
    }
}

fn answer(out: Output, out_dir: &Path) -> Answer {
    let mut files: Vec<String> = std::fs::read_dir(out_dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let outputs = std::fs::read(out_dir.join("outputs.pb")).ok().map(|b| {
        let map = LiteralMap::decode(b.as_slice()).expect("outputs.pb is a LiteralMap");
        json!(
            map.literals
                .iter()
                .map(|(k, v)| (k.clone(), flytekit::type_engine::literal_to_json(v)))
                .collect::<serde_json::Map<_, _>>()
        )
    });
    let error = std::fs::read(out_dir.join("error.pb")).ok().map(|b| {
        ErrorDocument::decode(b.as_slice())
            .expect("error.pb is an ErrorDocument")
            .error
            .expect("error.pb has an error")
    });
    Answer {
        status: out.status,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        files,
        outputs,
        error,
    }
}

fn rust_execute(inv: &Invocation) -> Answer {
    let out = Command::new(flytekit_oracle::example_binary("hostile"))
        .args(["execute", "--inputs", &inv.inputs, "--output-prefix"])
        .arg(&inv.output_prefix)
        .args(["--resolver", RESOLVER, "--", "task-module", "hostile"])
        .args(["task-name", inv.task])
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .env_remove("FLYTE_FAIL_ON_ERROR")
        .current_dir(&inv.cwd)
        .output()
        .expect("the hostile example runs");
    answer(out, &inv.out_dir)
}

fn flytekit_execute(inv: &Invocation) -> Answer {
    let python = flytekit_oracle::python();
    let exe = python.parent().unwrap().join("pyflyte-execute");
    let out = Command::new(exe)
        .args(["--inputs", &inv.inputs, "--output-prefix"])
        .arg(&inv.output_prefix)
        // flytekit needs a raw output prefix even where nothing is written there.
        .arg("--raw-output-data-prefix")
        .arg(inv.cwd.join("raw"))
        .args([
            "--resolver",
            PY_RESOLVER,
            "--",
            "task-module",
            "hostile_tasks",
        ])
        .args(["task-name", inv.task])
        .envs(inv.env.iter().map(|(k, v)| (k, v)))
        .env("PYTHONPATH", flytekit_oracle::conformance_dir())
        .env_remove("FLYTE_FAIL_ON_ERROR")
        .current_dir(&inv.cwd)
        .output()
        .expect("pyflyte-execute runs");
    answer(out, &inv.out_dir)
}

/// The answer a row expects.
enum Want {
    /// `outputs.pb` with these values (JSON text) and no error.
    Outputs(&'static str),
    /// `error.pb` with this code, kind and origin, whose message contains every string.
    Error(
        &'static str,
        &'static str,
        &'static str,
        &'static [&'static str],
    ),
}

/// One hostile `execute`: the issue item it covers, the setup (writes files under the scratch
/// directory and says how to run), the answer, and whether flytekit answers the same.
struct Row {
    name: &'static str,
    setup: fn(&Path) -> Invocation,
    want: Want,
    flytekit: bool,
}

/// The usual invocation: inputs at `<dir>/inputs.pb`, outputs to `<dir>/out`.
fn plain(dir: &Path, task: &'static str, values: Vec<(&str, Literal)>) -> Invocation {
    let inputs = dir.join("inputs.pb");
    write_inputs(&inputs, values);
    Invocation {
        task,
        inputs: inputs.display().to_string(),
        output_prefix: dir.join("out").display().to_string(),
        cwd: dir.to_path_buf(),
        out_dir: dir.join("out"),
        env: Vec::new(),
    }
}

const ROWS: &[Row] = &[
    // 1. An offloaded literal that points to itself, or A -> B -> A: flytekit follows one level
    //    and cannot convert the pointer it finds (SYSTEM, non-recoverable); no stack overflow.
    Row {
        name: "offloaded literal pointing to itself",
        setup: |dir| {
            let a = dir.join("a.pb");
            write_literal(&a, &pointer(&a));
            plain(dir, "add", vec![("a", pointer(&a)), ("b", int(1))])
        },
        want: Want::Error(
            "SYSTEM",
            "NON_RECOVERABLE",
            "SYSTEM",
            &["itself an offloaded literal", "a.pb"],
        ),
        flytekit: true,
    },
    Row {
        name: "offloaded literals pointing to each other",
        setup: |dir| {
            let (a, b) = (dir.join("a.pb"), dir.join("b.pb"));
            write_literal(&a, &pointer(&b));
            write_literal(&b, &pointer(&a));
            plain(dir, "add", vec![("a", pointer(&a)), ("b", int(1))])
        },
        want: Want::Error(
            "SYSTEM",
            "NON_RECOVERABLE",
            "SYSTEM",
            &["itself an offloaded literal"],
        ),
        flytekit: true,
    },
    // A -> [A]: each level is data, so flytekit recurses until Python's recursion limit; we stop
    // at a documented depth.
    Row {
        name: "offloaded list containing itself",
        setup: |dir| {
            let a = dir.join("a.pb");
            write_literal(&a, &list(vec![pointer(&a)]));
            plain(dir, "count", vec![("xs", pointer(&a))])
        },
        want: Want::Error(
            "SYSTEM",
            "NON_RECOVERABLE",
            "SYSTEM",
            &["nest more than 8 deep"],
        ),
        flytekit: false,
    },
    // 2. Four levels of 100 pointers: 10^8 resolutions unbounded; bounded at 10,000.
    Row {
        name: "offloaded pointers fanning out",
        setup: |dir| {
            let mut next: Option<PathBuf> = None;
            for level in (0..4).rev() {
                let path = dir.join(format!("level{level}.pb"));
                let items = (0..100)
                    .map(|_| match &next {
                        Some(p) => pointer(p),
                        None => int(1),
                    })
                    .collect();
                write_literal(&path, &list(items));
                next = Some(path);
            }
            plain(dir, "count", vec![("xs", pointer(next.as_ref().unwrap()))])
        },
        want: Want::Error(
            "SYSTEM",
            "NON_RECOVERABLE",
            "SYSTEM",
            &["more than 10000 offloaded literals"],
        ),
        flytekit: false,
    },
    // 3. An empty output prefix is the current directory, for flytekit too.
    Row {
        name: "empty output prefix",
        setup: |dir| {
            let mut inv = plain(dir, "add", vec![("a", int(40)), ("b", int(2))]);
            let cwd = dir.join("cwd");
            std::fs::create_dir_all(&cwd).unwrap();
            inv.output_prefix = String::new();
            inv.cwd = cwd.clone();
            inv.out_dir = cwd;
            inv
        },
        want: Want::Outputs(r#"{"o0": 42}"#),
        flytekit: true,
    },
    // 4. `..` in local paths (inputs, output prefix, a file's URI) is accepted, as by flytekit.
    Row {
        name: "relative paths with ..",
        setup: |dir| {
            let inv = plain(&dir.join("x"), "add", vec![("a", int(40)), ("b", int(2))]);
            let cwd = dir.join("cwd");
            std::fs::create_dir_all(&cwd).unwrap();
            Invocation {
                inputs: "../x/inputs.pb".into(),
                output_prefix: "../cwd/../out".into(),
                out_dir: dir.join("out"),
                cwd,
                ..inv
            }
        },
        want: Want::Outputs(r#"{"o0": 42}"#),
        flytekit: true,
    },
    Row {
        name: "file URI with ..",
        setup: |dir| {
            std::fs::create_dir_all(dir.join("data")).unwrap();
            std::fs::write(dir.join("data/f.txt"), b"12345").unwrap();
            let mut inv = plain(dir, "size", vec![("f", file("../data/f.txt"))]);
            inv.cwd = dir.join("data");
            inv
        },
        want: Want::Outputs(r#"{"o0": 5}"#),
        flytekit: true,
    },
    // 7. Numbers of the other kind: flytekit reads an integer for a float and truncates a float
    //    for an integer.
    Row {
        name: "integer for a float input",
        setup: |dir| plain(dir, "scale", vec![("x", int(3))]),
        want: Want::Outputs(r#"{"o0": 6.0}"#),
        flytekit: true,
    },
    Row {
        name: "float for an integer input",
        setup: |dir| plain(dir, "twice", vec![("x", float(3.7))]),
        want: Want::Outputs(r#"{"o0": 6}"#),
        flytekit: true,
    },
    Row {
        name: "negative float for an integer input",
        setup: |dir| plain(dir, "twice", vec![("x", float(-2.5))]),
        want: Want::Outputs(r#"{"o0": -4}"#),
        flytekit: true,
    },
    //    A msgpack struct must be one value: trailing bytes are refused, as msgpack's ExtraData.
    Row {
        name: "trailing bytes after a msgpack struct",
        setup: |dir| {
            let mut bytes = rmp_serde::to_vec_named(&json!({"x": 1, "y": -2})).unwrap();
            bytes.push(0xc0);
            plain(dir, "norm", vec![("p", msgpack(bytes))])
        },
        want: Want::Error("SYSTEM", "NON_RECOVERABLE", "SYSTEM", &["extra data"]),
        flytekit: true,
    },
    Row {
        name: "a msgpack struct without trailing bytes",
        setup: |dir| {
            let bytes = rmp_serde::to_vec_named(&json!({"x": 1, "y": -2})).unwrap();
            plain(dir, "norm", vec![("p", msgpack(bytes))])
        },
        want: Want::Outputs(r#"{"o0": 3}"#),
        flytekit: true,
    },
    // 9. A directory where a file is expected says so (and is not retried).
    Row {
        name: "directory given for a file",
        setup: |dir| {
            std::fs::create_dir_all(dir.join("adir")).unwrap();
            let uri = dir.join("adir").display().to_string();
            plain(dir, "size", vec![("f", file(&uri))])
        },
        want: Want::Error(
            "SYSTEM",
            "NON_RECOVERABLE",
            "SYSTEM",
            &["is a directory, not a file", "adir"],
        ),
        flytekit: false,
    },
    //    A secret whose file is a directory says so.
    Row {
        name: "secret path that is a directory",
        setup: |dir| {
            std::fs::create_dir_all(dir.join("secrets/db/password")).unwrap();
            let mut inv = plain(dir, "secret_len", vec![("x", int(1))]);
            inv.env.push((
                "FLYTE_SECRETS_DEFAULT_DIR".into(),
                dir.join("secrets").display().to_string(),
            ));
            inv
        },
        want: Want::Error(
            "USER:RuntimeError",
            "NON_RECOVERABLE",
            "USER",
            &["is a directory, not a file", "secrets/db/password"],
        ),
        flytekit: false,
    },
];

fn check(row: &Row, side: &str, a: &Answer) {
    let name = row.name;
    assert_eq!(
        a.status.code(),
        Some(0),
        "{name} ({side}): exit {:?}\n{}",
        a.status,
        a.stderr
    );
    match &row.want {
        Want::Outputs(text) => {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(a.outputs.as_ref(), Some(&v), "{name} ({side}): {a:#?}");
            assert!(a.error.is_none(), "{name} ({side}): {a:#?}");
            assert!(
                a.files.contains(&"outputs.pb".to_string()),
                "{name} ({side}): {:?}",
                a.files
            );
        }
        Want::Error(code, kind, origin, parts) => {
            assert!(
                a.outputs.is_none(),
                "{name} ({side}): outputs beside an error"
            );
            let got = a
                .kind()
                .unwrap_or_else(|| panic!("{name} ({side}): no error.pb: {a:#?}"));
            assert_eq!(
                (got.0.as_str(), got.1, got.2),
                (*code, *kind, *origin),
                "{name} ({side})"
            );
            if side == "flytekit-rs" {
                let message = &a.error.as_ref().unwrap().message;
                for p in *parts {
                    assert!(message.contains(p), "{name}: {message:?} lacks {p:?}");
                }
            }
        }
    }
}

/// Every row of the table, against flytekit-rs and (where it answers) flytekit.
#[test]
fn hostile_executions_get_flytekits_answers() {
    for row in ROWS {
        let dir = tempfile::tempdir().unwrap();
        let ours = dir.path().join("rs");
        std::fs::create_dir_all(&ours).unwrap();
        let inv = (row.setup)(&ours);
        let start = Instant::now();
        let a = rust_execute(&inv);
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}: took {:?}",
            row.name,
            start.elapsed()
        );
        check(row, "flytekit-rs", &a);
        if row.flytekit {
            let theirs = dir.path().join("py");
            std::fs::create_dir_all(&theirs).unwrap();
            let inv = (row.setup)(&theirs);
            check(row, "flytekit", &flytekit_execute(&inv));
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Beyond one `execute` of local files

/// Item 5: A fast bundle whose links chain (`y -> .`, then `x -> y/y/../..`) would make a link that
/// resolves outside the destination: `fast-execute` refuses the bundle and the task never runs.
#[test]
fn fast_bundle_with_chained_symlinks_is_refused() {
    use tar::EntryType::{Regular, Symlink};
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).unwrap();
    let bundle = dir.path().join("fastchained.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&bundle).unwrap(),
        flate2::Compression::fast(),
    );
    let mut tar = tar::Builder::new(gz);
    for (name, kind, link) in [
        ("y", Symlink, "."),
        ("x", Symlink, "y/y/../.."),
        ("hostile", Regular, ""),
    ] {
        let mut h = tar::Header::new_gnu();
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_size(0);
        h.set_mode(0o755);
        h.set_cksum();
        tar.append(&h, &[][..]).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
    let inputs = dir.path().join("inputs.pb");
    write_inputs(&inputs, vec![("a", int(1)), ("b", int(2))]);
    let out = dir.path().join("out");
    let o = Command::new(flytekit_oracle::example_binary("hostile"))
        .arg("fast-execute")
        .arg("--additional-distribution")
        .arg(&bundle)
        .arg("--dest-dir")
        .arg(&dest)
        .args(["--", "hostile", "execute", "--inputs"])
        .arg(&inputs)
        .arg("--output-prefix")
        .arg(&out)
        .args(["--resolver", RESOLVER, "--", "task-module", "hostile"])
        .args(["task-name", "add"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(
        stderr.contains("\"x\"") && stderr.contains("outside the destination"),
        "{stderr}"
    );
    assert!(
        std::fs::symlink_metadata(dest.join("x")).is_err(),
        "x was created"
    );
    assert!(!out.exists(), "the task ran");
}

/// A TCP server that accepts connections and never answers.
fn silent_server() -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            match listener.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    (endpoint, handle)
}

/// An environment with S3 configured only as given: no ambient AWS, FLYTE_AWS or flytectl config.
fn s3_env(cmd: &mut Command, home: &Path, vars: &[(&str, &str)]) {
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("FLYTE_AWS_") || k == "FLYTECTL_CONFIG" {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home);
    for (k, v) in vars {
        cmd.env(k, v);
    }
}

fn execute_add(dir: &Path, inputs: &str, vars: &[(&str, &str)]) -> (Answer, Duration) {
    let out = dir.join("out");
    let mut cmd = Command::new(flytekit_oracle::example_binary("hostile"));
    cmd.args(["execute", "--inputs", inputs, "--output-prefix"])
        .arg(&out)
        .args(["--resolver", RESOLVER, "--", "task-module", "hostile"])
        .args(["task-name", "add"]);
    s3_env(&mut cmd, dir, vars);
    let start = Instant::now();
    let o = cmd.output().unwrap();
    (answer(o, &out), start.elapsed())
}

/// Item 8: An S3 endpoint that accepts connections but never answers: the storage deadline ends the
/// read, the error names the endpoint and the setting, and Flyte may retry.
#[test]
fn storage_deadline_names_the_silent_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (endpoint, _server) = silent_server();
    let (a, took) = execute_add(
        dir.path(),
        "s3://bucket/inputs.pb",
        &[
            ("FLYTE_AWS_ENDPOINT", &endpoint),
            ("FLYTE_AWS_ACCESS_KEY_ID", "k"),
            ("FLYTE_AWS_SECRET_ACCESS_KEY", "s"),
            ("FLYTEKIT_STORAGE_DEADLINE_SECONDS", "1"),
        ],
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert_eq!(
        a.kind(),
        Some(("SYSTEM".into(), "RECOVERABLE", "SYSTEM")),
        "{a:#?}"
    );
    let message = &a.error.as_ref().unwrap().message;
    for part in [
        endpoint.as_str(),
        "did not answer within 1 s",
        "FLYTEKIT_STORAGE_DEADLINE_SECONDS",
        "s3://bucket/inputs.pb",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
}

/// Item 8: `s3://` with neither an endpoint nor credentials: the error says which settings to set,
/// not only what the instance metadata service answered.
#[test]
fn s3_without_configuration_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    let (a, took) = execute_add(
        dir.path(),
        "s3://bucket/inputs.pb",
        &[
            ("FLYTEKIT_STORAGE_DEADLINE_SECONDS", "5"),
            ("FLYTE_AWS_RETRIES", "0"),
        ],
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let message = &a.error.as_ref().expect("error.pb").message;
    for part in [
        "s3://bucket/inputs.pb",
        "FLYTE_AWS_ACCESS_KEY_ID",
        "FLYTE_AWS_SECRET_ACCESS_KEY",
        "FLYTE_AWS_ENDPOINT",
    ] {
        assert!(message.contains(part), "{message:?} lacks {part:?}");
    }
}

/// Item 9: A network failure while reading a file input is transient: RECOVERABLE, like flytekit's
/// FlyteDownloadDataException, and the message names the endpoint.
#[test]
fn network_failure_reading_a_file_is_recoverable() {
    let dir = tempfile::tempdir().unwrap();
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let inputs = dir.path().join("inputs.pb");
    write_inputs(&inputs, vec![("f", file("s3://bucket/data/f.txt"))]);
    let out = dir.path().join("out");
    let mut cmd = Command::new(flytekit_oracle::example_binary("hostile"));
    cmd.args(["execute", "--inputs"])
        .arg(&inputs)
        .arg("--output-prefix")
        .arg(&out)
        .args(["--resolver", RESOLVER, "--", "task-module", "hostile"])
        .args(["task-name", "size"]);
    s3_env(
        &mut cmd,
        dir.path(),
        &[
            ("FLYTE_AWS_ENDPOINT", &closed),
            ("FLYTE_AWS_ACCESS_KEY_ID", "k"),
            ("FLYTE_AWS_SECRET_ACCESS_KEY", "s"),
            ("FLYTE_AWS_RETRIES", "1"),
        ],
    );
    let a = answer(cmd.output().unwrap(), &out);
    assert_eq!(
        a.kind(),
        Some(("SYSTEM".into(), "RECOVERABLE", "SYSTEM")),
        "{a:#?}"
    );
    let message = &a.error.as_ref().unwrap().message;
    assert!(message.contains(&closed), "{message}");
}

/// Item 10: A huge string input with decks on: the deck shows a bounded part of it, says it was cut,
/// and the task's outputs are whole.
#[test]
fn decks_cut_huge_values() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(20 << 20);
    let inv = plain(dir.path(), "echo", vec![("s", string(big.clone()))]);
    let a = rust_execute(&inv);
    assert_eq!(a.status.code(), Some(0), "{}", a.stderr);
    assert_eq!(a.outputs, Some(json!({"o0": big})));
    let deck = std::fs::read_to_string(dir.path().join("out/deck.html")).unwrap();
    assert!(deck.len() < 1 << 20, "deck.html is {} bytes", deck.len());
    assert_eq!(
        deck.matches("The value was cut").count(),
        2,
        "Input and Output"
    );
}

fn run(args: &[&str]) -> Output {
    Command::new(flytekit_oracle::example_binary("hostile"))
        .arg("run")
        .args(args)
        .output()
        .unwrap()
}

/// Item 11: `run` checks struct JSON while parsing the inputs (exit 2, naming the field) and reads
/// nan and inf for floats, as Python's float() does.
#[test]
fn run_checks_struct_fields_and_reads_nan() {
    for (value, part) in [
        (r#"{"x": "a", "y": 2}"#, "field 'x'"),
        (r#"{"x": 1}"#, "missing field 'y'"),
        (r#"{"x": 1.5, "y": 2}"#, "field 'x'"),
        (r#"{"x": "3", "y": 2}"#, "field 'x'"),
    ] {
        let o = run(&["norm", "--p", value]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{value}: {stderr}");
        assert!(stderr.contains(part), "{value}: {stderr}");
        assert!(stderr.contains("input --p"), "{value}: {stderr}");
    }
    let o = run(&["norm", "--p", r#"{"x": -1, "y": 2}"#]);
    assert!(o.status.success(), "{o:?}");
    for (value, want) in [
        ("nan", Value::Null),
        ("inf", Value::Null),
        ("-Infinity", Value::Null),
        ("1.5", json!(3.0)),
    ] {
        let o = run(&["scale", "--x", value, "-q"]);
        assert!(o.status.success(), "{value}: {o:?}");
        let printed: Value = serde_json::from_slice(&o.stdout).expect("outputs as JSON");
        assert_eq!(printed["o0"], want, "{value}: {printed}");
    }
}

/// Item 6: a local `run` retries only recoverable errors (Propeller's rule): a user error of a
/// task with `retries = 3` fails after its first attempt; the same task succeeds otherwise.
#[test]
fn run_does_not_retry_what_cannot_recover() {
    let o = run(&["strict", "--x", "-1", "-q"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(stderr.contains("after 1 attempt(s)"), "{stderr}");
    assert!(stderr.contains("-1 is negative"), "{stderr}");
    let o = run(&["strict", "--x", "4", "-q"]);
    assert!(o.status.success(), "{o:?}");
    let printed: Value = serde_json::from_slice(&o.stdout).expect("outputs as JSON");
    assert_eq!(printed["o0"], json!(4));
}

// ------------------------------------------------------------------------------------------------
// Property: whatever the inputs and loader args, `execute` ends by itself (no signal) and writes
// nothing outside its output prefix (its working directory, under TMPDIR, is removed).

mod property {
    use super::*;
    use proptest::prelude::*;

    const NAMES: &[&str] = &["a", "b", "x", "xs", "p", "s", "f", "extra"];

    fn uris(root: &Path) -> Vec<String> {
        vec![
            root.join("in/inputs.pb").display().to_string(),
            root.join("in/missing.pb").display().to_string(),
            root.join("in").display().to_string(),
            root.join("in/blob.pb").display().to_string(),
            "../in/blob.pb".into(),
            "/etc/hostname".into(),
            "memory://b/k".into(),
            "s3://".into(),
            "gs:///x".into(),
            "ftp://x/y".into(),
            String::new(),
        ]
    }

    /// A literal tree; `u` indexes [`uris`] for blobs and offloaded pointers.
    #[derive(Clone, Debug)]
    enum Tree {
        Int(i64),
        Float(f64),
        Str(String),
        Msgpack(Vec<u8>),
        File(usize),
        Pointer(usize),
        List(Vec<Tree>),
        Map(Vec<(String, Tree)>),
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Tree::Int),
            any::<f64>().prop_map(Tree::Float),
            ".{0,8}".prop_map(Tree::Str),
            proptest::collection::vec(any::<u8>(), 0..24).prop_map(Tree::Msgpack),
            (0usize..11).prop_map(Tree::File),
            (0usize..11).prop_map(Tree::Pointer),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Tree::List),
                proptest::collection::vec(("[a-z]{0,3}", inner), 0..4).prop_map(Tree::Map),
            ]
        })
    }

    fn literal_of(t: &Tree, uris: &[String]) -> Literal {
        match t {
            Tree::Int(i) => int(*i),
            Tree::Float(f) => float(*f),
            Tree::Str(s) => string(s.clone()),
            Tree::Msgpack(b) => msgpack(b.clone()),
            Tree::File(u) => file(&uris[*u]),
            Tree::Pointer(u) => pointer(Path::new(&uris[*u])),
            Tree::List(items) => list(items.iter().map(|t| literal_of(t, uris)).collect()),
            Tree::Map(entries) => Literal {
                value: Some(literal::Value::Map(Box::new(LiteralMap {
                    literals: entries
                        .iter()
                        .map(|(k, t)| (k.clone(), literal_of(t, uris)))
                        .collect(),
                }))),
                ..Default::default()
            },
        }
    }

    /// How `inputs.pb` is made: arbitrary bytes, or an encoded literal map, possibly cut short or
    /// with one byte changed.
    #[derive(Clone, Debug)]
    enum InputsFile {
        Bytes(Vec<u8>),
        Map(Vec<(usize, Tree)>, Option<usize>, Option<(usize, u8)>),
    }

    fn inputs_file() -> impl Strategy<Value = InputsFile> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..256).prop_map(InputsFile::Bytes),
            (
                proptest::collection::vec((0usize..NAMES.len(), tree()), 0..4),
                proptest::option::of(0usize..512),
                proptest::option::of((0usize..512, any::<u8>())),
            )
                .prop_map(|(m, cut, flip)| InputsFile::Map(m, cut, flip)),
        ]
    }

    fn loader_args() -> impl Strategy<Value = Vec<String>> {
        let word = prop_oneof![
            Just("task-module".to_string()),
            Just("task-name".to_string()),
            Just("hostile".to_string()),
            proptest::sample::select(vec![
                "add",
                "scale",
                "twice",
                "norm",
                "count",
                "size",
                "echo",
                "secret_len",
            ])
            .prop_map(str::to_string),
            "[a-z_./-]{0,6}",
            Just("../../..".to_string()),
            Just(String::new()),
        ];
        prop_oneof![
            3 => proptest::sample::select(vec![
                "add", "scale", "twice", "norm", "count", "size", "echo", "secret_len",
            ])
            .prop_map(|t| vec![
                "task-module".to_string(),
                "hostile".to_string(),
                "task-name".to_string(),
                t.to_string(),
            ]),
            1 => proptest::collection::vec(word, 0..6),
        ]
    }

    /// Every path under `root`, relative, files and directories.
    fn tree_of(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                out.push(p.strip_prefix(root).unwrap().display().to_string());
                if p.is_dir() && !p.is_symlink() {
                    stack.push(p);
                }
            }
        }
        out.sort();
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn execute_ends_by_itself_and_writes_only_its_outputs(
            file in inputs_file(),
            args in loader_args(),
            resolver in prop_oneof![
                4 => Just(RESOLVER.to_string()),
                1 => Just("flytekit.resolver.map".to_string()),
                1 => "[a-z.]{0,12}",
            ],
            blob in prop_oneof![
                Just(0u8), Just(1u8), Just(2u8),
                proptest::collection::vec(any::<u8>(), 0..32).prop_map(|_| 3u8),
            ],
            blob_bytes in proptest::collection::vec(any::<u8>(), 0..32),
        ) {
            let root = tempfile::tempdir().unwrap();
            let root = root.path();
            for d in ["in", "cwd", "tmp"] {
                std::fs::create_dir_all(root.join(d)).unwrap();
            }
            let uris = uris(root);
            // The object pointers and files may name: a value, a pointer to itself, a list
            // holding a pointer to itself, or garbage.
            let blob_path = root.join("in/blob.pb");
            let blob_content = match blob {
                0 => int(7).encode_to_vec(),
                1 => pointer(&blob_path).encode_to_vec(),
                2 => list(vec![pointer(&blob_path), int(1)]).encode_to_vec(),
                _ => blob_bytes,
            };
            std::fs::write(&blob_path, blob_content).unwrap();
            let bytes = match &file {
                InputsFile::Bytes(b) => b.clone(),
                InputsFile::Map(entries, cut, flip) => {
                    let map = LiteralMap {
                        literals: entries
                            .iter()
                            .map(|(n, t)| (NAMES[*n].to_string(), literal_of(t, &uris)))
                            .collect(),
                    };
                    let mut b = map.encode_to_vec();
                    if let Some((i, x)) = flip
                        && !b.is_empty() {
                            let i = i % b.len();
                            b[i] ^= x;
                        }
                    if let Some(c) = cut {
                        b.truncate(*c);
                    }
                    b
                }
            };
            std::fs::write(root.join("in/inputs.pb"), &bytes).unwrap();
            let before = tree_of(root);
            let out = Command::new(flytekit_oracle::example_binary("hostile"))
                .args(["execute", "--inputs"])
                .arg(root.join("in/inputs.pb"))
                .arg("--output-prefix")
                .arg(root.join("out"))
                .args(["--resolver", &resolver, "--"])
                .args(&args)
                .env("TMPDIR", root.join("tmp"))
                .env("FLYTE_SECRETS_DEFAULT_DIR", root.join("secrets"))
                .env("FLYTEKIT_STORAGE_DEADLINE_SECONDS", "2")
                .env("FLYTE_AWS_RETRIES", "0")
                .env_remove("FLYTE_FAIL_ON_ERROR")
                .current_dir(root.join("cwd"))
                .output()
                .unwrap();
            {
                use std::os::unix::process::ExitStatusExt;
                prop_assert!(out.status.signal().is_none(), "killed by a signal: {:?}", out);
            }
            prop_assert_eq!(out.status.code(), Some(0), "{:?}", out);
            let after: Vec<String> = tree_of(root)
                .into_iter()
                .filter(|p| !before.contains(p))
                .collect();
            for p in &after {
                prop_assert!(p == "out" || p.starts_with("out/"), "wrote {} ({:?})", p, after);
            }
            let written: Vec<&str> = after
                .iter()
                .filter_map(|p| p.strip_prefix("out/"))
                .filter(|p| *p != "deck.html")
                .collect();
            prop_assert!(
                written == ["outputs.pb"] || written == ["error.pb"],
                "outputs: {:?}", written
            );
            prop_assert_eq!(
                std::fs::read(root.join("in/inputs.pb")).unwrap(),
                bytes,
                "inputs.pb changed"
            );
        }
    }
}
