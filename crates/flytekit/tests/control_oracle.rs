//! Control flow against flytekit 1.16: the workflows, launch plans and dynamic graph of the
//! `control` example serialize exactly as flytekit serializes their Python twins
//! (`conformance/control_twins.py`, compared by `conformance/control_flow.py`) — conditionals
//! (nested, `elif`, else-fail, arms without outputs, promise/string/optional comparisons, inside a
//! dynamic task's `futures.pb`), gates, launch plans with every spec field and launch-plan
//! nodes (in workflows, and local and reference ones in a dynamic task's `futures.pb`), reference tasks/launch plans/workflows, failure nodes, attribute paths, named outputs
//! and node overrides — and flytekit's model classes load every message we write.

use std::collections::BTreeMap;
use std::process::Command;

use base64::Engine as _;
use flytekit::idl::Message;
use flytekit::prelude::*;
use flytekit::workflow::Workflow;
use serde_json::{Value, json};

#[path = "../examples/control.rs"]
#[allow(dead_code)]
mod control;

/// A workflow registered elsewhere; flytekit refuses to serialize a workflow calling one whole,
/// so the twins are compared node by node (and `package` refuses it too).
#[reference_workflow(
    project = "flytesnacks",
    domain = "development",
    name = "shapes.scale_wf",
    version = "v1"
)]
fn scale_wf(x: f64) -> f64;

#[workflow]
fn rescale_wf(x: f64) -> f64 {
    scale_wf(x)
}

fn settings() -> flytekit::SerializationSettings {
    flytekit::SerializationSettings::new("p", "d", "v").with_default_image("ghcr.io/org/app:v1")
}

fn b64(bytes: Vec<u8>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn template(wf: &Workflow) -> String {
    b64(wf.template(&settings()).expect("template").encode_to_vec())
}

/// The `futures.pb` the example's `execute` writes for dynamic task `task` on `inputs`.
fn futures(task: &str, inputs: &Value) -> String {
    let dir = tempfile::tempdir().unwrap();
    let inputs_pb = dir.path().join("inputs.pb");
    flytekit_oracle::run_script(
        "map_dynamic.py",
        &[
            "write-inputs",
            inputs_pb.to_str().unwrap(),
            &inputs.to_string(),
        ],
        b"",
    );
    let out = dir.path().join("out");
    let o = Command::new(flytekit_oracle::example_binary("control"))
        .args(["execute", "--inputs"])
        .arg(&inputs_pb)
        .arg("--output-prefix")
        .arg(&out)
        .args([
            "--raw-output-data-prefix",
            dir.path().join("raw").to_str().unwrap(),
            "--resolver",
            "flytekit.resolver.default",
            "--",
            "task-module",
            "control",
            "task-name",
            task,
        ])
        .env("_F_SS_C", flytekit::settings::to_transport(&settings()))
        .env("FLYTE_INTERNAL_TASK_VERSION", "v")
        .output()
        .expect("execute runs");
    assert!(o.status.success(), "{o:?}");
    b64(std::fs::read(out.join("futures.pb")).expect("futures.pb written"))
}

#[test]
fn control_flow_matches_flytekit() {
    let workflows: BTreeMap<&str, Workflow> = [
        ("classify", control::classify::workflow()),
        ("after", control::after::workflow()),
        ("checkout", control::checkout::workflow()),
        ("report", control::report::workflow()),
        ("reports", control::reports::workflow()),
        ("measure", control::measure::workflow()),
        ("rescale", control::rescale::workflow()),
        ("guarded", control::guarded::workflow()),
        ("summary", control::summary::workflow()),
        ("tuned", control::tuned::workflow()),
    ]
    .into_iter()
    .collect();
    let s = settings();
    let request = json!({
        "settings": {"project": "p", "domain": "d", "version": "v"},
        "workflows": workflows.iter().map(|(k, w)| (k.to_string(), json!(template(w)))).collect::<serde_json::Map<_, _>>(),
        "node_workflows": {"rescale_wf": template(&rescale_wf::workflow())},
        "launch_plans": {
            "hourly_report": b64(control::hourly_report::launch_plan().to_idl(&s).expect("lp").encode_to_vec()),
            "frequent_report": b64(control::frequent_report::launch_plan().to_idl(&s).expect("lp").encode_to_vec()),
            "classify_lp": b64(control::classify_lp::launch_plan().to_idl(&s).expect("lp").encode_to_vec()),
        },
        "dynamic": {
            "pick_dyn": {"futures": futures("pick_dyn", &json!({"x": 0.3, "k": 2})), "inputs": {"x": 0.3, "k": 2}},
            "plans_dyn": {"futures": futures("plans_dyn", &json!({"x": 0.3})), "inputs": {"x": 0.3}},
        },
    });
    let out = flytekit_oracle::run_script("control_flow.py", &[], request.to_string().as_bytes());
    let result: Value = serde_json::from_str(&out.stdout_str()).expect("oracle output is JSON");
    let mut failures = Vec::new();
    for (name, problems) in result.as_object().expect("object") {
        for p in problems.as_array().expect("list") {
            failures.push(format!("{name}: {}", p.as_str().unwrap_or_default()));
        }
    }
    assert_eq!(result.as_object().map(|o| o.len()), Some(16), "{result:#}");
    assert!(
        failures.is_empty(),
        "differences from flytekit:\n{}",
        failures.join("\n")
    );
}

#[test]
fn reference_sub_workflows_are_not_registered() {
    // flytekit's get_serializable_workflow refuses them; so does the closure `package` writes.
    let e = rescale_wf::workflow()
        .closure(&settings())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("node n0 (flytesnacks/development/shapes.scale_wf@v1)"),
        "{e}"
    );
    assert!(e.contains("call a reference launch plan"), "{e}");
    // The template alone (what a node shows) is fine, and names the reference's own id.
    let t = rescale_wf::workflow().template(&settings()).unwrap();
    let node = format!("{:?}", t.nodes[0].target);
    assert!(node.contains("SubWorkflowRef"), "{node}");
    assert!(node.contains("flytesnacks"), "{node}");
}
