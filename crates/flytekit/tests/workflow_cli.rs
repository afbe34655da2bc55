//! `run` through a real subprocess of the quickstart example: outputs as JSON, the cache, and
//! clear errors for unknown names and missing, unknown or mistyped inputs.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The quickstart binary, built on demand (scripts/test builds every example beforehand).
fn quickstart() -> PathBuf {
    flytekit_oracle::example_binary("quickstart")
}

fn run(cache: &std::path::Path, args: &[&str]) -> Output {
    Command::new(quickstart())
        .arg("run")
        .args(args)
        .env("FLYTEKIT_CACHE_DIR", cache)
        .output()
        .expect("quickstart runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn runs_the_quickstart_and_prints_json() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = run(cache.path(), &["pi", "--samples", "20000", "--name", "Ada"]);
    assert!(out.status.success(), "stderr:\n{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let est = &json["o0"];
    assert_eq!(est["samples"], 80000);
    assert_eq!(est["shards"], 4);
    let pi = est["pi"].as_f64().expect("pi is a number");
    assert!((pi - std::f64::consts::PI).abs() < 0.05, "{pi}");
    assert!(
        json["o1"]
            .as_str()
            .expect("report")
            .starts_with("Hello Ada"),
        "{json}"
    );
    let first = text(&out.stderr);
    assert!(
        first.contains("0 cached"),
        "first run computes everything:\n{first}"
    );

    // Same inputs again: the four cached `sample` nodes come from the cache.
    let again = run(cache.path(), &["pi", "--samples", "20000", "--name", "Ada"]);
    assert!(again.status.success(), "stderr:\n{}", text(&again.stderr));
    // Same outputs; the report file (o2) is written afresh, with the same contents.
    let json_again: serde_json::Value = serde_json::from_slice(&again.stdout).expect("JSON");
    assert_eq!(json_again["o0"], json["o0"]);
    assert_eq!(json_again["o1"], json["o1"]);
    let read = |v: &serde_json::Value| {
        std::fs::read_to_string(v["o2"].as_str().expect("o2 is a path")).expect("report file")
    };
    assert_eq!(read(&json_again), read(&json));
    assert!(
        text(&again.stderr).contains("4 cached"),
        "{}",
        text(&again.stderr)
    );

    // Defaults fill missing inputs.
    let defaults = run(cache.path(), &["pi", "--quiet"]);
    assert!(
        defaults.status.success(),
        "stderr:\n{}",
        text(&defaults.stderr)
    );
    assert!(
        defaults.stderr.is_empty(),
        "--quiet prints nothing on stderr: {}",
        text(&defaults.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&defaults.stdout).expect("JSON");
    assert_eq!(json["o0"]["samples"], 400000);
    assert!(
        json["o1"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Hello world")
    );
}

#[test]
fn runs_a_single_task() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = run(
        cache.path(),
        &["estimate", "--hits", "[3, 4]", "--samples_per_shard", "5"],
    );
    assert!(out.status.success(), "stderr:\n{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["o0"]["samples"], 10);
    assert_eq!(json["o0"]["pi"], 2.8);
}

#[test]
fn bad_input_is_a_clear_usage_error() {
    let cache = tempfile::tempdir().expect("tempdir");
    let cases: &[(&[&str], &str)] = &[
        (&["nope"], "no workflow or task named 'nope'"),
        (&["pii"], "did you mean"),
        (
            &["pi", "--samples", "many"],
            "input --samples: expected INTEGER, got 'many'",
        ),
        (
            &["pi", "--sample", "3"],
            "has no input --sample (did you mean --samples?)",
        ),
        (
            &["estimate", "--hits", "[1]"],
            "missing required input(s): --samples_per_shard <INTEGER>",
        ),
        (&["pi", "--samples"], "input --samples needs a value"),
        (&["pi", "--samples", "1", "--samples", "2"], "given twice"),
        (&["pi", "stray"], "unexpected argument 'stray'"),
    ];
    for (args, expected) in cases {
        let out = run(cache.path(), args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} exits with 2; stderr: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?} prints no outputs");
        let err = text(&out.stderr);
        assert!(
            err.contains(expected),
            "{args:?}: expected {expected:?} in:\n{err}"
        );
    }
    let unknown = text(&run(cache.path(), &["nope"]).stderr);
    assert!(
        unknown.contains("available workflows:") && unknown.contains(".pi"),
        "{unknown}"
    );
}

#[test]
fn help_lists_inputs_with_types_and_defaults() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = run(cache.path(), &["pi", "--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("--samples <INTEGER>"), "{help}");
    assert!(help.contains("default: 100000"), "{help}");
    assert!(help.contains("--name <STRING>"), "{help}");
}

#[test]
fn clear_cache_empties_it() {
    let cache = tempfile::tempdir().expect("tempdir");
    assert!(
        run(cache.path(), &["pi", "--samples", "10", "-q"])
            .status
            .success()
    );
    let out = run(cache.path(), &["--clear-cache"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cleared 4 entries"),
        "{}",
        text(&out.stderr)
    );
}
