//! A task image's base for the image tests: `scratch` plus the host libraries that the binaries
//! to run in it need (no public registry is reachable here, so tests make their own base).

use std::path::Path;
use std::process::Command;

use flytekit::image::ImageSpec;

/// Absolute paths of the loader and libraries `binaries` need, per `ldd`, sorted and deduplicated.
pub fn shared_libs(binaries: &[&Path]) -> Vec<String> {
    let mut libs = Vec::new();
    for binary in binaries {
        let out = Command::new("ldd").arg(binary).output().expect("ldd runs");
        assert!(out.status.success(), "ldd {}", binary.display());
        libs.extend(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .filter(|t| t.starts_with('/'))
                .map(str::to_string),
        );
    }
    libs.sort();
    libs.dedup();
    libs
}

/// A `scratch` base in `reg/repo` (daemonless `oci` builder) holding the libraries `binaries`
/// need at their host paths, with a `PATH`.
pub fn scratch_base(reg: &str, repo: &str, binaries: &[&Path]) -> ImageSpec {
    let mut spec = ImageSpec::new(repo)
        .with_registry(reg)
        .with_base_image("scratch")
        .with_builder("oci")
        .with_env("PATH", "/usr/local/bin:/usr/bin:/bin");
    for lib in shared_libs(binaries) {
        spec = spec.with_copy(&lib, lib.clone());
    }
    spec
}

/// Unpacks every layer of the image `r` (manifest `m`), in order, into `rootfs`.
pub async fn unpack_layers(
    client: &flytekit::image::registry::RegistryClient,
    r: &flytekit::image::registry::Reference,
    m: &flytekit::image::registry::Manifest,
    rootfs: &Path,
) {
    std::fs::create_dir_all(rootfs).unwrap();
    let blobs = tempfile::tempdir().unwrap();
    for (i, layer) in m.layers.iter().enumerate() {
        let path = blobs.path().join(format!("layer{i}.tar.gz"));
        client
            .download_blob(r, &layer.digest, layer.size, &path)
            .await
            .unwrap();
        flytekit::fast::unpack(&path, rootfs).unwrap();
    }
}

/// Runs `argv` in `rootfs` as a container runtime would: `chroot`, the image config's working
/// directory, exactly its env plus `extra_env`, and `argv[0]` looked up on the image's `PATH`
/// (inside the root filesystem) unless it is a path.
pub fn run_in_image(
    rootfs: &Path,
    config: &serde_json::Value,
    argv: &[String],
    extra_env: &[(&str, String)],
) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let c = &config["config"];
    let env: Vec<(String, String)> = c["Env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let program = if argv[0].contains('/') {
        argv[0].clone()
    } else {
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        path.split(':')
            .map(|dir| format!("{dir}/{}", argv[0]))
            .find(|p| rootfs.join(p.trim_start_matches('/')).is_file())
            .unwrap_or_else(|| panic!("{} is not on the image's PATH {path}", argv[0]))
    };
    let workdir = std::path::PathBuf::from(c["WorkingDir"].as_str().unwrap_or("/"));
    std::fs::create_dir_all(rootfs.join(workdir.strip_prefix("/").unwrap())).unwrap();
    let mut cmd = Command::new(&program);
    cmd.args(&argv[1..])
        .env_clear()
        .envs(env)
        .envs(extra_env.iter().map(|(k, v)| (*k, v.as_str())));
    let root = rootfs.to_path_buf();
    // SAFETY: runs in the forked child before exec; chroot and chdir only.
    unsafe {
        cmd.pre_exec(move || {
            std::os::unix::fs::chroot(&root)?;
            std::env::set_current_dir(&workdir)
        });
    }
    cmd.output()
        .expect("the program starts inside the image (tests run as root for chroot)")
}
