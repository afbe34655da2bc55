//! Control flow at run time: the `control` example's workflows run by `run` in-process and in
//! the sandbox (every task node as a container subprocess) — conditionals taken every way and
//! failing by their `else`, gates answered by flags, on a terminal, missing and timed out,
//! launch plans run by name and as nodes, failure nodes, attribute paths and named outputs,
//! references run by a stand-in, refused without one, and run from a `pyflyte package` in the
//! sandbox (a Python task under `pyflyte-execute`, a Python launch plan, Python dynamic tasks
//! whose `futures.pb` branches) — and bad input reported with the node or input it concerns.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use flytekit::prelude::*;
use flytekit::workflow::{LaunchPlan, LaunchPlanError, WorkflowBuilder, WorkflowError};
use serde_json::{Value, json};

fn control() -> PathBuf {
    flytekit_oracle::example_binary("control")
}

/// Runs `control run <args>` with stdin closed, a fresh cache and `envs`, in `cwd`.
fn run_in(cwd: Option<&Path>, args: &[&str], envs: &[(&str, String)]) -> Output {
    let cache = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(control());
    cmd.arg("run")
        .args(args)
        .arg("-q")
        .env("FLYTEKIT_CACHE_DIR", cache.path())
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(std::process::Stdio::null());
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    cmd.output().expect("control runs")
}

fn run(args: &[&str]) -> Output {
    run_in(None, args, &[])
}

fn sandboxed(args: &[&str]) -> Output {
    let mut v = args.to_vec();
    v.push("--sandbox");
    run(&v)
}

fn outputs(o: &Output) -> Value {
    assert!(
        o.status.success(),
        "run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON outputs")
}

fn failure(o: &Output) -> String {
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert!(o.stdout.is_empty(), "no outputs on failure: {o:?}");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn conditionals_take_every_branch_locally_and_in_the_sandbox() {
    for (x, want) in [("0.5", 1.0), ("-3", 9.0), ("5", 25.0), ("0.2", 0.4)] {
        let flag = format!("--x={x}");
        for o in [run(&["classify", &flag]), sandboxed(&["classify", &flag])] {
            assert_eq!(outputs(&o), json!({"o0": want}), "x = {x}");
        }
    }
    // The nested conditional's else fails, naming the node and the conditional.
    for o in [
        run(&["classify", "--x=-20"]),
        sandboxed(&["classify", "--x=-20"]),
    ] {
        let e = failure(&o);
        assert!(e.contains("node n1/n1 (conditional inner)"), "{e}");
        assert!(e.contains("x is below -10"), "{e}");
    }
    // A conditional in a dynamic task's graph (futures.pb in the sandbox).
    for (x, want) in [("0.3", 0.6), ("2", 4.0)] {
        let args = ["pick_dyn", "--x", x, "--k", "1"];
        assert_eq!(outputs(&run(&args)), json!({"o0": want}), "{args:?}");
        assert_eq!(outputs(&sandboxed(&args)), json!({"o0": want}), "{args:?}");
    }
    // The value of a conditional feeds the next node; elif arms, optional values, strings.
    for (x, name, want) in [
        ("5.5", "loud", 121.0),
        ("-1", "skip", 1.0),
        ("2", "x", 16.0),
    ] {
        let args = ["after", "--x", x, "--name", name];
        assert_eq!(outputs(&run(&args)), json!({"o0": want}), "{args:?}");
        assert_eq!(outputs(&sandboxed(&args)), json!({"o0": want}), "{args:?}");
    }
}

#[test]
fn gates_take_answers_from_flags_and_fail_without_them() {
    let args = [
        "checkout",
        "--xs",
        "[1,2,3]",
        "--approve",
        "ok-total",
        "--signal",
        "tip=5",
    ];
    assert_eq!(outputs(&run(&args)), json!({"o0": 11}));
    assert_eq!(outputs(&sandboxed(&args)), json!({"o0": 11}));
    // No answer and no terminal: the gate fails at once and says which flag answers it.
    let e = failure(&run(&["checkout", "--xs", "[1]", "--signal", "tip=1"]));
    assert!(e.contains("node n3 (gate ok-total)"), "{e}");
    assert!(e.contains("--approve ok-total"), "{e}");
    let e = failure(&sandboxed(&["ask", "--x", "1"]));
    assert!(e.contains("node n0 (gate y)"), "{e}");
    assert!(e.contains("--signal y=<value>"), "{e}");
    let e = failure(&run(&["ask", "--x", "1", "--signal", "y=one"]));
    assert!(e.contains("signal 'y' expects INTEGER, got 'one'"), "{e}");
}

/// Runs `control run <args>` on a pseudo-terminal (`script`), typing `typed` after `delay`
/// seconds; returns the terminal's transcript and the exit status.
fn on_terminal(args: &str, typed: &str, delay: u32) -> (String, bool) {
    let cache = tempfile::tempdir().unwrap();
    let cmd = format!(
        "FLYTEKIT_CACHE_DIR={} {} run {args} -q",
        cache.path().display(),
        control().display()
    );
    let feed = format!("sleep {delay}; printf '{typed}'; sleep 4");
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!("({feed}) | script -qec \"{cmd}\" /dev/null"))
        .output()
        .expect("script runs");
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        o.status.success(),
    )
}

#[test]
fn gates_ask_on_a_terminal_and_time_out() {
    let (out, ok) = on_terminal("ask --x 1", "41\\n", 0);
    assert!(ok, "{out}");
    assert!(out.contains("value of signal 'y' (INTEGER)"), "{out}");
    assert!(out.contains("\"o0\": 42"), "{out}");
    // Nobody answers within the gate's two seconds.
    let (out, ok) = on_terminal("ask --x 1", "", 0);
    assert!(!ok, "{out}");
    assert!(out.contains("node n0 (gate y)"), "{out}");
    assert!(out.contains("timed out"), "{out}");
    // A refused approval fails the node.
    let (out, ok) = on_terminal("checkout --xs [1,2] --signal tip=1", "n\\n", 0);
    assert!(!ok, "{out}");
    assert!(out.contains("approve 'ok-total' of 3?"), "{out}");
    assert!(out.contains("the approval 'ok-total' was refused"), "{out}");
}

#[test]
fn launch_plans_run_by_name_and_as_nodes() {
    let at = "2024-05-01T10:00:00Z";
    // The plan's fixed input and its default over the workflow's.
    assert_eq!(
        outputs(&run(&["hourly_report", "--kickoff", at])),
        json!({"o0": "7 rows for eu at 2024-05-01T10:00:00+00:00"})
    );
    assert_eq!(
        outputs(&run(&["hourly_report", "--kickoff", at, "--n", "2"])),
        json!({"o0": "2 rows for eu at 2024-05-01T10:00:00+00:00"})
    );
    let e =
        String::from_utf8_lossy(&run(&["hourly_report", "--kickoff", at, "--region", "us"]).stderr)
            .into_owned();
    assert!(
        e.contains("input 'region' is fixed by launch plan hourly_report"),
        "{e}"
    );
    // A launch-plan node: the call's input over the plan's default, the plan's fixed input.
    for o in [
        run(&["reports", "--at", at]),
        sandboxed(&["reports", "--at", at]),
    ] {
        assert_eq!(
            outputs(&o),
            json!({"o0": "1 rows for eu at 2024-05-01T10:00:00+00:00"})
        );
    }
}

#[test]
fn failure_nodes_run_with_the_error_and_the_workflow_still_fails() {
    for sandbox in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let note = dir.path().join("note");
        let note_s = note.to_str().unwrap();
        let mut args = vec!["guarded", "--x=-4", "--note", note_s];
        if sandbox {
            args.push("--sandbox");
        }
        let e = failure(&run(&args));
        assert!(e.contains("-4 is negative"), "{e}");
        let written = std::fs::read_to_string(&note).expect("the failure node ran");
        assert!(written.starts_with("-4: "), "{written}");
        assert!(written.contains("-4 is negative"), "{written}");
        // No failure, no failure node.
        let other = dir.path().join("other");
        let mut args = vec!["guarded", "--x", "4", "--note", other.to_str().unwrap()];
        if sandbox {
            args.push("--sandbox");
        }
        assert_eq!(outputs(&run(&args)), json!({"o0": 4}));
        assert!(!other.exists());
    }
}

#[test]
fn attribute_paths_and_named_outputs_resolve_as_in_propeller() {
    let want = json!({"first": 5, "label": "total 15", "text": "mean 5, first 4, n 3"});
    assert_eq!(outputs(&run(&["summary", "--xs", "[4,5,6]"])), want);
    assert_eq!(outputs(&sandboxed(&["summary", "--xs", "[4,5,6]"])), want);
    // An index past the end names the node, the input and the path.
    let e = failure(&run(&["summary", "--xs", "[4]"]));
    assert!(e.contains("cannot resolve input"), "{e}");
    assert!(e.contains("index [1] is out of range"), "{e}");
}

#[test]
fn node_overrides_run_with_the_node_settings() {
    assert_eq!(outputs(&run(&["tuned", "--x", "3"])), json!({"o0": 36.0}));
    assert_eq!(
        outputs(&sandboxed(&["tuned", "--x", "3"])),
        json!({"o0": 36.0})
    );
}

/// `conformance/shapes.py` packaged by `pyflyte package`, once.
fn shapes_package() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            flytekit_oracle::conformance_dir().join("shapes.py"),
            dir.path().join("shapes.py"),
        )
        .unwrap();
        let o = Command::new(venv_bin("pyflyte"))
            .args([
                "--pkgs",
                "shapes",
                "package",
                "--image",
                "ghcr.io/org/py:1",
                "-o",
                "pkg.tgz",
                "--force",
            ])
            .current_dir(dir.path())
            .env("PATH", path_with_venv())
            .output()
            .expect("pyflyte runs");
        assert!(o.status.success(), "{o:?}");
        dir
    })
    .path()
}

fn venv_bin(name: &str) -> PathBuf {
    flytekit_oracle::python()
        .parent()
        .expect("venv bin")
        .join(name)
}

fn path_with_venv() -> String {
    format!(
        "{}:{}",
        venv_bin("python").parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn with_package(args: &[&str]) -> Output {
    let dir = shapes_package();
    let mut v = args.to_vec();
    v.extend(["--sandbox", "--reference-package", "pkg.tgz"]);
    run_in(Some(dir), &v, &[("PATH", path_with_venv())])
}

#[test]
fn references_run_stand_ins_locally_and_refuse_without_one() {
    // `area` has a registered stand-in, in-process and in the sandbox.
    assert_eq!(
        outputs(&run(&["measure", "--width", "2", "--height", "3"])),
        json!({"o0": "2x3 (local)"})
    );
    assert_eq!(
        outputs(&sandboxed(&["measure", "--width", "2", "--height", "3"])),
        json!({"o0": "2x3 (local)"})
    );
    // `scale` has none: the run refuses before it starts, naming the node and the ways out.
    let e = failure(&run(&["rescale", "--x", "3"]));
    assert!(e.contains("node n1"), "{e}");
    assert!(e.contains("reference launch plan shapes.scale_lp"), "{e}");
    assert!(e.contains("flytekit::stand_in!"), "{e}");
    assert!(e.contains("--reference-package"), "{e}");
    let e = failure(&sandboxed(&["rescale", "--x", "3"]));
    assert!(e.contains("unknown reference"), "{e}");
    assert!(e.contains("shapes.scale_lp"), "{e}");
}

#[test]
fn the_sandbox_runs_python_references_from_a_pyflyte_package() {
    // A Python task (pyflyte-execute) with named outputs, instead of the stand-in.
    assert_eq!(
        outputs(&with_package(&["measure", "--width", "2", "--height", "3"])),
        json!({"o0": "2.0x3.0 (python)"})
    );
    // A Rust-declared reference task and a Python launch plan in one pipeline.
    assert_eq!(
        outputs(&with_package(&["rescale", "--x", "3"])),
        json!({"o0": 90.0})
    );
    // Python dynamic tasks whose futures.pb branches: each way, and a malformed comparison.
    assert_eq!(
        outputs(&with_package(&["bucketed", "--x", "1"])),
        json!({"o0": 10.0})
    );
    assert_eq!(
        outputs(&with_package(&["bucketed", "--x", "3"])),
        json!({"o0": 300.0})
    );
    let e = failure(&with_package(&["bad_bucketed", "--x", "2"]));
    assert!(e.contains("(conditional bad)"), "{e}");
    assert!(e.contains("cannot compare a float with an integer"), "{e}");
    // A package that cannot be read is a usage error naming it.
    let o = with_package(&["tuned", "--x", "1", "--reference-package", "missing.tgz"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("cannot read the package missing.tgz"), "{e}");
}

#[test]
fn bad_input_names_the_node_or_input() {
    use flytekit::idl::core::comparison_expression::Operator;
    use flytekit::workflow::{Condition, Operand};
    // Values of different types compared through the untyped constructor (the typed methods do
    // not compile).
    let b = WorkflowBuilder::new("bad.compare");
    let x = b.input::<f64>("x");
    let c = Condition::compare(
        &b,
        Operator::Gt,
        Operand::<f64>::operand(x, &b),
        Operand::<String>::operand("a", &b),
    );
    let y = b
        .conditional("cmp")
        .if_(c)
        .then(control_double(&b, x))
        .else_()
        .fail("no");
    b.output::<f64>("o0", y);
    let e = b.build().unwrap_err().to_string();
    assert!(
        e.contains("conditional 'cmp': cannot compare a FLOAT with a STRING"),
        "{e}"
    );

    // A branch whose node was made before the conditional, and one that was never finished.
    let b = WorkflowBuilder::new("bad.branches");
    let x = b.input::<f64>("x");
    let early = control_double(&b, x);
    let _ = b
        .conditional("late")
        .if_(x.gt(1.0))
        .then(early)
        .else_()
        .then(early);
    let open = b
        .conditional("open")
        .if_(x.gt(2.0))
        .then(control_double(&b, x));
    let _ = open;
    let e = b.build().unwrap_err().to_string();
    assert!(
        e.contains("conditional 'late': a branch runs a node made inside it"),
        "{e}"
    );
    assert!(
        e.contains("conditional 'open': the conditional is not finished"),
        "{e}"
    );

    // A launch plan fixing or defaulting an input the workflow does not have, or mistyped.
    let wf = control::report::workflow();
    let lp = LaunchPlan::new("bad_lp", &wf).fixed_input("regoin", "eu".to_string());
    let e = lp.check().unwrap_err();
    assert!(
        matches!(&e, LaunchPlanError::UnknownInput { input, .. } if input == "regoin"),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("launch plan bad_lp: fixed input 'regoin' is not an input of workflow"),
        "{msg}"
    );
    assert!(msg.contains("kickoff, region, n"), "{msg}");
    let s = flytekit::SerializationSettings::new("p", "d", "v");
    assert!(matches!(
        lp.spec(&s),
        Err(WorkflowError::LaunchPlan(
            LaunchPlanError::UnknownInput { .. }
        ))
    ));
    let e = LaunchPlan::new("typed_lp", &wf)
        .default_input("n", "seven".to_string())
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("default input 'n' is a INTEGER, the value is a STRING"),
        "{e}"
    );
    let e = LaunchPlan::new("sched_lp", &wf)
        .schedule(Schedule::cron("every hour").kickoff_input("kickoff"))
        .check()
        .unwrap_err()
        .to_string();
    assert!(e.contains("'every hour' is not a cron schedule"), "{e}");
    let e = LaunchPlan::new("kick_lp", &wf)
        .schedule(Schedule::fixed_rate(std::time::Duration::from_secs(60)).kickoff_input("n"))
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the kickoff input 'n' is a INTEGER, not a datetime"),
        "{e}"
    );
}

#[path = "../examples/control.rs"]
#[allow(dead_code)]
mod control;

fn control_double<'w>(b: &'w WorkflowBuilder, x: Promise<'w, f64>) -> Promise<'w, f64> {
    control::double::node(b, x)
}

#[test]
fn list_package_and_serialize_write_launch_plans_flytekit_reads() {
    let list = Command::new(control()).arg("list").output().unwrap();
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("launch plans:"), "{text}");
    assert!(
        text.contains("hourly_report  (workflow control.report, schedule 0 * * * *)"),
        "{text}"
    );
    assert!(
        text.contains("frequent_report  (workflow control.report, every 10 minutes)"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg.tgz");
    // The reference workflow of the oracle test is not in the example, so everything packages.
    let o = Command::new(control())
        .args([
            "package",
            "-p",
            "p",
            "-d",
            "d",
            "-v",
            "v",
            "--image",
            "ghcr.io/org/app:1",
            "-o",
        ])
        .arg(&pkg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let code = r#"
import json, sys, tarfile
from flyteidl.admin import launch_plan_pb2, workflow_pb2
from flytekit.models import launch_plan as lp_models
from flytekit.models.admin import workflow as wf_models
report = {"launch_plans": {}, "workflows": []}
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        data = t.extractfile(m).read()
        if m.name.endswith("_3.pb"):
            pb = launch_plan_pb2.LaunchPlan(); pb.ParseFromString(data)
            lp = lp_models.LaunchPlan.from_flyte_idl(pb)
            s = lp.spec.entity_metadata.schedule
            report["launch_plans"][lp.id.name] = {
                "workflow": lp.spec.workflow_id.name,
                "cron": s.cron_schedule.schedule if s and s.cron_schedule else None,
                "fixed": sorted(lp.spec.fixed_inputs.literals),
            }
        elif m.name.endswith("_2.pb"):
            pb = workflow_pb2.WorkflowSpec(); pb.ParseFromString(data)
            report["workflows"].append(wf_models.WorkflowSpec.from_flyte_idl(pb).template.id.name)
print(json.dumps(report))
"#;
    let out = flytekit_oracle::run_code(code, &[pkg.to_str().unwrap()], b"");
    let report: Value = serde_json::from_str(&out.stdout_str()).expect("JSON");
    let lps = &report["launch_plans"];
    assert_eq!(
        lps["hourly_report"],
        json!({"workflow": "control.report", "cron": "0 * * * *", "fixed": ["region"]})
    );
    assert_eq!(lps["frequent_report"]["workflow"], "control.report");
    assert_eq!(lps["control.report"]["fixed"], json!([]));
    assert!(lps.get("control.classify").is_some(), "{report}");
    let workflows = report["workflows"].as_array().unwrap();
    assert!(workflows.contains(&json!("control.reports")), "{report}");
}
