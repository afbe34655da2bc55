//! Images from the command line against the real local registry (CNCF distribution, started by
//! `scripts/test`), and tasks run inside their images with bubblewrap:
//!
//! - `build` builds and pushes the quickstart's image (then finds it present: nothing pushed),
//!   `package --build-images` names exactly that image, and `run pi --in-image` runs every
//!   task container inside it and agrees with the host sandbox;
//! - the preflight stops an image without CA certificates and a binary that needs a newer
//!   glibc than the base image's libc defines, before anything is pushed or packaged;
//! - a task that reads a file the image lacks fails in the image with the very `error.pb` it
//!   writes where the file is missing, and secrets reach the container as Propeller mounts them.
//!
//! Bases are `scratch` plus this machine's libraries (no public registry is reachable).

#[allow(dead_code)]
#[path = "support/images.rs"]
mod images;

use std::path::{Path, PathBuf};

use flytekit::idl::Message;
use flytekit::idl::core::{ErrorDocument, container_error};
use flytekit::image::registry::{Reference, RegistryClient};
use images::{cc_base, cli, old_glibc_base, push, registry, spec_yaml, stripped_example, text};
use serde_json::Value;

fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The quickstart's outputs with the report file replaced by its contents.
fn with_report(mut v: Value) -> Value {
    let path = v["o2"].as_str().expect("o2 is a file path").to_string();
    v["o2"] =
        Value::String(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")));
    v
}

/// The `(repository, tag, status)` rows of a `build` table.
fn rows(table: &str) -> Vec<(String, String, String)> {
    table
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[0].into(), cols[1].into(), cols[4..].join(" "))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_image_builds_once_packages_and_runs_in_image() {
    let reg = registry();
    let n = flytekit_oracle::nonce();
    let work = tempfile::tempdir().unwrap();
    let qs = stripped_example("quickstart", work.path());
    let base = push(&cc_base(
        &reg,
        &format!("flytekit-rs-test/cc-{n}"),
        &[&qs],
        true,
    ))
    .await;
    let repo = format!("flytekit-rs-test/quickstart-{n}");
    let spec = spec_yaml(work.path(), "spec.yaml", &reg, &repo, &base);
    let spec = spec.to_str().unwrap();
    let caches = work.path().join("caches");

    // Cold: built and pushed after the preflight.
    let o = cli(&qs, &["build", "--image", spec], &caches, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let built = rows(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(built.len(), 1, "{}", text(&o));
    let (repository, tag, status) = &built[0];
    assert_eq!(repository, &format!("{reg}/{repo}"));
    assert_eq!(status, "built and pushed");
    let image = format!("{repository}:{tag}");
    let client = RegistryClient::new().unwrap();
    let r = Reference::parse(&image).unwrap();
    let digest = client.head_manifest(&r).await.unwrap().expect("pushed");

    // Warm: nothing changed, nothing pushed.
    let o = cli(&qs, &["build", "--image", spec], &caches, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        rows(&String::from_utf8_lossy(&o.stdout)),
        vec![(
            repository.clone(),
            tag.clone(),
            "already present".to_string()
        )]
    );
    assert_eq!(client.head_manifest(&r).await.unwrap(), Some(digest));

    // The package names exactly the image that was pushed.
    let pkg = work.path().join("pkg.tgz");
    let o = cli(
        &qs,
        &[
            "package",
            "--build-images",
            "-o",
            pkg.to_str().unwrap(),
            "--image",
            spec,
        ],
        &caches,
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("already present"),
        "{}",
        text(&o)
    );
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&pkg).unwrap(),
    ));
    let mut images = std::collections::BTreeSet::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy().ends_with("_1.pb") {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            let spec = flytekit::idl::admin::TaskSpec::decode(bytes.as_slice()).unwrap();
            match spec.template.unwrap().target.unwrap() {
                flytekit::idl::core::task_template::Target::Container(c) => {
                    images.insert(c.image);
                }
                other => panic!("unexpected target {other:?}"),
            }
        }
    }
    assert_eq!(images.into_iter().collect::<Vec<_>>(), vec![image.clone()]);

    // Every task container in its image agrees with the host sandbox.
    let args = [
        "run",
        "pi",
        "--samples",
        "5000",
        "--name",
        "Ada",
        "--no-cache",
    ];
    let host_store = work.path().join("host-store");
    let mut host_args = args.to_vec();
    host_args.extend(["--sandbox-store", host_store.to_str().unwrap()]);
    let host = cli(&qs, &host_args, &caches, &[]);
    assert!(host.status.success(), "{}", text(&host));
    let store = work.path().join("store");
    let mut in_args = args.to_vec();
    in_args.extend([
        "--in-image",
        "--image",
        spec,
        "--sandbox-store",
        store.to_str().unwrap(),
    ]);
    let inside = cli(&qs, &in_args, &caches, &[]);
    assert!(inside.status.success(), "{}", text(&inside));
    let json = |o: &std::process::Output| -> Value { serde_json::from_slice(&o.stdout).unwrap() };
    assert_eq!(with_report(json(&inside)), with_report(json(&host)));
    assert_eq!(files_named(&store, "outputs.pb").len(), 7);
    // The image was unpacked once into the digest-keyed cache (beside the base, which the
    // preflight unpacked), the binary in it.
    let with_binary: Vec<_> = std::fs::read_dir(caches.join("images/rootfs"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("usr/local/bin/quickstart").is_file())
        .collect();
    assert_eq!(with_binary.len(), 1, "{with_binary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflight_stops_missing_ca_certificates_and_a_newer_glibc() {
    let reg = registry();
    let n = flytekit_oracle::nonce();
    let work = tempfile::tempdir().unwrap();
    let qs = stripped_example("quickstart", work.path());
    let caches = work.path().join("caches");
    let client = RegistryClient::new().unwrap();

    // A base without CA certificates.
    let no_ca = push(&cc_base(
        &reg,
        &format!("flytekit-rs-test/noca-{n}"),
        &[&qs],
        false,
    ))
    .await;
    let spec = spec_yaml(
        work.path(),
        "noca.yaml",
        &reg,
        &format!("flytekit-rs-test/qs-noca-{n}"),
        &no_ca,
    );
    let pkg = work.path().join("pkg.tgz");
    for args in [
        vec!["build", "--image", spec.to_str().unwrap()],
        vec![
            "package",
            "--build-images",
            "-o",
            pkg.to_str().unwrap(),
            "--image",
            spec.to_str().unwrap(),
        ],
    ] {
        let o = cli(&qs, &args, &caches, &[]);
        assert!(!o.status.success(), "{}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(
            err.contains("would fail on a cluster")
                && err.contains("[ca-certificates]")
                && err.contains("/etc/ssl/certs/ca-certificates.crt")
                && err.contains("gcr.io/distroless/cc-debian12"),
            "{}",
            text(&o)
        );
        assert!(
            !err.contains("[glibc]") && !err.contains("[binary]"),
            "{}",
            text(&o)
        );
        // Nothing was pushed, nothing packaged.
        let image = err
            .split("image ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap()
            .to_string();
        let r = Reference::parse(&image).unwrap();
        assert_eq!(client.head_manifest(&r).await.unwrap(), None, "{image}");
        assert!(!pkg.exists());
    }

    // A base whose libc is older than the binary needs.
    let old = push(&old_glibc_base(
        &reg,
        &format!("flytekit-rs-test/oldlibc-{n}"),
        &[&qs],
        work.path(),
    ))
    .await;
    let spec = spec_yaml(
        work.path(),
        "old.yaml",
        &reg,
        &format!("flytekit-rs-test/qs-old-{n}"),
        &old,
    );
    let o = cli(
        &qs,
        &["build", "--image", spec.to_str().unwrap()],
        &caches,
        &[],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        err.contains("[glibc]")
            && err.contains("/usr/local/bin/quickstart needs glibc 2.3")
            && err.contains("libc.so.6 is glibc 2.28")
            && err.contains("base image with glibc 2.3"),
        "{}",
        text(&o)
    );
    assert!(!err.contains("[ca-certificates]"), "{}", text(&o));
}

/// The `error.pb` a run left in `store`, decoded.
fn error_doc(store: &Path) -> ErrorDocument {
    let found = files_named(store, "error.pb");
    assert_eq!(found.len(), 1, "{found:?}");
    ErrorDocument::decode(std::fs::read(&found[0]).unwrap().as_slice()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_image_runs_fail_like_a_cluster_and_get_secrets_as_mounted() {
    let reg = registry();
    let n = flytekit_oracle::nonce();
    let work = tempfile::tempdir().unwrap();
    let ct = stripped_example("contract", work.path());
    let caches = work.path().join("caches");
    let base = push(&cc_base(
        &reg,
        &format!("flytekit-rs-test/cc-ct-{n}"),
        &[&ct],
        true,
    ))
    .await;
    let spec = spec_yaml(
        work.path(),
        "spec.yaml",
        &reg,
        &format!("flytekit-rs-test/contract-{n}"),
        &base,
    );
    let spec = spec.to_str().unwrap();
    let config = work.path().join("config.txt");
    std::fs::write(&config, "hello from the host").unwrap();
    let path = config.to_str().unwrap();

    // On this machine the task reads the file.
    let o = cli(
        &ct,
        &["run", "read_text", "--path", path, "--sandbox"],
        &caches,
        &[],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("hello from the host"));

    // In its image the file is not there: the task fails as on a cluster.
    let in_store = work.path().join("in-store");
    let o = cli(
        &ct,
        &[
            "run",
            "read_text",
            "--path",
            path,
            "--in-image",
            "--image",
            spec,
            "--sandbox-store",
            in_store.to_str().unwrap(),
        ],
        &caches,
        &[],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let inside = error_doc(&in_store).error.unwrap();
    assert_eq!(inside.origin, 1, "USER");
    assert_eq!(inside.kind, container_error::Kind::NonRecoverable as i32);
    assert!(
        inside.message.contains(&format!("cannot read {path}")),
        "{inside:?}"
    );

    // The same error.pb as where the file really is missing.
    std::fs::remove_file(&config).unwrap();
    let host_store = work.path().join("host-store");
    let o = cli(
        &ct,
        &[
            "run",
            "read_text",
            "--path",
            path,
            "--sandbox-store",
            host_store.to_str().unwrap(),
        ],
        &caches,
        &[],
    );
    assert!(!o.status.success(), "{}", text(&o));
    let outside = error_doc(&host_store).error.unwrap();
    assert_eq!(
        (inside.code, inside.kind, inside.origin, inside.message),
        (outside.code, outside.kind, outside.origin, outside.message)
    );

    // A requested secret reaches the container as Propeller mounts it (a file), not through
    // this machine's environment.
    let o = cli(
        &ct,
        &[
            "run",
            "secret_len",
            "--x",
            "1",
            "--in-image",
            "--image",
            spec,
            "--no-cache",
        ],
        &caches,
        &[("_FSEC_DB_PASSWORD", "s3cret!".to_string())],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(out["o0"], 8, "{}", text(&o));

    // The container's environment is the image's and the pod's, not this machine's.
    let env_of = |name: &str| -> String {
        let o = cli(
            &ct,
            &[
                "run",
                "env_of",
                "--name",
                name,
                "--in-image",
                "--image",
                spec,
                "--no-cache",
                "-q",
            ],
            &caches,
            &[("FLYTEKIT_TEST_HOST_ONLY", "leaked".to_string())],
        );
        assert!(o.status.success(), "{}", text(&o));
        let out: Value = serde_json::from_slice(&o.stdout).unwrap();
        out["o0"].as_str().unwrap().to_string()
    };
    assert_eq!(env_of("FLYTEKIT_TEST_HOST_ONLY"), "");
    assert_eq!(env_of("FLYTE_INTERNAL_TASK_NAME"), "contract.env_of");
    assert_eq!(
        env_of("PATH"),
        "/usr/local/bin:/usr/bin:/bin",
        "the image's PATH"
    );
    assert!(!env_of("_F_IMG_ID").is_empty(), "the image's own env");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_elements_and_dynamic_nodes_run_in_image_through_either_store() {
    let reg = registry();
    let n = flytekit_oracle::nonce();
    let work = tempfile::tempdir().unwrap();
    let fanout = stripped_example("fanout", work.path());
    let caches = work.path().join("caches");
    let base = push(&cc_base(
        &reg,
        &format!("flytekit-rs-test/cc-fan-{n}"),
        &[&fanout],
        true,
    ))
    .await;
    let spec = spec_yaml(
        work.path(),
        "spec.yaml",
        &reg,
        &format!("flytekit-rs-test/fanout-{n}"),
        &base,
    );
    let spec = spec.to_str().unwrap();
    let outputs = |args: &[&str], envs: &[(&str, String)]| -> Value {
        let o = cli(&fanout, args, &caches, envs);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };

    // A map task: one map-execute container per element, each in the image (local store).
    let map_args = [
        "run",
        "add_all",
        "--xs",
        "[1,2,3]",
        "--k",
        "10",
        "--no-cache",
        "-q",
    ];
    let store = work.path().join("store");
    let mut in_image = map_args.to_vec();
    in_image.extend([
        "--in-image",
        "--image",
        spec,
        "--sandbox-store",
        store.to_str().unwrap(),
    ]);
    assert_eq!(outputs(&in_image, &[]), outputs(&map_args, &[]));
    assert_eq!(
        files_named(&store, "outputs.pb").len(),
        3 + 1,
        "three elements and the total"
    );

    // A dynamic task and the nodes of its futures.pb, through the S3 store (the network is
    // shared with the container only for a remote store).
    let s3 = flytekit_oracle::s3_env();
    let store = format!(
        "s3://{}/in-image-{n}",
        flytekit_oracle::test_env("FLYTEKIT_TEST_S3_BUCKET")
    );
    let dyn_args = ["run", "fan", "--n", "3", "--base", "1", "--no-cache", "-q"];
    let mut in_image = dyn_args.to_vec();
    in_image.extend(["--in-image", "--image", spec, "--sandbox-store", &store]);
    assert_eq!(outputs(&in_image, &s3), outputs(&dyn_args, &[]));
}

/// A registry of our own (CNCF distribution) with authentication; stopped when dropped.
struct AuthRegistry {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for AuthRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `docker-registry` (installed by scripts/oci-registry) with the `auth:` section `auth`.
fn start_registry(dir: tempfile::TempDir, auth: &str) -> AuthRegistry {
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: {addr}\nauth:\n{auth}",
            dir.path().join("storage").display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("docker-registry (installed by scripts/oci-registry) runs");
    let registry = AuthRegistry {
        child,
        addr,
        _dir: dir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(&registry.addr).is_ok() {
            return registry;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("docker-registry did not listen on {}", registry.addr);
}

fn b64url(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

/// A token server for the registry's Bearer flow: checks Basic `alice:s3cret`, grants what the
/// scope asks, and answers a JWT signed (RS256, by `openssl`) with the key whose certificate
/// the registry trusts. Returns its address.
async fn start_token_server(dir: &Path, issuer: &str, service: &str) -> String {
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let der = dir.join("cert.der");
    let ok = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg("/CN=flytekit-test-token")
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
        && std::process::Command::new("openssl")
            .args(["x509", "-outform", "der", "-in"])
            .arg(&cert)
            .arg("-out")
            .arg(&der)
            .status()
            .unwrap()
            .success();
    assert!(ok, "openssl makes the token signing key");
    use base64::Engine as _;
    let x5c = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&der).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (issuer, service) = (issuer.to_string(), service.to_string());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let request = String::from_utf8_lossy(&buf).to_string();
            let target = request.split_whitespace().nth(1).unwrap_or("/").to_string();
            let url = url::Url::parse(&format!("http://x{target}")).unwrap();
            let scope = url
                .query_pairs()
                .find(|(k, _)| k == "scope")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let basic = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
            let authorized = request
                .lines()
                .any(|l| l.eq_ignore_ascii_case(&format!("authorization: basic {basic}")));
            let (status, body) = if authorized {
                let parts: Vec<&str> = scope.split(':').collect();
                let access = if parts.len() == 3 {
                    serde_json::json!([{"type": parts[0], "name": parts[1],
                        "actions": parts[2].split(',').collect::<Vec<_>>()}])
                } else {
                    serde_json::json!([])
                };
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5c": [x5c]});
                let claims = serde_json::json!({"iss": issuer, "sub": "alice", "aud": service,
                    "exp": now + 300, "nbf": now - 10, "iat": now,
                    "jti": flytekit_oracle::nonce(), "access": access});
                let input = format!(
                    "{}.{}",
                    b64url(header.to_string().as_bytes()),
                    b64url(claims.to_string().as_bytes())
                );
                let key = key.clone();
                let signed = tokio::task::spawn_blocking(move || {
                    use std::io::Write;
                    let mut child = std::process::Command::new("openssl")
                        .args(["dgst", "-sha256", "-binary", "-sign"])
                        .arg(&key)
                        .stdin(std::process::Stdio::piped())
                        .stdout(std::process::Stdio::piped())
                        .spawn()
                        .unwrap();
                    child
                        .stdin
                        .take()
                        .unwrap()
                        .write_all(input.as_bytes())
                        .unwrap();
                    let sig = child.wait_with_output().unwrap().stdout;
                    format!("{input}.{}", b64url(&sig))
                })
                .await
                .unwrap();
                (
                    "200 OK",
                    serde_json::json!({"token": signed, "expires_in": 300}).to_string(),
                )
            } else {
                (
                    "401 Unauthorized",
                    r#"{"details":"bad credentials"}"#.to_string(),
                )
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes()).await;
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_credentials_the_way_users_have_them() {
    let reg = registry();
    let n = flytekit_oracle::nonce();
    let work = tempfile::tempdir().unwrap();
    let qs = stripped_example("quickstart", work.path());
    let caches = work.path().join("caches");
    // The base stays on the open registry (pulled anonymously: the credential store has
    // nothing for it); the images go to registries that want credentials.
    let base = push(&cc_base(
        &reg,
        &format!("flytekit-rs-test/cc-auth-{n}"),
        &[&qs],
        true,
    ))
    .await;

    // Basic auth (htpasswd) and the Bearer token flow (a token server signing JWTs).
    let basic_dir = tempfile::tempdir().unwrap();
    let htpasswd = basic_dir.path().join("htpasswd");
    std::fs::write(
        &htpasswd,
        format!("alice:{}\n", bcrypt::hash("s3cret", 4).unwrap()),
    )
    .unwrap();
    let basic = start_registry(
        basic_dir,
        &format!(
            "  htpasswd:\n    realm: flytekit-test\n    path: {}\n",
            htpasswd.display()
        ),
    );
    let token_dir = tempfile::tempdir().unwrap();
    let token_server = start_token_server(
        token_dir.path(),
        "flytekit-test-issuer",
        "flytekit-test-registry",
    )
    .await;
    let cert = token_dir.path().join("cert.pem");
    let bearer = start_registry(
        token_dir,
        &format!(
            "  token:\n    realm: http://{token_server}/token\n    service: flytekit-test-registry\n    \
             issuer: flytekit-test-issuer\n    rootcertbundle: {}\n",
            cert.display()
        ),
    );

    // A credential helper on PATH, as `docker login` with a helper leaves things.
    let helpers = work.path().join("helpers");
    std::fs::create_dir(&helpers).unwrap();
    let helper = helpers.join("docker-credential-flytekit-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread server\ncase \"$server\" in\n  \
             {}|{}) printf '{{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}}' \"$server\" ;;\n  \
             *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n",
            basic.addr, bearer.addr
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        helpers.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let case = std::cell::Cell::new(0);
    let build_with =
        |registry: &str, config: &str, extra: &[(&str, String)]| -> std::process::Output {
            case.set(case.get() + 1);
            let case = case.get();
            let docker = work.path().join(format!("docker-{case}"));
            std::fs::create_dir(&docker).unwrap();
            std::fs::write(docker.join("config.json"), config).unwrap();
            let spec = spec_yaml(
                work.path(),
                &format!("spec-{case}.yaml"),
                registry,
                &format!("flytekit-rs-test/auth-{case}-{n}"),
                &base,
            );
            cli(
                &qs,
                &["build", "--image", spec.to_str().unwrap()],
                &caches,
                &[
                    ("DOCKER_CONFIG", docker.display().to_string()),
                    ("PATH", path.clone()),
                ]
                .into_iter()
                .chain(extra.iter().cloned())
                .collect::<Vec<_>>(),
            )
        };
    let build = |registry: &str, config: &str| build_with(registry, config, &[]);
    let wrong = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("alice:wrong")
    };

    // credHelpers with Basic auth; credsStore with the Bearer flow: built and pushed.
    for (addr, config) in [
        (
            &basic.addr,
            format!(
                r#"{{"credHelpers": {{"{}": "flytekit-test"}}}}"#,
                basic.addr
            ),
        ),
        (
            &bearer.addr,
            r#"{"credsStore": "flytekit-test"}"#.to_string(),
        ),
    ] {
        let o = build(addr, &config);
        assert!(o.status.success(), "{addr}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("built and pushed"),
            "{}",
            text(&o)
        );
    }

    // Wrong credentials in `auths`: refused, naming the registry and the entry.
    for addr in [&basic.addr, &bearer.addr] {
        let o = build(
            addr,
            &format!(r#"{{"auths": {{"{addr}": {{"auth": "{wrong}"}}}}}}"#),
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !o.status.success()
                && err.contains(&format!("registry {addr}"))
                && err.contains(&format!("auths.\"{addr}\""))
                && err.contains("refused the credentials"),
            "{}",
            text(&o)
        );
    }

    // A helper that is not installed.
    let o = build(
        &basic.addr,
        &format!(
            r#"{{"credHelpers": {{"{}": "flytekit-nosuch"}}}}"#,
            basic.addr
        ),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains(&format!("registry {}", basic.addr))
            && err.contains("docker-credential-flytekit-nosuch")
            && err.contains("not on PATH")
            && err.contains("credHelpers"),
        "{}",
        text(&o)
    );

    // No credentials at all.
    let o = build(&basic.addr, "{}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains(&format!("no credentials were found for {}", basic.addr))
            && err.contains("FLYTEKIT_REGISTRY_USERNAME"),
        "{}",
        text(&o)
    );

    // The environment variables, for every registry.
    let o = build_with(
        &basic.addr,
        "{}",
        &[
            ("FLYTEKIT_REGISTRY_USERNAME", "alice".to_string()),
            ("FLYTEKIT_REGISTRY_PASSWORD", "s3cret".to_string()),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));

    // Nothing listens: unreachable, naming the registry and where it comes from.
    let o = build("127.0.0.1:1", "{}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("cannot reach the registry 127.0.0.1:1")
            && err.contains("--image"),
        "{}",
        text(&o)
    );
}
