//! The browser side of PKCE: opening the sign-in page and receiving the authorization code at
//! the redirect URI (`http://localhost:<port>/callback` on this machine).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener on the redirect URI's port.
pub(crate) struct Listener {
    listener: TcpListener,
    path: String,
}

impl Listener {
    /// Listens where `redirect_uri` points (it must be a local `http://` address).
    pub(crate) async fn bind(redirect_uri: &str) -> Result<Listener, String> {
        let url = url::Url::parse(redirect_uri)
            .map_err(|e| format!("the redirect URI '{redirect_uri}' is not a URL: {e}"))?;
        if url.scheme() != "http" {
            return Err(format!(
                "the redirect URI '{redirect_uri}' is not a local http:// address this program \
                 can listen on; use admin.authType DeviceFlow"
            ));
        }
        let host = match url.host_str() {
            Some("localhost") | None => "127.0.0.1",
            Some(h) => h,
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let listener = TcpListener::bind((host, port)).await.map_err(|e| {
            format!("cannot listen on {host}:{port} for the redirect of the sign-in: {e}")
        })?;
        Ok(Listener {
            listener,
            path: url.path().to_string(),
        })
    }

    /// Waits for the browser's redirect and returns the authorization code; checks `state`.
    pub(crate) async fn code(self, state: &str) -> Result<String, String> {
        loop {
            let (mut sock, _) = self
                .listener
                .accept()
                .await
                .map_err(|e| format!("accepting the redirect: {e}"))?;
            let mut buf = vec![0u8; 16 * 1024];
            let mut n = 0;
            while n < buf.len() {
                match sock.read(&mut buf[n..]).await {
                    Ok(0) => break,
                    Ok(k) => {
                        n += k;
                        if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
            let head = String::from_utf8_lossy(&buf[..n]).to_string();
            let target = head
                .lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .unwrap_or("")
                .to_string();
            let parsed = url::Url::parse(&format!("http://localhost{target}")).ok();
            let Some(parsed) = parsed.filter(|u| u.path() == self.path) else {
                let _ = respond(&mut sock, 404, "Not found").await;
                continue;
            };
            let param = |k: &str| {
                parsed
                    .query_pairs()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.into_owned())
            };
            if let Some(error) = param("error") {
                let desc = param("error_description").unwrap_or_default();
                let _ = respond(&mut sock, 400, "Sign-in failed; see the terminal.").await;
                return Err(format!("the authorization server says {error} {desc}"));
            }
            if param("state").as_deref() != Some(state) {
                let _ = respond(&mut sock, 400, "Unexpected sign-in response.").await;
                return Err(
                    "the redirect carried a wrong state (a stale or forged sign-in)".into(),
                );
            }
            let Some(code) = param("code") else {
                let _ = respond(&mut sock, 400, "No authorization code.").await;
                return Err("the redirect carried no authorization code".into());
            };
            let _ = respond(
                &mut sock,
                200,
                "Signed in to Flyte. You may close this window.",
            )
            .await;
            return Ok(code);
        }
    }
}

async fn respond(sock: &mut tokio::net::TcpStream, status: u16, text: &str) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!("<html><body><p>{text}</p></body></html>");
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(msg.as_bytes()).await?;
    sock.shutdown().await
}

/// Prints the sign-in URL and opens it with `$BROWSER`, else `xdg-open` (`open` on macOS).
pub(crate) fn open(url: &str) {
    eprintln!("Opening the browser to sign in to Flyte; if it does not open, visit:\n  {url}");
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    let program = browser.unwrap_or_else(|| {
        if cfg!(target_os = "macos") {
            "open".into()
        } else {
            "xdg-open".into()
        }
    });
    let mut parts = program.split_whitespace();
    let Some(bin) = parts.next() else {
        return;
    };
    let spawned = std::process::Command::new(bin)
        .args(parts)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        tracing::info!("cannot start the browser `{program}`: {e}; open the URL above yourself");
    }
}
