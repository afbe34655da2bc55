//! Images of the quickstart, timed (run by `bench/images.sh`, which builds the release
//! quickstart first): `build` cold (a new image: preflight, layer, push) and warm (nothing
//! changed: nothing pushed), the image's compressed size, and the wall time of
//! `run pi --sandbox --in-image` against the host sandbox.
//!
//! ```text
//! cargo bench -p flytekit --bench images -- <quickstart binary> <registry> [RUNS=5]
//! ```
//!
//! No public registry is reachable here, so the base is made from this machine's libraries
//! that the binary links (what `gcr.io/distroless/cc-debian12` carries for it) and its CA
//! bundle, and pushed to the local registry first.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use flytekit::image::{ImageBuildEngine, ImageSpec};

fn shared_libs(binary: &Path) -> Vec<String> {
    let out = Command::new("ldd").arg(binary).output().expect("ldd runs");
    let mut libs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|t| t.starts_with('/'))
        .map(str::to_string)
        .collect();
    libs.sort();
    libs.dedup();
    libs
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Runs `binary args`, panicking with its output on failure; the wall time in seconds and stdout.
fn timed(binary: &Path, args: &[&str], envs: &[(&str, &Path)]) -> (f64, String) {
    let started = Instant::now();
    let out = Command::new(binary)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .expect("the quickstart runs");
    let secs = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{} {args:?}: {}\n{}",
        binary.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (secs, String::from_utf8_lossy(&out.stdout).into_owned())
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [binary, registry, rest @ ..] = args.as_slice() else {
        eprintln!("usage: images <quickstart binary> <registry> [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = rest.first().and_then(|r| r.parse().ok()).unwrap_or(5);
    let binary = PathBuf::from(binary);
    let work = tempfile::tempdir().unwrap();
    let nonce = std::process::id();
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let mut base = ImageSpec::new(format!("flytekit-rs-bench/cc-{nonce}"))
        .with_registry(registry)
        .with_base_image("scratch")
        .with_builder("oci")
        .with_env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .with_copy(
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/ssl/certs/ca-certificates.crt",
        );
    for lib in shared_libs(&binary) {
        base = base.with_copy(&lib, lib.clone());
    }
    let base = runtime
        .block_on(ImageBuildEngine::with_defaults().build(&base))
        .unwrap()
        .image_name;
    let base_size = runtime.block_on(async {
        let client = flytekit::image::RegistryClient::new().unwrap();
        let platform = flytekit::image::registry::Platform::parse("linux/amd64").unwrap();
        let reference = flytekit::image::Reference::parse(&base).unwrap();
        let (m, _) = flytekit::image::rootfs::resolve_manifest(&client, &reference, &platform)
            .await
            .unwrap();
        (m.config.size + m.layers.iter().map(|l| l.size).sum::<u64>()) as f64 / (1u64 << 20) as f64
    });

    let caches = work.path().join("images");
    let local = work.path().join("local");
    let envs: [(&str, &Path); 2] = [
        ("FLYTEKIT_IMAGE_CACHE", &caches),
        ("FLYTEKIT_CACHE_DIR", &local),
    ];
    let spec = |i: usize| {
        let path = work.path().join(format!("spec-{i}.yaml"));
        std::fs::write(
            &path,
            format!(
                "name: flytekit-rs-bench/quickstart-{nonce}-{i}\nregistry: {registry}\nbase_image: {base}\n"
            ),
        )
        .unwrap();
        path
    };

    // Cold: a new image each time (the base's blobs are mounted, the binary layer pushed).
    let mut cold = Vec::new();
    let mut table = String::new();
    for i in 0..runs {
        let s = spec(i);
        let (secs, out) = timed(&binary, &["build", "--image", s.to_str().unwrap()], &envs);
        assert!(out.contains("built and pushed"), "{out}");
        cold.push(secs);
        table = out;
    }
    // Warm: nothing changed, nothing pushed.
    let s = spec(0);
    let mut warm = Vec::new();
    for _ in 0..runs {
        let (secs, out) = timed(&binary, &["build", "--image", s.to_str().unwrap()], &envs);
        assert!(out.contains("already present"), "{out}");
        warm.push(secs);
    }
    let size = table
        .lines()
        .nth(1)
        .and_then(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.get(2).map(|s| s.to_string())
        })
        .unwrap_or_default();

    // run pi: the host sandbox against every container inside its image.
    let pi = ["run", "pi", "--samples", "100000", "--no-cache", "-q"];
    let store = work.path().join("store");
    let host_args: Vec<&str> = pi
        .iter()
        .copied()
        .chain(["--sandbox-store", store.to_str().unwrap()])
        .collect();
    let in_args: Vec<&str> = host_args
        .iter()
        .copied()
        .chain(["--in-image", "--image", s.to_str().unwrap()])
        .collect();
    // The first in-image run pulls and unpacks the image.
    let (first, _) = timed(&binary, &in_args, &envs);
    let mut host = Vec::new();
    let mut inside = Vec::new();
    for _ in 0..runs {
        host.push(timed(&binary, &host_args, &envs).0);
        inside.push(timed(&binary, &in_args, &envs).0);
    }
    let (h, i) = (median(host), median(inside));
    println!(
        "quickstart image ({}; {runs} runs, medians)",
        binary.display()
    );
    println!(
        "  compressed size                 {size:>10} MiB (of which the base, libraries and CA bundle: {base_size:.1} MiB)"
    );
    println!("  build + push, cold              {:>10.2} s", median(cold));
    println!("  build, warm (nothing pushed)    {:>10.2} s", median(warm));
    println!("  run pi, host sandbox            {h:>10.2} s");
    println!(
        "  run pi, --in-image              {i:>10.2} s   ratio in-image / host {:.2}×",
        i / h
    );
    println!("  run pi, --in-image, first run   {first:>10.2} s   (pull and unpack)");
}
