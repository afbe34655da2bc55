//! Files through FlyteAdmin's data proxy: an upload location signed for the file's MD5
//! (`CreateUploadLocation`), then an HTTP `PUT` of the file, as flytekit's
//! `FlyteRemote.upload_file` does; and `GET` of signed download URLs.

use std::path::Path;

use base64::Engine as _;
use flytekit_idl::service::CreateUploadLocationRequest;
use md5::{Digest as _, Md5};

use crate::client::Remote;
use crate::error::{RemoteError, redact_url};

/// Where an uploaded file now lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The file's location in the platform's blob store (`s3://...`): what task templates name.
    pub native_url: String,
    /// The MD5 of the file's bytes.
    pub md5: [u8; 16],
}

impl Remote {
    /// Uploads `path` for `project`/`domain` under its file name. The location is derived from
    /// the content's MD5 (FlyteAdmin's `<prefix>/<project>/<domain>/<base32(md5)>/<name>`), so
    /// uploading the same bytes again lands at the same URL.
    pub async fn upload_file(
        &self,
        project: &str,
        domain: &str,
        path: &Path,
    ) -> Result<Uploaded, RemoteError> {
        let io = |source| RemoteError::Io {
            path: path.to_path_buf(),
            source,
        };
        let md5 = file_md5(path).await.map_err(io)?;
        let size = tokio::fs::metadata(path).await.map_err(io)?.len();
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let location = self
            .create_upload_location(CreateUploadLocationRequest {
                project: project.to_string(),
                domain: domain.to_string(),
                filename,
                content_md5: md5.to_vec(),
                add_content_md5_metadata: true,
                ..Default::default()
            })
            .await?;
        if location.signed_url.is_empty() || location.native_url.is_empty() {
            return Err(RemoteError::Protocol(
                "CreateUploadLocation returned no signed or native URL".into(),
            ));
        }
        let http_err = |detail: String| RemoteError::Http {
            what: "upload to",
            url: redact_url(&location.signed_url),
            detail,
        };
        let file = tokio::fs::File::open(path).await.map_err(io)?;
        // The MD5 the URL was signed for, then the headers FlyteAdmin requires (which may
        // repeat it): each header once.
        let mut headers = reqwest::header::HeaderMap::new();
        let md5_b64 = base64::engine::general_purpose::STANDARD.encode(md5);
        headers.insert(
            reqwest::header::CONTENT_LENGTH,
            reqwest::header::HeaderValue::from(size),
        );
        if let Ok(v) = reqwest::header::HeaderValue::from_str(&md5_b64) {
            headers.insert("content-md5", v);
        }
        for (k, v) in &location.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| http_err(format!("FlyteAdmin requires a bad header name {k:?}")))?;
            let value = reqwest::header::HeaderValue::from_str(v)
                .map_err(|_| http_err(format!("FlyteAdmin requires a bad value for {k}")))?;
            headers.insert(name, value);
        }
        let req = self.http.put(&location.signed_url).headers(headers);
        let resp = req
            .body(reqwest::Body::from(file))
            .send()
            .await
            .map_err(|e| http_err(reqwest_error(e)))?;
        let status = resp.status();
        if status != reqwest::StatusCode::OK && status != reqwest::StatusCode::CREATED {
            let body = resp.text().await.unwrap_or_default();
            return Err(http_err(format!(
                "HTTP {status}: {}",
                body.chars().take(400).collect::<String>()
            )));
        }
        Ok(Uploaded {
            native_url: location.native_url,
            md5,
        })
    }

    /// The bytes at a signed (or public) `http(s)://` URL.
    pub async fn download(&self, url: &str) -> Result<Vec<u8>, RemoteError> {
        let http_err = |detail: String| RemoteError::Http {
            what: "download from",
            url: redact_url(url),
            detail,
        };
        let resp = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| http_err(reqwest_error(e)))?;
        if !resp.status().is_success() {
            return Err(http_err(format!("HTTP {}", resp.status())));
        }
        resp.bytes()
            .await
            .map(|b| b.to_vec())
            .map_err(|e| http_err(reqwest_error(e)))
    }
}

/// A reqwest error with its causes, without the URL (signed URLs carry credentials).
fn reqwest_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ")
}

/// The MD5 of a file, read in chunks off the async threads.
async fn file_md5(path: &Path) -> std::io::Result<[u8; 16]> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut f = std::fs::File::open(&path)?;
        let mut h = Md5::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        Ok(h.finalize().into())
    })
    .await
    .map_err(std::io::Error::other)?
}
