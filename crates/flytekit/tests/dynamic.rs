//! Dynamic workflows against flytekit 1.16: a real `execute` subprocess of the `fanout` example
//! on flytekit-written inputs writes `futures.pb`, which flytekit loads and which matches, node
//! for node and task for task, the `futures.pb` flytekit's `pyflyte-execute` writes for the Python
//! twin (`conformance/fanout_twins.py`) — with the running version, the registration settings
//! from `_F_SS_C` and, under fast registration, the bundle; a body without nodes writes
//! `outputs.pb`; and running the spec through the container contract (a minimal Propeller) gives
//! what the local engine gives in-process.

use std::path::{Path, PathBuf};
use std::process::Command;

use flytekit::idl::Message;
use flytekit::idl::core::{
    DynamicJobSpec, LiteralMap, TaskTemplate, WorkflowTemplate, task_template,
};
use flytekit::{SerializationSettings, Task};
use serde_json::{Value, json};

#[path = "../examples/fanout.rs"]
#[allow(dead_code)]
mod fanout;

#[path = "support/serialized.rs"]
mod serialized;

#[path = "support/propeller.rs"]
#[allow(dead_code)]
mod propeller;

const IMAGE: &str = "ghcr.io/org/app:v1";
const DISTRO: &str = "s3://bucket/fast/fastabc.tar.gz";

fn fanout_bin() -> PathBuf {
    flytekit_oracle::example_binary("fanout")
}

fn registration() -> SerializationSettings {
    SerializationSettings::new("sp", "sd", "sv")
        .with_default_image(IMAGE)
        .with_binary("fanout")
}

struct Run {
    dir: tempfile::TempDir,
}

impl Run {
    fn new(values: &Value) -> Run {
        let dir = tempfile::tempdir().unwrap();
        flytekit_oracle::run_script(
            "map_dynamic.py",
            &[
                "write-inputs",
                dir.path().join("inputs.pb").to_str().unwrap(),
                &values.to_string(),
            ],
            b"",
        );
        Run { dir }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// Runs `execute` of dynamic task `task` as Propeller would (`_F_SS_C` from the
    /// registration, the running version), optionally with fast-execute's arguments.
    fn execute(&self, task: &str, fast: bool) -> std::process::Output {
        let mut cmd = Command::new(fanout_bin());
        cmd.args(["execute", "--inputs"])
            .arg(self.dir.path().join("inputs.pb"))
            .arg("--output-prefix")
            .arg(self.out())
            .args(["--raw-output-data-prefix", "{{.rawOutputDataPrefix}}"]);
        if fast {
            cmd.args([
                "--dynamic-addl-distro",
                DISTRO,
                "--dynamic-dest-dir",
                "/root",
            ]);
        }
        cmd.args([
            "--resolver",
            "flytekit.resolver.default",
            "--",
            "task-module",
            "fanout",
            "task-name",
            task,
        ])
        .env("_F_SS_C", flytekit::settings::to_transport(&registration()))
        .env("FLYTE_INTERNAL_TASK_VERSION", "tv1")
        .env_remove("FLYTE_FAIL_ON_ERROR")
        .current_dir(self.dir.path());
        cmd.output().expect("execute runs")
    }

    fn report(&self) -> Value {
        let out = flytekit_oracle::run_script(
            "map_dynamic.py",
            &["read", self.out().to_str().unwrap()],
            b"",
        );
        serde_json::from_slice(&out.stdout).expect("JSON")
    }
}

fn compare_with_flytekit(task: &str, values: Value, fast: bool) {
    let r = Run::new(&values);
    let o = r.execute(task, fast);
    assert!(o.status.success(), "{o:?}");
    let report = r.report();
    assert!(
        report.get("futures").is_some(),
        "{task}: no futures.pb: {report:#}"
    );
    assert!(report.get("outputs").is_none(), "{report:#}");
    let settings = json!({
        "project": "sp", "domain": "sd", "version": "sv", "image": IMAGE, "task_version": "tv1",
    });
    let futures = r.out().join("futures.pb");
    let mut args = vec![
        "dynamic-diff".to_string(),
        futures.display().to_string(),
        task.to_string(),
        values.to_string(),
        settings.to_string(),
    ];
    if fast {
        args.push(DISTRO.to_string());
        args.push("/root".to_string());
    }
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let out = flytekit_oracle::run_script("map_dynamic.py", &args, b"");
    let result: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let diffs = result["differences"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        diffs.is_empty(),
        "{task}: futures.pb differs from flytekit's:\n{}",
        diffs
            .iter()
            .map(|d| d.as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The nodes are d-prefixed and the tasks carry the running version.
    let bytes = std::fs::read(&futures).unwrap();
    let spec = DynamicJobSpec::decode(bytes.as_slice()).unwrap();
    assert!(
        spec.nodes.iter().all(|n| n.id.starts_with("dn")),
        "{spec:?}"
    );
    assert_eq!(spec.min_successes, spec.nodes.len() as i64);
    for t in &spec.tasks {
        let id = t.id.clone().unwrap_or_default();
        assert_eq!(
            (id.project.as_str(), id.domain.as_str(), id.version.as_str()),
            ("sp", "sd", "tv1")
        );
        let Some(task_template::Target::Container(c)) = &t.target else {
            panic!("no container: {t:?}");
        };
        assert_eq!(c.image, IMAGE);
        if fast {
            assert_eq!(
                &c.args[..7],
                [
                    "fanout",
                    "fast-execute",
                    "--additional-distribution",
                    DISTRO,
                    "--dest-dir",
                    "/root",
                    "--"
                ]
            );
        } else {
            assert_eq!(c.args[0], "fanout");
        }
    }
}

#[test]
fn futures_match_flytekit() {
    compare_with_flytekit("fan", json!({"n": 2, "base": 10}), false);
    compare_with_flytekit("squares_dyn", json!({"xs": [1, 2]}), false);
    compare_with_flytekit("nested", json!({"n": 2}), false);
}

#[test]
fn futures_under_fast_registration_match_flytekit() {
    compare_with_flytekit("fan", json!({"n": 3, "base": 0}), true);
    compare_with_flytekit("squares_dyn", json!({"xs": [5]}), true);
}

#[test]
fn a_body_without_nodes_writes_its_outputs() {
    let r = Run::new(&json!({"n": 7}));
    let o = r.execute("passthrough", false);
    assert!(o.status.success(), "{o:?}");
    let report = r.report();
    assert_eq!(report["outputs"], json!({"o0": 7}), "{report:#}");
    assert_eq!(report["files"], json!(["outputs.pb"]));
    // Zero nodes from a node-adding body: n = 0 still adds the `total` node.
    let r = Run::new(&json!({"n": 0, "base": 0}));
    assert!(r.execute("fan", false).status.success());
    assert_eq!(r.report()["futures"]["nodes"], json!(["dn0"]));
}

#[test]
fn a_failing_body_is_a_user_error() {
    let r = Run::new(&json!({"n": -1}));
    let o = r.execute("checked_fan", false);
    assert!(o.status.success(), "{o:?}");
    let report = r.report();
    let e = &report["error"];
    assert_eq!(e["code"], "USER:RuntimeError", "{report:#}");
    assert_eq!(e["origin"], "USER");
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("n must not be negative"),
        "{report:#}"
    );
}

#[test]
fn the_dynamic_task_template_carries_its_registration_settings() {
    let s = registration();
    let t = fanout::fan::task().template(&s).expect("template");
    let Some(task_template::Target::Container(c)) = &t.target else {
        panic!("no container");
    };
    let ssc = c
        .env
        .iter()
        .find(|kv| kv.key == "_F_SS_C")
        .map(|kv| kv.value.clone())
        .expect("_F_SS_C in the env");
    // flytekit reads our settings too.
    let code = r#"
import sys
from flytekit.configuration import SerializationSettings
s = SerializationSettings.from_transport(sys.argv[1])
print(s.project, s.domain, s.version, s.image_config.default_image.full)
"#;
    let out = flytekit_oracle::run_code(code, &[&ssc], b"");
    assert_eq!(out.stdout_str().trim(), format!("sp sd sv {IMAGE}"));
    // Plain tasks do not carry it.
    let t = fanout::inc::task().template(&s).unwrap();
    let Some(task_template::Target::Container(c)) = &t.target else {
        panic!("no container");
    };
    assert!(c.env.iter().all(|kv| kv.key != "_F_SS_C"));
}

fn serialize_fanout(dir: &Path) -> (Vec<WorkflowTemplate>, Vec<TaskTemplate>) {
    let (specs, tasks) = serialized::serialize(&fanout_bin(), IMAGE, dir);
    let wfs = specs
        .into_iter()
        .flat_map(|spec| spec.template.into_iter().chain(spec.sub_workflows))
        .collect();
    (wfs, tasks)
}

async fn in_process(task: &Task, values: &Value) -> LiteralMap {
    let mut lits = LiteralMap::default();
    for (k, v) in values.as_object().unwrap() {
        let ty = task.interface().inputs.as_ref().unwrap().variables[k]
            .r#type
            .clone()
            .unwrap();
        lits.literals.insert(
            k.clone(),
            flytekit::type_engine::literal_from_json(&ty, v).unwrap(),
        );
    }
    flytekit::engine::Engine::default()
        .run_task(task, lits)
        .await
        .expect("in-process run")
}

#[tokio::test]
async fn in_process_and_container_runs_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (wfs, tasks) = serialize_fanout(&dir.path().join("ser"));
    let mut registry = propeller::Registry::default();
    registry.add(&tasks, &wfs);
    let bin_dir = fanout_bin().parent().unwrap().to_path_buf();
    let prop = propeller::Propeller::new(&bin_dir, &dir.path().join("runs"));
    let cases = [
        (
            fanout::fan::task(),
            json!({"n": 4, "base": 10}),
            json!({"o0": 50}),
        ),
        (
            fanout::squares_dyn::task(),
            json!({"xs": [1, 2, 3]}),
            json!({"o0": [1, 4, 9]}),
        ),
        (
            fanout::nested::task(),
            json!({"n": 3}),
            json!({"o0": [1, 256, 6561]}),
        ),
        (
            fanout::passthrough::task(),
            json!({"n": 5}),
            json!({"o0": 5}),
        ),
        (
            fanout::checked_fan::task(),
            json!({"n": 3}),
            json!({"o0": 6}),
        ),
    ];
    for (task, values, expected) in cases {
        let local = flytekit::engine::outputs_to_json(&in_process(&task, &values).await);
        assert_eq!(local, expected, "{}", task.name());
        let short = task.short_name().to_string();
        let template = registry.tasks[&format!("fanout.{short}")].clone();
        let mut lits = LiteralMap::default();
        for (k, v) in values.as_object().unwrap() {
            let ty = task.interface().inputs.as_ref().unwrap().variables[k]
                .r#type
                .clone()
                .unwrap();
            lits.literals.insert(
                k.clone(),
                flytekit::type_engine::literal_from_json(&ty, v).unwrap(),
            );
        }
        let through = match prop.run_task(&template, &lits, &[]).expect("container run") {
            propeller::Produced::Outputs(o) => o,
            propeller::Produced::Futures(spec) => prop.run_spec(&spec, &registry).expect("spec"),
        };
        assert_eq!(
            flytekit::engine::outputs_to_json(&through),
            expected,
            "{short}"
        );
    }
    // A workflow calling dynamic tasks.
    let wf = wfs
        .iter()
        .find(|w| w.id.as_ref().is_some_and(|i| i.name == "fanout.fan_twice"))
        .unwrap();
    let mut lits = LiteralMap::default();
    lits.literals.insert(
        "n".into(),
        flytekit::type_engine::literal_from_json(
            &<i64 as flytekit::type_engine::FlyteType>::literal_type(),
            &json!(3),
        )
        .unwrap(),
    );
    let through = prop.run_workflow(wf, &registry, &lits).expect("workflow");
    assert_eq!(
        flytekit::engine::outputs_to_json(&through),
        json!({"o0": 24})
    );
    assert_eq!(fanout::fan_twice(3).await.unwrap(), 24);
}

#[tokio::test]
async fn the_engine_reports_dynamic_failures() {
    let err = fanout::checked_fan(-2).await.unwrap_err();
    assert!(err.to_string().contains("n must not be negative"), "{err}");
    assert_eq!(fanout::checked_fan(4).await.unwrap(), 10);
}
