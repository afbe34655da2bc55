//! Workflow construction: typed bodies, the runtime builder's checks, WorkflowTemplate shape,
//! launch plans.

use flytekit::SerializationSettings;
use flytekit::idl::core::{binding_data, node, parameter, workflow_metadata};
use flytekit::prelude::*;
use flytekit::workflow::{LaunchPlan, WorkflowBuilder, WorkflowError};

#[task(retries = 2)]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

#[workflow]
fn fan_in(x: i64) -> (i64,) {
    let parts = vec![add(x, 1), add(x, 2)];
    let more: Vec<_> = (0..3i64).map(|i| add(x, i)).collect();
    let _ = total(more);
    (total(parts),)
}

#[workflow]
fn no_outputs(x: i64) {
    add(x, x);
}

#[test]
fn collections_tuples_and_no_outputs() {
    let t = fan_in::workflow().template(&settings()).expect("template");
    assert_eq!(t.nodes.len(), 7);
    let last = &t.nodes[6];
    match last.inputs[0]
        .binding
        .as_ref()
        .and_then(|b| b.value.as_ref())
    {
        Some(binding_data::Value::Collection(c)) => assert_eq!(c.bindings.len(), 2),
        other => panic!("expected a collection binding, got {other:?}"),
    }
    assert_eq!(last.upstream_node_ids, ["n0", "n1"]);
    assert_eq!(t.outputs.len(), 1);
    let t = no_outputs::workflow()
        .template(&settings())
        .expect("template");
    assert!(t.outputs.is_empty());
    assert!(
        t.interface
            .and_then(|i| i.outputs)
            .is_some_and(|o| o.variables.is_empty())
    );
}

/// Sums a workflow's inputs twice.
#[workflow(
    defaults(y = 2),
    failure_policy = "fail_after_executable_nodes_complete"
)]
fn twice(x: i64, y: i64) -> i64 {
    let s = add(x, y);
    add(s, s)
}

#[workflow]
fn calls_sub(x: i64) -> (i64, i64) {
    let a = twice(x, 5);
    (a, add(a, 1))
}

fn settings() -> SerializationSettings {
    SerializationSettings {
        project: "p".into(),
        domain: "d".into(),
        version: "v".into(),
        ..Default::default()
    }
}

#[test]
fn template_has_flytekit_shape() {
    let wf = twice::workflow();
    assert!(wf.name().ends_with("workflow_build.twice"), "{}", wf.name());
    assert_eq!(wf.description(), "Sums a workflow's inputs twice.");
    let t = wf.template(&settings()).expect("template");
    assert_eq!(t.id.as_ref().map(|i| i.name.as_str()), Some(wf.name()));
    assert_eq!(
        t.metadata.as_ref().map(|m| m.on_failure),
        Some(workflow_metadata::OnFailurePolicy::FailAfterExecutableNodesComplete as i32)
    );
    let ids: Vec<&str> = t.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["n0", "n1"]);
    let n0 = &t.nodes[0];
    let vars: Vec<&str> = n0.inputs.iter().map(|b| b.var.as_str()).collect();
    assert_eq!(vars, ["a", "b"]);
    match n0.inputs[0].binding.as_ref().and_then(|b| b.value.as_ref()) {
        Some(binding_data::Value::Promise(r)) => {
            assert_eq!((r.node_id.as_str(), r.var.as_str()), ("", "x"))
        }
        other => panic!("expected a workflow-input promise, got {other:?}"),
    }
    assert!(n0.upstream_node_ids.is_empty());
    let meta = n0.metadata.as_ref().expect("metadata");
    assert_eq!(meta.name, "add");
    assert_eq!(meta.retries.as_ref().map(|r| r.retries), Some(2));
    assert!(matches!(n0.target, Some(node::Target::TaskNode(_))));
    assert_eq!(t.nodes[1].upstream_node_ids, ["n0"]);
    assert_eq!(t.outputs.len(), 1);
    assert_eq!(t.outputs[0].var, "o0");

    let sub = calls_sub::workflow()
        .template(&settings())
        .expect("template");
    assert!(matches!(
        sub.nodes[0].target,
        Some(node::Target::WorkflowNode(_))
    ));
    let outs: Vec<&str> = sub.outputs.iter().map(|b| b.var.as_str()).collect();
    assert_eq!(outs, ["o0", "o1"]);
}

#[test]
fn launch_plan_has_defaults_and_required_inputs() {
    let spec = LaunchPlan::default_for(&twice::workflow())
        .spec(&settings())
        .expect("spec");
    let params = spec.default_inputs.expect("parameters").parameters;
    assert!(matches!(
        params["x"].behavior,
        Some(parameter::Behavior::Required(true))
    ));
    assert!(matches!(
        params["y"].behavior,
        Some(parameter::Behavior::Default(_))
    ));
}

#[test]
fn builder_reports_what_the_compiler_would_catch() {
    let b = WorkflowBuilder::new("tests.bad");
    let x = b.input::<i64>("x");
    let s = b.input::<String>("s");
    b.add_node(
        add::task(),
        vec![b.bind::<i64>("a", x), b.bind::<i64>("c", 1)],
    );
    b.add_node(
        add::task(),
        vec![b.bind::<String>("a", s), b.bind::<i64>("b", 1)],
    );
    let n = b.add_node(
        add::task(),
        vec![b.bind::<i64>("a", 1), b.bind::<i64>("b", 2)],
    );
    n.output::<i64>("nope");
    let err = b.build().expect_err("invalid");
    let msg = err.to_string();
    let add = add::task().name().to_string();
    for expected in [
        format!("node n0 ({add}): unknown input 'c'; its inputs are: a, b"),
        format!("node n0 ({add}): input 'b' is not bound"),
        format!("node n1 ({add}) input 'a': expected a value of type INTEGER, got STRING"),
        format!("node n2 ({add}) has no output 'nope'; its outputs are: o0"),
    ] {
        assert!(msg.contains(&expected), "missing {expected:?} in:\n{msg}");
    }
}

#[test]
fn foreign_promises_and_cycles_are_rejected() {
    let other = WorkflowBuilder::new("tests.other");
    let foreign = other.input::<i64>("x");
    let b = WorkflowBuilder::new("tests.uses_foreign");
    b.output::<i64>("o0", foreign);
    assert!(matches!(
        b.build(),
        Err(WorkflowError::ForeignPromise { .. })
    ));

    let b = WorkflowBuilder::new("tests.cycle");
    let p = add::node(&b, 1, 2);
    let q = add::node(&b, p, 3);
    q.then(p);
    let err = b.build().expect_err("cycle");
    assert!(err.to_string().contains("cycle"), "{err}");
}
