//! `package` and `serialize` through a real subprocess: the archive has `pyflyte package`'s layout
//! and flytekit's protobuf classes read every entry.

use std::process::Command;

use serde_json::Value;

const READ: &str = r#"
import json, sys, tarfile
from flyteidl.admin import task_pb2, workflow_pb2, launch_plan_pb2
from flytekit.models.task import TaskTemplate
from flytekit.models.admin.workflow import WorkflowSpec
from flytekit.models.launch_plan import LaunchPlan
report = {"entries": [], "tasks": {}}
with tarfile.open(sys.argv[1]) as tar:
    for m in tar.getmembers():
        report["entries"].append(m.name)
        data = tar.extractfile(m).read()
        if m.name.endswith("_1.pb"):
            spec = task_pb2.TaskSpec(); spec.ParseFromString(data)
            t = TaskTemplate.from_flyte_idl(spec.template)
            report["tasks"][t.id.name] = {"args": list(t.container.args), "image": t.container.image, "version": t.id.version}
        elif m.name.endswith("_2.pb"):
            pb = workflow_pb2.WorkflowSpec(); pb.ParseFromString(data)
            wf = WorkflowSpec.from_flyte_idl(pb)
            report.setdefault("workflows", {})[wf.template.id.name] = len(wf.template.nodes)
        elif m.name.endswith("_3.pb"):
            pb = launch_plan_pb2.LaunchPlan(); pb.ParseFromString(data)
            lp = LaunchPlan.from_flyte_idl(pb)
            report.setdefault("launch_plans", {})[lp.id.name] = sorted(lp.spec.default_inputs.parameters)
print(json.dumps(report))
"#;

fn package(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flyte-package.tgz");
    let o = Command::new(flytekit_oracle::example_binary("quickstart"))
        .args(["package", "-o"])
        .arg(&out)
        .args(["--version", "v7", "--image", "ghcr.io/acme/app:v1"])
        .args(args)
        .output()
        .expect("quickstart runs");
    assert!(o.status.success(), "{o:?}");
    let r = flytekit_oracle::run_code(READ, &[out.to_str().unwrap()], b"");
    serde_json::from_slice(&r.stdout).expect("JSON report")
}

#[test]
fn package_has_pyflyte_layout() {
    let r = package(&[]);
    let entries: Vec<&str> = r["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    for (i, e) in entries.iter().enumerate() {
        assert!(e.starts_with(&format!("{i}_")), "entry {e} out of order");
    }
    assert!(
        entries
            .iter()
            .any(|e| e.ends_with("quickstart.workflows.pi_2.pb"))
    );
    assert!(
        entries
            .iter()
            .any(|e| e.ends_with("quickstart.workflows.pi_3.pb"))
    );
    assert_eq!(r["workflows"]["quickstart.workflows.pi"], 7);
    assert_eq!(
        r["launch_plans"]["quickstart.workflows.pi"],
        serde_json::json!(["name", "samples"])
    );
    let sample = &r["tasks"]["quickstart.workflows.sample"];
    assert_eq!(sample["image"], "ghcr.io/acme/app:v1");
    assert_eq!(sample["version"], "v7");
    let args: Vec<&str> = sample["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(args[0], "quickstart");
    assert_eq!(args[1], "execute");
    assert_eq!(
        &args[args.len() - 4..],
        ["task-module", "quickstart.workflows", "task-name", "sample"]
    );
}

#[test]
fn fast_package_ships_the_binary_and_prefixes_the_command() {
    let r = package(&["--fast"]);
    let entries: Vec<&str> = r["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let bundle = entries
        .iter()
        .find(|e| e.starts_with("fast") && e.ends_with(".tar.gz"));
    assert!(bundle.is_some(), "no fast bundle in {entries:?}");
    let args: Vec<&str> = r["tasks"]["quickstart.workflows.sample"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        &args[..7],
        [
            "quickstart",
            "fast-execute",
            "--additional-distribution",
            "{{ .remote_package_path }}",
            "--dest-dir",
            "/root",
            "--"
        ]
    );
    assert_eq!(&args[7..9], ["quickstart", "execute"]);
}

/// Runs the quickstart example's `cmd` (`serialize` or `package`) with `args`, returning the
/// version printed on stderr and the versions in every TaskSpec it wrote.
fn versions(cmd: &str, args: &[&str]) -> (String, Vec<String>) {
    use flytekit_idl::Message;
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let out = dir
        .path()
        .join(if cmd == "package" { "p.tgz" } else { "out" });
    let o = Command::new(flytekit_oracle::example_binary("quickstart"))
        .args([cmd, "-o"])
        .arg(&out)
        .args(["--image", "ghcr.io/acme/app:v1"])
        .args(args)
        .output()
        .expect("quickstart runs");
    assert!(o.status.success(), "{o:?}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    let printed = stderr
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap_or_else(|| panic!("no `version: ` line in {stderr}"))
        .to_string();
    let mut specs: Vec<Vec<u8>> = Vec::new();
    if cmd == "package" {
        let file = std::fs::File::open(&out).unwrap();
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for entry in tar.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.path().unwrap().to_string_lossy().ends_with("_1.pb") {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).unwrap();
                specs.push(bytes);
            }
        }
    } else {
        for entry in std::fs::read_dir(&out).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with("_1.pb") {
                specs.push(std::fs::read(path).unwrap());
            }
        }
    }
    assert!(!specs.is_empty(), "no TaskSpec written");
    let versions = specs
        .iter()
        .map(|b| {
            let spec = flytekit_idl::admin::TaskSpec::decode(b.as_slice()).unwrap();
            spec.template.unwrap().id.unwrap().version
        })
        .collect();
    (printed, versions)
}

/// Without `--version`, the printed version is a hash of what is shipped: stable across runs,
/// changed by the environment, the images and fast registration. The files carry no version
/// (the registrar's `--version` decides) unless `--content-version` or `--version` is given.
#[test]
fn versions_default_to_a_content_hash() {
    let t = std::time::Instant::now();
    let (v, all) = versions("serialize", &[]);
    let hashed = t.elapsed();
    assert_eq!(v.len(), 26, "{v}");
    assert!(
        v.chars()
            .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c)),
        "{v}"
    );
    assert!(all.iter().all(String::is_empty), "{all:?}");
    let (written, all) = versions("serialize", &["--content-version"]);
    assert_eq!(written, v);
    assert!(all.iter().all(|x| *x == v), "{all:?} vs {v}");
    assert_eq!(versions("serialize", &[]).0, v, "same inputs, same version");
    assert_ne!(versions("serialize", &["--env", "A=1"]).0, v);
    assert_ne!(
        versions("serialize", &["--image", "side=ghcr.io/acme/side:2"]).0,
        v
    );
    let t = std::time::Instant::now();
    let (explicit, all) = versions("serialize", &["--version", "v9"]);
    let pinned = t.elapsed();
    assert_eq!(explicit, "v9");
    assert!(all.iter().all(|x| x == "v9"), "{all:?}");

    // package: the same hash as serialize (same binary, images and entities), and with --fast
    // the bundle (and the fast-execute commands) make another, equally stable, version.
    let (p, all) = versions("package", &[]);
    assert_eq!(p, v);
    assert!(all.iter().all(String::is_empty));
    let (f, all) = versions("package", &["--fast", "--content-version"]);
    assert_ne!(f, p);
    assert!(all.iter().all(|x| *x == f));
    assert_eq!(versions("package", &["--fast"]).0, f);
    assert_eq!(versions("package", &["-v", "v3"]).0, "v3");
    eprintln!("serialize: {hashed:.2?} with a content version, {pinned:.2?} with --version");
}

/// Equal inputs give an equal archive, byte for byte (protobuf maps encode in key order; tar
/// entries carry no timestamps), with and without a fast bundle.
#[test]
fn packages_are_reproducible() {
    for extra in [&[][..], &["--fast"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let run = |name: &str| {
            let out = dir.path().join(name);
            let o = Command::new(flytekit_oracle::example_binary("quickstart"))
                .args(["package", "-o"])
                .arg(&out)
                .args(["--image", "ghcr.io/acme/app:v1"])
                .args(extra)
                .output()
                .expect("quickstart runs");
            assert!(o.status.success(), "{o:?}");
            std::fs::read(out).unwrap()
        };
        assert!(
            run("a.tgz") == run("b.tgz"),
            "package {extra:?} differs between runs"
        );
    }
}
