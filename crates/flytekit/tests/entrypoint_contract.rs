//! The container contract, end to end: flytekit writes `inputs.pb`, a real subprocess of the
//! `contract` example runs `execute` exactly as Propeller would start it, and flytekit decodes
//! `outputs.pb` / `error.pb`. Every row of flytekit's error table is produced by a real failing
//! task (contract §6.4), and bad input (missing or corrupt inputs, wrong types, unknown resolver or
//! task, too few loader args) gets the documented `error.pb`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const RESOLVER: &str = "flytekit.resolver.default";

struct Run {
    dir: tempfile::TempDir,
    out: PathBuf,
    inputs: PathBuf,
}

impl Run {
    /// A scratch dir with inputs written by flytekit from `values`.
    fn new(values: Value) -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = dir.path().join("inputs.pb");
        flytekit_oracle::run_script(
            "entrypoint.py",
            &[
                "write-inputs",
                inputs.to_str().unwrap(),
                &values.to_string(),
            ],
            b"",
        );
        let out = dir.path().join("out");
        Run { dir, out, inputs }
    }

    fn command(&self, resolver: &str, loader_args: &[&str]) -> Command {
        let mut cmd = Command::new(flytekit_oracle::example_binary("contract"));
        cmd.args(["execute", "--inputs"])
            .arg(&self.inputs)
            .arg("--output-prefix")
            .arg(&self.out)
            // Unsubstituted placeholders, as when Propeller has nothing to put there.
            .args([
                "--raw-output-data-prefix",
                "{{.rawOutputDataPrefix}}",
                "--checkpoint-path",
                "{{.checkpointOutputPrefix}}",
                "--prev-checkpoint",
                "\"\"",
                "--resolver",
                resolver,
                "--",
            ])
            .args(loader_args)
            .env_remove("FLYTE_FAIL_ON_ERROR")
            .env_remove("_F_DES")
            .env_remove("FLYTE_INTERNAL_DIST_ERROR_STRATEGY")
            .current_dir(self.dir.path());
        cmd
    }

    fn task(&self, name: &str) -> Command {
        self.command(RESOLVER, &["task-module", "contract", "task-name", name])
    }

    /// What flytekit reads back from the output prefix.
    fn report(&self) -> Value {
        let out = flytekit_oracle::run_script(
            "entrypoint.py",
            &["read", self.out.to_str().unwrap()],
            b"",
        );
        serde_json::from_slice(&out.stdout).expect("report is JSON")
    }
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("the contract example runs")
}

fn assert_error(report: &Value, code: &str, kind: &str, origin: &str, message_part: &str) {
    let e = &report["error"];
    assert_eq!(e["code"], code, "{report:#}");
    assert_eq!(e["kind"], kind, "{report:#}");
    assert_eq!(e["origin"], origin, "{report:#}");
    assert_eq!(e["has_timestamp"], true, "{report:#}");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(message_part),
        "message {msg:?} lacks {message_part:?}"
    );
    assert!(
        report.get("outputs").is_none(),
        "outputs next to an error: {report:#}"
    );
}

#[test]
fn outputs_are_read_by_flytekit() {
    let r = Run::new(json!({"a": 2, "b": 40}));
    let o = run(r.task("add"));
    assert!(o.status.success(), "{o:?}");
    let rep = r.report();
    assert_eq!(rep["outputs"], json!({"o0": 42}));
    assert_eq!(rep["files"], json!(["outputs.pb"]));

    let r = Run::new(json!({"name": "Ada"}));
    assert!(run(r.task("greet")).status.success());
    assert_eq!(r.report()["outputs"], json!({"o0": "Hello, Ada!"}));

    let r = Run::new(json!({"a": 7}));
    assert!(run(r.task("split")).status.success());
    assert_eq!(r.report()["outputs"], json!({"o0": 7, "o1": "7"}));

    let r = Run::new(json!({"x": 7}));
    assert!(run(r.task("nothing")).status.success());
    assert_eq!(r.report()["outputs"], json!({}));
}

#[test]
fn user_errors_follow_flytekits_table() {
    let cases = [
        (
            "fail_user",
            "USER:RuntimeError",
            "NON_RECOVERABLE",
            "cannot handle 7",
        ),
        (
            "fail_recoverable",
            "USER:Recoverable",
            "RECOVERABLE",
            "try 7 again later",
        ),
        (
            "fail_code",
            "USER:QuotaExceeded",
            "NON_RECOVERABLE",
            "quota exceeded at 7",
        ),
        (
            "panics",
            "USER:RuntimeError",
            "NON_RECOVERABLE",
            "boom at 7",
        ),
    ];
    for (task, code, kind, msg) in cases {
        let r = Run::new(json!({"x": 7}));
        let o = run(r.task(task));
        assert!(
            o.status.success(),
            "{task}: exit 0 without FLYTE_FAIL_ON_ERROR: {o:?}"
        );
        let rep = r.report();
        assert_error(&rep, code, kind, "USER", msg);
        assert_eq!(rep["files"], json!(["error.pb"]), "{task}");
    }
}

#[test]
fn conversion_errors_are_system_non_recoverable() {
    // An output that cannot be converted (a file that does not exist).
    let r = Run::new(json!({"x": 7}));
    run(r.task("bad_output"));
    assert_error(
        &r.report(),
        "SYSTEM",
        "NON_RECOVERABLE",
        "SYSTEM",
        "bad_output",
    );

    // An input of the wrong type.
    let r = Run::new(json!({"a": "two", "b": 40}));
    run(r.task("add"));
    assert_error(&r.report(), "SYSTEM", "NON_RECOVERABLE", "SYSTEM", "'a'");

    // A missing input.
    let r = Run::new(json!({"a": 2}));
    run(r.task("add"));
    assert_error(&r.report(), "SYSTEM", "NON_RECOVERABLE", "SYSTEM", "'b'");
}

#[test]
fn bad_inputs_files_are_system_recoverable() {
    let r = Run::new(json!({}));
    std::fs::remove_file(&r.inputs).unwrap();
    run(r.task("add"));
    assert_error(&r.report(), "SYSTEM", "RECOVERABLE", "SYSTEM", "inputs");

    let r = Run::new(json!({}));
    std::fs::write(&r.inputs, b"\xff\xff\xff not a protobuf").unwrap();
    run(r.task("add"));
    assert_error(
        &r.report(),
        "SYSTEM",
        "RECOVERABLE",
        "SYSTEM",
        "not a flyteidl.core.LiteralMap",
    );
}

#[test]
fn load_failures_are_user_errors() {
    let r = Run::new(json!({"a": 1, "b": 2}));
    run(r.task("ad"));
    assert_error(
        &r.report(),
        "USER:RuntimeError",
        "NON_RECOVERABLE",
        "USER",
        "did you mean contract.add",
    );

    let r = Run::new(json!({"a": 1, "b": 2}));
    run(r.command(
        "no.such.resolver",
        &["task-module", "contract", "task-name", "add"],
    ));
    assert_error(
        &r.report(),
        "USER:RuntimeError",
        "NON_RECOVERABLE",
        "USER",
        "no task resolver at 'no.such.resolver'",
    );

    let r = Run::new(json!({"a": 1, "b": 2}));
    run(r.command(RESOLVER, &["task-module", "contract"]));
    assert_error(
        &r.report(),
        "USER:RuntimeError",
        "NON_RECOVERABLE",
        "USER",
        "task-module <module> task-name <function>",
    );

    let r = Run::new(json!({"a": 1, "b": 2}));
    run(r.command(RESOLVER, &[]));
    assert_error(
        &r.report(),
        "USER:RuntimeError",
        "NON_RECOVERABLE",
        "USER",
        "resolver args cannot be empty",
    );
}

#[test]
fn ignore_outputs_writes_nothing() {
    let r = Run::new(json!({"x": 1}));
    let o = run(r.task("ignored"));
    assert!(o.status.success());
    assert!(!r.out.exists() || std::fs::read_dir(&r.out).unwrap().next().is_none());
}

#[test]
fn fail_on_error_and_distributed_error_files() {
    let r = Run::new(json!({"x": 7}));
    let mut cmd = r.task("fail_user");
    cmd.env("FLYTE_FAIL_ON_ERROR", "True");
    let o = run(cmd);
    assert_eq!(o.status.code(), Some(1));
    assert_error(
        &r.report(),
        "USER:RuntimeError",
        "NON_RECOVERABLE",
        "USER",
        "cannot handle 7",
    );

    let r = Run::new(json!({"x": 7}));
    let mut cmd = r.task("fail_user");
    cmd.env("_F_DES", "earliest").env("_F_WN", "w0");
    assert!(run(cmd).status.success());
    let rep = r.report();
    let file = rep["error_file"].as_str().unwrap();
    assert!(
        file.starts_with("error-") && file.ends_with(".pb") && file.len() == "error-.pb".len() + 32,
        "{file}"
    );
    assert_eq!(rep["error"]["worker"], "w0");
}

#[test]
fn decks_are_written_and_escaped() {
    let r = Run::new(json!({"x": 3}));
    assert!(run(r.task("with_deck")).status.success());
    let rep = r.report();
    assert_eq!(rep["outputs"], json!({"o0": 9}));
    let deck = rep["deck"].as_str().expect("deck.html next to outputs.pb");
    for part in [
        "<li onclick=\"handleLinkClick(this)\"",
        ">Input<",
        ">Output<",
        ">Timeline<",
        ">Report<",
        "<h1>Squares</h1>",
        "<strong>9</strong>",
    ] {
        assert!(deck.contains(part), "deck lacks {part:?}");
    }
    // Tasks without decks write none.
    let r = Run::new(json!({"a": 1, "b": 2}));
    run(r.task("add"));
    assert!(r.report().get("deck").is_none());
}

#[test]
fn secrets_come_from_env_or_files_and_never_leak() {
    let secret = "hunter2-s3cr3t";
    let r = Run::new(json!({"x": 1}));
    let mut cmd = r.task("secret_len");
    cmd.env("_FSEC_DB_PASSWORD", secret);
    let o = run(cmd);
    assert_eq!(
        r.report()["outputs"],
        json!({"o0": secret.len() as i64 + 1})
    );
    assert!(!String::from_utf8_lossy(&o.stderr).contains(secret));

    // From Propeller's file layout.
    let r = Run::new(json!({"x": 1}));
    let secrets = r.dir.path().join("secrets");
    std::fs::create_dir_all(secrets.join("db")).unwrap();
    std::fs::write(secrets.join("db").join("password"), format!("{secret}\n")).unwrap();
    let mut cmd = r.task("secret_len");
    cmd.env_remove("_FSEC_DB_PASSWORD")
        .env("FLYTE_SECRETS_DEFAULT_DIR", &secrets);
    run(cmd);
    assert_eq!(
        r.report()["outputs"],
        json!({"o0": secret.len() as i64 + 1})
    );

    // Missing: a USER error that says where it looked.
    let r = Run::new(json!({"x": 1}));
    let mut cmd = r.task("secret_len");
    cmd.env_remove("_FSEC_DB_PASSWORD")
        .env("FLYTE_SECRETS_DEFAULT_DIR", r.dir.path().join("none"));
    run(cmd);
    assert_error(
        &r.report(),
        "USER:RuntimeError",
        "NON_RECOVERABLE",
        "USER",
        "_FSEC_DB_PASSWORD",
    );
}

#[test]
fn checkpoints_carry_over_between_attempts() {
    let r = Run::new(json!({"x": 5}));
    let cp1 = r.dir.path().join("cp1");
    let cp2 = r.dir.path().join("cp2");
    let with_cp = |dest: &Path, prev: Option<&Path>, out: &Path| {
        let mut cmd = Command::new(flytekit_oracle::example_binary("contract"));
        cmd.args(["execute", "--inputs"])
            .arg(&r.inputs)
            .arg("--output-prefix")
            .arg(out)
            .arg("--checkpoint-path")
            .arg(dest)
            .arg("--prev-checkpoint")
            .arg(
                prev.map(|p| p.display().to_string())
                    .unwrap_or_else(|| "{{.prevCheckpointPrefix}}".into()),
            )
            .args([
                "--resolver",
                RESOLVER,
                "--",
                "task-module",
                "contract",
                "task-name",
                "checkpointed",
            ]);
        assert!(run(cmd).status.success());
    };
    with_cp(&cp1, None, &r.out);
    assert_eq!(r.report()["outputs"], json!({"o0": 5}));
    let out2 = r.dir.path().join("out2");
    with_cp(&cp2, Some(&cp1), &out2);
    let rep = flytekit_oracle::run_script("entrypoint.py", &["read", out2.to_str().unwrap()], b"");
    let rep: Value = serde_json::from_slice(&rep.stdout).unwrap();
    assert_eq!(rep["outputs"], json!({"o0": 10}));
}

#[test]
fn test_flag_only_loads() {
    let r = Run::new(json!({}));
    let mut cmd = r.task("add");
    cmd.arg("--test");
    // `--test` after `--` is a loader arg; put it before instead.
    let mut cmd2 = Command::new(flytekit_oracle::example_binary("contract"));
    cmd2.args(["execute", "--test", "--inputs", "x", "--output-prefix"])
        .arg(&r.out)
        .args([
            "--resolver",
            RESOLVER,
            "--",
            "task-module",
            "contract",
            "task-name",
            "add",
        ]);
    let o = run(cmd2);
    assert!(o.status.success(), "{o:?}");
    assert!(!r.out.exists());
    drop(cmd);
}

/// Inputs and outputs in a real S3-compatible store (Garage, started by `scripts/test`), configured
/// through the same environment variables flytekit reads.
#[test]
fn inputs_and_outputs_on_s3() {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run scripts/test, which starts the S3 test server and exports it")
        })
    };
    let env = flytekit_oracle::s3_env();
    let bucket = var("FLYTEKIT_TEST_S3_BUCKET");
    let config = flytekit::storage::StorageConfig::from_lookup(|name| {
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .expect("storage config");
    let storage = flytekit::storage::Storage::from_config(config);
    let prefix = format!("s3://{bucket}/entrypoint/{}", uuid::Uuid::new_v4().simple());
    let r = Run::new(json!({"a": 20, "b": 22}));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(storage.upload_file(&r.inputs, &format!("{prefix}/inputs.pb")))
        .expect("upload inputs");

    let mut cmd = Command::new(flytekit_oracle::example_binary("contract"));
    cmd.args([
        "execute",
        "--inputs",
        &format!("{prefix}/inputs.pb"),
        "--output-prefix",
        &format!("{prefix}/out"),
    ])
    .args(["--raw-output-data-prefix", &format!("{prefix}/raw")])
    .args([
        "--resolver",
        RESOLVER,
        "--",
        "task-module",
        "contract",
        "task-name",
        "add",
    ])
    .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let o = run(cmd);
    assert!(o.status.success(), "{o:?}");
    rt.block_on(storage.download_file(
        &format!("{prefix}/out/outputs.pb"),
        &r.out.join("outputs.pb"),
    ))
    .expect("outputs.pb on S3");
    assert_eq!(r.report()["outputs"], json!({"o0": 42}));

    // A missing inputs object: SYSTEM, recoverable, and the error names the URI.
    let mut cmd = Command::new(flytekit_oracle::example_binary("contract"));
    cmd.args([
        "execute",
        "--inputs",
        &format!("{prefix}/missing.pb"),
        "--output-prefix",
        &format!("{prefix}/out2"),
    ])
    .args([
        "--resolver",
        RESOLVER,
        "--",
        "task-module",
        "contract",
        "task-name",
        "add",
    ])
    .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    assert!(run(cmd).status.success());
    let local = r.dir.path().join("out2");
    rt.block_on(storage.download_file(&format!("{prefix}/out2/error.pb"), &local.join("error.pb")))
        .expect("error.pb on S3");
    let rep = flytekit_oracle::run_script("entrypoint.py", &["read", local.to_str().unwrap()], b"");
    let rep: Value = serde_json::from_slice(&rep.stdout).unwrap();
    assert_error(&rep, "SYSTEM", "RECOVERABLE", "SYSTEM", "missing.pb");
}

/// Fast registration end to end: the binary travels as a bundle in the S3 store, `fast-execute`
/// installs it and runs the task with the bundle's copy of the binary.
#[test]
fn fast_execute_runs_the_bundled_binary_from_s3() {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run scripts/test, which starts the S3 test server and exports it")
        })
    };
    let env = flytekit_oracle::s3_env();
    let bucket = var("FLYTEKIT_TEST_S3_BUCKET");
    let storage = flytekit::storage::Storage::from_config(
        flytekit::storage::StorageConfig::from_lookup(|name| {
            env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        })
        .expect("storage config"),
    );
    let r = Run::new(json!({"a": 1, "b": 2}));
    let bin = flytekit_oracle::example_binary("contract");
    // The bundle holds the binary under a name that is on no PATH: only the bundle can provide it.
    let bundle =
        flytekit::fast::FastBundle::create(&[(bin.as_path(), "contract-bundled")], r.dir.path())
            .expect("bundle");
    let prefix = format!("s3://{bucket}/fast/{}", uuid::Uuid::new_v4().simple());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let uri = rt
        .block_on(flytekit::fast::upload_bundle(&storage, &prefix, &bundle))
        .expect("upload bundle");
    let dest = r.dir.path().join("dest");
    let fast = |dist: &str| {
        let mut cmd = Command::new(&bin);
        cmd.args([
            "fast-execute",
            "--additional-distribution",
            dist,
            "--dest-dir",
        ])
        .arg(&dest)
        .args(["--", "contract-bundled", "execute", "--inputs"])
        .arg(&r.inputs)
        .arg("--output-prefix")
        .arg(&r.out)
        .args([
            "--resolver",
            RESOLVER,
            "--",
            "task-module",
            "contract",
            "task-name",
            "add",
        ])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        run(cmd)
    };
    let o = fast(&uri);
    assert!(o.status.success(), "{o:?}");
    assert!(dest.join("contract-bundled").is_file());
    assert_eq!(r.report()["outputs"], json!({"o0": 3}));

    let o = fast(&format!("{prefix}/fastmissing.tar.gz"));
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("task execution code was not found"),
        "{o:?}"
    );
}

/// `deck.html` renders in a real browser: headless Chromium (installed by `scripts/test`) loads
/// it, runs its script, and the DOM holds every deck; a screenshot is produced.
#[test]
fn deck_renders_in_headless_chromium() {
    let chromium = std::env::var("FLYTEKIT_TEST_CHROMIUM").unwrap_or_else(|_| "chromium".into());
    let r = Run::new(json!({"x": 4}));
    assert!(run(r.task("with_deck")).status.success());
    let deck = r.out.join("deck.html");
    let url = format!("file://{}", deck.display());
    let browse = |extra: &[&str]| {
        Command::new(&chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu"])
            .arg(format!("--user-data-dir={}", r.dir.path().join("chromium-profile").display()))
            .args(extra)
            .arg(&url)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {chromium} ({e}): run scripts/test, which installs it, or set FLYTEKIT_TEST_CHROMIUM")
            })
    };
    let dom = browse(&["--dump-dom"]);
    assert!(dom.status.success(), "{dom:?}");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        dom.matches("<li onclick=\"handleLinkClick(this)\"").count(),
        5,
        "{dom}"
    );
    assert!(
        dom.contains("<h1>Squares</h1>") && dom.contains("<strong>16</strong>"),
        "{dom}"
    );
    assert!(dom.contains("function handleLinkClick"), "{dom}");
    let png = r.dir.path().join("deck.png");
    let shot = browse(&[
        &format!("--screenshot={}", png.display()),
        "--window-size=800,600",
    ]);
    assert!(shot.status.success(), "{shot:?}");
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 2000,
        "{} bytes",
        bytes.len()
    );
}

/// Literal offloading both ways: flytekit-offloaded inputs are read through their pointers, and
/// with Propeller's `_F_L_MIN_SIZE_MB` set, outputs are offloaded beside `outputs.pb` in a form
/// flytekit reads back; a literal over `_F_L_MAX_SIZE_MB` is an error.
#[test]
fn offloaded_literals() {
    let r = Run::new(json!({}));
    flytekit_oracle::run_script(
        "entrypoint.py",
        &[
            "write-offloaded-inputs",
            r.inputs.to_str().unwrap(),
            &json!({"a": 20, "b": 22}).to_string(),
        ],
        b"",
    );
    let mut cmd = r.task("add");
    cmd.env("_F_L_MIN_SIZE_MB", "0");
    assert!(run(cmd).status.success());
    let rep = r.report();
    assert_eq!(rep["outputs"], json!({"o0": 42}));
    let uri = rep["offloaded"]["o0"].as_str().expect("o0 was offloaded");
    assert!(uri.ends_with("o0_offloaded_metadata.pb"), "{uri}");

    let r = Run::new(json!({"a": 1, "b": 2}));
    let mut cmd = r.task("add");
    cmd.env("_F_L_MIN_SIZE_MB", "0")
        .env("_F_L_MAX_SIZE_MB", "0");
    run(cmd);
    assert_error(
        &r.report(),
        "SYSTEM",
        "RECOVERABLE",
        "SYSTEM",
        "too large to be offloaded",
    );
}

/// `fast-execute` forwards SIGTERM to the task process and exits with 128 + the signal, like
/// pyflyte-fast-execute; the task process does not outlive it.
#[test]
fn fast_execute_forwards_sigterm() {
    let r = Run::new(json!({"ms": 60_000}));
    let bin = flytekit_oracle::example_binary("contract");
    let out = r.out.display().to_string();
    let mut parent = Command::new(&bin)
        .args(["fast-execute", "--"])
        .arg(&bin)
        .args(["execute", "--inputs"])
        .arg(&r.inputs)
        .args(["--output-prefix", &out])
        .args([
            "--resolver",
            RESOLVER,
            "--",
            "task-module",
            "contract",
            "task-name",
            "sleepy",
        ])
        .current_dir(r.dir.path())
        .spawn()
        .expect("fast-execute starts");
    let parent_pid = parent.id().to_string();
    // The task process: an `execute` whose command line names this run's output prefix.
    let task_processes = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy() != parent_pid)
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .filter(|c| {
                let c = String::from_utf8_lossy(c);
                c.contains(&out) && c.contains("execute") && !c.contains("fast-execute")
            })
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while task_processes() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the task process never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let kill = Command::new("kill")
        .args(["-TERM", &parent_pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = parent.wait().unwrap();
    assert_eq!(status.code(), Some(143), "128 + SIGTERM");
    assert_eq!(
        task_processes(),
        0,
        "the task process outlived fast-execute"
    );
    assert!(!r.out.join("outputs.pb").exists());
}
