//! Copy handling (flytekit's `update_image_spec_copy_handling`) against the real local OCI
//! registry (`scripts/oci-registry`) and S3-compatible store (`scripts/s3-server`), both started
//! by `scripts/test`.
//!
//! The task image ships `/usr/local/bin/app`. Version 1 of "the code" is the quickstart example
//! binary, version 2 the contract example binary: two different flytekit binaries, so only the
//! bundled one can run the contract's `add` task. Without fast registration a changed binary is a
//! new image; with fast registration the tag stays, the existing image (holding version 1) is
//! reused, version 2 travels as the fast bundle, and the task's serialized container args run in
//! that image (unpacked, `chroot`) through `fast-execute`, producing `outputs.pb` on S3.

#[path = "support/rootfs.rs"]
mod rootfs;

use std::path::Path;
use std::time::Instant;

use flytekit::fast::{self, FastBundle};
use flytekit::image::registry::{Manifest, Reference, RegistryClient};
use flytekit::image::{BinaryCopy, ImageBuildEngine, ImageSpec};
use flytekit::settings::{FastSerializationSettings, SerializationSettings};
use flytekit::storage::{Storage, StorageConfig};
use flytekit::task::Task;
use flytekit::type_engine::{ConversionContext, FlyteType};
use flytekit_idl::Message;
use flytekit_idl::core::{LiteralMap, task_template::Target};
use serde_json::Value;

/// The CA bundle every real base image carries (Debian's `ca-certificates`).
const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run scripts/test, which starts the local OCI registry \
             (scripts/oci-registry start) and the S3 test server (scripts/s3-server start) and \
             exports their settings"
        )
    })
}

/// The task image for `binary`: a `scratch` base with the host libraries, the binary at
/// `/usr/local/bin/app` and a declared data file.
fn spec(reg: &str, repo: &str, base: &ImageSpec, binary: &Path, data: &Path) -> ImageSpec {
    ImageSpec::new(repo)
        .with_registry(reg)
        .with_base_image(base.clone())
        .with_binary_at(binary, "/usr/local/bin/app")
        .with_copy(data, "data/greeting.txt")
}

fn sha256(path: &Path) -> String {
    fast::file_sha256(path).unwrap()
}

/// Unpacks every layer of `image`, in order, into `rootfs`; returns the image config.
async fn unpack_image(client: &RegistryClient, image: &str, rootfs: &Path) -> Value {
    let r = Reference::parse(image).unwrap();
    let (body, _, _) = client.get_manifest(&r).await.unwrap();
    let manifest: Manifest = serde_json::from_slice(&body).unwrap();
    rootfs::unpack_layers(client, &r, &manifest, rootfs).await;
    let config = client.get_blob(&r, &manifest.config.digest).await.unwrap();
    serde_json::from_slice(&config).unwrap()
}

/// `add(a, b) -> o0` run by the contract binary's default resolver, with the image spec.
fn add_task(image: ImageSpec) -> Task {
    Task::builder("copy_handling.add")
        .input::<i64>("a", "a")
        .input::<i64>("b", "b")
        .output::<i64>("o0", "o0")
        .resolver(
            "flytekit.resolver.default",
            ["task-module", "contract", "task-name", "add"]
                .map(String::from)
                .to_vec(),
        )
        .image_spec(image)
        .body(|_cx, inputs| async move { Ok(inputs) })
        .build()
        .unwrap()
}

fn container(task: &Task, settings: &SerializationSettings) -> (String, Vec<String>) {
    match task.template(settings).unwrap().target {
        Some(Target::Container(c)) => (c.image, c.args),
        other => panic!("not a container: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fast_registration_keeps_the_image_and_ships_the_code() {
    let reg = var("FLYTEKIT_TEST_REGISTRY");
    let s3_env = flytekit_oracle::s3_env();
    let storage = Storage::from_config(
        StorageConfig::from_lookup(|name| {
            s3_env
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        })
        .unwrap(),
    );
    let prefix = format!(
        "s3://{}/copy-handling/{}",
        var("FLYTEKIT_TEST_S3_BUCKET"),
        flytekit_oracle::nonce()
    );

    let v1 = flytekit_oracle::example_binary("quickstart");
    let v2 = flytekit_oracle::example_binary("contract");
    assert_ne!(sha256(&v1), sha256(&v2));
    let work = tempfile::tempdir().unwrap();
    let data = work.path().join("greeting.txt");
    std::fs::write(&data, "hello\n").unwrap();
    let n = flytekit_oracle::nonce();
    // The storage client's TLS set-up needs CA certificates, even for an http:// endpoint.
    let base = rootfs::scratch_base(&reg, &format!("flytekit-rs-test/cbase-{n}"), &[&v1, &v2])
        .with_copy(CA_BUNDLE, CA_BUNDLE);
    let repo = format!("flytekit-rs-test/app-{n}");
    let spec_v1 = spec(&reg, &repo, &base, &v1, &data);
    let spec_v2 = spec(&reg, &repo, &base, &v2, &data);

    let bundle_dir = work.path().join("bundle");
    let bundle = FastBundle::create(&[(v2.as_path(), "app")], &bundle_dir).unwrap();
    let bundle_uri = fast::upload_bundle(&storage, &prefix, &bundle)
        .await
        .unwrap();
    let plain = SerializationSettings::new("flytesnacks", "development", "v1").with_binary("app");
    let fast_settings = plain.clone().with_fast(FastSerializationSettings {
        destination_dir: Some("/root".into()),
        distribution_location: Some(bundle_uri.clone()),
    });
    let name = |spec: &ImageSpec, settings: &SerializationSettings| {
        spec.for_settings(settings).image_name().unwrap()
    };

    // The rule, on names alone.
    let plain_v1 = name(&spec_v1, &plain);
    let plain_v2 = name(&spec_v2, &plain);
    let fast_v1 = name(&spec_v1, &fast_settings);
    assert_ne!(
        plain_v1, plain_v2,
        "without fast, a changed binary is a new image"
    );
    assert_eq!(
        name(&spec_v2, &fast_settings),
        fast_v1,
        "with fast, a changed binary keeps the image"
    );
    assert_ne!(fast_v1, plain_v1);
    assert_eq!(
        spec_v1.image_name().unwrap(),
        plain_v1,
        "a spec on its own is tagged as without fast registration"
    );
    let pinned = spec_v2.clone().with_binary_copy(BinaryCopy::Current);
    assert_eq!(
        name(&pinned, &fast_settings),
        plain_v2,
        "explicit Current wins"
    );
    let stable = spec_v2.clone().with_binary_copy(BinaryCopy::Stable);
    assert_eq!(name(&stable, &plain), fast_v1, "explicit Stable wins");
    let other_data = work.path().join("other.txt");
    std::fs::write(&other_data, "changed\n").unwrap();
    assert_ne!(
        name(&spec(&reg, &repo, &base, &v2, &other_data), &fast_settings),
        fast_v1,
        "declared files are hashed even with fast registration"
    );

    // The builder makes the images those names promise.
    let engine = ImageBuildEngine::with_defaults();
    let t = Instant::now();
    let first = engine.build_for(&spec_v1, &fast_settings).await.unwrap();
    let fast_build = t.elapsed();
    assert!(first.built);
    assert_eq!(first.image_name, fast_v1);
    let t = Instant::now();
    let second = engine.build_for(&spec_v2, &fast_settings).await.unwrap();
    let fast_rebuild = t.elapsed();
    assert!(
        !second.built,
        "a changed binary under fast registration reuses the image"
    );
    assert_eq!(second.image_name, fast_v1);
    let plain_build = engine.build_for(&spec_v2, &plain).await.unwrap();
    assert!(
        plain_build.built,
        "without fast the changed binary is built into a new image"
    );
    assert_eq!(plain_build.image_name, plain_v2);
    assert_eq!(
        engine
            .registerable_image_for(&spec_v2, &fast_settings)
            .await
            .unwrap(),
        fast_v1
    );

    // A task serialized with the fast settings names the stable image; without, the new one.
    let task = add_task(spec_v2.clone());
    let (image, args) = container(&task, &fast_settings);
    assert_eq!(image, fast_v1);
    assert_eq!(
        task.image_spec_for(&fast_settings)
            .unwrap()
            .image_name()
            .unwrap(),
        fast_v1
    );
    assert_eq!(container(&task, &plain).0, plain_v2);
    assert_eq!(
        &args[..7],
        [
            "app",
            "fast-execute",
            "--additional-distribution",
            bundle_uri.as_str(),
            "--dest-dir",
            "/root",
            "--"
        ]
    );

    // Run the serialized args in the stable image: its old binary (quickstart) runs
    // fast-execute, which installs the bundle (contract) and runs the task with it.
    let client = RegistryClient::new().unwrap();
    let rootfs = work.path().join("rootfs");
    let config = unpack_image(&client, &image, &rootfs).await;
    assert_eq!(sha256(&rootfs.join("usr/local/bin/app")), sha256(&v1));
    std::fs::create_dir_all(rootfs.join("tmp")).unwrap();
    let cx = ConversionContext::in_memory();
    let mut inputs = LiteralMap::default();
    for (k, v) in [("a", 20i64), ("b", 22)] {
        inputs
            .literals
            .insert(k.to_string(), v.to_literal(&cx).await.unwrap());
    }
    storage
        .put(&format!("{prefix}/inputs.pb"), inputs.encode_to_vec())
        .await
        .unwrap();
    let args: Vec<String> = args
        .into_iter()
        .map(|a| match a.as_str() {
            "{{.input}}" => format!("{prefix}/inputs.pb"),
            "{{.outputPrefix}}" => format!("{prefix}/out"),
            "{{.rawOutputDataPrefix}}" => format!("{prefix}/raw"),
            "{{.checkpointOutputPrefix}}" => format!("{prefix}/checkpoint"),
            "{{.prevCheckpointPrefix}}" => "\"\"".to_string(),
            _ => a,
        })
        .collect();
    let t = Instant::now();
    let out = rootfs::run_in_image(&rootfs, &config, &args, &s3_env);
    let run_time = t.elapsed();
    assert!(
        out.status.success(),
        "fast-execute in the image failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        sha256(&rootfs.join("root/app")),
        sha256(&v2),
        "the bundle's binary was installed"
    );
    let outputs = LiteralMap::decode(
        storage
            .get(&format!("{prefix}/out/outputs.pb"))
            .await
            .unwrap(),
    )
    .unwrap();
    let o0 = i64::from_literal(&outputs.literals["o0"], &cx)
        .await
        .unwrap();
    assert_eq!(o0, 42);
    eprintln!(
        "fast image {fast_v1}: built in {fast_build:.2?}; changed binary reused it in \
         {fast_rebuild:.2?} (no push); task ran through fast-execute in the image in {run_time:.2?}"
    );
}
