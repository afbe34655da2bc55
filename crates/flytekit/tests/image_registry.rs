//! Images against a real OCI registry (CNCF distribution on 127.0.0.1, started by
//! `scripts/test` through `scripts/oci-registry`; no mocks).
//!
//! No public registry is reachable, so the base image is made here: a `scratch` image holding the
//! host's dynamic loader and the shared libraries the test binary links (`ldd`), built and pushed
//! by the `oci` builder itself. The task image is built on it as a nested spec, inspected with our
//! client and with `skopeo`, and then *run*: its layers are unpacked in order into a root
//! filesystem and the binary is executed there with `chroot` and the image's env.

#[path = "support/rootfs.rs"]
mod rootfs;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use flytekit::image::registry::{Existence, Manifest, Reference, RegistryClient};
use flytekit::image::spec::{BuildSwitches, IMAGE_ID_ENV, should_build};
use flytekit::image::{BaseImage, ImageBuildEngine, ImageSpec};
use serde_json::Value;

fn registry() -> String {
    std::env::var("FLYTEKIT_TEST_REGISTRY").unwrap_or_else(|_| {
        panic!(
            "FLYTEKIT_TEST_REGISTRY is not set: run scripts/test, which starts a local OCI registry \
             (scripts/oci-registry start) and exports it; or run `eval \"$(scripts/oci-registry start)\"` \
             before cargo test"
        )
    })
}

const HELLO: &str = r#"
use std::io::Read;
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut greeting = String::new();
    std::fs::File::open("data/greeting.txt")
        .and_then(|mut f| f.read_to_string(&mut greeting))
        .expect("data/greeting.txt relative to the working directory /root");
    let cwd = std::env::current_dir().unwrap();
    println!("greeting={} cwd={} args={:?} img_id={} mode={}",
        greeting.trim(), cwd.display(), args,
        std::env::var("_F_IMG_ID").unwrap_or_default(),
        std::env::var("APP_MODE").unwrap_or_default());
}
"#;

/// Compiles the tiny program above with rustc (a real, dynamically linked Rust binary).
fn build_hello(dir: &Path) -> PathBuf {
    let src = dir.join("hello.rs");
    std::fs::write(&src, HELLO).unwrap();
    let out = dir.join("hello");
    let status = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .args(["--edition", "2021", "-C", "opt-level=1", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("rustc runs");
    assert!(status.success(), "rustc failed");
    out
}

/// A `scratch` base with the libraries `binaries` need at their host paths.
fn base_spec(reg: &str, repo: &str, binaries: &[&Path]) -> ImageSpec {
    rootfs::scratch_base(reg, repo, binaries)
}

fn task_spec(reg: &str, repo: &str, base: &ImageSpec, bin: &Path, data: &Path) -> ImageSpec {
    ImageSpec::new(repo)
        .with_registry(reg)
        .with_base_image(base.clone())
        .with_binary_at(bin, "/usr/local/bin/hello")
        .with_copy(data, "data/greeting.txt")
        .with_env("APP_MODE", "test")
        .with_entrypoint(["/usr/local/bin/hello"])
}

async fn manifest_and_config(client: &RegistryClient, image: &str) -> (Reference, Manifest, Value) {
    let r = Reference::parse(image).unwrap();
    let (body, media_type, _) = client.get_manifest(&r).await.unwrap();
    assert_eq!(media_type, "application/vnd.oci.image.manifest.v1+json");
    let manifest: Manifest = serde_json::from_slice(&body).unwrap();
    let config = client.get_blob(&r, &manifest.config.digest).await.unwrap();
    (r, manifest, serde_json::from_slice(&config).unwrap())
}

/// Runs the image's entrypoint plus `args` inside `rootfs`, like a container runtime would.
fn run_entrypoint(rootfs: &Path, config: &Value, args: &[&str]) -> std::process::Output {
    let mut argv: Vec<String> = config["config"]["Entrypoint"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    assert!(!argv.is_empty(), "the image has no entrypoint");
    argv.extend(args.iter().map(|a| a.to_string()));
    rootfs::run_in_image(rootfs, config, &argv, &[])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_push_inspect_run_and_skip_when_unchanged() {
    let reg = registry();
    let nonce = flytekit_oracle::nonce();
    let work = tempfile::tempdir().unwrap();
    let bin = build_hello(work.path());
    let data = work.path().join("greeting.txt");
    std::fs::write(&data, "hello from the image\n").unwrap();
    let client = RegistryClient::new().unwrap();
    let engine = ImageBuildEngine::with_defaults();

    let base = base_spec(&reg, &format!("flytekit-rs-test/base-{nonce}"), &[&bin]);
    let spec = task_spec(
        &reg,
        &format!("flytekit-rs-test/hello-{nonce}"),
        &base,
        &bin,
        &data,
    );
    assert_eq!(spec.exists(&client).await, Existence::Absent);

    let t = Instant::now();
    let outcome = engine.build(&spec).await.unwrap();
    let build_time = t.elapsed();
    assert!(outcome.built, "a new image is built");
    assert_eq!(outcome.image_name, spec.image_name().unwrap());
    assert_eq!(spec.exists(&client).await, Existence::Present);
    assert_eq!(base.exists(&client).await, Existence::Present);

    // Our client: base layers + one, env with _F_IMG_ID last, entrypoint, workdir, platform.
    let (r, manifest, config) = manifest_and_config(&client, &outcome.image_name).await;
    let (_, base_manifest, _) = manifest_and_config(&client, &base.image_name().unwrap()).await;
    assert_eq!(manifest.layers.len(), base_manifest.layers.len() + 1);
    assert_eq!(manifest.layers[..1], base_manifest.layers[..]);
    let env: Vec<&str> = config["config"]["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let id_env = format!("{IMAGE_ID_ENV}={}", spec.id().unwrap());
    assert_eq!(env.last(), Some(&id_env.as_str()), "{env:?}");
    assert!(env.contains(&"APP_MODE=test") && env.contains(&"PATH=/usr/local/bin:/usr/bin:/bin"));
    assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/hello");
    assert_eq!(config["config"]["WorkingDir"], "/root");
    assert_eq!(
        (config["os"].as_str(), config["architecture"].as_str()),
        (Some("linux"), Some("amd64"))
    );
    let image_size: u64 =
        manifest.layers.iter().map(|l| l.size).sum::<u64>() + manifest.config.size;

    // skopeo sees the same image.
    let skopeo = |extra: &[&str]| -> Value {
        let out = Command::new("skopeo")
            .args(["inspect", "--tls-verify=false"])
            .args(extra)
            .arg(format!("docker://{}", outcome.image_name))
            .output()
            .expect("skopeo runs (scripts/oci-registry installs it)");
        assert!(
            out.status.success(),
            "skopeo: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let inspected = skopeo(&[]);
    let layers: Vec<&str> = inspected["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ours: Vec<&str> = manifest.layers.iter().map(|l| l.digest.as_str()).collect();
    assert_eq!(layers, ours);
    assert!(
        inspected["Env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e == id_env.as_str())
    );
    let raw_config = skopeo(&["--config"]);
    assert_eq!(
        raw_config["config"]["Entrypoint"],
        config["config"]["Entrypoint"]
    );

    // The image runs: unpack its layers and execute the binary in it.
    let rootfs = work.path().join("rootfs");
    rootfs::unpack_layers(&client, &r, &manifest, &rootfs).await;
    let out = run_entrypoint(&rootfs, &config, &["--flag", "x"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the binary failed in the image: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("greeting=hello from the image"), "{stdout}");
    assert!(
        stdout.contains(&format!("img_id={}", spec.id().unwrap())),
        "{stdout}"
    );
    assert!(
        stdout.contains("mode=test") && stdout.contains(r#"args=["--flag", "x"]"#),
        "{stdout}"
    );

    // Unchanged inputs (copied elsewhere, new mtimes, declared in another order): same tag, no push.
    let again = work.path().join("again");
    std::fs::create_dir(&again).unwrap();
    let bin2 = again.join("hello-copy");
    let data2 = again.join("greeting-copy.txt");
    std::fs::copy(&bin, &bin2).unwrap();
    std::fs::copy(&data, &data2).unwrap();
    let mut base2 = base_spec(&reg, &format!("flytekit-rs-test/base-{nonce}"), &[&bin2]);
    base2.copy.reverse();
    let spec2 = task_spec(
        &reg,
        &format!("flytekit-rs-test/hello-{nonce}"),
        &base2,
        &bin2,
        &data2,
    );
    assert_eq!(spec2.image_name().unwrap(), outcome.image_name);
    let t = Instant::now();
    let second = engine.build(&spec2).await.unwrap();
    let skip_time = t.elapsed();
    assert!(!second.built, "unchanged inputs must not rebuild");
    assert_eq!(second.image_name, outcome.image_name);

    // A changed binary is a new tag, built on the same base (base layers are not pushed again).
    std::fs::write(&data2, "changed\n").unwrap();
    let spec3 = task_spec(
        &reg,
        &format!("flytekit-rs-test/hello-{nonce}"),
        &base2,
        &bin2,
        &data2,
    );
    assert_ne!(spec3.image_name().unwrap(), outcome.image_name);
    let report = flytekit::image::builder::OciBuilder::default()
        .build(&spec3)
        .await
        .unwrap();
    assert_eq!(
        report.blobs_pushed, 2,
        "only the new layer and config: {report:?}"
    );

    eprintln!(
        "image {}: built and pushed in {build_time:.2?} (base + task), {:.2} MiB compressed in {} layers; \
         unchanged rebuild skipped in {skip_time:.2?}",
        outcome.image_name,
        image_size as f64 / 1048576.0,
        manifest.layers.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existence_switches_and_errors() {
    let reg = registry();
    let client = RegistryClient::new().unwrap();
    let spec = ImageSpec::new(format!(
        "flytekit-rs-test/none-{}",
        flytekit_oracle::nonce()
    ))
    .with_registry(&reg);
    assert_eq!(spec.exists(&client).await, Existence::Absent);

    // Nothing listens on port 1: existence is unknown; fast-fail turns that into an error.
    let unreachable = ImageSpec::new("x").with_registry("127.0.0.1:1");
    let existence = unreachable.exists(&client).await;
    assert!(matches!(existence, Existence::Unknown(_)), "{existence:?}");
    assert!(!should_build(&existence, BuildSwitches::default()).unwrap());
    let err = should_build(
        &existence,
        BuildSwitches {
            fast_fail: true,
            force_push: false,
        },
    )
    .unwrap_err();
    assert!(err.to_string().starts_with(
        "Build failed as ImageSpec failed to check if the image exists due to a permission issue or other reason. \nNote, this fast failure is configured with the env var `FLYTE_IMG_FAST_FAIL`."
    ));

    // A missing base image is a clear error.
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("f");
    std::fs::write(&file, "x").unwrap();
    let spec = ImageSpec::new(format!(
        "flytekit-rs-test/nobase-{}",
        flytekit_oracle::nonce()
    ))
    .with_registry(&reg)
    .with_base_image(format!("{reg}/does-not/exist:1"))
    .with_copy(&file, "/f");
    let err = ImageBuildEngine::with_defaults()
        .build(&spec)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("was not found in its registry"),
        "{err}"
    );

    // The oci builder refuses what needs a container runtime.
    let spec = spec.with_apt_packages(["curl"]);
    let err = flytekit::image::builder::OciBuilder::default()
        .build(&spec)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("dockerfile builder"), "{err}");
    let _ = BaseImage::Name(String::new());
}

/// A large real binary in an image: the task engineer's quickstart example when it is built
/// (run with `--help`), else this test executable itself (run with `--list`). Gives the
/// build/push figures for a realistic binary size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_rust_binary_runs_in_an_image() {
    let reg = registry();
    let exe = std::env::current_exe().unwrap();
    let quickstart = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("examples/quickstart"))
        .filter(|p| p.is_file());
    let (binary, args, expect) = match &quickstart {
        Some(q) => (q.clone(), vec!["--help"], "Usage"),
        None => {
            eprintln!("target/debug/examples/quickstart is not built; shipping this test binary");
            (
                exe.clone(),
                vec!["--list"],
                "a_large_rust_binary_runs_in_an_image",
            )
        }
    };
    let name = binary.file_name().unwrap().to_string_lossy().into_owned();
    let nonce = flytekit_oracle::nonce();
    let base = base_spec(&reg, &format!("flytekit-rs-test/lbase-{nonce}"), &[&binary]);
    let spec = ImageSpec::new(format!("flytekit-rs-test/large-{nonce}"))
        .with_registry(&reg)
        .with_base_image(base)
        .with_binary(&binary)
        .with_entrypoint([format!("/usr/local/bin/{name}")]);
    let engine = ImageBuildEngine::with_defaults();
    let t = Instant::now();
    let outcome = engine.build(&spec).await.unwrap();
    let took = t.elapsed();
    assert!(outcome.built);
    let t = Instant::now();
    assert!(!engine.build(&spec).await.unwrap().built);
    let skipped = t.elapsed();
    let client = RegistryClient::new().unwrap();
    let (r, manifest, config) = manifest_and_config(&client, &outcome.image_name).await;
    let work = tempfile::tempdir().unwrap();
    let rootfs = work.path().join("rootfs");
    rootfs::unpack_layers(&client, &r, &manifest, &rootfs).await;
    let out = run_entrypoint(&rootfs, &config, &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(expect),
        "{name} {args:?} failed in the image: {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size: u64 = manifest.layers.iter().map(|l| l.size).sum();
    eprintln!(
        "{name} ({:.1} MiB binary) image {}: {:.1} MiB compressed, built and pushed in {took:.2?} \
         (tag hashing, layer, push); unchanged rebuild skipped in {skipped:.2?}; `{name} {}` ran in it",
        std::fs::metadata(&binary).unwrap().len() as f64 / 1048576.0,
        outcome.image_name,
        size as f64 / 1048576.0,
        args.join(" ")
    );
}
