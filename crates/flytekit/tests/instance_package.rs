//! Instance tasks end to end through the `tables` example: its instances come from a
//! configuration file written here (eight tables, one carrying a 5 MiB payload, two of them
//! bundled), `package --payload-store` uploads to the S3 test server (Garage) and writes the
//! archive, flytekit's model classes read every file of it, and every task in it runs through its
//! container args (as Propeller would: `tests/support/propeller.rs`) with the outputs expected
//! from the configuration; the workflows run from the archive, in-process (`run`) and in the
//! sandbox (`run --sandbox`, against S3). `register` (against the fake FlyteAdmin of
//! `conformance/fake_admin.py`) stores the same payloads first and registers the same templates
//! as the archive holds. Bad input: an unreachable payload store, a payload deleted or tampered
//! with after packaging, and a binary that lacks the instance type.

#[path = "support/propeller.rs"]
#[allow(dead_code)]
mod propeller;

#[path = "support/fake_admin.rs"]
#[allow(dead_code)]
mod fake_admin;

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use flytekit::idl::Message;
use flytekit::idl::admin::{TaskSpec, WorkflowSpec};
use flytekit::idl::core::{
    ErrorDocument, LiteralMap, TaskTemplate, WorkflowTemplate, container_error, task_template,
};
use flytekit::instance::MAX_OFFLOADED_LOADER_ARGS;
use flytekit::storage::{Storage, StorageConfig};
use flytekit::type_engine::{literal_from_json, literal_to_json};
use propeller::{Produced, Propeller, Registry};
use serde_json::{Value, json};
use sha2::Digest as _;

/// A configured table: its name, rows and default.
type TableSpec = (&'static str, Vec<(&'static str, i64)>, Option<i64>);

/// The tables: name → (rows, default). The `big` table also carries 5 MiB of notes.
fn tables() -> Vec<TableSpec> {
    vec![
        ("prices", vec![("apple", 3), ("pear", 4)], None),
        ("stock", vec![("apple", 120)], Some(0)),
        ("big", vec![("apple", 42), ("pear", 1)], None),
        ("t1", vec![("apple", 1)], None),
        ("t2", vec![("apple", 2)], None),
        ("t3", vec![("pear", 3)], Some(-3)),
    ]
}

fn bundled() -> Vec<TableSpec> {
    vec![
        ("colors", vec![("apple", 1), ("pear", 2)], None),
        ("sizes", vec![("apple", 7)], Some(5)),
    ]
}

/// The value of `key` in `table`.
fn lookup(table: &TableSpec, key: &str) -> Option<i64> {
    table
        .1
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| *v)
        .or(table.2)
}

const BIG_NOTES: usize = 5 * 1024 * 1024;

/// Pseudo-random lowercase text.
fn text(len: usize, seed: u64) -> String {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (b'a' + (s % 26) as u8) as char
        })
        .collect()
}

/// Writes the configuration file (JSON, which YAML reads) into `dir`; `seed` varies the big
/// table's notes.
fn write_config(dir: &Path, seed: u64) -> PathBuf {
    let table = |(name, rows, default): &TableSpec| {
        let rows: BTreeMap<&str, i64> = rows.iter().cloned().collect();
        let mut t = json!({"name": name, "rows": rows, "default": default});
        if *name == "big" {
            t["notes"] = json!(text(BIG_NOTES, seed));
        }
        t
    };
    let config = json!({
        "tables": tables().iter().map(table).collect::<Vec<_>>(),
        "bundled": bundled().iter().map(table).collect::<Vec<_>>(),
    });
    let path = dir.join(format!("tables-{seed}.yaml"));
    std::fs::write(&path, config.to_string()).expect("write the configuration");
    path
}

fn bin() -> PathBuf {
    flytekit_oracle::example_binary("tables")
}

/// The S3 test server's storage and a fresh prefix in its bucket.
fn s3() -> (Storage, String) {
    let env = flytekit_oracle::s3_env();
    let config = StorageConfig::from_lookup(|name| {
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .expect("storage config");
    let bucket = flytekit_oracle::test_env("FLYTEKIT_TEST_S3_BUCKET");
    let prefix = format!(
        "s3://{bucket}/instance-package/{}",
        flytekit_oracle::nonce()
    );
    (Storage::from_config(config), prefix)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

/// `tables <args>` with the S3 test server's environment.
fn tables_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .envs(flytekit_oracle::s3_env())
        .env_remove("FLYTEKIT_PAYLOAD_STORE")
        .env_remove("FLYTEKIT_BUILD_ID");
    cmd
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `package` of every entity with `config`, to `out`, uploading to `store`.
fn package(config: &Path, store: &str, out: &Path, extra: &[&str]) -> Output {
    let mut cmd = tables_cmd(&["package", "--image", "ghcr.io/acme/tables:1"]);
    cmd.arg("-o")
        .arg(out)
        .args(["--payload-store", store, "--instance-arg"])
        .arg(format!("config={}", config.display()))
        .args(extra);
    cmd.output().expect("package runs")
}

fn version_of(o: &Output) -> String {
    stderr(o)
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .expect("a version line")
        .to_string()
}

/// The archive's entries: task templates and workflow templates by name.
fn read_archive(
    path: &Path,
) -> (
    BTreeMap<String, TaskTemplate>,
    BTreeMap<String, WorkflowTemplate>,
) {
    let mut tasks = BTreeMap::new();
    let mut workflows = BTreeMap::new();
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(path).expect("archive"));
    let mut tar = tar::Archive::new(gz);
    for entry in tar.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let name = entry.path().expect("path").display().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read entry");
        if name.ends_with("_1.pb") {
            let t = TaskSpec::decode(bytes.as_slice())
                .expect("TaskSpec")
                .template
                .expect("template");
            tasks.insert(t.id.as_ref().expect("id").name.clone(), t);
        } else if name.ends_with("_2.pb") {
            let w = WorkflowSpec::decode(bytes.as_slice())
                .expect("WorkflowSpec")
                .template
                .expect("template");
            workflows.insert(w.id.as_ref().expect("id").name.clone(), w);
        }
    }
    (tasks, workflows)
}

/// flytekit's model classes read every entry of the archive.
const FLYTEKIT_READS: &str = r#"
import json, sys, tarfile
from flyteidl.admin import task_pb2, workflow_pb2, launch_plan_pb2
from flytekit.models.task import TaskTemplate
from flytekit.models.admin.workflow import WorkflowSpec
from flytekit.models.launch_plan import LaunchPlan
report = {"files": 0, "tasks": {}, "workflows": {}, "launch_plans": []}
with tarfile.open(sys.argv[1]) as tar:
    for m in tar.getmembers():
        data = tar.extractfile(m).read()
        report["files"] += 1
        if m.name.endswith("_1.pb"):
            spec = task_pb2.TaskSpec(); spec.ParseFromString(data)
            t = TaskTemplate.from_flyte_idl(spec.template)
            args = list(t.container.args)
            report["tasks"][t.id.name] = {"resolver": args[args.index("--resolver") + 1],
                                          "loader_args": args[args.index("--") + 1:],
                                          "version": t.id.version}
        elif m.name.endswith("_2.pb"):
            pb = workflow_pb2.WorkflowSpec(); pb.ParseFromString(data)
            wf = WorkflowSpec.from_flyte_idl(pb)
            report["workflows"][wf.template.id.name] = len(wf.template.nodes)
        elif m.name.endswith("_3.pb"):
            pb = launch_plan_pb2.LaunchPlan(); pb.ParseFromString(data)
            report["launch_plans"].append(LaunchPlan.from_flyte_idl(pb).id.name)
        else:
            raise SystemExit(f"unexpected entry {m.name}")
print(json.dumps(report))
"#;

/// Inputs for `tt` from JSON values, converted by the task's declared types.
fn inputs(tt: &TaskTemplate, values: &Value) -> LiteralMap {
    let vars = tt
        .interface
        .as_ref()
        .and_then(|i| i.inputs.as_ref())
        .expect("inputs");
    let mut m = LiteralMap::default();
    for (name, var) in &vars.variables {
        let ty = var.r#type.as_ref().expect("type");
        let lit = literal_from_json(ty, &values[name]).expect("input literal");
        m.literals.insert(name.clone(), lit);
    }
    m
}

/// Inputs for workflow `wf` from JSON values.
fn workflow_inputs(wf: &WorkflowTemplate, values: &Value) -> LiteralMap {
    let vars = wf
        .interface
        .as_ref()
        .and_then(|i| i.inputs.as_ref())
        .expect("inputs");
    let mut m = LiteralMap::default();
    for (name, var) in &vars.variables {
        let ty = var.r#type.as_ref().expect("type");
        let lit = literal_from_json(ty, &values[name]).expect("input literal");
        m.literals.insert(name.clone(), lit);
    }
    m
}

fn json_of(m: &LiteralMap) -> Value {
    Value::Object(
        m.literals
            .iter()
            .map(|(k, v)| (k.clone(), literal_to_json(v)))
            .collect(),
    )
}

/// A Propeller running the `tables` binary with the S3 environment and a fresh payload cache.
fn propeller(work: &Path) -> Propeller {
    let bin_dir = bin().parent().expect("examples dir").to_path_buf();
    let mut p = Propeller::new(&bin_dir, &work.join("runs"));
    p.env = flytekit_oracle::s3_env()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    p.env.push((
        "FLYTEKIT_CACHE_DIR".into(),
        work.join("cache").display().to_string(),
    ));
    p
}

/// Runs `tt`'s container args with `program` in place of the binary and returns the outputs or
/// the error document.
fn run_container(
    program: &Path,
    tt: &TaskTemplate,
    values: &Value,
    work: &Path,
) -> Result<LiteralMap, flytekit::idl::core::ContainerError> {
    let Some(task_template::Target::Container(c)) = &tt.target else {
        panic!("no container");
    };
    let dir = tempfile::tempdir_in(work).expect("run dir");
    let input = dir.path().join("inputs.pb");
    std::fs::write(&input, inputs(tt, values).encode_to_vec()).expect("inputs");
    let out = dir.path().join("out");
    let args: Vec<String> = c.args[1..]
        .iter()
        .map(|a| match a.as_str() {
            "{{.input}}" => input.display().to_string(),
            "{{.outputPrefix}}" => out.display().to_string(),
            "{{.rawOutputDataPrefix}}" => dir.path().join("raw").display().to_string(),
            "{{.checkpointOutputPrefix}}" => dir.path().join("ckpt").display().to_string(),
            "{{.prevCheckpointPrefix}}" => "\"\"".to_string(),
            other => other.to_string(),
        })
        .collect();
    let o = Command::new(program)
        .args(&args)
        .envs(flytekit_oracle::s3_env())
        .env("FLYTEKIT_CACHE_DIR", dir.path().join("cache"))
        .env_remove("FLYTEKIT_BUILD_ID")
        .output()
        .expect("the container runs");
    assert!(o.status.success(), "execute exits 0: {o:?}");
    if let Ok(bytes) = std::fs::read(out.join("outputs.pb")) {
        return Ok(LiteralMap::decode(bytes.as_slice()).expect("outputs"));
    }
    let bytes = std::fs::read(out.join("error.pb")).expect("outputs.pb or error.pb");
    Err(ErrorDocument::decode(bytes.as_slice())
        .expect("ErrorDocument")
        .error
        .expect("error"))
}

fn args_len(tt: &TaskTemplate) -> (String, Vec<String>) {
    let Some(task_template::Target::Container(c)) = &tt.target else {
        panic!("no container");
    };
    let i = c.args.iter().position(|a| a == "--").expect("--");
    let r = c
        .args
        .iter()
        .position(|a| a == "--resolver")
        .expect("--resolver");
    (c.args[r + 1].clone(), c.args[i + 1..].to_vec())
}

/// The expected sum of `key` over every configured table.
fn expected_total(key: &str) -> i64 {
    tables()
        .iter()
        .chain(bundled().iter())
        .map(|t| lookup(t, key).expect("every table has a value"))
        .sum()
}

#[test]
fn package_uploads_payloads_first_and_every_task_in_the_archive_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), 1);
    let (storage, store) = s3();
    let archive = dir.path().join("flyte-package.tgz");
    let o = package(&config, &store, &archive, &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");

    // Per-instance sizes and placement, the bundle, the upload.
    let line = |task: &str| {
        err.lines()
            .find(|l| {
                l.trim_start()
                    .starts_with(&format!("tables.lookup_{task} "))
            })
            .unwrap_or_else(|| panic!("no line for {task} in\n{err}"))
            .to_string()
    };
    assert!(line("prices").ends_with("inline"), "{err}");
    assert!(line("discounts").ends_with("inline"), "{err}");
    assert!(line("big").contains("5.0 MiB serialized"), "{err}");
    assert!(
        line("big").contains(&format!("offloaded {store}/sha256-")),
        "{err}"
    );
    assert!(line("colors").ends_with("bundle") && line("sizes").ends_with("bundle"));
    assert!(err.contains("(2 entities,"), "{err}");
    assert!(
        err.contains("uploaded 2 object(s)") && err.contains("0 already present"),
        "{err}"
    );

    // flytekit reads every file.
    let r = flytekit_oracle::run_code(FLYTEKIT_READS, &[archive.to_str().unwrap()], b"");
    let report: Value = serde_json::from_slice(&r.stdout).expect("report");
    assert_eq!(report["workflows"]["tables.lookup_all"], 9, "{report:#}");
    assert_eq!(report["workflows"]["tables.price"], 1, "{report:#}");
    let version = version_of(&o);
    let flytekit_tasks = report["tasks"].as_object().expect("tasks");
    assert_eq!(flytekit_tasks.len(), 11, "{report:#}");
    // As pyflyte writes them: no version in the identifiers (flytectl's `--version` decides);
    // the content version is printed with the command to register under it.
    assert!(!version.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("--version {version}"))
            || err.contains(&format!("--version {version}")),
        "the register command names the content version"
    );
    for t in flytekit_tasks.values() {
        assert_eq!(t["version"], "", "{report:#}");
    }
    // Every entry of the archive is a task, workflow or launch plan that flytekit's models read.
    let launch_plans = report["launch_plans"].as_array().expect("launch plans");
    assert!(
        launch_plans.iter().any(|n| n == "tables.lookup_all"),
        "{report:#}"
    );
    assert_eq!(
        report["files"].as_u64(),
        Some(
            (flytekit_tasks.len()
                + report["workflows"].as_object().expect("wfs").len()
                + launch_plans.len()) as u64
        ),
        "{report:#}"
    );

    // Loader args: inline, offloaded (short whatever the size), one bundle for two tasks.
    let (tasks, workflows) = read_archive(&archive);
    let (resolver, big_args) = args_len(&tasks["tables.lookup_big"]);
    assert_eq!(resolver, "flytekit.resolver.instance");
    assert_eq!(big_args[2], "uri", "{big_args:?}");
    assert!(big_args.iter().map(String::len).sum::<usize>() < MAX_OFFLOADED_LOADER_ARGS);
    let big_uri = big_args[3].clone();
    let (resolver, colors) = args_len(&tasks["tables.lookup_colors"]);
    let (_, sizes) = args_len(&tasks["tables.lookup_sizes"]);
    assert_eq!(resolver, "flytekit.resolver.bundle");
    assert_eq!(colors[..4], sizes[..4], "one bundle, one digest");
    assert_eq!(colors[5], "tables.lookup_colors");
    assert!(colors.iter().map(String::len).sum::<usize>() < MAX_OFFLOADED_LOADER_ARGS);
    let bundle_uri = colors[1].clone();
    rt().block_on(async {
        for uri in [&big_uri, &bundle_uri] {
            assert!(storage.exists(uri).await.expect("exists"), "{uri} uploaded");
        }
    });

    // flytekit reads the same resolver and loader args.
    for (name, t) in flytekit_tasks {
        let (resolver, args) = args_len(&tasks[name]);
        assert_eq!(t["resolver"], resolver.as_str(), "{name}");
        assert_eq!(t["loader_args"], json!(args), "{name}");
    }

    // Every task runs through its container args.
    let prop = propeller(dir.path());
    let mut registry = Registry::default();
    registry.add(
        &tasks.values().cloned().collect::<Vec<_>>(),
        &workflows.values().cloned().collect::<Vec<_>>(),
    );
    for (name, tt) in &tasks {
        let (values, expected) = if let Some(table) = name.strip_prefix("tables.lookup_") {
            let all = tables().into_iter().chain(bundled()).chain([(
                "discounts",
                vec![("apple", 1), ("pear", 2)],
                Some(0),
            )]);
            let t = all.into_iter().find(|t| t.0 == table).expect("known table");
            (
                json!({"key": "apple"}),
                json!({"o0": lookup(&t, "apple").unwrap()}),
            )
        } else if name == "tables.total" {
            (json!({"xs": [1, 2, 3]}), json!({"o0": 6}))
        } else if name == "tables.offsets" {
            // Large enough to be offloaded by the dynamic task's container.
            (
                json!({"x": 10, "n": 3, "pad": 20000}),
                json!({"o0": [10, 11, 12]}),
            )
        } else {
            panic!("unexpected task {name}");
        };
        let outputs = match prop.run_task(tt, &inputs(tt, &values), &[]) {
            Ok(Produced::Outputs(o)) => o,
            Ok(Produced::Futures(spec)) => {
                assert!(spec.tasks.iter().any(|t| {
                    let (_, a) = args_len(t);
                    a[2] == "uri" && a[3].starts_with(&store)
                }));
                prop.run_spec(&spec, &registry).expect("the spec runs")
            }
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(json_of(&outputs), expected, "{name}");
    }

    // The workflows run from the archive.
    let wf = &workflows["tables.lookup_all"];
    let key = workflow_inputs(wf, &json!({"key": "apple"}));
    let out = prop
        .run_workflow(wf, &registry, &key)
        .expect("lookup_all runs");
    assert_eq!(json_of(&out), json!({"o0": expected_total("apple")}));

    // Unchanged: the same version, nothing uploaded. A changed payload: a new version.
    let again = dir.path().join("again.tgz");
    let o2 = package(&config, &store, &again, &[]);
    assert!(o2.status.success(), "{}", stderr(&o2));
    assert_eq!(version_of(&o2), version);
    assert!(
        stderr(&o2).contains("uploaded 0 object(s)"),
        "{}",
        stderr(&o2)
    );
    let changed = write_config(dir.path(), 2);
    let o3 = package(&changed, &store, &dir.path().join("changed.tgz"), &[]);
    assert!(o3.status.success(), "{}", stderr(&o3));
    assert_ne!(
        version_of(&o3),
        version,
        "the version covers payload digests"
    );

    // A declared workflow by name: it and its tasks, nothing else.
    let one = dir.path().join("one.tgz");
    let o4 = package(&config, &store, &one, &["lookup_all"]);
    assert!(o4.status.success(), "{}", stderr(&o4));
    let (tasks, workflows) = read_archive(&one);
    assert_eq!(
        workflows.keys().collect::<Vec<_>>(),
        ["tables.lookup_all"],
        "{workflows:?}"
    );
    assert_eq!(tasks.len(), 9, "{:?}", tasks.keys());
    assert!(!tasks.contains_key("tables.offsets"));
}

/// `tables run <args>` with the configuration: its JSON outputs and its stderr.
fn run(config: &Path, args: &[&str]) -> (Value, String) {
    let mut cmd = tables_cmd(&["run", "--instance-arg"]);
    cmd.arg(format!("config={}", config.display())).args(args);
    let o = cmd.output().expect("run runs");
    let err = stderr(&o);
    assert!(o.status.success(), "{args:?}: {err}");
    (
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o:?}")),
        err,
    )
}

#[test]
fn run_and_the_sandbox_run_workflows_of_instance_tasks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), 3);
    let total = json!({"o0": expected_total("apple")});

    // In-process: the workflow built from the configuration, a declared instance task, the
    // workflow over a table fixed in the code, and the dynamic task.
    assert_eq!(run(&config, &["lookup_all", "--key", "apple"]).0, total);
    assert_eq!(
        run(&config, &["tables.lookup_big", "--key", "apple"]).0,
        json!({"o0": 42})
    );
    assert_eq!(
        run(&config, &["price", "--item", "pear"]).0,
        json!({"o0": 2})
    );
    assert_eq!(
        run(
            &config,
            &["offsets", "--x", "1", "--n", "2", "--pad", "20000"]
        )
        .0,
        json!({"o0": [1, 2]})
    );

    // The sandbox, against S3: every task through its container args, the payloads inline,
    // offloaded to the store and in a bundle.
    let (storage, store) = s3();
    let sandbox = ["--sandbox-store", store.as_str()];
    let (out, err) = run(
        &config,
        &[&sandbox[..], &["lookup_all", "--key", "apple"]].concat(),
    );
    assert_eq!(out, total, "{err}");
    assert!(
        err.contains(&format!("offloaded {store}/payloads/sha256-")),
        "{err}"
    );
    assert!(err.contains("  bundle "), "{err}");
    assert!(err.contains("succeeded"), "{err}");
    let (out, _) = run(
        &config,
        &[&sandbox[..], &["price", "--item", "pear"]].concat(),
    );
    assert_eq!(out, json!({"o0": 2}));
    // The dynamic task's container offloads the large instances it makes before futures.pb.
    let (out, err) = run(
        &config,
        &[
            &sandbox[..],
            &["offsets", "--x", "1", "--n", "2", "--pad", "20000"],
        ]
        .concat(),
    );
    assert_eq!(out, json!({"o0": [1, 2]}), "{err}");
    let objects = rt()
        .block_on(storage.list(&format!("{store}/payloads/")))
        .expect("list");
    // The big table, the bundle, and the two offsets.
    assert_eq!(objects.len(), 4, "{objects:?}");
}

/// `register` takes what the providers declare, stores their payloads before registering
/// anything, and registers the templates `package` writes for the same settings.
#[test]
fn register_stores_payloads_first_and_registers_what_package_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), 6);
    let (storage, store) = s3();
    let admin = fake_admin::FakeAdmin::start(&[]);
    let ids = ["-p", "flytesnacks", "-d", "development", "--version", "v1"];

    let mut cmd = tables_cmd(&["register", "-i", "ghcr.io/acme/tables:1", "-c"]);
    cmd.arg(admin.config(""))
        .args(ids)
        .args(["--payload-store", &store, "--instance-arg"])
        .arg(format!("config={}", config.display()));
    let o = cmd.output().expect("register runs");
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("uploaded 2 object(s)") && err.contains("0 already present"),
        "{err}"
    );

    // The payloads were in the store before the first entity was sent: package finds them.
    let archive = dir.path().join("flyte-package.tgz");
    let p = package(&config, &store, &archive, &ids);
    assert!(p.status.success(), "{}", stderr(&p));
    assert!(
        stderr(&p).contains("uploaded 0 object(s)") && stderr(&p).contains("2 already present"),
        "{}",
        stderr(&p)
    );
    let (archived, _) = read_archive(&archive);
    let registered: BTreeMap<String, TaskTemplate> = admin
        .requests()
        .into_iter()
        .filter(|r| r["method"] == "CreateTask" && r["code"] == "OK")
        .map(|r| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(r["request"].as_str().expect("request bytes"))
                .expect("base64");
            let t = flytekit::idl::admin::TaskCreateRequest::decode(bytes.as_slice())
                .expect("TaskCreateRequest")
                .spec
                .and_then(|s| s.template)
                .expect("template");
            (t.id.as_ref().expect("id").name.clone(), t)
        })
        .collect();
    assert_eq!(registered.len(), 11, "{:?}", registered.keys());
    assert_eq!(registered, archived);

    // The offloaded payload named by the registered task is in the store, under its digest.
    let big_uri = args_len(&registered["tables.lookup_big"]).1[3].clone();
    assert!(big_uri.starts_with(&store), "{big_uri}");
    let stored = rt()
        .block_on(storage.get(&big_uri))
        .expect("the payload is stored");
    let digest = format!("sha256-{:x}", sha2::Sha256::digest(&stored));
    assert!(big_uri.ends_with(&digest), "{big_uri} holds {digest}");

    // `serialize` takes the declared workflow by name, with the same templates.
    let out = dir.path().join("serialized");
    let mut cmd = tables_cmd(&[
        "serialize",
        "lookup_all",
        "-i",
        "ghcr.io/acme/tables:1",
        "-o",
    ]);
    cmd.arg(&out)
        .args(ids)
        .args(["--payload-store", &store, "--instance-arg"])
        .arg(format!("config={}", config.display()));
    let o = cmd.output().expect("serialize runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let mut serialized = 0;
    for entry in std::fs::read_dir(&out).expect("serialized files") {
        let path = entry.expect("entry").path();
        if !path.to_string_lossy().ends_with("_1.pb") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read");
        let t = TaskSpec::decode(bytes.as_slice())
            .expect("TaskSpec")
            .template
            .expect("template");
        assert_eq!(Some(&t), registered.get(&t.id.as_ref().expect("id").name));
        serialized += 1;
    }
    assert_eq!(serialized, 9, "the declared workflow's tasks");

    // `run --remote` of the declared workflow registers it with its payloads in place (another
    // version: the content's) and starts it.
    let before = admin.requests().len();
    let mut cmd = tables_cmd(&["run", "--remote", "-i", "ghcr.io/acme/tables:1", "-c"]);
    cmd.arg(admin.config(""))
        .args(["-p", "flytesnacks", "-d", "development"])
        .args(["--payload-store", &store, "--instance-arg"])
        .arg(format!("config={}", config.display()))
        .args(["lookup_all", "--key", "apple"]);
    let o = cmd.output().expect("run --remote runs");
    assert!(o.status.success(), "{}", stderr(&o));
    let after: Vec<Value> = admin.requests().into_iter().skip(before).collect();
    let ok = |method: &str| {
        after
            .iter()
            .filter(|r| r["method"] == method && r["code"] == "OK")
            .count()
    };
    assert_eq!(ok("CreateTask"), 9, "{}", stderr(&o));
    assert_eq!(ok("CreateExecution"), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("offloaded {store}/sha256-")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn bad_stores_and_payloads_fail_with_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), 4);
    let (storage, store) = s3();

    // The payload store cannot be reached: an error naming it, and no archive.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let archive = dir.path().join("unreachable.tgz");
    let mut cmd = tables_cmd(&["package", "--image", "ghcr.io/acme/tables:1"]);
    cmd.arg("-o")
        .arg(&archive)
        .args(["--payload-store", &store, "--instance-arg"])
        .arg(format!("config={}", config.display()))
        .env("FLYTE_AWS_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("FLYTE_AWS_RETRIES", "0");
    let o = cmd.output().expect("package runs");
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("cannot upload to the payload store"), "{err}");
    assert!(err.contains(&store), "{err}");
    assert!(err.contains("no archive was written"), "{err}");
    assert!(!archive.exists(), "no archive when a payload is not stored");

    // A good package, then its payloads go missing or change.
    let archive = dir.path().join("flyte-package.tgz");
    let o = package(&config, &store, &archive, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (tasks, _) = read_archive(&archive);
    let big = &tasks["tables.lookup_big"];
    let big_uri = args_len(big).1[3].clone();
    let key = json!({"key": "apple"});
    let examples = bin().parent().expect("examples").to_path_buf();
    let tables = examples.join("tables");
    assert_eq!(
        run_container(&tables, big, &key, dir.path()).map(|o| json_of(&o)),
        Ok(json!({"o0": 42}))
    );

    // A binary without the instance type: the error names the tag and the registered types.
    let other = flytekit_oracle::example_binary("instances");
    let e = run_container(&other, &tasks["tables.lookup_prices"], &key, dir.path())
        .expect_err("the instances binary lacks tables::lookup");
    assert!(
        e.message
            .contains("unknown instance type tag 'tables::lookup'"),
        "{e:?}"
    );
    assert!(e.message.contains("examples.instances.Scale"), "{e:?}");
    assert_eq!(e.kind, container_error::Kind::NonRecoverable as i32);

    // Deleted after packaging: error.pb names the URI.
    rt().block_on(storage.delete(&big_uri)).expect("delete");
    let e = run_container(&tables, big, &key, dir.path()).expect_err("missing payload");
    assert!(
        e.message.contains(&big_uri) && e.message.contains("does not exist"),
        "{e:?}"
    );
    assert!(e.message.contains("package --payload-store"), "{e:?}");
    assert_eq!(e.code, "USER:RuntimeError", "{e:?}");
    assert_eq!(e.kind, container_error::Kind::NonRecoverable as i32);

    // Tampered with: a digest error, not retried, and nothing deserialized.
    rt().block_on(storage.put(&big_uri, b"not the payload".to_vec()))
        .expect("put");
    let e = run_container(&tables, big, &key, dir.path()).expect_err("tampered payload");
    assert!(
        e.message.contains("has SHA-256") && e.message.contains(&big_uri),
        "{e:?}"
    );
    assert_eq!(e.kind, container_error::Kind::NonRecoverable as i32);
}

#[test]
fn naive_mode_warns_and_refuses_payloads_over_the_hard_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("store").display().to_string();
    // The example's own configuration: small tables, inlined with a warning each.
    let o = tables_cmd(&["package", "--image", "ghcr.io/acme/tables:1", "-o"])
        .arg(dir.path().join("naive.tgz"))
        .args(["--payload-store", &store, "--payload-mode", "naive"])
        .output()
        .expect("package runs");
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("instance payloads (naive mode"), "{err}");
    assert!(
        err.contains("task tables.lookup_prices: naive instance payload"),
        "{err}"
    );
    assert!(
        err.contains("naive payload mode: every payload is inlined"),
        "{err}"
    );

    // The 5 MiB table cannot be inlined: the error says to offload it, and nothing is written.
    let config = write_config(dir.path(), 5);
    let archive = dir.path().join("too-large.tgz");
    let o = package(&config, &store, &archive, &["--payload-mode", "naive"]);
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains("task tables.lookup_big: the naive inline payload is"),
        "{err}"
    );
    assert!(err.contains("offload it instead"), "{err}");
    assert!(!archive.exists());
}
