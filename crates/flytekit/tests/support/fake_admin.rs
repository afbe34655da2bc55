//! A fake FlyteAdmin for tests: `conformance/fake_admin.py` (grpcio on flyteidl's servicers) as a
//! subprocess on 127.0.0.1, its recorded requests, and Flyte config files pointing at it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The S3 test server's variables; the fake signs its upload and download URLs for it.
pub const S3_VARS: [&str; 5] = [
    "FLYTEKIT_TEST_S3_ENDPOINT",
    "FLYTEKIT_TEST_S3_ACCESS_KEY_ID",
    "FLYTEKIT_TEST_S3_SECRET_ACCESS_KEY",
    "FLYTEKIT_TEST_S3_BUCKET",
    "FLYTEKIT_TEST_S3_REGION",
];

/// The S3 test server's settings, from the environment or the env file `scripts/s3-server`
/// writes. Panics (the test fails, it is never skipped) when neither is there.
pub fn s3_env() -> Vec<(String, String)> {
    let from_env: Vec<Option<String>> = S3_VARS
        .iter()
        .map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .collect();
    if from_env.iter().all(Option::is_some) {
        return S3_VARS
            .iter()
            .map(|v| v.to_string())
            .zip(from_env.into_iter().flatten())
            .collect();
    }
    let file = std::env::var("FLYTEKIT_TEST_S3_ENV_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir().join("flytekit-s3-server/s3.env"));
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let vars: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            Some((k.to_string(), v.trim_matches(['"', '\'']).to_string()))
        })
        .filter(|(k, _)| S3_VARS.contains(&k.as_str()))
        .collect();
    assert_eq!(
        vars.len(),
        S3_VARS.len(),
        "the S3 test server is not configured: run `scripts/test` (it starts Garage), or \
         `eval \"$(scripts/s3-server start)\"`; looked for {S3_VARS:?} and {}",
        file.display()
    );
    vars
}

/// A running fake FlyteAdmin; killed when dropped.
pub struct FakeAdmin {
    child: Child,
    /// Its state directory (fixtures and `requests.jsonl`).
    pub dir: tempfile::TempDir,
    /// The gRPC port.
    pub port: u16,
    /// The port of its OAuth2 server.
    pub oauth_port: u16,
}

impl FakeAdmin {
    /// Starts `fake_admin.py` with `args` (besides `--state-dir`) and the S3 test server's
    /// variables; waits until it listens.
    pub fn start(args: &[&str]) -> FakeAdmin {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, args)
    }

    /// [`start`](Self::start) with fixtures already written into `dir`.
    pub fn start_in(dir: tempfile::TempDir, args: &[&str]) -> FakeAdmin {
        let mut cmd = Command::new(flytekit_oracle::python());
        cmd.arg(flytekit_oracle::conformance_dir().join("fake_admin.py"))
            .arg("--state-dir")
            .arg(dir.path())
            .args(args)
            .envs(s3_env())
            // grpcio's C core logs refused TLS handshakes (which the tests make on purpose).
            .env("GRPC_VERBOSITY", "NONE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start fake_admin.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("fake_admin.py prints its ports");
        let ready: Value = serde_json::from_str(line.trim())
            .unwrap_or_else(|e| panic!("fake_admin.py did not start ({e}): {line:?}"));
        FakeAdmin {
            child,
            dir,
            port: ready["grpc_port"].as_u64().expect("grpc_port") as u16,
            oauth_port: ready["oauth_port"].as_u64().expect("oauth_port") as u16,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Writes a flytectl config (`admin.endpoint`, `admin.insecure: true`, then `extra` lines
    /// under `admin:`) and returns its path.
    pub fn config(&self, extra_admin: &str) -> PathBuf {
        let path = self.dir.path().join(format!(
            "config-{}.yaml",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        let mut text = format!(
            "admin:\n  endpoint: dns:///{}\n  insecure: true\n",
            self.endpoint()
        );
        for line in extra_admin.lines().filter(|l| !l.trim().is_empty()) {
            text.push_str("  ");
            text.push_str(line.trim());
            text.push('\n');
        }
        std::fs::write(&path, text).expect("write config");
        path
    }

    /// A config for client credentials `app`/`s3cret` (the secret in a file).
    pub fn client_credentials_config(&self) -> PathBuf {
        let secret = self.dir.path().join("client-secret");
        std::fs::write(&secret, "s3cret\n").expect("secret file");
        self.config(&format!(
            "authType: ClientSecret\nclientId: app\nclientSecretLocation: {}",
            secret.display()
        ))
    }

    /// Every recorded call, in order.
    pub fn requests(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.requests_path()).unwrap_or_default();
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("requests.jsonl line"))
            .collect()
    }

    /// The path of `requests.jsonl`.
    pub fn requests_path(&self) -> PathBuf {
        self.dir.path().join("requests.jsonl")
    }

    /// `method code` of every gRPC call (OAuth2 requests left out), in order.
    pub fn calls(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter(|r| r["service"] != "oauth")
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap(),
                    r["code"].as_str().unwrap()
                )
            })
            .collect()
    }

    /// Writes the fixture file `rel` (e.g. `outputs/add_all.pb`) into the state directory.
    pub fn fixture(&self, rel: &str, bytes: &[u8]) {
        write_fixture(self.dir.path(), rel, bytes);
    }
}

/// Writes `rel` under `dir`, creating directories.
pub fn write_fixture(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).expect("fixture dir");
    std::fs::write(path, bytes).expect("fixture");
}

impl Drop for FakeAdmin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
