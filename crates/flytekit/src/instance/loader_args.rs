//! The instance resolver's loader-args grammar: `type <tag> inline <base64url>` or
//! `type <tag> uri <uri> sha256 <hex>`.

use base64::Engine as _;

use super::InstanceError;
use super::codec::valid_sha256;

/// The URL-safe, unpadded base64 alphabet of inline payloads.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Loader args of an inline payload: `type <tag> inline <base64url(encoded)>`.
pub fn inline_loader_args(tag: &str, encoded: &[u8]) -> Vec<String> {
    vec![
        "type".into(),
        tag.into(),
        "inline".into(),
        B64.encode(encoded),
    ]
}

/// Loader args of an offloaded payload: `type <tag> uri <uri> sha256 <hex>`.
pub fn offloaded_loader_args(tag: &str, uri: &str, sha256: &str) -> Vec<String> {
    vec![
        "type".into(),
        tag.into(),
        "uri".into(),
        uri.into(),
        "sha256".into(),
        sha256.into(),
    ]
}

/// Parsed instance-resolver loader args.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoaderArgs {
    /// `type <tag> inline <base64url>`.
    Inline {
        /// The type tag.
        tag: String,
        /// The encoded payload.
        payload: Vec<u8>,
    },
    /// `type <tag> uri <uri> sha256 <hex>`.
    Offloaded {
        /// The type tag.
        tag: String,
        /// Where the encoded payload is.
        uri: String,
        /// Its hex SHA-256.
        sha256: String,
    },
}

/// The shapes the instance resolver accepts.
const EXPECTED: &str =
    "type <tag> inline <base64url payload>, or type <tag> uri <uri> sha256 <64 hex digits>";

/// A loader-args list shortened for error messages (inline payloads can be large).
pub(crate) fn shorten(args: &[String]) -> Vec<String> {
    args.iter()
        .map(|a| {
            if a.len() > 96 {
                let cut = (0..=96).rev().find(|i| a.is_char_boundary(*i)).unwrap_or(0);
                format!("{}...({} bytes)", &a[..cut], a.len())
            } else {
                a.clone()
            }
        })
        .collect()
}

impl LoaderArgs {
    /// Parses loader args.
    pub fn parse(args: &[String]) -> Result<Self, InstanceError> {
        let bad = || InstanceError::BadLoaderArgs {
            args: shorten(args),
            expected: EXPECTED.to_string(),
        };
        match args {
            [k, tag, m, payload] if k == "type" && m == "inline" => {
                let payload = B64.decode(payload.trim_end_matches('=')).map_err(|e| {
                    InstanceError::Corrupt {
                        what: format!("the inline payload of type {tag}"),
                        message: format!("not URL-safe base64 ({e})"),
                    }
                })?;
                Ok(LoaderArgs::Inline {
                    tag: tag.clone(),
                    payload,
                })
            }
            [k, tag, u, uri, s, sha] if k == "type" && u == "uri" && s == "sha256" => {
                if !valid_sha256(sha) {
                    return Err(bad());
                }
                Ok(LoaderArgs::Offloaded {
                    tag: tag.clone(),
                    uri: uri.clone(),
                    sha256: sha.clone(),
                })
            }
            _ => Err(bad()),
        }
    }

    /// The type tag.
    pub fn tag(&self) -> &str {
        match self {
            LoaderArgs::Inline { tag, .. } | LoaderArgs::Offloaded { tag, .. } => tag,
        }
    }
}
