//! Wire round trips against Python flytekit.
//!
//! `conformance/idl_roundtrip.py emit` serializes real objects built by flytekit: a `@task`, two
//! compiled `@workflow`s (one with a map task, a branch and a sub-workflow), a literal map with
//! every literal kind, admin specs, a launch plan, a schedule and an execution request. Each is
//! decoded here with `prost`, checked for concrete field values (so decoding into an empty or wrong
//! message cannot pass), re-encoded, and handed back to `idl_roundtrip.py check`, which decodes the
//! Rust bytes and requires them to equal the original. Byte equality is not required: prost writes
//! map entries in hash order.

use std::collections::BTreeMap;

use flytekit_idl::Message;
use flytekit_idl::admin;
use flytekit_idl::core::{self, if_else_block, literal, node, primitive, scalar, task_template};
use serde::Deserialize;

#[derive(Deserialize)]
struct Emitted {
    #[serde(rename = "type")]
    ty: String,
    hex: String,
}

fn from_hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes `bytes` as `M`, runs `check` on it and returns the re-encoded bytes.
fn roundtrip<M: Message + Default>(name: &str, bytes: &[u8], check: impl FnOnce(&M)) -> Vec<u8> {
    let msg = M::decode(bytes)
        .unwrap_or_else(|e| panic!("{name}: Rust cannot decode the Python bytes: {e}"));
    check(&msg);
    let out = msg.encode_to_vec();
    assert_eq!(
        out.len(),
        msg.encoded_len(),
        "{name}: encoded_len disagrees with the encoding"
    );
    out
}

fn literal_value(map: &core::LiteralMap, key: &str) -> literal::Value {
    map.literals
        .get(key)
        .unwrap_or_else(|| panic!("literal map lacks {key:?}"))
        .value
        .clone()
        .unwrap_or_else(|| panic!("literal {key:?} is empty"))
}

fn scalar_value(map: &core::LiteralMap, key: &str) -> scalar::Value {
    match literal_value(map, key) {
        literal::Value::Scalar(s) => s
            .value
            .clone()
            .unwrap_or_else(|| panic!("scalar {key:?} is empty")),
        other => panic!("literal {key:?} is not a scalar: {other:?}"),
    }
}

fn primitive_value(map: &core::LiteralMap, key: &str) -> primitive::Value {
    match scalar_value(map, key) {
        scalar::Value::Primitive(p) => p
            .value
            .unwrap_or_else(|| panic!("primitive {key:?} is empty")),
        other => panic!("scalar {key:?} is not a primitive: {other:?}"),
    }
}

fn check_task_template(t: &core::TaskTemplate) {
    let id = t.id.as_ref().expect("task id");
    assert_eq!(id.name, "idl_roundtrip.scale");
    assert_eq!(id.version, "v1");
    assert_eq!(t.r#type, "python-task");
    let meta = t.metadata.as_ref().expect("task metadata");
    assert!(meta.discoverable);
    assert_eq!(meta.discovery_version, "1.0");
    assert_eq!(meta.retries.as_ref().expect("retries").retries, 3);
    assert_eq!(meta.timeout.as_ref().expect("timeout").seconds, 300);
    let Some(task_template::Target::Container(c)) = &t.target else {
        panic!("task target is not a container")
    };
    let resources = c.resources.as_ref().expect("container resources");
    let cpu = i32::from(core::resources::ResourceName::Cpu);
    assert!(
        resources
            .requests
            .iter()
            .any(|r| r.name == cpu && r.value == "1"),
        "cpu request: {resources:?}"
    );
    assert!(
        resources
            .limits
            .iter()
            .any(|r| r.name == cpu && r.value == "2"),
        "cpu limit: {resources:?}"
    );
    assert!(
        c.env
            .iter()
            .any(|kv| kv.key == "MODE" && kv.value == "fast"),
        "env: {:?}",
        c.env
    );
    let secrets = &t
        .security_context
        .as_ref()
        .expect("security context")
        .secrets;
    assert!(
        secrets.iter().any(|s| s.group == "aws" && s.key == "token"),
        "secrets: {secrets:?}"
    );
    let ext = t.extended_resources.as_ref().expect("extended resources");
    assert_eq!(
        ext.gpu_accelerator
            .as_ref()
            .expect("gpu accelerator")
            .device,
        "nvidia-tesla-t4"
    );
    assert_eq!(
        ext.shared_memory
            .as_ref()
            .expect("shared memory")
            .size_limit,
        "512Mi"
    );
    let iface = t.interface.as_ref().expect("interface");
    let inputs = &iface.inputs.as_ref().expect("inputs").variables;
    assert!(
        inputs.contains_key("x") && inputs.contains_key("factor"),
        "inputs: {inputs:?}"
    );
}

fn check_workflow_template(w: &core::WorkflowTemplate) {
    assert_eq!(
        w.id.as_ref().expect("workflow id").name,
        "idl_roundtrip.pipeline"
    );
    assert_eq!(w.nodes.len(), 4, "scale, scale, total, describe");
    assert_eq!(w.outputs.len(), 1);
}

fn check_branching_workflow(s: &admin::WorkflowSpec) {
    let w = s.template.as_ref().expect("branching template");
    assert_eq!(
        w.id.as_ref().expect("workflow id").name,
        "idl_roundtrip.branching"
    );
    let targets: Vec<&node::Target> = w
        .nodes
        .iter()
        .map(|n| n.target.as_ref().expect("node target"))
        .collect();
    match targets.as_slice() {
        [
            node::Target::ArrayNode(a),
            node::Target::TaskNode(_),
            node::Target::BranchNode(b),
        ] => {
            assert!(a.node.is_some(), "array node wraps a node");
            let if_else = b.if_else.as_ref().expect("if/else block");
            assert!(if_else.case.is_some());
            assert_eq!(if_else.other.len(), 1);
            assert!(matches!(
                if_else.default,
                Some(if_else_block::Default::Error(_))
            ));
        }
        other => panic!("unexpected node targets: {other:?}"),
    }
    assert_eq!(s.sub_workflows.len(), 1, "the `pipeline` sub-workflow");
}

fn check_literal_map(m: &core::LiteralMap) {
    assert_eq!(m.literals.len(), 17, "one literal per kind");
    assert_eq!(primitive_value(m, "int"), primitive::Value::Integer(42));
    assert_eq!(
        primitive_value(m, "float"),
        primitive::Value::FloatValue(-2.5)
    );
    assert_eq!(
        primitive_value(m, "string"),
        primitive::Value::StringValue("héllo".into())
    );
    assert_eq!(primitive_value(m, "bool"), primitive::Value::Boolean(true));
    match primitive_value(m, "datetime") {
        primitive::Value::Datetime(ts) => {
            assert_eq!((ts.seconds, ts.nanos), (1_715_949_045, 123_456_000))
        }
        other => panic!("datetime: {other:?}"),
    }
    match primitive_value(m, "duration") {
        primitive::Value::Duration(d) => assert_eq!((d.seconds, d.nanos), (90, 5_000)),
        other => panic!("duration: {other:?}"),
    }
    assert!(matches!(
        scalar_value(m, "none"),
        scalar::Value::NoneType(_)
    ));
    match scalar_value(m, "blob") {
        scalar::Value::Blob(b) => assert_eq!(b.uri, "s3://bucket/dir/"),
        other => panic!("blob: {other:?}"),
    }
    match scalar_value(m, "binary") {
        scalar::Value::Binary(b) => assert_eq!(b.tag, "msgpack"),
        other => panic!("binary: {other:?}"),
    }
    match scalar_value(m, "generic") {
        scalar::Value::Generic(s) => assert!(s.fields.contains_key("c"), "generic: {s:?}"),
        other => panic!("generic: {other:?}"),
    }
    match scalar_value(m, "union") {
        scalar::Value::Union(u) => assert!(u.value.is_some() && u.r#type.is_some()),
        other => panic!("union: {other:?}"),
    }
    match scalar_value(m, "error") {
        scalar::Value::Error(e) => assert_eq!(e.message, "boom"),
        other => panic!("error: {other:?}"),
    }
    match scalar_value(m, "structured_dataset") {
        scalar::Value::StructuredDataset(s) => assert_eq!(s.uri, "s3://bucket/df"),
        other => panic!("structured dataset: {other:?}"),
    }
    match scalar_value(m, "schema") {
        scalar::Value::Schema(s) => assert_eq!(s.uri, "s3://bucket/schema"),
        other => panic!("schema: {other:?}"),
    }
    match literal_value(m, "collection") {
        literal::Value::Collection(c) => assert_eq!(c.literals.len(), 3),
        other => panic!("collection: {other:?}"),
    }
    match literal_value(m, "map") {
        literal::Value::Map(inner) => assert_eq!(inner.literals.len(), 2),
        other => panic!("map: {other:?}"),
    }
    let offloaded = &m.literals["offloaded"];
    assert_eq!(offloaded.hash, "abc123");
    assert_eq!(
        offloaded.metadata.get("source").map(String::as_str),
        Some("test")
    );
    match &offloaded.value {
        Some(literal::Value::OffloadedMetadata(o)) => assert_eq!(o.size_bytes, 1 << 40),
        other => panic!("offloaded: {other:?}"),
    }
}

#[test]
fn flytekit_messages_survive_a_rust_round_trip() {
    let out = flytekit_oracle::run_script("idl_roundtrip.py", &["emit"], b"");
    let cases: BTreeMap<String, Emitted> =
        serde_json::from_slice(&out.stdout).expect("emit prints JSON");

    let mut back = serde_json::Map::new();
    let mut identical = 0;
    for (name, case) in &cases {
        let bytes = from_hex(&case.hex);
        let rust = match (name.as_str(), case.ty.as_str()) {
            ("task_template", "flyteidl.core.TaskTemplate") => {
                roundtrip::<core::TaskTemplate>(name, &bytes, check_task_template)
            }
            ("task_spec", "flyteidl.admin.TaskSpec") => {
                roundtrip::<admin::TaskSpec>(name, &bytes, |s| {
                    check_task_template(s.template.as_ref().expect("task spec template"));
                })
            }
            ("workflow_spec", "flyteidl.admin.WorkflowSpec") => {
                roundtrip::<admin::WorkflowSpec>(name, &bytes, |s| {
                    check_workflow_template(s.template.as_ref().expect("workflow spec template"));
                })
            }
            ("workflow_spec_branching", "flyteidl.admin.WorkflowSpec") => {
                roundtrip::<admin::WorkflowSpec>(name, &bytes, check_branching_workflow)
            }
            ("workflow_closure", "flyteidl.core.WorkflowClosure") => {
                roundtrip::<core::WorkflowClosure>(name, &bytes, |c| {
                    check_workflow_template(c.workflow.as_ref().expect("closure workflow"));
                    let mut names: Vec<&str> = c
                        .tasks
                        .iter()
                        .map(|t| t.id.as_ref().unwrap().name.as_str())
                        .collect();
                    names.sort();
                    assert_eq!(
                        names,
                        [
                            "idl_roundtrip.describe",
                            "idl_roundtrip.scale",
                            "idl_roundtrip.total"
                        ]
                    );
                })
            }
            ("launch_plan", "flyteidl.admin.LaunchPlan") => {
                roundtrip::<admin::LaunchPlan>(name, &bytes, |lp| {
                    assert_eq!(
                        lp.id.as_ref().expect("launch plan id").name,
                        "pipeline_nightly"
                    );
                    let spec = lp.spec.as_ref().expect("launch plan spec");
                    assert_eq!(
                        spec.workflow_id.as_ref().expect("workflow id").name,
                        "idl_roundtrip.pipeline"
                    );
                    assert_eq!(spec.max_parallelism, 8);
                    assert!(spec.overwrite_cache);
                    let meta = spec.entity_metadata.as_ref().expect("entity metadata");
                    match meta
                        .schedule
                        .as_ref()
                        .and_then(|s| s.schedule_expression.as_ref())
                    {
                        Some(admin::schedule::ScheduleExpression::CronSchedule(c)) => {
                            assert_eq!(c.schedule, "0 3 * * *")
                        }
                        other => panic!("schedule: {other:?}"),
                    }
                    assert_eq!(meta.notifications.len(), 1);
                    assert_eq!(
                        meta.notifications[0].phases,
                        [i32::from(core::workflow_execution::Phase::Failed)]
                    );
                    assert_eq!(
                        spec.labels
                            .as_ref()
                            .expect("labels")
                            .values
                            .get("team")
                            .map(String::as_str),
                        Some("data")
                    );
                    let fixed = spec.fixed_inputs.as_ref().expect("fixed inputs");
                    assert_eq!(primitive_value(fixed, "x"), primitive::Value::Integer(7));
                    assert!(
                        spec.default_inputs
                            .as_ref()
                            .expect("default inputs")
                            .parameters
                            .contains_key("label")
                    );
                })
            }
            ("launch_plan_spec", "flyteidl.admin.LaunchPlanSpec") => {
                roundtrip::<admin::LaunchPlanSpec>(name, &bytes, |spec| {
                    assert_eq!(spec.max_parallelism, 8)
                })
            }
            ("literal_map", "flyteidl.core.LiteralMap") => {
                roundtrip::<core::LiteralMap>(name, &bytes, check_literal_map)
            }
            ("execution_create_request", "flyteidl.admin.ExecutionCreateRequest") => {
                roundtrip::<admin::ExecutionCreateRequest>(name, &bytes, |r| {
                    assert_eq!(
                        (r.project.as_str(), r.domain.as_str(), r.name.as_str()),
                        ("flytesnacks", "development", "run-1")
                    );
                    let spec = r.spec.as_ref().expect("execution spec");
                    assert_eq!(spec.interruptible, Some(false));
                    assert_eq!(spec.tags, ["a", "b"]);
                    assert_eq!(
                        spec.notification_overrides,
                        Some(admin::execution_spec::NotificationOverrides::DisableAll(
                            true
                        ))
                    );
                    let meta = spec.metadata.as_ref().expect("execution metadata");
                    assert_eq!(
                        meta.mode(),
                        admin::execution_metadata::ExecutionMode::Scheduled
                    );
                    assert_eq!(meta.principal, "alice");
                })
            }
            ("schedule", "flyteidl.admin.Schedule") => {
                roundtrip::<admin::Schedule>(name, &bytes, |s| {
                    assert_eq!(s.kickoff_time_input_arg, "kickoff");
                    match &s.schedule_expression {
                        Some(admin::schedule::ScheduleExpression::Rate(r)) => {
                            assert_eq!(r.value, 10);
                            assert_eq!(r.unit(), admin::FixedRateUnit::Hour);
                        }
                        other => panic!("schedule: {other:?}"),
                    }
                })
            }
            (name, ty) => panic!("unexpected case {name} ({ty}): add a decoder for it"),
        };
        if rust == bytes {
            identical += 1;
        }
        back.insert(
            name.clone(),
            serde_json::json!({ "type": case.ty, "original": case.hex, "rust": to_hex(&rust) }),
        );
    }
    assert_eq!(cases.len(), 10, "the oracle emits ten cases");

    let input = serde_json::to_vec(&back).unwrap();
    let report = flytekit_oracle::run_script("idl_roundtrip.py", &["check"], &input);
    print!("{}", report.stdout_str());
    println!(
        "round trip: {} cases equal in Python, {identical} byte-identical",
        cases.len()
    );
}
