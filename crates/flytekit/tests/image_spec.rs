//! ImageSpec identity (deterministic tags) and the Dockerfile builder's output. No registry needed.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

use flytekit::image::builder::DockerfileBuilder;
use flytekit::image::{ImageBuildEngine, ImageBuilder, ImageError, ImageSpec};

fn write(path: &Path, data: &str, mode: u32, mtime: SystemTime) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
}

/// The same shipped content in `root`, with the given mtime.
fn inputs(root: &Path, mtime: SystemTime) {
    write(&root.join("bin/tasks"), "binary v1", 0o755, mtime);
    write(&root.join("cfg.yaml"), "a: 1", 0o644, mtime);
    write(&root.join("assets/a.txt"), "A", 0o644, mtime);
    write(&root.join("assets/sub/b.txt"), "B", 0o644, mtime);
}

fn spec(root: &Path, reverse: bool) -> ImageSpec {
    let mut s = ImageSpec::new("tasks")
        .with_registry("ghcr.io/org")
        .with_base_image("ghcr.io/org/base:1")
        .with_binary(root.join("bin/tasks"))
        .with_copy(root.join("cfg.yaml"), "/etc/app/cfg.yaml")
        .with_copy(root.join("assets"), "assets")
        .with_env("B", "2")
        .with_env("A", "1");
    if reverse {
        s.copy.reverse();
    }
    s
}

#[test]
fn tags_depend_on_content_not_on_mtimes_paths_or_order() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    inputs(a.path(), SystemTime::UNIX_EPOCH + Duration::from_secs(7));
    inputs(b.path(), SystemTime::now());
    let sa = spec(a.path(), false);
    let sb = spec(b.path(), true);
    assert_eq!(sa.tag().unwrap(), sb.tag().unwrap());
    assert_eq!(sa.id().unwrap(), sb.id().unwrap());
    assert_eq!(
        sa.image_name().unwrap(),
        format!("ghcr.io/org/tasks:{}", sa.tag().unwrap())
    );
    let files: Vec<String> = sa
        .shipped_files()
        .unwrap()
        .into_iter()
        .map(|f| f.dest)
        .collect();
    assert_eq!(
        files,
        [
            "/etc/app/cfg.yaml",
            "/root/assets/a.txt",
            "/root/assets/sub/b.txt",
            "/usr/local/bin/tasks"
        ]
    );

    // Content, mode and a nested file all count; the id ignores content.
    let tag = sa.tag().unwrap();
    let id = sa.id().unwrap();
    write(
        &a.path().join("assets/sub/b.txt"),
        "B2",
        0o644,
        SystemTime::now(),
    );
    assert_ne!(sa.tag().unwrap(), tag);
    assert_eq!(sa.id().unwrap(), id);
    write(&b.path().join("cfg.yaml"), "a: 1", 0o755, SystemTime::now());
    assert_ne!(sb.tag().unwrap(), tag);
    // Declarations count for both.
    let other = spec(a.path(), false).with_env("C", "3");
    assert_ne!(other.id().unwrap(), id);
    // tag_format.
    let dev = spec(b.path(), false).with_tag_format("{spec_hash}-dev");
    assert!(dev.tag().unwrap().ends_with("-dev"));
    assert_eq!(dev.tag().unwrap().len(), 22 + 4);
}

#[test]
fn spec_errors_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let missing = ImageSpec::new("x").with_binary(dir.path().join("nope"));
    assert!(matches!(missing.tag(), Err(ImageError::Io { .. })));
    let not_file = ImageSpec::new("x").with_binary(dir.path());
    assert!(
        not_file
            .tag()
            .unwrap_err()
            .to_string()
            .contains("build it first")
    );
    write(&dir.path().join("f"), "x", 0o644, SystemTime::now());
    write(&dir.path().join("g"), "y", 0o644, SystemTime::now());
    let clash = ImageSpec::new("x")
        .with_copy(dir.path().join("f"), "/a")
        .with_copy(dir.path().join("g"), "/a");
    assert!(
        clash
            .tag()
            .unwrap_err()
            .to_string()
            .contains("both go to /a")
    );
    let escape = ImageSpec::new("x").with_copy(dir.path().join("f"), "../../etc/x");
    assert!(escape.tag().unwrap_err().to_string().contains("`..`"));
    let platform = ImageSpec::new("x").with_platform("amd64");
    assert!(platform.tag().unwrap_err().to_string().contains("os/arch"));
    let bad_format = ImageSpec::new("x").with_tag_format("{spec_hash}/x");
    assert!(
        bad_format
            .tag()
            .unwrap_err()
            .to_string()
            .contains("invalid tag")
    );
    let registry = ImageSpec::new("x").with_registry("Not A Registry");
    assert!(
        registry
            .tag()
            .unwrap_err()
            .to_string()
            .starts_with("Invalid container registry name: 'not a registry'.")
    );
}

#[test]
fn dockerfile_and_context() {
    let src = tempfile::tempdir().unwrap();
    inputs(src.path(), SystemTime::now());
    let spec = spec(src.path(), false)
        .with_apt_packages(["ca-certificates", "libssl3"])
        .with_command("echo built > /built")
        .with_entrypoint(["/usr/local/bin/tasks"])
        .with_env("QUOTED", "a \"b\" c")
        .with_builder("dockerfile");
    let r = spec.resolve().unwrap();
    let dockerfile = DockerfileBuilder::dockerfile(&r);
    let expected = format!(
        "# syntax=docker/dockerfile:1\n\
         # Generated by flytekit-rs for {name} (spec id {id}).\n\
         FROM --platform=linux/amd64 ghcr.io/org/base:1\n\
         RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates libssl3 \\\n    && rm -rf /var/lib/apt/lists/*\n\
         COPY rootfs/ /\n\
         ENV A=\"1\"\n\
         ENV B=\"2\"\n\
         ENV QUOTED=\"a \\\"b\\\" c\"\n\
         RUN echo built > /built\n\
         WORKDIR /root\n\
         ENTRYPOINT [\"/usr/local/bin/tasks\"]\n\
         ENV _F_IMG_ID=\"{id}\"\n",
        name = r.image_name,
        id = r.id
    );
    assert_eq!(dockerfile, expected);

    let ctx = tempfile::tempdir().unwrap();
    let path = DockerfileBuilder::write_context(&r, ctx.path()).unwrap();
    assert_eq!(std::fs::read_to_string(path).unwrap(), expected);
    let bin = ctx.path().join("rootfs/usr/local/bin/tasks");
    assert_eq!(std::fs::read_to_string(&bin).unwrap(), "binary v1");
    assert_eq!(
        std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
        0o755
    );
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("rootfs/root/assets/sub/b.txt")).unwrap(),
        "B"
    );
    assert_eq!(
        std::fs::read_to_string(ctx.path().join("rootfs/etc/app/cfg.yaml")).unwrap(),
        "a: 1"
    );
}

#[tokio::test]
async fn dockerfile_builder_without_docker_is_a_clear_error() {
    let src = tempfile::tempdir().unwrap();
    inputs(src.path(), SystemTime::now());
    let spec = spec(src.path(), false).with_builder("dockerfile");
    // No `docker` on the search path, whatever this machine has installed.
    let empty = tempfile::tempdir().unwrap();
    let builder = DockerfileBuilder {
        docker: None,
        context_dir: None,
        search_path: Some(empty.path().as_os_str().to_owned()),
    };
    let err = builder.build_image(&spec).await.unwrap_err();
    assert!(matches!(err, ImageError::DockerNotFound), "{err}");
    assert!(err.to_string().contains("daemonless `oci` builder"));
    // The engine knows the builder by name.
    assert!(
        ImageBuildEngine::with_defaults()
            .get_builder(Some("dockerfile"))
            .is_ok()
    );
}

#[cfg(unix)]
#[tokio::test]
async fn dockerfile_builder_runs_buildx_and_reports_its_failure() {
    use std::os::unix::fs::PermissionsExt;
    let src = tempfile::tempdir().unwrap();
    inputs(src.path(), SystemTime::now());
    let spec = spec(src.path(), false).with_builder("dockerfile");
    // A `docker` that records its arguments and fails, as one without a daemon does.
    let bin = tempfile::tempdir().unwrap();
    let docker = bin.path().join("docker");
    let record = bin.path().join("args");
    std::fs::write(
        &docker,
        format!("#!/bin/sh\necho \"$@\" > '{}'\nexit 3\n", record.display()),
    )
    .unwrap();
    std::fs::set_permissions(&docker, std::fs::Permissions::from_mode(0o755)).unwrap();
    let ctx = tempfile::tempdir().unwrap();
    let builder = DockerfileBuilder {
        docker: None,
        context_dir: Some(ctx.path().to_path_buf()),
        search_path: Some(bin.path().as_os_str().to_owned()),
    };
    let err = builder.build_image(&spec).await.unwrap_err();
    let image = spec.image_name().unwrap();
    assert!(matches!(err, ImageError::Build(_)), "{err}");
    assert!(err.to_string().contains(&image), "{err}");
    let args = std::fs::read_to_string(&record).unwrap();
    assert!(
        args.starts_with("buildx build --platform linux/amd64 --push -t ") && args.contains(&image),
        "{args}"
    );
    assert!(ctx.path().join("Dockerfile").is_file());
}
