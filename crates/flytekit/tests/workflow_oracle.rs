//! Workflow templates and launch plans compared with flytekit 1.16's for the same workflows.
//!
//! `conformance/workflow_structure.py` holds the Python twins of the workflows below and of the
//! quickstart; it serializes them with flytekit and reports every structural difference.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use flytekit::idl::Message;
use flytekit::prelude::*;
use flytekit::workflow::LaunchPlan;

#[path = "../examples/quickstart/workflows.rs"]
#[allow(dead_code)]
mod quickstart;

#[task(retries = 2, timeout = Duration::from_secs(30))]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[task]
fn merge(m: HashMap<String, i64>) -> i64 {
    m.values().sum()
}

#[task]
fn split(a: i64) -> (i64, String) {
    (a, a.to_string())
}

#[task]
fn noop() {}

#[workflow]
fn inner(x: i64) -> i64 {
    add(x, 1)
}

#[workflow(failure_policy = "fail_after_executable_nodes_complete", interruptible)]
fn shapes(x: i64) -> (i64, String, i64) {
    let y = add(x, 2);
    let t = total(vec![y, add(y, 3)]);
    let m = merge(HashMap::from([("k".to_string(), t), ("j".to_string(), y)]));
    let (a, s) = split(m);
    let n = noop();
    let z = n.then(inner(a));
    let w = add(z, x);
    if let Some(node) = w.node() {
        node.name("last")
            .retries(5)
            .timeout(Duration::from_secs(7))
            .cache(true)
            .cache_version("9");
    }
    (w, s, x)
}

fn settings() -> flytekit::SerializationSettings {
    flytekit::SerializationSettings::new("p", "d", "v").with_default_image("ghcr.io/org/app:v1")
}

fn b64(bytes: Vec<u8>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn templates_match_flytekit() {
    let s = settings();
    let mut workflows = serde_json::Map::new();
    for (name, wf) in [
        ("shapes", shapes::workflow()),
        ("pi", quickstart::pi::workflow()),
    ] {
        let template = wf.template(&s).expect("template");
        let lp = LaunchPlan::default_for(&wf).spec(&s).expect("launch plan");
        workflows.insert(
            name.to_string(),
            serde_json::json!({"template": b64(template.encode_to_vec()), "launch_plan": b64(lp.encode_to_vec())}),
        );
    }
    let request = serde_json::json!({
        "settings": {"project": "p", "domain": "d", "version": "v"},
        "workflows": workflows,
    });
    let out =
        flytekit_oracle::run_script("workflow_structure.py", &[], request.to_string().as_bytes());
    let result: serde_json::Value =
        serde_json::from_str(&out.stdout_str()).expect("oracle output is JSON");
    let mut failures = Vec::new();
    for (name, problems) in result.as_object().expect("object") {
        for p in problems.as_array().expect("list") {
            failures.push(format!("{name}: {}", p.as_str().unwrap_or_default()));
        }
    }
    assert!(
        failures.is_empty(),
        "differences from flytekit:\n{}",
        failures.join("\n")
    );
}

#[test]
fn closure_lists_sub_workflows_and_tasks_once() {
    let closure = shapes::workflow().closure(&settings()).expect("closure");
    let subs: Vec<String> = closure
        .sub_workflows
        .iter()
        .map(|t| t.id.clone().unwrap_or_default().name)
        .collect();
    assert_eq!(subs.len(), 1);
    assert!(subs[0].ends_with(".inner"), "{subs:?}");
    let mut tasks: Vec<String> = closure
        .tasks
        .iter()
        .map(|t| t.id.clone().unwrap_or_default().name)
        .collect();
    tasks.sort();
    assert_eq!(tasks.len(), 5, "{tasks:?}");
}
