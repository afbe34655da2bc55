//! Instance tasks and bundles end to end: values of the types in `examples/instances/types.rs`
//! are turned into tasks here with the public API (this test includes the same types file, so it
//! registers the same type tags as the example binary), their `TaskTemplate` container args are
//! run as a real `execute` subprocess of the `instances` example with inputs written by flytekit,
//! and flytekit reads `outputs.pb` / `error.pb` back. Offloaded payloads and bundles live in the
//! real S3-compatible server started by `scripts/test` (Garage); every load failure is produced
//! with that server and real files.

#[path = "../examples/instances/types.rs"]
mod types;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flytekit::bundle::{
    BUNDLE_RESOLVER_LOCATION, BinaryIdentity, BundleBuilder, BundleMetadata, PreparedBundle,
    bundle_loader_args,
};
use flytekit::idl::Message;
use flytekit::idl::core::task_template::Target;
use flytekit::instance::{
    INSTANCE_RESOLVER_LOCATION, InstanceError, InstanceTask, MAX_OFFLOADED_LOADER_ARGS,
    PayloadSettings, Placement, UploadOutcome, content_uri, encode_payload, inline_loader_args,
    instance_task, offloaded_loader_args, sha256_hex,
};
use flytekit::storage::{Storage, StorageConfig};
use flytekit::{SerializationSettings, Task};
use serde_json::{Value, json};
use types::{Greeting, Lookup, Scale, big_table, pseudo_random_text};

/// A storage on the S3 test server and a fresh prefix in its bucket.
fn s3() -> (Storage, String) {
    let env = flytekit_oracle::s3_env();
    let config = StorageConfig::from_lookup(|name| {
        env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
    })
    .expect("storage config");
    let bucket = std::env::var("FLYTEKIT_TEST_S3_BUCKET").expect("FLYTEKIT_TEST_S3_BUCKET");
    let prefix = format!("s3://{bucket}/instances/{}", uuid::Uuid::new_v4().simple());
    (Storage::from_config(config), prefix)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

fn settings() -> SerializationSettings {
    SerializationSettings::new("p", "d", "v1").with_default_image("ghcr.io/example/instances:1")
}

/// The container args of `task`'s `TaskTemplate` (what Propeller would start).
fn container_args(task: &Task) -> Vec<String> {
    let template = task.template(&settings()).expect("template");
    match template.target {
        Some(Target::Container(c)) => c.args,
        other => panic!("no container target: {other:?}"),
    }
}

/// One task run: inputs written by flytekit, a local output prefix and a payload cache dir.
struct Run {
    dir: tempfile::TempDir,
    inputs: PathBuf,
    out: PathBuf,
    cache: PathBuf,
}

impl Run {
    fn new(values: Value) -> Run {
        let dir = tempfile::tempdir().expect("tempdir");
        let inputs = dir.path().join("inputs.pb");
        flytekit_oracle::run_script(
            "entrypoint.py",
            &[
                "write-inputs",
                inputs.to_str().unwrap(),
                &values.to_string(),
            ],
            b"",
        );
        let out = dir.path().join("out");
        let cache = dir.path().join("cache");
        Run {
            dir,
            inputs,
            out,
            cache,
        }
    }

    /// The task's container args with the input and output placeholders filled in, run by the
    /// `instances` example binary (the first arg, the binary's name, is replaced by its path).
    fn command_for(&self, args: &[String]) -> Command {
        assert_eq!(args[1], "execute", "{args:?}");
        let mut cmd = Command::new(flytekit_oracle::example_binary("instances"));
        for a in &args[1..] {
            match a.as_str() {
                "{{.input}}" => cmd.arg(&self.inputs),
                "{{.outputPrefix}}" => cmd.arg(&self.out),
                _ => cmd.arg(a),
            };
        }
        cmd.envs(flytekit_oracle::s3_env())
            .env("FLYTEKIT_CACHE_DIR", &self.cache)
            .env("FLYTEKIT_LOG", "flytekit=info")
            .env_remove("FLYTEKIT_BUILD_ID")
            .env_remove("FLYTE_FAIL_ON_ERROR")
            .env_remove("_F_DES")
            .current_dir(self.dir.path());
        cmd
    }

    fn command(&self, task: &Task) -> Command {
        self.command_for(&container_args(task))
    }

    /// Runs `execute` with explicit resolver and loader args.
    fn command_with(&self, resolver: &str, loader_args: &[String]) -> Command {
        let mut args: Vec<String> = [
            "instances",
            "execute",
            "--inputs",
            "{{.input}}",
            "--output-prefix",
            "{{.outputPrefix}}",
            "--resolver",
            resolver,
            "--",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(loader_args.iter().cloned());
        self.command_for(&args)
    }

    /// What flytekit reads back from the output prefix (after clearing it for the next run).
    fn report(&self) -> Value {
        let out = flytekit_oracle::run_script(
            "entrypoint.py",
            &["read", self.out.to_str().unwrap()],
            b"",
        );
        let v = serde_json::from_slice(&out.stdout).expect("report is JSON");
        let _ = std::fs::remove_dir_all(&self.out);
        v
    }

    /// The files in the payload cache.
    fn cached(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.cache.join("payloads"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

fn run(cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    let mut cmd = cmd;
    let cmd = cmd.borrow_mut();
    let o = cmd.output().expect("the instances example runs");
    assert!(
        o.status.success(),
        "execute exits 0 (errors go to error.pb): {o:?}"
    );
    o
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_outputs(report: &Value, expected: Value) {
    assert_eq!(report["outputs"], expected, "{report:#}");
}

/// A load failure: a USER error, non-recoverable, whose message holds every one of `parts`.
fn assert_load_error(report: &Value, parts: &[&str]) {
    let e = &report["error"];
    assert_eq!(e["code"], "USER:RuntimeError", "{report:#}");
    assert_eq!(e["kind"], "NON_RECOVERABLE", "{report:#}");
    assert_eq!(e["origin"], "USER", "{report:#}");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(msg.contains("cannot load the task: "), "{msg}");
    for part in parts {
        assert!(msg.contains(part), "message {msg:?} lacks {part:?}");
    }
    assert!(report.get("outputs").is_none(), "{report:#}");
}

fn args_len(args: &[String]) -> usize {
    args.iter().map(String::len).sum()
}

#[test]
fn inline_payloads_run_through_execute() {
    let rt = rt();
    let (storage, _) = s3();
    let prepared = instance_task(&Scale { factor: 3 }, &PayloadSettings::default()).unwrap();
    assert_eq!(prepared.placement(), &Placement::Inline);
    assert_eq!(
        rt.block_on(prepared.upload(&storage)).unwrap(),
        UploadOutcome::Inline
    );
    let args = container_args(&prepared.task());
    let tail = &args[args.len() - 7..args.len() - 1];
    assert_eq!(
        tail,
        [
            "--resolver",
            INSTANCE_RESOLVER_LOCATION,
            "--",
            "type",
            Scale::TYPE_TAG,
            "inline"
        ]
    );
    assert!(args.last().unwrap().len() < 64, "{args:?}");

    let r = Run::new(json!({"x": 14}));
    run(r.command(&prepared.task()));
    assert_outputs(&r.report(), json!({"o0": 42}));
    assert!(r.cached().is_empty(), "inline payloads need no cache");

    // The naive mode is the same shape, for any size up to its hard limit.
    let prepared =
        instance_task(&Scale { factor: -2 }, &PayloadSettings::default().naive()).unwrap();
    assert_eq!(prepared.task().name(), "instances.scale_minus_2");
    run(r.command(&prepared.task()));
    assert_outputs(&r.report(), json!({"o0": -28}));

    // A user error of the rebuilt task is classified like any task's.
    let prepared = instance_task(&Scale { factor: i64::MAX }, &PayloadSettings::default()).unwrap();
    run(r.command(&prepared.task()));
    let rep = r.report();
    assert_eq!(rep["error"]["code"], "USER:Overflow", "{rep:#}");
}

#[test]
fn naive_mode_has_a_hard_limit_that_points_to_offloading() {
    // Just under the limit: a ~95 KiB argument still starts the container and runs.
    let big = Greeting {
        id: "naive".into(),
        template: format!("Hi {{who}}! {}", pseudo_random_text(100_000, 3)),
    };
    let prepared = instance_task(&big, &PayloadSettings::default().naive()).unwrap();
    assert_eq!(prepared.placement(), &Placement::Inline);
    let n = prepared.loader_args()[3].len();
    assert!(
        n > 60_000 && n <= flytekit::instance::INLINE_HARD_LIMIT,
        "{n}"
    );
    let r = Run::new(json!({"who": "Ada"}));
    run(r.command(&prepared.task()));
    let rep = r.report();
    assert!(
        rep["outputs"]["o0"]
            .as_str()
            .unwrap()
            .starts_with("Hi Ada! "),
        "{rep:#}"
    );

    // Over the limit: refused at registration, and the error says to offload.
    let bigger = Greeting {
        id: "naive".into(),
        template: pseudo_random_text(200_000, 4),
    };
    let e = instance_task(&bigger, &PayloadSettings::default().naive()).unwrap_err();
    assert!(matches!(e, InstanceError::NaiveTooLarge { .. }), "{e}");
    let msg = e.to_string();
    for part in [
        "instances.greeting_naive",
        "hard limit",
        "offload_to",
        "E2BIG",
        "RUNNING",
    ] {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }
    // The default mode offloads it instead (and says how when no prefix is set).
    let e = instance_task(&bigger, &PayloadSettings::default()).unwrap_err();
    assert!(e.to_string().contains("offload_to"), "{e}");
}

#[test]
fn offloaded_payloads_run_from_s3_and_are_cached_by_digest() {
    let rt = rt();
    let (storage, prefix) = s3();
    let table = big_table("big", 1 << 20);
    let key = table.rows.keys().nth(1234).unwrap().clone();
    let value = table.rows[&key];
    let payload_settings = PayloadSettings::default().offload_to(&prefix);

    let prepared = instance_task(&table, &payload_settings).unwrap();
    assert!(prepared.raw_len() >= 1 << 20, "{}", prepared.raw_len());
    let Placement::Offloaded { uri, sha256 } = prepared.placement().clone() else {
        panic!("a 1 MiB payload is offloaded: {:?}", prepared.placement())
    };
    assert_eq!(uri, content_uri(&prefix, &sha256));
    assert_eq!(
        prepared.loader_args(),
        offloaded_loader_args(Lookup::TYPE_TAG, &uri, &sha256)
    );
    // Loader args stay small whatever the payload; so does the whole template.
    let len = args_len(prepared.loader_args());
    assert!(len < MAX_OFFLOADED_LOADER_ARGS, "{len}");
    let template_len = prepared.task().template(&settings()).unwrap().encoded_len();
    assert!(template_len < 2048, "{template_len}");

    // Upload at registration; re-registering the unchanged payload uploads nothing.
    let first = rt.block_on(prepared.upload(&storage)).unwrap();
    assert!(matches!(first, UploadOutcome::Uploaded { .. }), "{first:?}");
    let before = rt.block_on(storage.metadata(&uri)).unwrap();
    let again = instance_task(&table, &payload_settings).unwrap();
    assert_eq!(again.loader_args(), prepared.loader_args());
    assert_eq!(
        rt.block_on(again.upload(&storage)).unwrap(),
        UploadOutcome::AlreadyPresent { uri: uri.clone() }
    );
    assert_eq!(rt.block_on(storage.metadata(&uri)).unwrap(), before);

    // Cold: downloaded from S3, verified, cached under its digest.
    let r = Run::new(json!({ "key": key }));
    let o = run(r.command(&prepared.task()));
    assert_outputs(&r.report(), json!({ "o0": value }));
    assert!(
        stderr(&o).contains(&format!("downloaded {uri}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(r.cached(), [format!("sha256-{sha256}")]);

    // Warm: the object is gone from the store, the cache (keyed by digest) still serves it.
    rt.block_on(storage.delete(&uri)).unwrap();
    let o = run(r.command(&prepared.task()));
    assert_outputs(&r.report(), json!({ "o0": value }));
    assert!(stderr(&o).contains("cache hit"), "{}", stderr(&o));

    // Missing object with an empty cache: the error names the URI.
    std::fs::remove_dir_all(&r.cache).unwrap();
    run(r.command(&prepared.task()));
    assert_load_error(&r.report(), &[&uri, "does not exist", "re-register"]);
}

#[test]
fn concurrent_loads_on_one_node_share_one_cache_entry() {
    let rt = rt();
    let (storage, prefix) = s3();
    let table = big_table("concurrent", 256 << 10);
    let key = table.rows.keys().next().unwrap().clone();
    let prepared = instance_task(&table, &PayloadSettings::default().offload_to(&prefix)).unwrap();
    rt.block_on(prepared.upload(&storage)).unwrap();
    let r = Run::new(json!({ "key": key }));
    let outs: Vec<_> = (0..4)
        .map(|i| {
            let cmd = r.command(&prepared.task());
            // One output prefix per task; the cache dir is shared.
            let args: Vec<String> = cmd
                .get_args()
                .map(|a| {
                    let a = a.to_string_lossy().into_owned();
                    if Path::new(&a) == r.out {
                        format!("{a}{i}")
                    } else {
                        a
                    }
                })
                .collect();
            let mut c = Command::new(cmd.get_program());
            c.args(args);
            for (k, v) in cmd.get_envs() {
                match v {
                    Some(v) => c.env(k, v),
                    None => c.env_remove(k),
                };
            }
            c.current_dir(r.dir.path());
            c.spawn().expect("spawn")
        })
        .collect();
    for (i, child) in outs.into_iter().enumerate() {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{o:?}");
        let out = format!("{}{i}", r.out.display());
        let rep = flytekit_oracle::run_script("entrypoint.py", &["read", &out], b"");
        let rep: Value = serde_json::from_slice(&rep.stdout).unwrap();
        assert_outputs(&rep, json!({ "o0": table.rows[&key] }));
    }
    let Placement::Offloaded { sha256, .. } = prepared.placement() else {
        panic!("offloaded")
    };
    // One verified entry, no temporary files left behind.
    assert_eq!(r.cached(), [format!("sha256-{sha256}")]);
}

#[test]
fn tampered_payloads_are_refused_before_deserializing_and_bad_cache_entries_heal() {
    let rt = rt();
    let (storage, prefix) = s3();
    let table = big_table("tamper", 8 << 10);
    let key = table.rows.keys().next().unwrap().clone();
    let prepared = instance_task(
        &table,
        &PayloadSettings::default()
            .offload_to(&prefix)
            .always_offload(),
    )
    .unwrap();
    rt.block_on(prepared.upload(&storage)).unwrap();
    let Placement::Offloaded { uri, sha256 } = prepared.placement().clone() else {
        panic!("offloaded")
    };
    let r = Run::new(json!({ "key": key }));
    run(r.command(&prepared.task()));
    assert_outputs(&r.report(), json!({ "o0": table.rows[&key] }));

    // A corrupted cache file is detected and replaced by a fresh download.
    let cached = r.cache.join("payloads").join(format!("sha256-{sha256}"));
    std::fs::write(&cached, b"bit rot").unwrap();
    let o = run(r.command(&prepared.task()));
    assert_outputs(&r.report(), json!({ "o0": table.rows[&key] }));
    assert!(
        stderr(&o).contains("does not match its digest"),
        "{}",
        stderr(&o)
    );
    assert_eq!(sha256_hex(&std::fs::read(&cached).unwrap()), sha256);

    // The object is replaced by another *valid* payload (a table that answers 999): it must not
    // be deserialized, let alone run.
    let mut evil = table.clone();
    evil.rows.insert(key.clone(), 999);
    let evil_bytes = encode_payload(&evil).unwrap();
    let evil_sha = sha256_hex(&evil_bytes);
    rt.block_on(storage.put(&uri, evil_bytes)).unwrap();
    std::fs::remove_dir_all(&r.cache).unwrap();
    run(r.command(&prepared.task()));
    assert_load_error(
        &r.report(),
        &[
            &uri,
            &sha256,
            &evil_sha,
            "modified after registration",
            "not deserialized",
        ],
    );
    assert!(r.cached().is_empty(), "unverified content is never cached");
}

#[test]
fn unknown_type_tags_list_the_registered_types() {
    let rt = rt();
    let (storage, prefix) = s3();
    let payload = encode_payload(&Scale { factor: 2 }).unwrap();
    let r = Run::new(json!({"x": 1}));
    run(r.command_with(
        INSTANCE_RESOLVER_LOCATION,
        &inline_loader_args("examples.instances.Removed", &payload),
    ));
    assert_load_error(
        &r.report(),
        &[
            "unknown instance type tag 'examples.instances.Removed'",
            "examples.instances.Greeting",
            "examples.instances.Lookup",
            "examples.instances.Scale",
            "Rebuild the image",
        ],
    );

    // Offloaded too (the tag is checked before anything is downloaded).
    let sha = sha256_hex(&payload);
    let uri = content_uri(&prefix, &sha);
    rt.block_on(storage.put(&uri, payload)).unwrap();
    run(r.command_with(
        INSTANCE_RESOLVER_LOCATION,
        &offloaded_loader_args("examples.instances.Removed", &uri, &sha),
    ));
    assert_load_error(
        &r.report(),
        &["examples.instances.Removed", "examples.instances.Scale"],
    );
    assert!(r.cached().is_empty());
}

#[test]
fn schema_drift_names_the_type_and_the_field() {
    let rt = rt();
    let (storage, prefix) = s3();
    let r = Run::new(json!({"x": 5}));
    let upload = |payload: Vec<u8>| {
        let sha = sha256_hex(&payload);
        let uri = content_uri(&prefix, &sha);
        rt.block_on(storage.put(&uri, payload)).unwrap();
        offloaded_loader_args(Scale::TYPE_TAG, &uri, &sha)
    };

    // Registered when Scale's field was called `multiplier`.
    #[derive(serde::Serialize)]
    struct ScaleV0 {
        multiplier: i64,
    }
    let args = upload(encode_payload(&ScaleV0 { multiplier: 3 }).unwrap());
    run(r.command_with(INSTANCE_RESOLVER_LOCATION, &args));
    assert_load_error(
        &r.report(),
        &[
            "examples.instances.Scale",
            "types::Scale",
            "missing field `factor`",
            "schema drift",
            "#[serde(default)]",
        ],
    );

    // Registered when `factor` was a string.
    #[derive(serde::Serialize)]
    struct ScaleV1 {
        factor: String,
    }
    let args = upload(
        encode_payload(&ScaleV1 {
            factor: "three".into(),
        })
        .unwrap(),
    );
    run(r.command_with(INSTANCE_RESOLVER_LOCATION, &args));
    assert_load_error(
        &r.report(),
        &[
            "examples.instances.Scale",
            "at field `factor`",
            "holds a value of another type",
        ],
    );

    // An added field with a default would have kept the old payloads readable; an extra field
    // in an old payload is ignored.
    #[derive(serde::Serialize)]
    struct ScaleV2 {
        factor: i64,
        comment: String,
    }
    let args = upload(
        encode_payload(&ScaleV2 {
            factor: 4,
            comment: "removed since".into(),
        })
        .unwrap(),
    );
    run(r.command_with(INSTANCE_RESOLVER_LOCATION, &args));
    assert_outputs(&r.report(), json!({"o0": 20}));
}

/// A bundle of three entities for the `instances` binary, uploaded to `prefix`.
fn bundle(identity: BinaryIdentity, prefix: &str) -> PreparedBundle {
    let mut b = BundleBuilder::new().for_binary(identity);
    assert_eq!(b.add(&Scale { factor: 2 }).unwrap(), "instances.scale_2");
    assert_eq!(b.add(&Scale { factor: 5 }).unwrap(), "instances.scale_5");
    let mut rows = std::collections::BTreeMap::new();
    rows.insert("answer".to_string(), 42);
    b.add(&Lookup {
        table: "small".into(),
        rows,
    })
    .unwrap();
    assert!(b.add(&Scale { factor: 5 }).is_err(), "duplicate entity");
    b.prepare(prefix).unwrap()
}

fn example_identity() -> BinaryIdentity {
    BinaryIdentity::of_file(flytekit_oracle::example_binary("instances")).unwrap()
}

#[test]
fn bundles_run_their_entities_from_s3() {
    let rt = rt();
    let (storage, prefix) = s3();
    let prepared = bundle(example_identity(), &prefix);
    assert_eq!(
        prepared.names(),
        [
            "instances.lookup_small",
            "instances.scale_2",
            "instances.scale_5"
        ]
    );
    assert!(matches!(
        rt.block_on(prepared.upload(&storage)).unwrap(),
        UploadOutcome::Uploaded { .. }
    ));
    // The same entities make the same file: nothing is uploaded again.
    let again = bundle(example_identity(), &prefix);
    assert_eq!(again.sha256(), prepared.sha256());
    assert!(matches!(
        rt.block_on(again.upload(&storage)).unwrap(),
        UploadOutcome::AlreadyPresent { .. }
    ));

    let task = prepared.task("instances.scale_5").unwrap();
    assert_eq!(
        task.explicit_loader_args().unwrap(),
        bundle_loader_args(prepared.uri(), prepared.sha256(), "instances.scale_5")
    );
    assert!(args_len(task.explicit_loader_args().unwrap()) < MAX_OFFLOADED_LOADER_ARGS);
    let r = Run::new(json!({"x": 8}));
    run(r.command(&task));
    assert_outputs(&r.report(), json!({"o0": 40}));
    assert_eq!(r.cached(), [format!("sha256-{}", prepared.sha256())]);
    // The second entity comes from the cached bundle.
    let o = run(r.command(&prepared.task("instances.scale_2").unwrap()));
    assert_outputs(&r.report(), json!({"o0": 16}));
    assert!(stderr(&o).contains("cache hit"), "{}", stderr(&o));

    let r = Run::new(json!({"key": "answer"}));
    run(r.command(&prepared.task("instances.lookup_small").unwrap()));
    assert_outputs(&r.report(), json!({"o0": 42}));
}

#[test]
fn bundle_metadata_and_entity_failures_say_what_to_do() {
    let rt = rt();
    let (storage, prefix) = s3();
    let r = Run::new(json!({"x": 8}));

    // An absent entity lists what the bundle holds.
    let good = bundle(example_identity(), &prefix);
    rt.block_on(good.upload(&storage)).unwrap();
    run(r.command_with(
        BUNDLE_RESOLVER_LOCATION,
        &bundle_loader_args(good.uri(), good.sha256(), "instances.scale_7"),
    ));
    assert_load_error(
        &r.report(),
        &[
            "entity 'instances.scale_7' is not in bundle",
            good.uri(),
            "holds 3: instances.lookup_small, instances.scale_2, instances.scale_5",
        ],
    );

    // Written for another binary: both identities, and what to do.
    let other = "0".repeat(64);
    let foreign = bundle(BinaryIdentity::ExecutableSha256(other.clone()), &prefix);
    rt.block_on(foreign.upload(&storage)).unwrap();
    run(r.command(&foreign.task("instances.scale_2").unwrap()));
    let BinaryIdentity::ExecutableSha256(ours) = example_identity() else {
        unreachable!()
    };
    assert_load_error(
        &r.report(),
        &[
            &format!("executable sha256 {other}"),
            &format!("executable sha256 {ours}"),
            "Rebuild the image",
            "fast registration",
        ],
    );

    // Build ids: the container's comes from FLYTEKIT_BUILD_ID.
    let by_id = bundle(BinaryIdentity::build_id("release-1"), &prefix);
    rt.block_on(by_id.upload(&storage)).unwrap();
    let task = by_id.task("instances.scale_2").unwrap();
    let mut cmd = r.command(&task);
    run(cmd.env("FLYTEKIT_BUILD_ID", "release-1"));
    assert_outputs(&r.report(), json!({"o0": 16}));
    let mut cmd = r.command(&task);
    run(cmd.env("FLYTEKIT_BUILD_ID", "release-2"));
    assert_load_error(
        &r.report(),
        &[
            "build id 'release-1'",
            "build id 'release-2'",
            "Rebuild the image",
        ],
    );
    run(r.command(&task));
    assert_load_error(&r.report(), &["build id 'release-1'", "no build id"]);

    // Another SDK version.
    let mut b = BundleBuilder::new().with_metadata(BundleMetadata {
        sdk_version: "0.0.1-old".into(),
        binary: example_identity(),
    });
    b.add(&Scale { factor: 2 }).unwrap();
    let old = b.prepare(&prefix).unwrap();
    rt.block_on(old.upload(&storage)).unwrap();
    run(r.command(&old.task("instances.scale_2").unwrap()));
    assert_load_error(
        &r.report(),
        &[
            "flytekit-rs 0.0.1-old",
            &format!("flytekit-rs {}", flytekit::bundle::SDK_VERSION),
            "fast registration",
        ],
    );

    // A tampered bundle is refused on its digest; a missing one names its URI.
    let tampered = bundle(example_identity(), &format!("{prefix}/t"));
    rt.block_on(tampered.upload(&storage)).unwrap();
    rt.block_on(storage.put(tampered.uri(), foreign.bytes().clone()))
        .unwrap();
    let r2 = Run::new(json!({"x": 8}));
    run(r2.command(&tampered.task("instances.scale_2").unwrap()));
    assert_load_error(
        &r2.report(),
        &[
            tampered.sha256(),
            foreign.sha256(),
            "modified after registration",
        ],
    );
    rt.block_on(storage.delete(tampered.uri())).unwrap();
    run(r2.command(&tampered.task("instances.scale_2").unwrap()));
    assert_load_error(&r2.report(), &[tampered.uri(), "does not exist"]);

    // Something that is not a bundle at all, and a bundle of a future format.
    for (junk, part) in [
        (
            b"PK\x03\x04 a zip file".to_vec(),
            "is not a flytekit-rs bundle",
        ),
        (
            [&b"FLYTEKIT-RS-BUNDLE\n"[..], &2u32.to_le_bytes(), b"{}"].concat(),
            "has format version 2, this binary reads version 1",
        ),
    ] {
        let sha = sha256_hex(&junk);
        let uri = content_uri(&prefix, &sha);
        rt.block_on(storage.put(&uri, junk)).unwrap();
        run(r2.command_with(
            BUNDLE_RESOLVER_LOCATION,
            &bundle_loader_args(&uri, &sha, "instances.scale_2"),
        ));
        assert_load_error(&r2.report(), &[&uri, part]);
    }
}

#[test]
fn malformed_loader_args_are_user_errors() {
    let r = Run::new(json!({"x": 1}));
    run(r.command_with(INSTANCE_RESOLVER_LOCATION, &["type".to_string()]));
    assert_load_error(&r.report(), &["bad loader args", "type <tag> inline"]);
    run(r.command_with(
        INSTANCE_RESOLVER_LOCATION,
        &offloaded_loader_args(Scale::TYPE_TAG, "s3://b/k", "../../../etc/passwd"),
    ));
    assert_load_error(&r.report(), &["bad loader args", "64 hex digits"]);
    run(r.command_with(
        INSTANCE_RESOLVER_LOCATION,
        &[
            "type".into(),
            Scale::TYPE_TAG.into(),
            "inline".into(),
            "not*base64".into(),
        ],
    ));
    assert_load_error(&r.report(), &["inline payload", "corrupt"]);
    run(r.command_with(BUNDLE_RESOLVER_LOCATION, &["bundle".to_string()]));
    assert_load_error(&r.report(), &["bundle <uri> sha256"]);
}
