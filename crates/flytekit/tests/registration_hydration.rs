//! `package` and `serialize` leave project, domain and version to the registrar, as pyflyte
//! does: every file of a package is hydrated the way `flytectl register files -p ml -d production
//! --version v3` hydrates it (conformance/registration.py, a copy of flytectl's rule), and then
//! every `flyteidl.core.Identifier` anywhere in it (entity ids, task references, sub-workflow
//! references, array nodes, launch-plan workflow ids) must name ml/production/v3, and flytekit's
//! model loaders must read it. Dynamic tasks, whose identifiers are made in the container from the
//! `_F_SS_C` settings, are run from their hydrated templates the way Propeller runs them, and
//! their futures.pb must name the same project, domain and version.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const IMAGE: &str = "ghcr.io/acme/app:v1";
const UPLOAD: &str = "s3://my-bucket/fast/v3-fastabc.tar.gz";

fn run(bin: &str, args: &[&str]) -> Output {
    let o = Command::new(flytekit_oracle::example_binary(bin))
        .args(args)
        .output()
        .expect("the example runs");
    assert!(o.status.success(), "{bin} {args:?}: {o:?}");
    o
}

/// Writes `bin`'s `package` (or `serialize` when `serialize` is set) with `flags` into `dir`;
/// returns the written path and stderr.
fn write(bin: &str, dir: &Path, serialize: bool, flags: &[&str]) -> (PathBuf, String) {
    let out = dir.join(if serialize { "out" } else { "pkg.tgz" });
    let mut args = vec![
        if serialize { "serialize" } else { "package" },
        "-o",
        out.to_str().unwrap(),
        "--image",
        IMAGE,
    ];
    args.extend_from_slice(flags);
    let o = run(bin, &args);
    (out, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// flytectl's hydration of every file of `src` into `dest`, and the identifier report.
fn hydrate(src: &Path, dest: &Path, (p, d, v): (&str, &str, &str), force: bool) -> Value {
    let o = flytekit_oracle::run_script(
        "registration.py",
        &[
            "hydrate",
            src.to_str().unwrap(),
            dest.to_str().unwrap(),
            p,
            d,
            v,
            if force { "force" } else { "keep" },
            UPLOAD,
            "",
        ],
        b"",
    );
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

fn files(report: &Value) -> &Vec<Value> {
    report["files"].as_array().expect("files")
}

/// Every identifier in `report` (after hydration, or `before` it), as (file, path, p, d, v).
fn all_ids(report: &Value, key: &str) -> Vec<(String, String, String, String, String)> {
    let mut out = Vec::new();
    for f in files(report) {
        for id in f[key].as_array().expect("identifiers") {
            let s = |k: &str| id[k].as_str().unwrap_or_default().to_string();
            out.push((
                f["file"].as_str().unwrap().to_string(),
                s("path"),
                s("project"),
                s("domain"),
                s("version"),
            ));
        }
    }
    out
}

fn assert_all(ids: &[(String, String, String, String, String)], want: (&str, &str, &str)) {
    assert!(!ids.is_empty(), "no identifiers");
    for (file, path, p, d, v) in ids {
        assert_eq!((p.as_str(), d.as_str(), v.as_str()), want, "{file}: {path}");
    }
}

/// The identifier paths that must be present, so that the checks above cover every kind of
/// reference the examples make.
fn assert_covers(report: &Value, needles: &[&str]) {
    let ids = all_ids(report, "identifiers");
    for needle in needles {
        assert!(
            ids.iter().any(|(_, path, ..)| path.contains(needle)),
            "no identifier at a path containing {needle:?}"
        );
    }
    let kinds: Vec<&str> = files(report)
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in ["TaskSpec", "WorkflowSpec", "LaunchPlan"] {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
}

const FANOUT_REFS: &[&str] = &[
    "template.id",
    "task_node.reference_id",
    "workflow_node.sub_workflow_ref",
    "array_node.node.task_node.reference_id",
    "sub_workflows[0].id",
    "spec.workflow_id",
];

/// The default: identifiers carry nothing, the registrar's flags decide; with and without
/// `--fast`, for `package` and `serialize`.
#[test]
fn registrar_flags_decide_by_default() {
    for (bin, serialize, fast) in [
        ("fanout", false, false),
        ("fanout", false, true),
        ("fanout", true, false),
        ("quickstart", false, false),
        ("quickstart", false, true),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let flags: &[&str] = if fast { &["--fast"] } else { &[] };
        let (out, stderr) = write(bin, dir.path(), serialize, flags);
        let r = hydrate(
            &out,
            &dir.path().join("h"),
            ("ml", "production", "v3"),
            false,
        );
        let what = format!("{bin} serialize={serialize} fast={fast}");
        assert_all(&all_ids(&r, "before"), ("", "", ""));
        assert_all(&all_ids(&r, "identifiers"), ("ml", "production", "v3"));
        if bin == "fanout" {
            assert_covers(&r, FANOUT_REFS);
        } else {
            assert_covers(&r, &["template.id", "task_node.reference_id"]);
        }
        for f in files(&r) {
            assert!(f["loaded"].is_string(), "{what}: {f}");
            for ctx in f["serialized_contexts"].as_array().unwrap() {
                assert_eq!(
                    ctx,
                    &json!({"project": null, "domain": null, "version": null}),
                    "{what}: {}",
                    f["file"]
                );
            }
            let args: Vec<&str> = f["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            if f["kind"] == "TaskSpec" {
                assert_eq!(args.contains(&UPLOAD), fast, "{what}: {args:?}");
                assert!(!args.iter().any(|a| a.contains("{{ .")), "{what}: {args:?}");
            }
        }
        assert_eq!(r["bundles"].as_array().unwrap().len(), usize::from(fast));
        if bin == "fanout" {
            assert!(
                files(&r)
                    .iter()
                    .any(|f| !f["serialized_contexts"].as_array().unwrap().is_empty()),
                "{what}: no dynamic task carries _F_SS_C"
            );
        }
        // The content version and the command that registers under it are printed.
        let version = printed_version(&stderr);
        assert_eq!(version.len(), 26, "{stderr}");
        let target = if serialize {
            format!("'{}/*'", out.display())
        } else {
            format!("{} --archive", out.display())
        };
        assert!(
            stderr.contains(&format!(
                "register with: flytectl register files {target} -p PROJECT -d DOMAIN --version {version}"
            )),
            "{what}: {stderr}"
        );
    }
}

fn printed_version(stderr: &str) -> String {
    stderr
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap_or_else(|| panic!("no `version: ` line in {stderr}"))
        .to_string()
}

/// Explicit flags are written as given; flytectl keeps a written version unless `--force`.
#[test]
fn explicit_flags_and_written_versions() {
    let dir = tempfile::tempdir().unwrap();
    let (out, stderr) = write(
        "fanout",
        dir.path(),
        false,
        &["-p", "ml", "-d", "production", "--version", "v3"],
    );
    assert_eq!(printed_version(&stderr), "v3");
    assert!(
        stderr.contains(&format!(
            "register with: flytectl register files {} --archive -p ml -d production --version v3",
            out.display()
        )),
        "{stderr}"
    );
    let r = hydrate(
        &out,
        &dir.path().join("a"),
        ("ml", "production", "v9"),
        false,
    );
    assert_all(&all_ids(&r, "before"), ("ml", "production", "v3"));
    assert_all(&all_ids(&r, "identifiers"), ("ml", "production", "v3"));
    let r = hydrate(
        &out,
        &dir.path().join("b"),
        ("ml", "production", "v9"),
        true,
    );
    assert_all(&all_ids(&r, "identifiers"), ("ml", "production", "v9"));
    for f in files(&r) {
        for ctx in f["serialized_contexts"].as_array().unwrap() {
            assert_eq!(
                ctx,
                &json!({"project": "ml", "domain": "production", "version": "v3"})
            );
        }
    }

    // Only -p: the domain and version stay the registrar's.
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write("fanout", dir.path(), false, &["-p", "ml"]);
    let r = hydrate(
        &out,
        &dir.path().join("h"),
        ("other", "production", "v3"),
        false,
    );
    assert_all(&all_ids(&r, "before"), ("ml", "", ""));
    assert_all(&all_ids(&r, "identifiers"), ("ml", "production", "v3"));

    // --content-version writes the hash: flytectl keeps it without --force.
    let dir = tempfile::tempdir().unwrap();
    let (_, plain) = write("fanout", dir.path(), false, &[]);
    let (out, stderr) = write("fanout", dir.path(), false, &["--content-version"]);
    let hash = printed_version(&stderr);
    assert_eq!(
        hash,
        printed_version(&plain),
        "the same content, the same version"
    );
    let r = hydrate(
        &out,
        &dir.path().join("k"),
        ("ml", "production", "v3"),
        false,
    );
    assert_all(
        &all_ids(&r, "identifiers"),
        ("ml", "production", hash.as_str()),
    );
    let r = hydrate(
        &out,
        &dir.path().join("f"),
        ("ml", "production", "v3"),
        true,
    );
    assert_all(&all_ids(&r, "identifiers"), ("ml", "production", "v3"));
}

/// A dynamic task builds its sub-graph in the container: run from its hydrated template under
/// the environment Propeller gives an execution in ml/production, its futures.pb names
/// ml/production and the task's registered version v3, and flytekit reads it.
#[test]
fn dynamic_tasks_take_project_and_domain_from_the_execution() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = write("fanout", dir.path(), false, &[]);
    let hydrated = dir.path().join("h");
    let r = hydrate(&out, &hydrated, ("ml", "production", "v3"), false);
    for (task, inputs) in [
        ("fanout.fan", json!({"n": 2, "base": 1})),
        ("fanout.nested", json!({"n": 2})),
    ] {
        let spec = files(&r)
            .iter()
            .find(|f| f["loaded"] == task)
            .unwrap_or_else(|| panic!("no {task} in the package"));
        let run_dir = dir.path().join(task);
        std::fs::create_dir_all(&run_dir).unwrap();
        let inputs_pb = run_dir.join("inputs.pb");
        flytekit_oracle::run_script(
            "entrypoint.py",
            &[
                "write-inputs",
                inputs_pb.to_str().unwrap(),
                &inputs.to_string(),
            ],
            b"",
        );
        let prefix = run_dir.join("out");
        let args: Vec<String> = spec["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                a.as_str()
                    .unwrap()
                    .replace("{{.input}}", inputs_pb.to_str().unwrap())
                    .replace("{{.outputPrefix}}", prefix.to_str().unwrap())
            })
            .collect();
        let mut cmd = Command::new(flytekit_oracle::example_binary("fanout"));
        cmd.args(&args[1..])
            .env("FLYTE_INTERNAL_EXECUTION_PROJECT", "ml")
            .env("FLYTE_INTERNAL_EXECUTION_DOMAIN", "production")
            .env("FLYTE_INTERNAL_TASK_PROJECT", "ml")
            .env("FLYTE_INTERNAL_TASK_DOMAIN", "production")
            .env("FLYTE_INTERNAL_TASK_VERSION", "v3");
        for (k, v) in spec["env"].as_object().unwrap() {
            cmd.env(k, v.as_str().unwrap());
        }
        let o = cmd.output().expect("fanout runs");
        assert!(o.status.success(), "{o:?}");
        let futures = prefix.join("futures.pb");
        assert!(futures.exists(), "{task}: no futures.pb: {o:?}");
        let f = flytekit_oracle::run_script(
            "registration.py",
            &["identifiers", futures.to_str().unwrap(), "futures"],
            b"",
        );
        let report: Value = serde_json::from_slice(&f.stdout).expect("JSON");
        let ids = report["identifiers"].as_array().unwrap();
        assert!(!ids.is_empty(), "{task}: {report}");
        for id in ids {
            assert_eq!(
                (&id["project"], &id["domain"], &id["version"]),
                (&json!("ml"), &json!("production"), &json!("v3")),
                "{task}: {id}"
            );
        }
    }
}
