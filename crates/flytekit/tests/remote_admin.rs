//! `register`, `run --remote` and `execution` against a fake FlyteAdmin: `conformance/fake_admin.py`,
//! grpcio on flyteidl's generated servicers, with a local OAuth2 server and upload URLs signed
//! for the S3 test server (Garage). No real FlyteAdmin can run here, so registration is checked
//! differentially: `pyflyte register` of the Python twin (`conformance/register_twin/fanout.py`)
//! and our `register` of the same workflows must send the same calls with equal entity specs
//! (`conformance/admin_compare.py`).
//!
//! Every test runs the `fanout` example binary as a user would.

#[path = "support/fake_admin.rs"]
mod fake_admin;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use fake_admin::FakeAdmin;
use flytekit::idl::Message;
use flytekit::idl::admin::ExecutionCreateRequest;
use flytekit::idl::core::{LiteralMap, LiteralType, SimpleType, literal_type};
use flytekit::type_engine::{FlyteType, literal_from_json};
use serde_json::{Value, json};

const IMAGE: &str = "ghcr.io/org/app:v1";

fn fanout_bin() -> PathBuf {
    flytekit_oracle::example_binary("fanout")
}

/// Runs the `fanout` binary with `args`, a private HOME (token cache) and no Flyte settings
/// from the machine; `env` adds variables.
fn fanout(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(fanout_bin());
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("FLYTE") || k == "BROWSER" || k == "XDG_CACHE_HOME" {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", home)
        .env("FLYTEKIT_LOG", "error")
        .envs(env.iter().copied());
    cmd.output().expect("run fanout")
}

/// `fanout run --remote ... --wait` of `entity_and_inputs` with the config `cfg`, polling every
/// `poll` seconds.
fn run_remote_wait(home: &Path, cfg: &Path, poll: &str, entity_and_inputs: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--remote",
        "--poll-interval",
        poll,
        "-c",
        cfg.to_str().unwrap(),
        "-i",
        IMAGE,
    ];
    args.extend_from_slice(entity_and_inputs);
    args.push("--wait");
    fanout(home, &args, &[])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &Output) -> (String, String) {
    assert!(
        out.status.success(),
        "fanout failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "fanout should have failed:\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

fn home() -> tempfile::TempDir {
    tempfile::tempdir().expect("home")
}

fn int_list() -> LiteralType {
    Vec::<i64>::literal_type()
}

fn int() -> LiteralType {
    LiteralType {
        r#type: Some(literal_type::Type::Simple(SimpleType::Integer as i32)),
        ..Default::default()
    }
}

/// The `add_all` outputs the fake returns: `{"o0": [4, 5], "o1": 9}`.
fn add_all_outputs() -> LiteralMap {
    let mut m = LiteralMap::default();
    m.literals.insert(
        "o0".into(),
        literal_from_json(&int_list(), &json!([4, 5])).unwrap(),
    );
    m.literals
        .insert("o1".into(), literal_from_json(&int(), &json!(9)).unwrap());
    m
}

/// The recorded requests of `method` that succeeded.
fn ok_requests(fake: &FakeAdmin, method: &str) -> Vec<Value> {
    fake.requests()
        .into_iter()
        .filter(|r| r["method"] == method && r["code"] == "OK")
        .collect()
}

fn decode<M: Message + Default>(request: &Value) -> M {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(request["request"].as_str().unwrap())
        .unwrap();
    M::decode(bytes.as_slice()).unwrap()
}

// --- Registration -----------------------------------------------------------------------------

/// pyflyte and flytekit-rs register the same workflows with the same calls and equal specs;
/// both fast bundles are readable where each uploaded it.
#[test]
fn register_sends_what_pyflyte_register_sends() {
    let theirs = FakeAdmin::start(&["--auth", "--client", "app:s3cret"]);
    let ours = FakeAdmin::start(&["--auth", "--client", "app:s3cret"]);

    // pyflyte register of the twin module, from a directory holding only it.
    let src = tempfile::tempdir().unwrap();
    std::fs::copy(
        flytekit_oracle::conformance_dir().join("register_twin/fanout.py"),
        src.path().join("fanout.py"),
    )
    .unwrap();
    let pyflyte = flytekit_oracle::python().with_file_name("pyflyte");
    let out = Command::new(&pyflyte)
        .current_dir(src.path())
        .arg("--config")
        .arg(theirs.client_credentials_config())
        .args([
            "register",
            "--project",
            "flytesnacks",
            "--domain",
            "development",
            "--image",
            IMAGE,
            "fanout.py",
        ])
        .env("HOME", src.path())
        .env("FLYTE_SDK_LOGGING_LEVEL", "40")
        .output()
        .expect("pyflyte register");
    assert!(
        out.status.success(),
        "pyflyte register: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // Ours: the same workflows and the two tasks pyflyte registers because the module defines them.
    let h = home();
    let cfg = ours.client_credentials_config();
    let (stdout, stderr) = ok(&fanout(
        h.path(),
        &[
            "register",
            "squares",
            "add_all",
            "square",
            "add",
            "--fast",
            "-c",
            cfg.to_str().unwrap(),
            "-p",
            "flytesnacks",
            "-d",
            "development",
            "-i",
            IMAGE,
        ],
        &[],
    ));
    assert!(
        stderr.contains("9 entities") && stderr.contains("9 new"),
        "{stderr}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("registered "))
            .count(),
        9,
        "{stdout}"
    );

    let report = flytekit_oracle::run_script(
        "admin_compare.py",
        &[
            theirs.requests_path().to_str().unwrap(),
            ours.requests_path().to_str().unwrap(),
            "fanout",
        ],
        b"",
    );
    let report: Value = serde_json::from_slice(&report.stdout).expect("admin_compare.py JSON");
    assert_eq!(report["differences"], json!([]), "{report:#}");
    let calls = report["calls"]["ours"].as_array().unwrap();
    assert_eq!(calls.len(), 10, "an upload and nine entities: {report:#}");
    assert_eq!(
        report["bundles"]["pyflyte"]["members"],
        json!(["fanout.py"])
    );
    assert_eq!(report["bundles"]["ours"]["members"], json!(["fanout"]));

    // Both authenticated with client credentials: first call refused, token, then accepted.
    for fake in [&theirs, &ours] {
        let calls = fake.calls();
        assert!(
            calls.iter().any(|c| c.ends_with("UNAUTHENTICATED")),
            "{calls:?}"
        );
        assert!(
            fake.requests()
                .iter()
                .any(|r| r["service"] == "oauth" && r["json"]["grant_type"] == "client_credentials"),
        );
        assert!(
            ok_requests(fake, "CreateTask")
                .iter()
                .all(|r| r["auth"] == "app"),
            "every registration call carried the token"
        );
    }
}

/// Versions follow the content: registering unchanged code again creates nothing; the same
/// version with other content is an error naming the entity and what was registered before.
#[test]
fn unchanged_code_registers_nothing_new_and_a_changed_version_is_refused() {
    let fake = FakeAdmin::start(&[]);
    let cfg = fake.config("");
    let cfg = cfg.to_str().unwrap();
    let h = home();
    let register = |extra: &[&str]| {
        let mut args = vec!["register", "squares", "-c", cfg, "-i", IMAGE];
        args.extend_from_slice(extra);
        fanout(h.path(), &args, &[])
    };
    let (first, err1) = ok(&register(&[]));
    let (second, err2) = ok(&register(&[]));
    let version = |e: &str| {
        e.lines()
            .find_map(|l| l.strip_prefix("version: "))
            .unwrap()
            .to_string()
    };
    assert_eq!(version(&err1), version(&err2), "same code, same version");
    assert!(!first.contains("already registered"), "{first}");
    // The map task, the workflow and its launch plan.
    assert_eq!(
        second.matches(", already registered").count(),
        3,
        "{second}"
    );
    assert!(err2.contains("0 new, 3 already registered"), "{err2}");
    assert_eq!(
        ok_requests(&fake, "CreateTask").len(),
        1,
        "the second run's creates were answered ALREADY_EXISTS"
    );

    // A pinned version registered again with other content (an environment variable).
    ok(&register(&["-v", "v1"]));
    let err = failed(&register(&["-v", "v1", "--env", "CHANGED=1"]));
    assert!(
        err.contains("task fanout.") && err.contains("(version v1, flytesnacks/development)"),
        "{err}"
    );
    assert!(
        err.contains("already exists") && err.contains("different content"),
        "{err}"
    );
    assert!(err.contains("leave out --version"), "{err}");
    assert!(
        err.contains("registered before the failure") || err.contains("nothing was registered"),
        "{err}"
    );
}

/// Activation: every launch plan registered is activated with `--activate-launchplans`.
#[test]
fn launch_plans_are_activated_when_asked() {
    let fake = FakeAdmin::start(&[]);
    let cfg = fake.config("");
    let h = home();
    let (stdout, _) = ok(&fanout(
        h.path(),
        &[
            "register",
            "squares",
            "add_all",
            "--activate-launchplans",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            IMAGE,
        ],
        &[],
    ));
    let updates = ok_requests(&fake, "UpdateLaunchPlan");
    let names: Vec<&str> = updates
        .iter()
        .map(|r| r["json"]["id"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["fanout.squares", "fanout.add_all"]);
    assert!(updates.iter().all(|r| r["json"]["state"] == "ACTIVE"));
    assert_eq!(
        stdout.matches("activated launch plan").count(),
        2,
        "{stdout}"
    );
}

/// An entity larger than the gRPC message limit is named before anything is sent.
#[test]
fn entities_over_the_message_size_limit_are_named_before_sending() {
    let fake = FakeAdmin::start(&[]);
    let cfg = fake.config("maxMessageSizeBytes: 600");
    let h = home();
    let err = failed(&fanout(
        h.path(),
        &[
            "register",
            "add_all",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            IMAGE,
        ],
        &[],
    ));
    assert!(
        err.contains("fanout.") && err.contains("600-byte gRPC message limit"),
        "{err}"
    );
    assert!(err.contains("admin.maxMessageSizeBytes in"), "{err}");
    assert!(err.contains("nothing was registered"), "{err}");
    assert!(
        !fake.calls().iter().any(|c| c.starts_with("Create")),
        "nothing was sent: {:?}",
        fake.calls()
    );
}

// --- Executions -------------------------------------------------------------------------------

/// `run --remote --wait`: registers, launches with the typed inputs, prints a line per node and
/// the outputs as JSON (inline from GetExecutionData).
#[test]
fn run_remote_waits_and_prints_the_outputs_as_json() {
    let fake = FakeAdmin::start(&[]);
    fake.fixture("outputs/add_all.pb", &add_all_outputs().encode_to_vec());
    let cfg = fake.config("");
    let h = home();
    let (stdout, stderr) = ok(&run_remote_wait(
        h.path(),
        &cfg,
        "0.05",
        &["add_all", "--xs", "[1,2]", "--k", "3"],
    ));
    let outputs: Value = serde_json::from_str(&stdout).expect("outputs JSON");
    assert_eq!(outputs, json!({"o0": [4, 5], "o1": 9}));
    assert!(
        stderr.contains("/console/projects/flytesnacks/domains/development/executions/"),
        "{stderr}"
    );
    assert!(
        stderr.contains("n1 (total): RUNNING") && stderr.contains("n1 (total): SUCCEEDED"),
        "{stderr}"
    );
    assert!(stderr.contains(": SUCCEEDED"), "{stderr}");

    let creates = ok_requests(&fake, "CreateExecution");
    assert_eq!(creates.len(), 1);
    let req: ExecutionCreateRequest = decode(&creates[0]);
    let target = req.spec.as_ref().unwrap().launch_plan.as_ref().unwrap();
    assert_eq!(target.name, "fanout.add_all");
    assert_eq!(
        creates[0]["json"]["spec"]["launchPlan"]["resourceType"],
        "LAUNCH_PLAN"
    );
    let launched = ok_requests(&fake, "CreateLaunchPlan");
    assert_eq!(
        launched[0]["json"]["id"]["version"].as_str().unwrap(),
        target.version,
        "the launch plan just registered is the one launched"
    );
    let inputs = req.inputs.unwrap();
    assert_eq!(
        inputs.literals["xs"],
        literal_from_json(&int_list(), &json!([1, 2])).unwrap()
    );
    assert_eq!(
        inputs.literals["k"],
        literal_from_json(&int(), &json!(3)).unwrap()
    );
}

/// Outputs FlyteAdmin only points at (a signed URL into the blob store) are downloaded.
#[test]
fn run_remote_reads_outputs_behind_a_signed_url() {
    let fake = FakeAdmin::start(&["--outputs-by-url"]);
    fake.fixture("outputs/add_all.pb", &add_all_outputs().encode_to_vec());
    let cfg = fake.config("");
    let h = home();
    let (stdout, _) = ok(&run_remote_wait(
        h.path(),
        &cfg,
        "0.05",
        &["add_all", "--xs", "[1,2]", "--k", "3"],
    ));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap(),
        json!({"o0": [4, 5], "o1": 9})
    );
}

/// A task runs on its own (the execution targets the task); a failure exits 1 with the error.
#[test]
fn run_remote_of_a_failing_task_reports_the_error() {
    let fake = FakeAdmin::start(&[]);
    fake.fixture("fail/square.txt", b"the square went wrong");
    let cfg = fake.config("");
    let h = home();
    let out = run_remote_wait(h.path(), &cfg, "0.05", &["square", "--x", "3"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("FAILED") && err.contains("the square went wrong"),
        "{err}"
    );
    let creates = ok_requests(&fake, "CreateExecution");
    assert_eq!(
        creates[0]["json"]["spec"]["launchPlan"]["resourceType"],
        "TASK"
    );
    assert_eq!(
        creates[0]["json"]["spec"]["launchPlan"]["name"],
        "fanout.square"
    );
    assert!(
        ok_requests(&fake, "CreateLaunchPlan").is_empty(),
        "a task needs no launch plan"
    );
}

/// `execution status|wait|outputs|relaunch|terminate|signal` on executions by name and URL.
#[test]
fn execution_commands_follow_and_act_on_executions() {
    let fake = FakeAdmin::start(&[]);
    fake.fixture("outputs/add_all.pb", &add_all_outputs().encode_to_vec());
    let gate = serde_json::to_vec(&json!([{
        "id": "approve",
        "type": base64::engine::general_purpose::STANDARD.encode(bool::literal_type().encode_to_vec()),
    }]))
    .unwrap();
    fake.fixture("signals/squares.json", &gate);
    let cfg = fake.config("");
    let cfg = cfg.to_str().unwrap();
    let h = home();
    let run = |args: &[&str]| fanout(h.path(), args, &[]);

    // Launch without waiting: the console URL on stdout.
    let (url, _) = ok(&run(&[
        "run", "--remote", "-c", cfg, "-i", IMAGE, "add_all", "--xs", "[1]", "--k", "1",
    ]));
    let url = url.trim().to_string();
    let name = url.rsplit('/').next().unwrap().to_string();
    assert!(
        url.starts_with(&format!(
            "http://{}/console/projects/flytesnacks/domains/development/executions/",
            fake.endpoint()
        )),
        "{url}"
    );

    let (status, _) = ok(&run(&["execution", "status", &name, "-c", cfg]));
    assert!(status.starts_with(&format!("{name}: RUNNING")), "{status}");
    let err = failed(&run(&["execution", "outputs", &name, "-c", cfg]));
    assert!(err.contains("no outputs yet"), "{err}");
    let (outputs, progress) = ok(&run(&[
        "execution",
        "wait",
        &url,
        "--poll-interval",
        "0.05",
        "-c",
        cfg,
    ]));
    assert_eq!(
        serde_json::from_str::<Value>(&outputs).unwrap(),
        json!({"o0": [4, 5], "o1": 9})
    );
    assert!(
        progress.contains(&format!("{name}: SUCCEEDED")),
        "{progress}"
    );
    let (outputs, _) = ok(&run(&[
        "execution",
        "outputs",
        &format!("flytesnacks:development:{name}"),
        "-c",
        cfg,
    ]));
    assert_eq!(
        serde_json::from_str::<Value>(&outputs).unwrap(),
        json!({"o0": [4, 5], "o1": 9})
    );

    // Relaunch: a new execution with the same inputs.
    let (new_url, _) = ok(&run(&["execution", "relaunch", &name, "-c", cfg]));
    let relaunches = ok_requests(&fake, "RelaunchExecution");
    assert_eq!(relaunches.len(), 1);
    assert_eq!(relaunches[0]["json"]["id"]["name"], name.as_str());
    assert_ne!(new_url.trim(), url);

    // Terminate a running execution; terminating it again is refused by FlyteAdmin.
    let new_name = new_url.trim().rsplit('/').next().unwrap().to_string();
    ok(&run(&[
        "execution",
        "terminate",
        &new_name,
        "--cause",
        "enough",
        "-c",
        cfg,
    ]));
    let (status, _) = ok(&run(&["execution", "status", &new_name, "-c", cfg]));
    assert!(
        status.contains("ABORTED") && status.contains("enough"),
        "{status}"
    );
    let err = failed(&run(&["execution", "terminate", &new_name, "-c", cfg]));
    assert!(err.contains("FailedPrecondition"), "{err}");

    // A gate: the execution waits for its signal, which is listed, checked and set.
    let (gated, _) = ok(&run(&[
        "run", "--remote", "-c", cfg, "-i", IMAGE, "squares", "--xs", "[2]",
    ]));
    let gated = gated.trim().rsplit('/').next().unwrap().to_string();
    ok(&run(&["execution", "status", &gated, "-c", cfg]));
    let (signals, _) = ok(&run(&["execution", "signal", &gated, "-c", cfg]));
    assert!(signals.contains("approve (BOOLEAN) waiting"), "{signals}");
    let err = failed(&run(&[
        "execution",
        "signal",
        &gated,
        "approve",
        "maybe",
        "-c",
        cfg,
    ]));
    assert!(err.contains("signal 'approve': expected BOOLEAN"), "{err}");
    let err = failed(&run(&[
        "execution",
        "signal",
        &gated,
        "nope",
        "true",
        "-c",
        cfg,
    ]));
    assert!(
        err.contains("no signal 'nope'") && err.contains("approve"),
        "{err}"
    );
    for _ in 0..3 {
        ok(&run(&["execution", "status", &gated, "-c", cfg]));
    }
    let (status, _) = ok(&run(&["execution", "status", &gated, "-c", cfg]));
    assert!(
        status.contains("RUNNING"),
        "the gate holds the execution: {status}"
    );
    ok(&run(&[
        "execution",
        "signal",
        &gated,
        "approve",
        "true",
        "-c",
        cfg,
    ]));
    let (signals, _) = ok(&run(&["execution", "signal", &gated, "-c", cfg]));
    assert!(signals.contains("approve (BOOLEAN) = true"), "{signals}");
    let (_, progress) = ok(&run(&[
        "execution",
        "wait",
        &gated,
        "--poll-interval",
        "0.05",
        "-c",
        cfg,
    ]));
    assert!(
        progress.contains(&format!("{gated}: SUCCEEDED")),
        "{progress}"
    );
}

// --- Errors: each names the endpoint and the setting ------------------------------------------

#[test]
fn an_unreachable_endpoint_is_named_with_its_setting() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let h = home();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        format!("admin:\n  endpoint: dns:///127.0.0.1:{port}\n  insecure: true\n"),
    )
    .unwrap();
    let err = failed(&fanout(
        h.path(),
        &[
            "register",
            "squares",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            IMAGE,
        ],
        &[],
    ));
    assert!(
        err.contains(&format!("cannot reach FlyteAdmin at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(
        err.contains(&format!("admin.endpoint in {}", cfg.display())),
        "{err}"
    );
    assert!(err.contains("refused"), "{err}");
    // The environment variable, when it is what names the endpoint.
    let err = failed(&fanout(
        h.path(),
        &["execution", "status", "x"],
        &[
            ("FLYTE_PLATFORM_URL", &format!("127.0.0.1:{port}")),
            ("FLYTE_PLATFORM_INSECURE", "true"),
        ],
    ));
    assert!(err.contains("(endpoint from $FLYTE_PLATFORM_URL)"), "{err}");
    // Found as flytekit finds it: $FLYTECTL_CONFIG, else ~/.flyte/config.yaml.
    let err = failed(&fanout(
        h.path(),
        &["execution", "status", "x"],
        &[("FLYTECTL_CONFIG", cfg.to_str().unwrap())],
    ));
    assert!(
        err.contains(&format!("admin.endpoint in {}", cfg.display())),
        "{err}"
    );
    let user = h.path().join(".flyte/config.yaml");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::copy(&cfg, &user).unwrap();
    let err = failed(&fanout(h.path(), &["execution", "status", "x"], &[]));
    assert!(
        err.contains(&format!("admin.endpoint in {}", user.display())),
        "{err}"
    );
}

/// Writes a CA and a certificate for 127.0.0.1/localhost signed by it; returns (ca, cert, key).
fn test_certificates(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let code = r#"
import datetime, ipaddress, sys
from cryptography import x509
from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
out = sys.argv[1]
now = datetime.datetime.now(datetime.timezone.utc)
name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
ca_key = ec.generate_private_key(ec.SECP256R1())
ca = (x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
      .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
      .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
      .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
      .sign(ca_key, hashes.SHA256()))
key = ec.generate_private_key(ec.SECP256R1())
cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256()))
open(out + "/ca.pem", "wb").write(ca.public_bytes(serialization.Encoding.PEM))
open(out + "/cert.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open(out + "/key.pem", "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
"#;
    flytekit_oracle::run_code(code, &[dir.to_str().unwrap()], b"");
    (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    )
}

#[test]
fn tls_mismatches_say_which_setting_to_change() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(certs.path());
    let tls = FakeAdmin::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let plain = FakeAdmin::start(&[]);
    let h = home();
    let status = |endpoint: &str, env: &[(&str, &str)]| {
        let mut all = vec![("FLYTE_PLATFORM_URL", endpoint)];
        all.extend_from_slice(env);
        fanout(h.path(), &["execution", "status", "nothing-here"], &all)
    };
    let tls_ep = tls.endpoint();
    // Plaintext client, TLS server.
    let err = failed(&status(&tls_ep, &[("FLYTE_PLATFORM_INSECURE", "true")]));
    assert!(err.contains(&format!("FlyteAdmin at {tls_ep}")), "{err}");
    assert!(
        err.contains("set admin.insecure: false") && err.contains("$FLYTE_PLATFORM_INSECURE"),
        "{err}"
    );
    // TLS client, plaintext server.
    let err = failed(&status(&plain.endpoint(), &[]));
    assert!(
        err.contains("does not speak TLS") && err.contains("set admin.insecure: true"),
        "{err}"
    );
    // A certificate from an unknown CA.
    let err = failed(&status(&tls_ep, &[]));
    assert!(
        err.contains("UnknownIssuer") && err.contains("admin.caCertFilePath"),
        "{err}"
    );
    // Trusted through admin.caCertFilePath: the call reaches FlyteAdmin (which knows no such
    // execution), by IP and by name.
    let ca = ca.to_str().unwrap();
    for ep in [tls_ep.clone(), format!("localhost:{}", tls.port)] {
        let err = failed(&status(&ep, &[("FLYTE_PLATFORM_CA_CERT_FILE_PATH", ca)]));
        assert!(
            err.contains("NotFound") && err.contains("nothing-here"),
            "{err}"
        );
    }
    // admin.insecureSkipVerify accepts it too.
    let err = failed(&status(
        &tls_ep,
        &[("FLYTE_PLATFORM_INSECURE_SKIP_VERIFY", "true")],
    ));
    assert!(err.contains("NotFound"), "{err}");
}

#[test]
fn wrong_credentials_name_the_client_and_where_it_was_configured() {
    let fake = FakeAdmin::start(&["--auth", "--client", "app:s3cret"]);
    let secret = fake.dir.path().join("wrong-secret");
    std::fs::write(&secret, "not-it").unwrap();
    let cfg = fake.config(&format!(
        "authType: ClientSecret\nclientId: app\nclientSecretLocation: {}",
        secret.display()
    ));
    let h = home();
    let err = failed(&fanout(
        h.path(),
        &[
            "register",
            "squares",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            IMAGE,
        ],
        &[],
    ));
    assert!(
        err.contains(&format!(
            "http://127.0.0.1:{}/token rejected client 'app'",
            fake.oauth_port
        )),
        "{err}"
    );
    assert!(err.contains("invalid_client"), "{err}");
    assert!(
        err.contains("admin.clientId in") && err.contains("admin.clientSecretLocation in"),
        "{err}"
    );
    assert!(
        !err.contains("not-it"),
        "the secret is never printed: {err}"
    );
    assert!(err.contains("nothing was registered"), "{err}");

    // No credentials at all for a server that wants them.
    let cfg = fake.config("authType: ClientSecret");
    let err = failed(&fanout(
        h.path(),
        &["execution", "status", "x", "-c", cfg.to_str().unwrap()],
        &[],
    ));
    assert!(
        err.contains("requires authentication") && err.contains("no client id"),
        "{err}"
    );
}

/// Tokens live one second here: the long-running `--wait` gets new ones as they expire.
#[test]
fn expired_tokens_are_replaced() {
    let fake = FakeAdmin::start(&["--auth", "--client", "app:s3cret", "--token-ttl", "1"]);
    fake.fixture("outputs/add_all.pb", &add_all_outputs().encode_to_vec());
    let cfg = fake.client_credentials_config();
    let h = home();
    let (stdout, _) = ok(&run_remote_wait(
        h.path(),
        &cfg,
        "0.6",
        &["add_all", "--xs", "[1,2]", "--k", "3"],
    ));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap(),
        json!({"o0": [4, 5], "o1": 9})
    );
    let expired = fake
        .requests()
        .iter()
        .filter(|r| {
            r["details"]
                .as_str()
                .is_some_and(|d| d.contains("token expired"))
        })
        .count();
    let tokens = fake
        .requests()
        .iter()
        .filter(|r| r["service"] == "oauth" && r["code"] == "OK")
        .count();
    assert!(
        expired >= 1 && tokens >= 2,
        "expired {expired}, tokens {tokens}"
    );
}

#[test]
fn permission_denied_names_the_identity() {
    let fake = FakeAdmin::start(&[
        "--auth",
        "--client",
        "app:s3cret",
        "--deny",
        "app:flytesnacks",
    ]);
    let cfg = fake.client_credentials_config();
    let h = home();
    let err = failed(&fanout(
        h.path(),
        &[
            "register",
            "squares",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            IMAGE,
        ],
        &[],
    ));
    assert!(
        err.contains(&format!(
            "FlyteAdmin at {} denied CreateTask",
            fake.endpoint()
        )),
        "{err}"
    );
    assert!(
        err.contains("client id 'app' from admin.clientId in"),
        "{err}"
    );
}

#[test]
fn an_unknown_project_is_named() {
    let fake = FakeAdmin::start(&[]);
    let cfg = fake.config("");
    let h = home();
    let err = failed(&fanout(
        h.path(),
        &[
            "register",
            "squares",
            "-p",
            "nope",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            IMAGE,
        ],
        &[],
    ));
    assert!(
        err.contains(&format!(
            "project 'nope' with domain 'development' is not registered on FlyteAdmin at {}",
            fake.endpoint()
        )),
        "{err}"
    );
    assert!(err.contains("--project"), "{err}");
    assert!(err.contains("nothing was registered"), "{err}");
    // The project comes from the environment as pyflyte takes it.
    let err = failed(&fanout(
        h.path(),
        &[
            "register",
            "squares",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            IMAGE,
        ],
        &[("FLYTE_DEFAULT_PROJECT", "elsewhere")],
    ));
    assert!(err.contains("project 'elsewhere'"), "{err}");
}

// --- Interactive and command authentication ---------------------------------------------------

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn oauth_requests(fake: &FakeAdmin, method: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r["service"] == "oauth" && r["method"] == method)
        .count()
}

/// PKCE: the "browser" (a script following the authorization server's redirect) signs in, the code
/// comes back to our listener; the token is cached on disk, sent under FlyteAdmin's header
/// name, and refreshed when it expires.
#[test]
fn pkce_signs_in_once_and_refreshes_the_cached_token() {
    let redirect = free_port();
    let fake = FakeAdmin::start(&[
        "--auth",
        "--redirect-port",
        &redirect.to_string(),
        "--token-ttl",
        "2",
        "--header-key",
        "flyte-authorization",
    ]);
    let cfg = fake.config("authType: Pkce");
    let cfg = cfg.to_str().unwrap();
    let h = home();
    // A "browser" that opens the URL and follows the redirect back to the listener, as a user
    // who is already signed in would.
    let browser = h.path().join("browser");
    std::fs::write(
        &browser,
        format!(
            "#!/bin/sh\nexec '{}' -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' \"$1\"\n",
            flytekit_oracle::python().display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let status = |browser: &str| {
        fanout(
            h.path(),
            &["execution", "status", "x", "-c", cfg],
            &[("BROWSER", browser)],
        )
    };
    let err = failed(&status(browser.to_str().unwrap()));
    assert!(
        err.contains("NotFound"),
        "signed in, then FlyteAdmin answered: {err}"
    );
    assert!(
        err.contains("/authorize?"),
        "the sign-in URL is printed: {err}"
    );
    assert_eq!(oauth_requests(&fake, "authorize"), 1);
    let cache = h
        .path()
        .join(".cache/flytekit-rs/tokens")
        .join(format!("127.0.0.1_{}.json", fake.port));
    assert!(cache.exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // Cached: no browser (`false` would fail the sign-in), the token goes in the right header.
    let before = fake.calls().len();
    let err = failed(&status("false"));
    assert!(err.contains("NotFound"), "{err}");
    assert_eq!(
        fake.calls()[before..],
        ["GetExecution NOT_FOUND".to_string()]
    );
    // Expired: refreshed with the refresh token, still no browser.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let err = failed(&status("false"));
    assert!(err.contains("NotFound"), "{err}");
    assert_eq!(oauth_requests(&fake, "authorize"), 1);
    assert!(
        fake.requests()
            .iter()
            .any(|r| r["json"]["grant_type"] == "refresh_token" && r["code"] == "OK")
    );
}

#[test]
fn device_flow_prints_the_code_and_polls_for_the_token() {
    let fake = FakeAdmin::start(&["--auth"]);
    let cfg = fake.config("authType: DeviceFlow");
    let h = home();
    let err = failed(&fanout(
        h.path(),
        &["execution", "status", "x", "-c", cfg.to_str().unwrap()],
        &[],
    ));
    assert!(
        err.contains("To authenticate, open") && err.contains("ABCD-EFGH"),
        "{err}"
    );
    assert!(
        err.contains("NotFound"),
        "signed in, then FlyteAdmin answered: {err}"
    );
    let pending = fake
        .requests()
        .iter()
        .filter(|r| r["service"] == "oauth" && r["code"] == "authorization_pending")
        .count();
    assert_eq!(pending, 1, "polled past authorization_pending");
}

#[test]
fn an_external_command_provides_the_token() {
    let fake = FakeAdmin::start(&["--auth", "--static-token", "from-the-command"]);
    let h = home();
    let cfg = fake.config("authType: ExternalCommand\ncommand: [echo, from-the-command]");
    let err = failed(&fanout(
        h.path(),
        &["execution", "status", "x", "-c", cfg.to_str().unwrap()],
        &[],
    ));
    assert!(err.contains("NotFound"), "{err}");
    let cfg =
        fake.config("authType: ExternalCommand\ncommand: [sh, -c, 'echo broken >&2; exit 3']");
    let err = failed(&fanout(
        h.path(),
        &["execution", "status", "x", "-c", cfg.to_str().unwrap()],
        &[],
    ));
    assert!(
        err.contains("the token command `sh -c echo broken >&2; exit 3` (admin.command) failed"),
        "{err}"
    );
    assert!(err.contains("broken"), "{err}");
}
