//! Bases and binaries for the image command-line tests. No public registry is reachable here, so
//! bases are made from this machine's libraries and pushed to the local registry first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use flytekit::image::{ImageBuildEngine, ImageSpec};

#[allow(dead_code)]
#[path = "rootfs.rs"]
mod rootfs;

/// The local registry `scripts/test` starts.
pub fn registry() -> String {
    flytekit_oracle::test_env("FLYTEKIT_TEST_REGISTRY")
}

/// A stripped copy of the example `name` in `dir` (the debug build with its debug info is
/// 200+ MB; stripped it runs the same and ships as ~13 MB).
pub fn stripped_example(name: &str, dir: &Path) -> PathBuf {
    let copy = dir.join(name);
    std::fs::copy(flytekit_oracle::example_binary(name), &copy).unwrap();
    let status = Command::new("strip")
        .arg(&copy)
        .status()
        .expect("strip runs");
    assert!(status.success(), "strip {}", copy.display());
    copy
}

/// The CA bundle of this machine (Debian's ca-certificates).
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A distroless-like base in `reg/repo`: `scratch` with the loader and libraries `binaries`
/// link (from this machine, at their paths), and the CA bundle unless `ca` is false.
pub fn cc_base(reg: &str, repo: &str, binaries: &[&Path], ca: bool) -> ImageSpec {
    let spec = rootfs::scratch_base(reg, repo, binaries);
    if ca {
        spec.with_copy(CA_BUNDLE, CA_BUNDLE)
    } else {
        spec
    }
}

/// [`cc_base`] whose `libc.so.6` is a shared object that defines glibc's symbol versions only
/// up to `GLIBC_2.28` (a real ELF file, linked with a version script): the libc of an older
/// distribution, as the preflight reads it.
pub fn old_glibc_base(reg: &str, repo: &str, binaries: &[&Path], work: &Path) -> ImageSpec {
    let src = work.join("oldlibc.c");
    let map = work.join("oldlibc.map");
    let out = work.join("libc.so.6");
    std::fs::write(
        &src,
        "int flytekit_v225(void) { return 0; }\nint flytekit_v217(void) { return 1; }\n\
         int flytekit_v228(void) { return 2; }\n",
    )
    .unwrap();
    std::fs::write(
        &map,
        "GLIBC_2.2.5 { global: flytekit_v225; local: *; };\n\
         GLIBC_2.17 { global: flytekit_v217; } GLIBC_2.2.5;\n\
         GLIBC_2.28 { global: flytekit_v228; } GLIBC_2.17;\n",
    )
    .unwrap();
    let status = Command::new("cc")
        .args(["-shared", "-nostdlib", "-fPIC", "-Wl,-soname,libc.so.6"])
        .arg(format!("-Wl,--version-script={}", map.display()))
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .status()
        .expect("cc runs");
    assert!(status.success(), "cc failed to link the old libc");
    let mut spec = ImageSpec::new(repo)
        .with_registry(reg)
        .with_base_image("scratch")
        .with_builder("oci")
        .with_env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .with_copy(CA_BUNDLE, CA_BUNDLE);
    for lib in rootfs::shared_libs(binaries) {
        let from = if lib.ends_with("/libc.so.6") {
            out.clone()
        } else {
            PathBuf::from(&lib)
        };
        spec = spec.with_copy(from, lib.clone());
    }
    spec
}

/// Builds and pushes `spec` (the daemonless builder, straight to the registry); its name.
pub async fn push(spec: &ImageSpec) -> String {
    ImageBuildEngine::with_defaults()
        .build(spec)
        .await
        .unwrap()
        .image_name
}

/// An ImageSpec YAML file in `dir` for the image `reg/repo` on `base`.
pub fn spec_yaml(dir: &Path, file: &str, reg: &str, repo: &str, base: &str) -> PathBuf {
    let path = dir.join(file);
    std::fs::write(
        &path,
        format!("name: {repo}\nregistry: {reg}\nbase_image: {base}\n"),
    )
    .unwrap();
    path
}

/// Runs `binary` with `args`, the image and local caches in `caches`, and `envs`.
pub fn cli(binary: &Path, args: &[&str], caches: &Path, envs: &[(&str, String)]) -> Output {
    Command::new(binary)
        .args(args)
        .env("FLYTEKIT_IMAGE_CACHE", caches.join("images"))
        .env("FLYTEKIT_CACHE_DIR", caches.join("local"))
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("the example runs")
}

/// stdout and stderr of `o`, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "status {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
