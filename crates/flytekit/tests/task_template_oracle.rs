//! Task templates compared with flytekit 1.16's for the same tasks, option by option.
//!
//! `conformance/task_templates.py` holds the Python twin of every task below (same options, same
//! input and output names and types), serializes it with flytekit's `get_serializable` and
//! reports every difference except the documented ones (the entity name's module path, the
//! binary/resolver/module in the container args, `metadata.runtime`, interface descriptions).
//! The builder tests at the end cover configurations flytekit-rs rejects when the task is built.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine as _;
use flytekit::idl::Message;
use flytekit::prelude::*;
use flytekit::task::{A100, ConfigError, L4, T4};

// --- The cases (their Python twins are in conformance/task_templates.py) ---------------------

/// Requests and limits given out of flytekit's order: serialization must put them in it.
#[task(
    requests(mem = "2Gi", cpu = "1"),
    limits(mem = "4Gi", gpu = "1", cpu = "2", ephemeral_storage = "1Gi"),
    env(FOO = "bar", ALPHA = "1")
)]
fn plain(a: i64, b: String, xs: Vec<f64>, m: HashMap<String, i64>) -> (f64, String) {
    (a as f64 + xs.iter().sum::<f64>() + m.len() as f64, b)
}

#[task(
    pod_template = PodTemplate::new(serde_json::json!({
        "containers": [
            {
                "name": "primary",
                "env": [{"name": "FROM_POD", "value": "1"}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]
            },
            {"name": "sidecar", "command": ["sleep", "infinity"]}
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "nodeSelector": {"pool": "gpu"},
        "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}]
    }))
    .label("team", "ml")
    .annotation("note", "x"),
    requests(cpu = "500m", mem = "1Gi"),
    limits(mem = "2Gi"),
    env(TASK_ENV = "y"),
    labels(owner = "me")
)]
fn pod(x: i64) -> i64 {
    x
}

/// No container named like the primary one: it is appended.
#[task(
    pod_template = PodTemplate::new(serde_json::json!({
        "containers": [{"name": "side", "image": "busybox:1"}]
    }))
    .primary_container_name("main")
)]
fn pod_appended(x: i64) -> i64 {
    x
}

/// Images set in the template (placeholders resolved) and the template's own resources, kept when
/// the task sets none.
#[task(pod_template = PodTemplate::new(serde_json::json!({
    "containers": [
        {
            "name": "primary",
            "image": "{{.image.default.fqn}}:pod",
            "resources": {"requests": {"cpu": "3"}}
        },
        {"name": "sidecar", "image": "{{.image.default}}"}
    ]
})))]
fn pod_images(x: i64) -> i64 {
    x
}

#[task(accelerator = A100.partition("2g.10gb"), requests(gpu = "1"))]
fn gpu_partition(x: i64) -> i64 {
    x
}

#[task(accelerator = A100.unpartitioned())]
fn gpu_whole(x: i64) -> i64 {
    x
}

#[task(accelerator = A100)]
fn gpu_a100(x: i64) -> i64 {
    x
}

#[task(accelerator = T4, limits(gpu = "1"))]
fn gpu_t4(x: i64) -> i64 {
    x
}

#[task(shared_memory)]
fn shm_unlimited(x: i64) -> i64 {
    x
}

#[task(shared_memory = "2Gi", accelerator = L4)]
fn shm_sized(x: i64) -> i64 {
    x
}

#[task(
    secret(group = "g", key = "k"),
    secret(
        group = "db",
        key = "password",
        version = "v2",
        mount = "env_var",
        env_var = "DB_PASSWORD"
    ),
    secret(group = "tls", key = "cert", mount = "file"),
    secret(group = "api", key = "token", mount = "any", env_var = "API_TOKEN")
)]
fn secrets(x: i64) -> i64 {
    x
}

#[task(cache, cache_version = "1.2", cache_serialize, cache_ignored_inputs = ["b"])]
fn cached(a: i64, b: String) -> String {
    format!("{a}{b}")
}

#[task(
    retries = 3,
    timeout = Duration::from_millis(90_500),
    interruptible,
    deprecated = "use policy_v2"
)]
fn policy(x: i64) -> i64 {
    x
}

#[task(interruptible = false, retries = 1, timeout = Duration::from_secs(7200))]
fn not_interruptible(x: i64) -> i64 {
    x
}

#[task(resources(cpu = ("1", "2"), mem = "1Gi", gpu = ("1", "1"), ephemeral_storage = "5Gi"))]
fn pairs(x: i64) -> i64 {
    x
}

#[task(enable_deck)]
fn deck(x: i64) -> i64 {
    x
}

#[task(
    labels(team = "ml", env = "prod"),
    annotations(note = "hello"),
    pod_template_name = "base-pod",
    image = "ghcr.io/other/img:v2"
)]
fn meta() {}

#[task(
    image = "{{.image.default.fqn}}:{{.image.default.version}}",
    env(ONLY = "one")
)]
fn placeholder(flag: bool, when: f64) -> bool {
    flag && when > 0.0
}

// --- The comparison --------------------------------------------------------------------------

const IMAGE: &str = "ghcr.io/org/img:v1";
const BINARY: &str = "task-templates";

fn settings() -> flytekit::SerializationSettings {
    flytekit::SerializationSettings::new("p", "d", "v")
        .with_default_image(IMAGE)
        .with_binary(BINARY)
}

fn cases() -> Vec<(&'static str, Task)> {
    vec![
        ("plain", plain::task()),
        ("pod", pod::task()),
        ("pod_appended", pod_appended::task()),
        ("pod_images", pod_images::task()),
        ("gpu_partition", gpu_partition::task()),
        ("gpu_whole", gpu_whole::task()),
        ("gpu_a100", gpu_a100::task()),
        ("gpu_t4", gpu_t4::task()),
        ("shm_unlimited", shm_unlimited::task()),
        ("shm_sized", shm_sized::task()),
        ("secrets", secrets::task()),
        ("cached", cached::task()),
        ("policy", policy::task()),
        ("not_interruptible", not_interruptible::task()),
        ("pairs", pairs::task()),
        ("deck", deck::task()),
        ("meta", meta::task()),
        ("placeholder", placeholder::task()),
    ]
}

/// Serializes every case with `s` and has the oracle compare it with flytekit's template under
/// the same settings (`extra` adds registration-wide env and default resources to its settings).
fn assert_match_flytekit(s: &flytekit::SerializationSettings, extra: serde_json::Value) {
    let mut tasks = serde_json::Map::new();
    for (case, task) in cases() {
        let template = task
            .template(s)
            .unwrap_or_else(|e| panic!("case {case}: template: {e}"));
        let b64 = base64::engine::general_purpose::STANDARD.encode(template.encode_to_vec());
        tasks.insert(case.to_string(), serde_json::Value::String(b64));
    }
    let mut settings = serde_json::json!({
        "project": "p", "domain": "d", "version": "v", "image": IMAGE, "binary": BINARY,
        "module": module_path!(), "runtime_version": env!("CARGO_PKG_VERSION"),
    });
    if let serde_json::Value::Object(extra) = extra {
        settings.as_object_mut().expect("object").extend(extra);
    }
    let request = serde_json::json!({"settings": settings, "tasks": tasks});
    // Panics with the script's stderr when it exits non-zero.
    let out = flytekit_oracle::run_script("task_templates.py", &[], request.to_string().as_bytes());
    let result: serde_json::Value = serde_json::from_str(&out.stdout_str())
        .unwrap_or_else(|e| panic!("oracle output is not JSON ({e}):\n{}", out.stdout_str()));
    let result = result.as_object().expect("a JSON object keyed by case");
    let mut failures = Vec::new();
    for (case, _) in cases() {
        match result.get(case).and_then(|v| v.as_array()) {
            None => failures.push(format!("{case}: not reported by the oracle")),
            Some(problems) => {
                for p in problems {
                    failures.push(format!("{case}: {}", p.as_str().unwrap_or_default()));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "differences from flytekit:\n{}",
        failures.join("\n")
    );
}

#[test]
fn templates_match_flytekit() {
    assert_match_flytekit(&settings(), serde_json::json!({}));
}

/// Registration-wide env (a task's own value of the same name wins, in the registration's
/// position) and default resources (for tasks that set none, pod tasks included).
#[test]
fn templates_match_flytekit_with_settings_env_and_default_resources() {
    let mut s = settings();
    s.env = vec![
        ("FOO".into(), "from-settings".into()),
        ("REG".into(), "1".into()),
        ("ONLY".into(), "settings".into()),
    ];
    s.default_resources = Some(
        flytekit::task::ResourceSpec::from_requests_limits(
            &Resources::new().cpu("250m").mem("256Mi"),
            &Resources::new().mem("512Mi"),
        )
        .unwrap(),
    );
    assert_match_flytekit(
        &s,
        serde_json::json!({
            "env": [["FOO", "from-settings"], ["REG", "1"], ["ONLY", "settings"]],
            "default_resources": {"requests": {"cpu": "250m", "mem": "256Mi"}, "limits": {"mem": "512Mi"}},
        }),
    );
}

/// What the oracle cannot see because both sides agree on it anyway: spot checks of the bytes.
#[test]
fn spot_checks() {
    use flytekit::idl::core::task_template::Target;
    let s = settings();
    let t = plain::task().template(&s).unwrap();
    let Some(Target::Container(c)) = &t.target else {
        panic!("container target")
    };
    assert!(c.command.is_empty());
    assert_eq!(&c.args[..2], [BINARY, "execute"]);
    let tail: Vec<&str> = c.args[c.args.len() - 5..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "--",
            "task-module",
            "task_template_oracle",
            "task-name",
            "plain"
        ]
    );
    let t = pod::task().template(&s).unwrap();
    assert!(matches!(t.target, Some(Target::K8sPod(_))));
    assert_eq!(
        t.config.get("primary_container_name").map(String::as_str),
        Some("primary")
    );
    let md = policy::task().template(&s).unwrap().metadata.unwrap();
    assert_eq!(
        md.timeout,
        Some(prost_types::Duration {
            seconds: 90,
            nanos: 500_000_000
        })
    );
}

// --- Configurations rejected when the task is built ------------------------------------------

fn builder() -> flytekit::TaskBuilder {
    Task::builder("tests.x")
        .input::<i64>("a", "")
        .output::<i64>("o0", "")
        .body(|_cx, inputs| async move { Ok(inputs) })
}

#[test]
fn a_valid_builder_builds() {
    builder()
        .resources(Resources::new().cpu(("1", "2")).mem("1Gi"))
        .secret(Secret::new("g", "k").env_var("MY_SECRET"))
        .cache("1")
        .cache_serialize(true)
        .cache_ignored_inputs(["a"])
        .shared_memory_limit("2Gi")
        .build()
        .expect("a valid configuration");
}

#[test]
fn resources_with_requests_or_limits_is_an_error() {
    let e = builder()
        .resources(Resources::new().cpu(("1", "2")))
        .requests(Resources::new().mem("1Gi"))
        .build()
        .unwrap_err();
    assert!(
        matches!(e, ConfigError::Resources(ref m) if m.contains("`resources`")),
        "{e}"
    );
    let e = builder()
        .limits(Resources::new().mem("1Gi"))
        .resources(Resources::new().cpu("1"))
        .build()
        .unwrap_err();
    assert!(matches!(e, ConfigError::Resources(_)), "{e}");
}

#[test]
fn a_pair_outside_resources_is_an_error() {
    let e = builder()
        .requests(Resources::new().cpu(("1", "2")))
        .build()
        .unwrap_err();
    assert!(
        matches!(e, ConfigError::Resources(ref m) if m.contains("requests.cpu")),
        "{e}"
    );
}

#[test]
fn cache_without_version_is_an_error() {
    let e = builder().cache("").build().unwrap_err();
    assert!(
        matches!(e, ConfigError::Cache(ref m) if m.contains("cache_version")),
        "{e}"
    );
    let e = builder().cache_serialize(true).build().unwrap_err();
    assert!(matches!(e, ConfigError::Cache(_)), "{e}");
    let e = builder()
        .cache("1")
        .cache_ignored_inputs(["nope"])
        .build()
        .unwrap_err();
    assert!(
        matches!(e, ConfigError::Cache(ref m) if m.contains("nope")),
        "{e}"
    );
}

#[test]
fn an_invalid_quantity_is_an_error() {
    for bad in ["1 core", "-1", "2GB", ""] {
        let e = builder()
            .requests(Resources::new().cpu(bad))
            .build()
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::Resources(ref m) if m.contains("quantity")),
            "{bad}: {e}"
        );
        let e = builder()
            .resources(Resources::new().mem(("1Gi", bad)))
            .build()
            .unwrap_err();
        assert!(matches!(e, ConfigError::Resources(_)), "{bad}: {e}");
    }
    let e = builder().shared_memory_limit("lots").build().unwrap_err();
    assert!(matches!(e, ConfigError::Resources(_)), "{e}");
}

#[test]
fn a_bad_secret_env_var_is_an_error() {
    for bad in ["lower", "1ABC", "A-B", ""] {
        let e = builder()
            .secret(Secret::new("g", "k").env_var(bad))
            .build()
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::Secret(ref m) if m.contains("env_var")),
            "{bad}: {e}"
        );
    }
    let e = builder().secret(Secret::new("", "k")).build().unwrap_err();
    assert!(matches!(e, ConfigError::Secret(_)), "{e}");
}

#[test]
fn a_pod_template_without_primary_name_is_an_error() {
    let p = PodTemplate::new(serde_json::json!({"containers": []})).primary_container_name("");
    let e = builder().pod_template(p).build().unwrap_err();
    assert!(matches!(e, ConfigError::PodTemplate(_)), "{e}");
}
