//! `run --sandbox`: every task node runs as a subprocess under the container contract, through a
//! blob store, and agrees with the in-process engine; retries follow Propeller (recoverable errors
//! only).

use std::process::{Command, Output};

use serde_json::Value;

fn run(example: &str, args: &[&str], envs: &[(&str, String)]) -> Output {
    let cache = tempfile::tempdir().unwrap();
    Command::new(flytekit_oracle::example_binary(example))
        .arg("run")
        .args(args)
        .env("FLYTEKIT_CACHE_DIR", cache.path())
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("example runs")
}

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON outputs")
}

/// The quickstart's outputs with the report file (o2) replaced by its contents: file locations
/// differ between runs, contents must not.
fn with_file_contents(mut v: Value) -> Value {
    let path = v["o2"].as_str().expect("o2 is a file path").to_string();
    v["o2"] =
        Value::String(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")));
    v
}

#[test]
fn sandbox_and_in_process_agree_on_the_quickstart() {
    let args = ["pi", "--samples", "5000", "--name", "Ada", "--no-cache"];
    let local = json(&run("quickstart", &args, &[]));
    let store = tempfile::tempdir().unwrap();
    let mut sargs = args.to_vec();
    sargs.extend(["--sandbox-store", store.path().to_str().unwrap()]);
    let sandboxed = run("quickstart", &sargs, &[]);
    assert_eq!(
        with_file_contents(json(&sandboxed)),
        with_file_contents(local)
    );
    // Every task node left its container files in the store.
    let mut inputs = 0;
    let mut outputs = 0;
    for e in walk(store.path()) {
        match e.file_name().and_then(|n| n.to_str()) {
            Some("inputs.pb") => inputs += 1,
            Some("outputs.pb") => outputs += 1,
            _ => {}
        }
    }
    assert_eq!((inputs, outputs), (7, 7));
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn recoverable_failures_are_retried_and_others_are_not() {
    let o = run("contract", &["flaky", "--x", "5", "--sandbox"], &[]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(json(&o), serde_json::json!({"o0": 105}));
    assert!(
        stderr.contains("retry") && stderr.contains("USER:Recoverable"),
        "{stderr}"
    );

    let o = run("contract", &["broken", "--x", "5", "--sandbox"], &[]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr.contains("broken for 5") && stderr.contains("non-recoverable"),
        "{stderr}"
    );
    assert!(
        stderr.contains("after 1 attempt"),
        "a non-recoverable error was retried: {stderr}"
    );

    // In process, the same task gets the same outputs (the attempt number is local there too).
    let o = run(
        "contract",
        &["add", "--a", "2", "--b", "3", "--sandbox"],
        &[],
    );
    assert_eq!(json(&o), serde_json::json!({"o0": 5}));
}

#[test]
fn sandbox_through_the_s3_store() {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run scripts/test, which starts the S3 test server and exports it")
        })
    };
    let envs = flytekit_oracle::s3_env();
    let store = format!("s3://{}/sandbox", var("FLYTEKIT_TEST_S3_BUCKET"));
    let o = run(
        "quickstart",
        &[
            "pi",
            "--samples",
            "2000",
            "--no-cache",
            "--sandbox-store",
            &store,
        ],
        &envs,
    );
    let local = json(&run(
        "quickstart",
        &["pi", "--samples", "2000", "--no-cache"],
        &[],
    ));
    let sandboxed = json(&o);
    assert_eq!(sandboxed["o0"], local["o0"]);
    assert_eq!(sandboxed["o1"], local["o1"]);
    let report = sandboxed["o2"].as_str().expect("o2");
    assert!(
        report.starts_with("s3://"),
        "the report lives in the store: {report}"
    );
}

/// Ctrl-C stops a sandbox run: the CLI exits with 130 and no task container outlives it.
#[test]
fn ctrl_c_kills_the_task_containers() {
    let store = tempfile::tempdir().unwrap();
    let store_str = store.path().to_str().unwrap().to_string();
    let cache = tempfile::tempdir().unwrap();
    let mut child = Command::new(flytekit_oracle::example_binary("quickstart"))
        .args([
            "run",
            "pi",
            "--samples",
            "2000000000",
            "--no-cache",
            "--sandbox-store",
            &store_str,
        ])
        .env("FLYTEKIT_CACHE_DIR", cache.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("quickstart starts");
    // Processes whose command line mentions this run's store: the task containers.
    let containers = || {
        std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .filter(|c| {
                let c = String::from_utf8_lossy(c);
                c.contains(&store_str) && c.contains("execute")
            })
            .count()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while containers() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no task container started"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("quickstart exits");
    assert_eq!(exit.code(), Some(130));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while containers() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "task containers outlived the run"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn count_files(dir: &std::path::Path, name: &str) -> usize {
    walk(dir)
        .iter()
        .filter(|p| p.file_name().and_then(|n| n.to_str()) == Some(name))
        .count()
}

/// Map tasks and dynamic tasks go through the container contract in the sandbox, as Propeller
/// runs them — and agree with the in-process engine.
#[test]
fn map_and_dynamic_runs_agree_with_in_process() {
    let cases: &[&[&str]] = &[
        &["squares", "--xs", "[1,2,3]"],
        &["roots", "--xs", "[4,-1,9]"],
        &[
            "shifted",
            "--ps",
            r#"[{"x":1,"y":2},{"x":-3,"y":0}]"#,
            "--dx",
            "3",
        ],
        &["fan", "--n", "3", "--base", "10"],
        &["passthrough", "--n", "7"],
        &["squares_dyn", "--xs", "[1,2,3]"],
        &["nested", "--n", "3"],
        &["checked_fan", "--n", "3"],
        &["fan_twice", "--n", "2"],
    ];
    for args in cases {
        let mut local_args = args.to_vec();
        local_args.push("--no-cache");
        let local = json(&run("fanout", &local_args, &[]));
        let store = tempfile::tempdir().unwrap();
        let mut sargs = local_args.clone();
        sargs.extend(["--sandbox-store", store.path().to_str().unwrap()]);
        let sandboxed = json(&run("fanout", &sargs, &[]));
        assert_eq!(sandboxed, local, "run {args:?}");
    }
}

/// A map node is an ArrayNode: its whole inputs are written once and every element's container
/// (`map-execute`, index in `FLYTE_K8S_ARRAY_INDEX`) picks its element from them.
#[test]
fn map_elements_share_the_maps_inputs() {
    let store = tempfile::tempdir().unwrap();
    let args = [
        "squares",
        "--xs",
        "[1,2,3,4]",
        "--no-cache",
        "--sandbox-store",
        store.path().to_str().unwrap(),
    ];
    assert_eq!(
        json(&run("fanout", &args, &[]))["o0"],
        serde_json::json!([1, 4, 9, 16])
    );
    assert_eq!(count_files(store.path(), "inputs.pb"), 1);
    assert_eq!(count_files(store.path(), "outputs.pb"), 4);
}

/// A dynamic task's container writes `futures.pb`; the sandbox runs its nodes (`dn0`, ...) as
/// containers of their own.
#[test]
fn dynamic_tasks_write_futures_that_the_sandbox_runs() {
    let store = tempfile::tempdir().unwrap();
    let args = [
        "fan",
        "--n",
        "3",
        "--base",
        "1",
        "--no-cache",
        "--sandbox-store",
        store.path().to_str().unwrap(),
    ];
    let o = run("fanout", &args, &[]);
    assert_eq!(json(&o)["o0"], serde_json::json!(2 + 3 + 4));
    assert_eq!(count_files(store.path(), "futures.pb"), 1);
    // The dynamic task's container, then three `inc` nodes and `total`.
    assert_eq!(count_files(store.path(), "inputs.pb"), 5);
    assert_eq!(count_files(store.path(), "outputs.pb"), 4);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("/dn3"), "{stderr}");

    // A failing body is the dynamic task's own USER error; nothing is expanded.
    let o = run("fanout", &["checked_fan", "--n", "-1", "--sandbox"], &[]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("n must not be negative"), "{stderr}");
}
