//! The storage layer against a real S3-compatible server (Garage, started by `scripts/s3-server`,
//! which `scripts/test` runs). No mocks: failures are produced by real credentials, real missing
//! buckets, closed ports and a TCP relay that is cut mid-transfer.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use flytekit::storage::{RetrySettings, S3Config, Storage, StorageConfig, StorageError};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;

/// The server the tests talk to, from the environment `scripts/s3-server start` writes.
#[derive(Clone, Debug)]
struct Server {
    endpoint: String,
    access_key_id: String,
    secret_access_key: String,
    bucket: String,
    region: String,
}

const VARS: [&str; 5] = [
    "FLYTEKIT_TEST_S3_ENDPOINT",
    "FLYTEKIT_TEST_S3_ACCESS_KEY_ID",
    "FLYTEKIT_TEST_S3_SECRET_ACCESS_KEY",
    "FLYTEKIT_TEST_S3_BUCKET",
    "FLYTEKIT_TEST_S3_REGION",
];

/// Reads the server settings from the environment, or else from the env file `scripts/s3-server`
/// wrote. Panics (the test fails, it is never skipped) when neither is there.
fn server() -> Server {
    let from_env: Vec<Option<String>> = VARS
        .iter()
        .map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .collect();
    let values: Vec<String> = if from_env.iter().all(Option::is_some) {
        from_env.into_iter().flatten().collect()
    } else {
        let file = std::env::var("FLYTEKIT_TEST_S3_ENV_FILE")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|_| std::env::temp_dir().join("flytekit-s3-server/s3.env"));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lookup = |name: &str| {
            text.lines()
                .filter_map(|l| {
                    l.trim()
                        .strip_prefix("export ")
                        .unwrap_or(l.trim())
                        .split_once('=')
                })
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.trim().to_string())
        };
        let found: Vec<Option<String>> = VARS.iter().map(|v| lookup(v)).collect();
        if !found.iter().all(Option::is_some) {
            panic!(
                "the S3 test server is not configured: {} must be set (or {} must exist). \
                 Run scripts/test, which starts Garage with scripts/s3-server and exports them; or run \
                 `scripts/s3-server start` and then `eval \"$(scripts/s3-server env)\"` before `cargo test`.",
                VARS.join(", "),
                file.display()
            );
        }
        found.into_iter().flatten().collect()
    };
    Server {
        endpoint: values[0].clone(),
        access_key_id: values[1].clone(),
        secret_access_key: values[2].clone(),
        bucket: values[3].clone(),
        region: values[4].clone(),
    }
}

/// Quick retries so that failure tests finish in about a second.
fn fast_retries() -> RetrySettings {
    RetrySettings::default()
        .with_max_retries(2)
        .with_backoff(Duration::from_millis(50), Duration::from_millis(200))
        .with_timeout(Duration::from_secs(10))
}

fn s3_config(endpoint: &str, srv: &Server) -> StorageConfig {
    StorageConfig::default()
        .with_s3(
            S3Config::default()
                .with_endpoint(endpoint)
                .with_region(&srv.region)
                .with_credentials(&srv.access_key_id, &srv.secret_access_key),
        )
        .with_retry(fast_retries())
        .with_connect_timeout(Duration::from_secs(2))
}

fn storage() -> (Storage, Server) {
    let srv = server();
    (Storage::from_config(s3_config(&srv.endpoint, &srv)), srv)
}

/// A fresh prefix per test so tests never see each other's objects.
fn prefix(srv: &Server, name: &str) -> String {
    format!(
        "s3://{}/tests/{name}-{}",
        srv.bucket,
        uuid::Uuid::new_v4().simple()
    )
}

/// Deterministic, incompressible test data.
fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(&state.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[tokio::test]
async fn put_get_exists_list_metadata_delete() {
    let (storage, srv) = storage();
    let base = prefix(&srv, "basic");
    let a = format!("{base}/a.txt");
    let c = format!("{base}/b/c.bin");
    storage
        .put(&a, Bytes::from_static(b"alpha"))
        .await
        .expect("put a");
    storage.put(&c, vec![1u8, 2, 3]).await.expect("put c");

    assert_eq!(
        storage.get(&a).await.expect("get a"),
        Bytes::from_static(b"alpha")
    );
    assert!(storage.exists(&a).await.expect("exists a"));
    assert!(
        !storage
            .exists(&format!("{base}/nope"))
            .await
            .expect("exists nope")
    );
    assert_eq!(
        storage.list(&base).await.expect("list"),
        vec![a.clone(), c.clone()]
    );
    assert_eq!(
        storage
            .list(&format!("{base}/"))
            .await
            .expect("list with slash"),
        vec![a.clone(), c.clone()]
    );
    assert!(
        storage
            .list(&format!("{base}/empty"))
            .await
            .expect("list empty")
            .is_empty()
    );
    assert_eq!(storage.metadata(&c).await.expect("metadata").size, 3);

    // Overwrite replaces the whole object.
    storage
        .put(&a, Bytes::from_static(b"beta"))
        .await
        .expect("overwrite");
    assert_eq!(
        storage.get(&a).await.expect("get a again"),
        Bytes::from_static(b"beta")
    );

    storage.delete(&a).await.expect("delete");
    storage.delete(&a).await.expect("deleting twice is fine");
    assert!(!storage.exists(&a).await.expect("exists after delete"));

    // Directories round trip.
    let src = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(src.path().join("x/y")).expect("mkdir");
    std::fs::write(src.path().join("x/y/f.txt"), "1").expect("write");
    std::fs::write(src.path().join("top.txt"), "2").expect("write");
    storage
        .upload_dir(src.path(), &format!("{base}/dir"))
        .await
        .expect("upload dir");
    let dest = tempfile::tempdir().expect("tempdir");
    storage
        .download_dir(&format!("{base}/dir"), dest.path())
        .await
        .expect("download dir");
    assert_eq!(
        std::fs::read_to_string(dest.path().join("x/y/f.txt")).expect("read"),
        "1"
    );
    assert_eq!(
        std::fs::read_to_string(dest.path().join("top.txt")).expect("read"),
        "2"
    );
}

#[tokio::test]
async fn large_blobs_use_multipart_and_stream_to_disk() {
    let (storage, srv) = storage();
    let base = prefix(&srv, "large");
    let data = pseudo_random(20 * MIB + 123, 7);
    let digest = sha256_hex(&data);
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("big.bin");
    std::fs::write(&src, &data).expect("write source");

    // From a file: streamed in 8 MiB parts.
    let uri = format!("{base}/from-file.bin");
    storage
        .upload_file(&src, &uri)
        .await
        .expect("multipart upload from file");
    let meta = storage.metadata(&uri).await.expect("metadata");
    assert_eq!(meta.size, data.len() as u64);
    // S3 marks multipart objects with an entity tag of the form "<md5 of part md5s>-<parts>".
    let e_tag = meta.e_tag.unwrap_or_default();
    assert!(
        e_tag.trim_matches('"').ends_with("-3"),
        "expected a 3-part multipart object, e_tag {e_tag}"
    );

    let dest = dir.path().join("out/big.bin");
    storage
        .download_file(&uri, &dest)
        .await
        .expect("streaming download");
    let downloaded = std::fs::read(&dest).expect("read download");
    assert_eq!(downloaded.len(), data.len());
    assert_eq!(sha256_hex(&downloaded), digest);
    let leftovers: Vec<_> = std::fs::read_dir(dest.parent().expect("parent"))
        .expect("read dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary download files left behind: {leftovers:?}"
    );

    // From memory: the same multipart path.
    let uri2 = format!("{base}/from-bytes.bin");
    storage
        .put(&uri2, data.clone())
        .await
        .expect("multipart put from bytes");
    assert_eq!(sha256_hex(&storage.get(&uri2).await.expect("get")), digest);
}

#[tokio::test]
async fn content_addressed_puts_skip_existing_objects() {
    let (storage, srv) = storage();
    let base = prefix(&srv, "cas");
    let data = Bytes::from_static(b"the same bytes always get the same name");
    let (uri, digest) = storage
        .put_content_addressed(&base, data.clone())
        .await
        .expect("first put");
    assert_eq!(digest, sha256_hex(&data));
    assert_eq!(uri, format!("{base}/sha256-{digest}"));
    assert_eq!(storage.get(&uri).await.expect("get"), data);

    // Replace the object behind the store's back: if the second put uploaded, it would restore
    // the original bytes. It must see the object exists and skip the upload.
    storage
        .put(&uri, Bytes::from_static(b"marker"))
        .await
        .expect("overwrite with marker");
    let (uri2, digest2) = storage
        .put_content_addressed(&base, data.clone())
        .await
        .expect("second put");
    assert_eq!((&uri2, &digest2), (&uri, &digest));
    assert_eq!(
        storage.get(&uri).await.expect("get"),
        Bytes::from_static(b"marker"),
        "the second put re-uploaded"
    );

    // The file variant hashes by streaming and skips the same way.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("payload");
    std::fs::write(&file, &data).expect("write");
    let (uri3, digest3) = storage
        .put_file_content_addressed(&base, &file)
        .await
        .expect("file put");
    assert_eq!((&uri3, &digest3), (&uri, &digest));
    assert_eq!(
        storage.get(&uri).await.expect("get"),
        Bytes::from_static(b"marker"),
        "the file put re-uploaded"
    );

    // New content is uploaded, including large files (multipart).
    let big = pseudo_random(9 * MIB, 3);
    std::fs::write(&file, &big).expect("write big");
    let (big_uri, big_digest) = storage
        .put_file_content_addressed(&base, &file)
        .await
        .expect("big file put");
    assert_eq!(big_digest, sha256_hex(&big));
    assert_eq!(
        sha256_hex(&storage.get(&big_uri).await.expect("get big")),
        big_digest
    );
}

#[tokio::test]
async fn missing_object_is_not_found_and_names_the_uri() {
    let (storage, srv) = storage();
    let uri = format!("{}/missing.bin", prefix(&srv, "missing"));
    let err = storage.get(&uri).await.expect_err("missing object");
    eprintln!("missing object: {err}");
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains(&uri), "{err}");
    let dest = tempfile::tempdir().expect("tempdir");
    let err = storage
        .download_file(&uri, &dest.path().join("x"))
        .await
        .expect_err("missing download");
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
    assert!(!dest.path().join("x").exists());
    assert!(
        std::fs::read_dir(dest.path())
            .expect("read dir")
            .next()
            .is_none(),
        "nothing is left behind"
    );
    let err = storage.metadata(&uri).await.expect_err("missing metadata");
    assert!(matches!(err, StorageError::NotFound { .. }), "{err:?}");
}

#[tokio::test]
async fn wrong_credentials_say_which_settings_to_check() {
    let srv = server();
    let mut cfg = s3_config(&srv.endpoint, &srv);
    cfg.s3 = cfg.s3.with_credentials(&srv.access_key_id, "0".repeat(64));
    let storage = Storage::from_config(cfg);
    let uri = format!("{}/x.txt", prefix(&srv, "badsecret"));
    for err in [
        storage
            .put(&uri, Bytes::from_static(b"x"))
            .await
            .expect_err("bad secret put"),
        storage.get(&uri).await.expect_err("bad secret get"),
        storage.exists(&uri).await.expect_err("bad secret exists"),
    ] {
        assert!(matches!(err, StorageError::AccessDenied { .. }), "{err:?}");
        let msg = err.to_string();
        eprintln!("error: {msg}");
        assert!(
            msg.contains(&uri) && msg.contains("FLYTE_AWS_SECRET_ACCESS_KEY"),
            "{msg}"
        );
    }

    let mut cfg = s3_config(&srv.endpoint, &srv);
    cfg.s3 = cfg
        .s3
        .with_credentials("GK000000000000000000000000", "0".repeat(64));
    let err = Storage::from_config(cfg)
        .get(&uri)
        .await
        .expect_err("unknown key");
    assert!(matches!(err, StorageError::AccessDenied { .. }), "{err:?}");
    assert!(err.to_string().contains("FLYTE_AWS_ACCESS_KEY_ID"), "{err}");
}

#[tokio::test]
async fn missing_bucket_is_named() {
    let (storage, _srv) = storage();
    let bucket = format!("flytekit-no-such-bucket-{}", uuid::Uuid::new_v4().simple());
    let uri = format!("s3://{bucket}/some/key");
    let results = [
        storage.get(&uri).await.map(|_| ()),
        storage.put(&uri, Bytes::from_static(b"x")).await,
        storage.exists(&uri).await.map(|_| ()),
        storage
            .list(&format!("s3://{bucket}/some"))
            .await
            .map(|_| ()),
    ];
    for result in results {
        let err = result.expect_err("missing bucket");
        assert!(
            matches!(err, StorageError::BucketNotFound { .. }),
            "{err:?}"
        );
        let msg = err.to_string();
        eprintln!("error: {msg}");
        assert!(
            msg.contains(&bucket) && msg.contains("does not exist"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn unreachable_endpoint_fails_after_retries_naming_uri_and_setting() {
    let srv = server();
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let storage = Storage::from_config(s3_config(&endpoint, &srv));
    let uri = format!("{}/x.txt", prefix(&srv, "unreachable"));
    let started = std::time::Instant::now();
    let err = storage
        .put(&uri, Bytes::from_static(b"x"))
        .await
        .expect_err("closed port");
    assert!(matches!(err, StorageError::Unreachable { .. }), "{err:?}");
    assert!(err.is_transient());
    let msg = err.to_string();
    eprintln!("error: {msg}");
    assert!(
        msg.contains(&uri) && msg.contains(&endpoint) && msg.contains("FLYTE_AWS_ENDPOINT"),
        "{msg}"
    );
    assert!(msg.contains("retries"), "{msg}");
    // Two retries with 50 ms then 100 ms backoff (with jitter) happened, but not forever.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_gone_mid_run_fails_cleanly_and_publishes_nothing() {
    let srv = server();
    let direct = Storage::from_config(s3_config(&srv.endpoint, &srv));
    let base = prefix(&srv, "gone");

    // 1. The server disappears between two operations.
    let relay = Relay::start(&srv.endpoint, None);
    let through = Storage::from_config(s3_config(&relay.endpoint(), &srv));
    let first = format!("{base}/first.txt");
    through
        .put(&first, Bytes::from_static(b"ok"))
        .await
        .expect("put while up");
    relay.kill();
    let second = format!("{base}/second.txt");
    let err = through
        .put(&second, Bytes::from_static(b"late"))
        .await
        .expect_err("server gone");
    assert!(matches!(err, StorageError::Unreachable { .. }), "{err:?}");
    assert!(err.to_string().contains(&second), "{err}");
    eprintln!("server gone: {err}");
    let err = through.get(&first).await.expect_err("server gone");
    assert!(err.to_string().contains(&first), "{err}");
    assert!(!direct.exists(&second).await.expect("exists"));

    // 2. The server disappears in the middle of a 20 MiB multipart upload.
    let relay = Relay::start(&srv.endpoint, Some(12 * MIB as u64));
    let through = Storage::from_config(s3_config(&relay.endpoint(), &srv));
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("big.bin");
    std::fs::write(&src, pseudo_random(20 * MIB, 11)).expect("write");
    let big = format!("{base}/big.bin");
    let err = through
        .upload_file(&src, &big)
        .await
        .expect_err("cut mid-upload");
    assert!(relay.killed(), "the relay was not cut: {err}");
    eprintln!("cut mid-upload: {err}");
    assert!(err.to_string().contains(&big), "{err}");
    assert!(
        !direct.exists(&big).await.expect("exists"),
        "a partial object was published"
    );

    // 3. ... and in the middle of a download: the destination is not created.
    direct
        .put(&big, pseudo_random(20 * MIB, 12))
        .await
        .expect("put big directly");
    let relay = Relay::start(&srv.endpoint, Some(MIB as u64 / 2));
    let through = Storage::from_config(s3_config(&relay.endpoint(), &srv));
    relay.count_downstream();
    let dest = dir.path().join("dl/big.bin");
    let err = through
        .download_file(&big, &dest)
        .await
        .expect_err("cut mid-download");
    eprintln!("cut mid-download: {err}");
    assert!(err.to_string().contains(&big), "{err}");
    assert!(
        !dest.exists(),
        "a partial download was left at the destination"
    );
    let leftovers = std::fs::read_dir(dir.path().join("dl"))
        .expect("read dir")
        .count();
    assert_eq!(leftovers, 0, "temporary files were left behind");
}

/// A TCP relay in front of the real server that can be cut like a crashed server: the listener
/// closes (new connections are refused) and every open connection is shut down.
struct Relay {
    port: u16,
    state: Arc<RelayState>,
}

struct RelayState {
    killed: AtomicBool,
    /// Cut everything once this many bytes went through (in the counted direction).
    limit: Option<u64>,
    count_down: AtomicBool,
    bytes: AtomicU64,
    streams: Mutex<Vec<TcpStream>>,
}

impl RelayState {
    fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        let streams = self
            .streams
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for s in streams.iter() {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Relay {
    fn start(upstream_endpoint: &str, limit: Option<u64>) -> Self {
        let upstream = upstream_endpoint
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let state = Arc::new(RelayState {
            killed: AtomicBool::new(false),
            limit,
            count_down: AtomicBool::new(false),
            bytes: AtomicU64::new(0),
            streams: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        std::thread::spawn(move || {
            while !st.killed.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(&upstream) else {
                            continue;
                        };
                        {
                            let mut streams = st
                                .streams
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner);
                            for s in [&client, &server] {
                                if let Ok(c) = s.try_clone() {
                                    streams.push(c);
                                }
                            }
                        }
                        let (c2, s2) = match (client.try_clone(), server.try_clone()) {
                            (Ok(c), Ok(s)) => (c, s),
                            _ => continue,
                        };
                        let up = st.clone();
                        std::thread::spawn(move || pump(client, server, &up, false));
                        let down = st.clone();
                        std::thread::spawn(move || pump(s2, c2, &down, true));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5))
                    }
                    Err(_) => break,
                }
            }
            // Dropping the listener here refuses all later connections.
        });
        Self { port, state }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Count (and cut on) server-to-client bytes instead of client-to-server bytes.
    fn count_downstream(&self) {
        self.state.count_down.store(true, Ordering::SeqCst);
    }

    fn kill(&self) {
        self.state.kill();
        // Let the accept loop notice and close the listener.
        std::thread::sleep(Duration::from_millis(50));
    }

    fn killed(&self) -> bool {
        self.state.killed.load(Ordering::SeqCst)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.state.kill();
    }
}

/// Copies `from` to `to` until either side closes or the relay is cut.
fn pump(mut from: TcpStream, mut to: TcpStream, state: &RelayState, downstream: bool) {
    let mut buf = [0u8; 64 * 1024];
    loop {
        if state.killed.load(Ordering::SeqCst) {
            break;
        }
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        if downstream == state.count_down.load(Ordering::SeqCst) {
            let total = state.bytes.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
            if state.limit.is_some_and(|limit| total >= limit) {
                state.kill();
                break;
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

#[tokio::test]
async fn flytectl_yaml_and_flytekit_env_reach_the_server() {
    let srv = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = dir.path().join("config.yaml");
    std::fs::write(
        &yaml,
        format!(
            "admin:\n  endpoint: dns:///localhost:30080\nstorage:\n  type: minio\n  connection:\n    endpoint: {}\n    \
             access-key: {}\n    secret-key: {}\n    auth-type: accesskey\n    disable-ssl: true\n    region: {}\n",
            srv.endpoint.trim_start_matches("http://"),
            srv.access_key_id,
            srv.secret_access_key,
            srv.region
        ),
    )
    .expect("write yaml");
    let storage = Storage::from_config(StorageConfig::from_flytectl_yaml(&yaml).expect("yaml"));
    let uri = format!("{}/yaml.txt", prefix(&srv, "config"));
    storage
        .put(&uri, Bytes::from_static(b"from yaml"))
        .await
        .expect("put via yaml config");

    let vars = [
        ("FLYTE_AWS_ENDPOINT", srv.endpoint.clone()),
        ("FLYTE_AWS_ACCESS_KEY_ID", srv.access_key_id.clone()),
        ("FLYTE_AWS_SECRET_ACCESS_KEY", srv.secret_access_key.clone()),
        ("AWS_REGION", srv.region.clone()),
    ];
    let cfg =
        StorageConfig::from_lookup(|k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .expect("env");
    let storage = Storage::from_config(cfg);
    assert_eq!(
        storage.get(&uri).await.expect("get via env config"),
        Bytes::from_static(b"from yaml")
    );
}
