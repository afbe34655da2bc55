//! Test support for flytekit-rs: runs Python flytekit, the conformance oracle, from Rust tests.
//!
//! `scripts/test` creates a virtual environment at `<workspace>/.venv` from
//! `conformance/requirements.txt` (the one place where the Python versions are pinned).
//! Tests find its interpreter through [`python`]: the `FLYTEKIT_PYTHON` environment variable wins,
//! then `<workspace>/.venv/bin/python`. A missing interpreter fails the test with instructions;
//! conformance tests are never skipped silently.
//!
//! Python helper scripts live in `conformance/` at the workspace root; [`conformance_dir`] finds it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // This crate lives at <root>/crates/flytekit-oracle.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("flytekit-oracle sits two levels below the workspace root")
        .to_path_buf()
}

/// The `conformance/` directory with the Python oracle scripts.
pub fn conformance_dir() -> PathBuf {
    workspace_root().join("conformance")
}

/// Path of the Python interpreter that has the pinned flytekit installed.
///
/// # Panics
/// Panics with instructions when no interpreter is found: run `scripts/test`, which creates it.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("FLYTEKIT_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = workspace_root().join(".venv/bin/python");
    if venv.exists() {
        return venv;
    }
    panic!(
        "the Python oracle is missing: run `scripts/test` (it creates .venv with the pinned flytekit \
         from conformance/requirements.txt) or set FLYTEKIT_PYTHON to an interpreter that has it"
    );
}

/// What a finished Python run produced.
#[derive(Debug)]
pub struct PyOutput {
    /// Standard output, raw bytes.
    pub stdout: Vec<u8>,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl PyOutput {
    /// Standard output decoded as UTF-8 (lossy).
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// Runs `python -c <code> <args...>` with `stdin` piped in; panics (failing the test) with the
/// script's stderr when it exits non-zero.
pub fn run_code(code: &str, args: &[&str], stdin: &[u8]) -> PyOutput {
    let mut cmd = Command::new(python());
    cmd.arg("-c").arg(code).args(args);
    run(cmd, stdin, "inline script")
}

/// Runs `python conformance/<script> <args...>` with `stdin` piped in; panics (failing the test)
/// with the script's stderr when it exits non-zero.
pub fn run_script(script: &str, args: &[&str], stdin: &[u8]) -> PyOutput {
    let path = conformance_dir().join(script);
    let mut cmd = Command::new(python());
    cmd.arg(&path).args(args);
    run(cmd, stdin, script)
}

/// Like [`run_code`], but returns the exit status and output instead of panicking on failure.
pub fn try_run_code(code: &str, args: &[&str], stdin: &[u8]) -> (bool, PyOutput) {
    let mut cmd = Command::new(python());
    cmd.arg("-c").arg(code).args(args);
    spawn(cmd, stdin)
}

fn spawn(mut cmd: Command, stdin: &[u8]) -> (bool, PyOutput) {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // flytekit logs to stderr; keep it quiet and deterministic.
    cmd.env("FLYTE_SDK_LOGGING_LEVEL", "40");
    cmd.env("PYTHONHASHSEED", "0");
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", python()));
    {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        // A script may exit without reading stdin; a broken pipe is not our failure.
        let _ = pipe.write_all(stdin);
    }
    let out = child.wait_with_output().expect("python run");
    (
        out.status.success(),
        PyOutput {
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        },
    )
}

fn run(cmd: Command, stdin: &[u8], what: &str) -> PyOutput {
    let (ok, out) = spawn(cmd, stdin);
    if !ok {
        panic!("python oracle `{what}` failed:\n{}", out.stderr);
    }
    out
}

/// The binary of example `name` of the `flytekit` crate, in the same profile as the running test
/// (`target/<profile>/examples/<name>`), built with `cargo build --example` when missing.
///
/// # Panics
/// Panics when the build fails.
pub fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile directory");
    let bin = profile_dir.join("examples").join(name);
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "flytekit", "--example", name])
            .status()
            .expect("cargo build --example");
        assert!(status.success(), "building example {name} failed");
    }
    bin
}

/// The value of `name`, one of the `FLYTEKIT_TEST_*` variables that `scripts/test` exports for
/// the servers it starts (the S3-compatible store, the OCI registry).
///
/// # Panics
/// Panics with instructions when it is not set.
pub fn test_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run scripts/test, which starts the S3 test server \
             (scripts/s3-server start) and the OCI registry (scripts/oci-registry start) and \
             exports their settings"
        )
    })
}

/// flytekit's storage environment for the local S3 test server: endpoint, keys, region, and
/// plain HTTP allowed.
///
/// # Panics
/// Panics when the server's settings are not exported (see [`test_env`]).
pub fn s3_env() -> Vec<(&'static str, String)> {
    vec![
        ("FLYTE_AWS_ENDPOINT", test_env("FLYTEKIT_TEST_S3_ENDPOINT")),
        (
            "FLYTE_AWS_ACCESS_KEY_ID",
            test_env("FLYTEKIT_TEST_S3_ACCESS_KEY_ID"),
        ),
        (
            "FLYTE_AWS_SECRET_ACCESS_KEY",
            test_env("FLYTEKIT_TEST_S3_SECRET_ACCESS_KEY"),
        ),
        ("AWS_REGION", test_env("FLYTEKIT_TEST_S3_REGION")),
        ("AWS_ALLOW_HTTP", "true".to_string()),
    ]
}

/// A suffix unique to this process and moment, for names that must not collide across runs.
pub fn nonce() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}
