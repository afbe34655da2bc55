//! Map tasks against flytekit 1.16: the ArrayNode workflow templates and map task templates the
//! `fanout` example serializes are loaded by flytekit and compared with what it emits for the
//! Python twins (`conformance/fanout_twins.py`); `map-execute` runs as a real subprocess on
//! flytekit-written inputs with the array-index variables and flytekit decodes each element's
//! outputs (and compares them with `pyflyte-map-execute`'s); the local engine's parallelism and
//! success criteria; and in-process runs agree with runs through the container contract.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use flytekit::idl::Message;
use flytekit::idl::admin::WorkflowSpec;
use flytekit::idl::core::{LiteralMap, TaskTemplate, WorkflowTemplate, array_node, node};
use flytekit::map::{MAP_RESOLVER_LOCATION, SuccessCriterion};
use flytekit::prelude::*;
use flytekit::workflow::{WorkflowBuilder, WorkflowError};
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

fn fanout_bin() -> PathBuf {
    flytekit_oracle::example_binary("fanout")
}

fn b64(bytes: Vec<u8>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Runs `fanout serialize` and returns the workflow specs and task templates by name.
fn serialize_fanout(dir: &Path) -> (HashMap<String, WorkflowSpec>, HashMap<String, TaskTemplate>) {
    let (specs, tasks) = serialized::serialize(&fanout_bin(), IMAGE, dir);
    let name_of =
        |id: &Option<flytekit::idl::core::Identifier>| id.clone().unwrap_or_default().name;
    let wfs = specs
        .into_iter()
        .map(|spec| {
            (
                name_of(&spec.template.as_ref().and_then(|t| t.id.clone())),
                spec,
            )
        })
        .collect();
    let tasks = tasks.into_iter().map(|t| (name_of(&t.id), t)).collect();
    (wfs, tasks)
}

fn short(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

#[test]
fn array_node_workflows_and_map_task_templates_match_flytekit() {
    let dir = tempfile::tempdir().unwrap();
    let (wfs, tasks) = serialize_fanout(dir.path());
    let mut workflows = serde_json::Map::new();
    for name in ["squares", "add_all", "pairwise", "roots"] {
        let spec = &wfs[&format!("fanout.{name}")];
        let template = spec.template.clone().expect("template");
        let map_tasks: Vec<String> = template
            .nodes
            .iter()
            .filter_map(|n| match &n.target {
                Some(node::Target::ArrayNode(a)) => a.node.as_ref().map(|s| s.id.clone()),
                _ => None,
            })
            .map(|id| b64(tasks[&id].encode_to_vec()))
            .collect();
        assert!(!map_tasks.is_empty(), "{name} has no array node");
        workflows.insert(
            name.to_string(),
            json!({"template": b64(template.encode_to_vec()), "tasks": map_tasks}),
        );
    }
    let request = json!({
        "settings": {"project": "p", "domain": "d", "version": "v", "image": IMAGE},
        "workflows": workflows,
    });
    let out = flytekit_oracle::run_script(
        "map_dynamic.py",
        &["structure"],
        request.to_string().as_bytes(),
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("JSON");
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
fn map_task_names_hash_their_options_like_flytekit() {
    let square = fanout::square::task();
    let add = fanout::add::task();
    let ours = [
        flytekit::map_task(square.clone()).build().unwrap(),
        flytekit::map_task(square.clone())
            .concurrency(0)
            .build()
            .unwrap(),
        flytekit::map_task(square.clone())
            .min_successes(2)
            .build()
            .unwrap(),
        flytekit::map_task(square.clone())
            .min_success_ratio(0.75)
            .build()
            .unwrap(),
        flytekit::map_task(square.clone())
            .min_success_ratio(1e-5)
            .build()
            .unwrap(),
        flytekit::map_task(add.clone())
            .bound_inputs(["b"])
            .concurrency(4)
            .build()
            .unwrap(),
    ];
    let code = r#"
import functools, json, sys
sys.path.insert(0, sys.argv[1])
from flytekit import map_task
import fanout_twins as t
names = [
    map_task(t.square).name,
    map_task(t.square, concurrency=0).name,
    map_task(t.square, min_successes=2, min_success_ratio=None).name,
    map_task(t.square, min_success_ratio=0.75).name,
    map_task(t.square, min_success_ratio=1e-5).name,
    map_task(functools.partial(t.add, b=1), concurrency=4).name,
]
print(json.dumps(names))
"#;
    let dir = flytekit_oracle::conformance_dir();
    let out = flytekit_oracle::run_code(code, &[dir.to_str().unwrap()], b"");
    let theirs: Vec<String> = serde_json::from_slice(&out.stdout).expect("JSON");
    for (m, t) in ours.iter().zip(&theirs) {
        assert_eq!(short(m.name()), short(t), "{} vs {t}", m.name());
    }
    assert_eq!(
        short(ours[0].name()),
        "map_square_6b3bd0353da5de6e84d7982921ead2b3-arraynode"
    );
}

#[test]
fn min_successes_is_emitted_as_the_array_nodes_criterion() {
    let wf = WorkflowBuilder::new("t.minsucc");
    let xs = wf.input::<Vec<i64>>("xs");
    let m = flytekit::map_task(fanout::square::task())
        .min_successes(2)
        .concurrency(3)
        .build()
        .unwrap();
    let n = m.add_node(&wf, vec![wf.bind::<Vec<i64>>("x", xs)]);
    wf.output::<Vec<Option<i64>>>("o0", n.output::<Vec<Option<i64>>>("o0"));
    let wf = wf.build().expect("valid");
    let t = wf
        .template(&flytekit::SerializationSettings::new("p", "d", "v").with_default_image(IMAGE))
        .expect("template");
    let Some(node::Target::ArrayNode(a)) = &t.nodes[0].target else {
        panic!("not an array node: {:?}", t.nodes[0]);
    };
    assert_eq!(
        a.success_criteria,
        Some(array_node::SuccessCriteria::MinSuccesses(2))
    );
    assert_eq!(
        a.parallelism_option,
        Some(array_node::ParallelismOption::Parallelism(3))
    );
    assert_eq!(m.spec().criterion(), SuccessCriterion::MinSuccesses(2));
}

#[test]
fn invalid_maps_are_reported() {
    let split = Task::builder("t.split")
        .input::<i64>("a", "")
        .output::<i64>("o0", "")
        .output::<String>("o1", "")
        .body(|_, _| async { Ok(LiteralMap::default()) })
        .build()
        .unwrap();
    let e = flytekit::map_task(split).build().unwrap_err();
    assert!(e.to_string().contains("at most one"), "{e}");
    let e = flytekit::map_task(fanout::add::task())
        .bound_inputs(["c"])
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("bound input 'c'"), "{e}");
    let e = flytekit::map_task(fanout::square::task())
        .min_success_ratio(1.5)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("between 0 and 1"), "{e}");
    let e = flytekit::map_task(fanout::fan::task()).build().unwrap_err();
    assert!(e.to_string().contains("only plain tasks"), "{e}");

    // Through the typed API the error surfaces when the workflow is built.
    let wf = WorkflowBuilder::new("t.badratio");
    let xs = wf.input::<Vec<i64>>("xs");
    let out = fanout::square::map_with::node(&wf, MapOptions::new().min_success_ratio(1.0), xs);
    wf.output::<Vec<Option<i64>>>("o0", out);
    let err = wf.build().unwrap_err();
    assert!(err.to_string().contains("min_success_ratio(1.0)"), "{err}");
    assert!(matches!(
        err,
        WorkflowError::InvalidEntity { .. } | WorkflowError::Invalid { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// map-execute

struct MapRun {
    dir: tempfile::TempDir,
}

impl MapRun {
    fn new(values: Value) -> MapRun {
        let dir = tempfile::tempdir().unwrap();
        let inputs = dir.path().join("inputs.pb");
        flytekit_oracle::run_script(
            "map_dynamic.py",
            &[
                "write-inputs",
                inputs.to_str().unwrap(),
                &values.to_string(),
            ],
            b"",
        );
        MapRun { dir }
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    fn command(&self, resolver: &str, loader_args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(fanout_bin());
        cmd.args(["map-execute", "--inputs"])
            .arg(self.dir.path().join("inputs.pb"))
            .arg("--output-prefix")
            .arg(self.out())
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
            .env_remove("BATCH_JOB_ARRAY_INDEX_OFFSET")
            .env_remove("BATCH_JOB_ARRAY_INDEX_VAR_NAME")
            .env_remove("FLYTE_K8S_ARRAY_INDEX")
            .env_remove("FLYTE_FAIL_ON_ERROR")
            .envs(env.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .current_dir(self.dir.path());
        cmd
    }

    /// Runs `map-execute` over `task` with `bound` inputs; returns flytekit's report.
    fn run(&self, task: &str, bound: &str, env: &[(&str, &str)]) -> Value {
        let out = self
            .command(
                MAP_RESOLVER_LOCATION,
                &[
                    "vars",
                    bound,
                    "resolver",
                    "flytekit.resolver.default",
                    "task-module",
                    "fanout",
                    "task-name",
                    task,
                ],
                env,
            )
            .output()
            .expect("map-execute runs");
        assert!(out.status.success(), "{out:?}");
        self.report()
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

/// What `pyflyte-map-execute` writes for the twin task under the same inputs and environment.
fn flytekit_map_execute(task: &str, values: &Value, bound: &str, env: &[(&str, &str)]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let env: serde_json::Map<String, Value> =
        env.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    let out = flytekit_oracle::run_script(
        "map_dynamic.py",
        &[
            "py-map-execute",
            dir.path().to_str().unwrap(),
            task,
            &values.to_string(),
            &Value::Object(env).to_string(),
            bound,
        ],
        b"",
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn map_execute_picks_the_element_like_pyflyte_map_execute() {
    // The contract's verified example: OFFSET=1, VAR_NAME=MYIDX, MYIDX=1, [10,20,30] -> "30".
    let values = json!({"a": [10, 20, 30]});
    let env = [
        ("BATCH_JOB_ARRAY_INDEX_OFFSET", "1"),
        ("BATCH_JOB_ARRAY_INDEX_VAR_NAME", "MYIDX"),
        ("MYIDX", "1"),
    ];
    let r = MapRun::new(values.clone());
    let ours = r.run("to_str", "", &env);
    assert_eq!(ours["outputs"], json!({"o0": "30"}), "{ours:#}");
    assert_eq!(ours["files"], json!(["outputs.pb"]));
    assert_eq!(ours, flytekit_map_execute("to_str", &values, "", &env));

    // Propeller's variables; no variables at all means element 0.
    let cases: [(&[(&str, &str)], Value); 3] = [
        (
            &[
                ("BATCH_JOB_ARRAY_INDEX_VAR_NAME", "FLYTE_K8S_ARRAY_INDEX"),
                ("FLYTE_K8S_ARRAY_INDEX", "2"),
            ],
            json!("30"),
        ),
        (&[], json!("10")),
        (&[("BATCH_JOB_ARRAY_INDEX_OFFSET", "1")], json!("20")),
    ];
    for (env, expected) in cases {
        let r = MapRun::new(values.clone());
        let ours = r.run("to_str", "", env);
        assert_eq!(ours["outputs"]["o0"], expected, "{env:?}: {ours:#}");
        assert_eq!(
            ours,
            flytekit_map_execute("to_str", &values, "", env),
            "{env:?}"
        );
    }
}

#[test]
fn bound_inputs_are_passed_whole() {
    let values = json!({"a": [1, 2, 3], "b": 100});
    let env = [
        ("BATCH_JOB_ARRAY_INDEX_VAR_NAME", "FLYTE_K8S_ARRAY_INDEX"),
        ("FLYTE_K8S_ARRAY_INDEX", "1"),
    ];
    let r = MapRun::new(values.clone());
    let ours = r.run("add", "b", &env);
    assert_eq!(ours["outputs"], json!({"o0": 102}), "{ours:#}");
    assert_eq!(ours, flytekit_map_execute("add", &values, "b", &env));
}

fn assert_error(report: &Value, code: &str, kind: &str, origin: &str, part: &str) {
    let e = &report["error"];
    assert_eq!(e["code"], code, "{report:#}");
    assert_eq!(e["kind"], kind, "{report:#}");
    assert_eq!(e["origin"], origin, "{report:#}");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    assert!(report.get("outputs").is_none(), "{report:#}");
}

#[test]
fn map_execute_errors_follow_the_error_table() {
    // A mapped input that is not a list: flytekit's ValueError, SYSTEM non-recoverable.
    let values = json!({"a": 5});
    let r = MapRun::new(values.clone());
    let ours = r.run("to_str", "", &[]);
    assert_error(
        &ours,
        "SYSTEM",
        "NON_RECOVERABLE",
        "SYSTEM",
        "Expected a list of literals for a",
    );
    let theirs = flytekit_map_execute("to_str", &values, "", &[]);
    assert_eq!(theirs["error"]["code"], "SYSTEM");
    assert_eq!(theirs["error"]["kind"], "NON_RECOVERABLE");

    // An index past the end.
    let r = MapRun::new(json!({"a": [1, 2]}));
    let ours = r.run("to_str", "", &[("BATCH_JOB_ARRAY_INDEX_OFFSET", "5")]);
    assert_error(&ours, "SYSTEM", "NON_RECOVERABLE", "SYSTEM", "out of range");

    // The element's own failure keeps its user error code.
    let r = MapRun::new(json!({"x": [4, -1]}));
    let ours = r.run("sqrt", "", &[("BATCH_JOB_ARRAY_INDEX_OFFSET", "1")]);
    assert_error(
        &ours,
        "USER:NegativeInput",
        "NON_RECOVERABLE",
        "USER",
        "square root of -1",
    );

    // A garbled index variable is reported, not a crash.
    let r = MapRun::new(json!({"a": [1]}));
    let ours = r.run("to_str", "", &[("BATCH_JOB_ARRAY_INDEX_OFFSET", "one")]);
    assert_error(&ours, "SYSTEM", "RECOVERABLE", "SYSTEM", "not an integer");

    // Loader args of the wrong shape, an unknown inner task, the wrong resolver: USER load errors.
    for (resolver, args, part) in [
        (
            MAP_RESOLVER_LOCATION,
            vec!["task-module", "fanout", "task-name", "square"],
            "vars <bound",
        ),
        (
            MAP_RESOLVER_LOCATION,
            vec![
                "vars",
                "",
                "resolver",
                "flytekit.resolver.default",
                "task-module",
                "fanout",
                "task-name",
                "nope",
            ],
            "no task 'nope'",
        ),
        (
            "flytekit.resolver.default",
            vec!["task-module", "fanout", "task-name", "square"],
            "not a map task",
        ),
    ] {
        let r = MapRun::new(json!({"x": [1]}));
        let o = r.command(resolver, &args, &[]).output().unwrap();
        assert!(o.status.success(), "{o:?}");
        assert_error(
            &r.report(),
            "USER:RuntimeError",
            "NON_RECOVERABLE",
            "USER",
            part,
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The local engine

static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// Records how many copies run at once.
#[task]
async fn slow(x: i64) -> i64 {
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    PEAK.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(20)).await;
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    x
}

#[workflow]
fn two_at_a_time(xs: Vec<i64>) -> Vec<i64> {
    slow::map_with(MapOptions::new().concurrency(2), xs)
}

#[workflow]
fn all_at_once(xs: Vec<i64>) -> Vec<i64> {
    slow::map(xs)
}

#[tokio::test]
async fn the_engine_runs_elements_in_parallel_within_the_concurrency() {
    let xs: Vec<i64> = (0..12).collect();
    PEAK.store(0, Ordering::SeqCst);
    assert_eq!(two_at_a_time(xs.clone()).await.unwrap(), xs);
    assert_eq!(PEAK.load(Ordering::SeqCst), 2);
    PEAK.store(0, Ordering::SeqCst);
    let engine = flytekit::engine::Engine::new(flytekit::engine::EngineOptions {
        concurrency: 6,
        cache: flytekit::engine::CacheMode::Disabled,
        ..Default::default()
    });
    let mut call = flytekit::engine::LocalCall::with_engine(all_at_once::workflow(), engine);
    call.input("xs", &xs).await.unwrap();
    let out: Vec<i64> = call.execute().await.unwrap().get("o0").await.unwrap();
    assert_eq!(out, xs);
    let peak = PEAK.load(Ordering::SeqCst);
    assert!((3..=6).contains(&peak), "peak {peak}");
}

/// Elements of `steady` finished so far, and how many had when `aside` ran.
static STEADY_DONE: AtomicUsize = AtomicUsize::new(0);
static DONE_WHEN_ASIDE_RAN: AtomicUsize = AtomicUsize::new(usize::MAX);

/// A map element that takes a few milliseconds of the CPU's time (a sync body, in place).
#[task]
fn steady(x: i64) -> i64 {
    std::thread::sleep(Duration::from_millis(3));
    STEADY_DONE.fetch_add(1, Ordering::SeqCst);
    x
}

/// A task beside the map, waiting for one of the engine's slots.
#[task]
fn aside(x: i64) -> i64 {
    DONE_WHEN_ASIDE_RAN.store(STEADY_DONE.load(Ordering::SeqCst), Ordering::SeqCst);
    x
}

/// Holds a slot while the map starts, so that the map's lanes wait for it and then hold both.
#[task]
fn pause(x: i64) -> i64 {
    std::thread::sleep(Duration::from_millis(20));
    x
}

#[workflow]
fn map_beside_a_task(xs: Vec<i64>, x: i64) -> (Vec<i64>, i64) {
    let y = pause(x);
    (steady::map(xs), aside(y))
}

#[tokio::test]
async fn a_map_gives_its_slots_back_to_waiting_tasks() {
    // Two slots: `pause` holds one, then the map's second lane (waiting first) takes it, so the
    // map holds both when `aside` asks for one. It gets one when a lane's lease runs out (after
    // a millisecond), not once all 60 elements are done.
    STEADY_DONE.store(0, Ordering::SeqCst);
    let engine = flytekit::engine::Engine::new(flytekit::engine::EngineOptions {
        concurrency: 2,
        cache: flytekit::engine::CacheMode::Disabled,
        ..Default::default()
    });
    let mut call = flytekit::engine::LocalCall::with_engine(map_beside_a_task::workflow(), engine);
    let xs: Vec<i64> = (0..60).collect();
    call.input("xs", &xs).await.unwrap();
    call.input("x", &7i64).await.unwrap();
    let out = call.execute().await.unwrap();
    assert_eq!(out.get::<Vec<i64>>("o0").await.unwrap(), xs);
    assert_eq!(out.get::<i64>("o1").await.unwrap(), 7);
    let done = DONE_WHEN_ASIDE_RAN.load(Ordering::SeqCst);
    assert!(
        done < 30,
        "the task beside the map waited for {done} of its 60 elements"
    );
}

static CACHED_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Counts its executions; its outputs are cached.
#[task(cache = true, cache_version = "1")]
fn cached_square(x: i64) -> i64 {
    CACHED_RUNS.fetch_add(1, Ordering::SeqCst);
    x * x
}

#[workflow]
fn cached_squares(xs: Vec<i64>) -> Vec<i64> {
    cached_square::map(xs)
}

#[tokio::test]
async fn cached_elements_are_looked_up_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = |xs: Vec<i64>| {
        let engine = flytekit::engine::Engine::new(flytekit::engine::EngineOptions {
            cache_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        });
        async move {
            let mut call =
                flytekit::engine::LocalCall::with_engine(cached_squares::workflow(), engine);
            call.input("xs", &xs).await.unwrap();
            let out: Vec<i64> = call.execute().await.unwrap().get("o0").await.unwrap();
            out
        }
    };
    CACHED_RUNS.store(0, Ordering::SeqCst);
    assert_eq!(run(vec![1, 2, 3]).await, vec![1, 4, 9]);
    assert_eq!(CACHED_RUNS.load(Ordering::SeqCst), 3);
    // Elements seen before come from the cache; only the new one runs.
    assert_eq!(run(vec![3, 2, 4]).await, vec![9, 4, 16]);
    assert_eq!(CACHED_RUNS.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn success_criteria_decide_partial_failures() {
    assert_eq!(
        fanout::roots(vec![4, -1, 9]).await.unwrap(),
        vec![Some(2.0), None, Some(3.0)]
    );
    let err = fanout::roots(vec![4, -1, -9]).await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("2 of 3 elements failed"), "{msg}");
    assert!(msg.contains("square root of -1"), "{msg}");
    assert!(
        matches!(err, flytekit::engine::EngineError::MapFailed { .. }),
        "{err:?}"
    );
    // An empty list maps to an empty list.
    assert_eq!(fanout::squares(vec![]).await.unwrap(), Vec::<i64>::new());
    // Mismatched lengths are an input error, not a panic.
    let err = fanout::pairwise(vec![1, 2], vec![1]).await.unwrap_err();
    assert!(err.to_string().contains("different lengths"), "{err}");
}

#[tokio::test]
async fn map_tasks_run_on_their_own_and_through_the_builder_api() {
    // Dispatched directly (no engine): the elements still run, with the criterion.
    let m = flytekit::map_task(fanout::sqrt::task())
        .min_successes(1)
        .build()
        .unwrap();
    let cx =
        flytekit::ExecutionContext::local(&flytekit::type_engine::ConversionContext::in_memory());
    let mut inputs = LiteralMap::default();
    let cxc = flytekit::type_engine::ConversionContext::in_memory();
    inputs
        .literals
        .insert("x".into(), vec![-4i64, 16].to_literal(&cxc).await.unwrap());
    let out = m.task().dispatch(&inputs, &cx).await.unwrap();
    let got: Vec<Option<f64>> = Vec::from_literal(&out.literals["o0"], &cxc).await.unwrap();
    assert_eq!(got, vec![None, Some(4.0)]);
    // User types go through elements.
    let ps = vec![fanout::Point { x: 1, y: 2 }, fanout::Point { x: -3, y: 0 }];
    let moved = fanout::shifted(ps, 10).await.unwrap();
    assert_eq!(
        moved,
        vec![fanout::Point { x: 11, y: 2 }, fanout::Point { x: 7, y: 0 }]
    );
}

// ---------------------------------------------------------------------------------------------
// In-process and through the container contract agree

fn literal_json(m: &LiteralMap) -> Value {
    flytekit::engine::outputs_to_json(m)
}

#[tokio::test]
async fn in_process_and_container_runs_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (wfs, tasks) = serialize_fanout(&dir.path().join("ser"));
    let mut registry = propeller::Registry::default();
    let templates: Vec<TaskTemplate> = tasks.values().cloned().collect();
    let subs: Vec<WorkflowTemplate> = wfs.values().filter_map(|s| s.template.clone()).collect();
    registry.add(&templates, &subs);
    let bin_dir = fanout_bin().parent().unwrap().to_path_buf();
    let prop = propeller::Propeller::new(&bin_dir, &dir.path().join("runs"));

    let cases: Vec<(&str, Vec<(&str, Value)>)> = vec![
        ("squares", vec![("xs", json!([1, 2, 3, 4]))]),
        ("add_all", vec![("xs", json!([1, 2, 3])), ("k", json!(10))]),
        (
            "pairwise",
            vec![("xs", json!([1, 2])), ("ys", json!([30, 40]))],
        ),
        ("roots", vec![("xs", json!([4, -1, 9]))]),
    ];
    for (name, inputs) in cases {
        let wf = flytekit::workflow::registered()
            .into_iter()
            .find(|w| w.short_name() == name)
            .unwrap_or_else(|| panic!("workflow {name}"));
        let mut lits = LiteralMap::default();
        for (k, v) in &inputs {
            let ty = wf
                .interface()
                .inputs
                .as_ref()
                .and_then(|i| i.variables.get(*k))
                .and_then(|v| v.r#type.clone())
                .unwrap();
            lits.literals.insert(
                k.to_string(),
                flytekit::type_engine::literal_from_json(&ty, v).unwrap(),
            );
        }
        let in_process = flytekit::engine::Engine::default()
            .run_workflow(&wf, lits.clone())
            .await;
        let template = &wfs[&format!("fanout.{name}")].template.clone().unwrap();
        let contract = prop.run_workflow(template, &registry, &lits);
        match (in_process, contract) {
            (Ok(a), Ok(b)) => assert_eq!(literal_json(&a), literal_json(&b), "{name}"),
            (a, b) => panic!("{name}: in-process {a:?}, container {b:?}"),
        }
    }
}
