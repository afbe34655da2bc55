//! Literal offloading (flytekit ≥ 1.14, contract §6.4): a literal too large for Propeller's
//! messages is written to its own blob, and `outputs.pb`/`inputs.pb` carry a
//! `Literal{offloaded_metadata{uri, size_bytes, inferred_type}, hash}` pointer instead.
//!
//! - Outputs: when Propeller enables offloading (`_F_L_MIN_SIZE_MB` set), an output literal of at
//!   least `_F_L_MIN_SIZE_MB` MiB is written to `<output prefix>/<name>_offloaded_metadata.pb`;
//!   one of at least `_F_L_MAX_SIZE_MB` (default 1000) MiB is an error.
//! - Inputs: pointers, at any depth, are replaced by the literal they point to before the task's
//!   inputs are converted.
//!
//! The pointer's `hash` is the literal's own `hash` when it has one, else the URL-safe base64 of
//! the SHA-256 of its protobuf encoding. (flytekit hashes its JSON form; the value is only used
//! as a cache key, so it must be stable, not identical.)

use base64::Engine as _;
use flytekit_idl::Message;
use flytekit_idl::core::{Literal, LiteralMap, LiteralOffloadedMetadata, TypedInterface, literal};
use sha2::{Digest, Sha256};

use crate::storage::{Storage, StorageError, join};

const MIB: u64 = 1024 * 1024;

/// Why offloading or resolving failed.
#[derive(Debug, thiserror::Error)]
pub enum OffloadError {
    /// An output is larger than the configured maximum.
    #[error(
        "Literal {name} is too large to be offloaded. Max literal size is {max_mb} MB, the literal is {size} bytes; return a FlyteFile or FlyteDirectory instead"
    )]
    TooLarge {
        /// The output.
        name: String,
        /// Its encoded size.
        size: u64,
        /// The limit.
        max_mb: u64,
    },
    /// Moving the blob failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The offloaded blob is not a `Literal`.
    #[error("the offloaded literal at {uri} is not a flyteidl.core.Literal: {reason}")]
    Corrupt {
        /// Where it was read.
        uri: String,
        /// The decode error.
        reason: String,
    },
}

/// Offloading limits from Propeller's environment, or `None` when offloading is off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Minimum size, in bytes, of an offloaded literal.
    pub min_bytes: u64,
    /// Maximum size, in bytes, of any literal.
    pub max_bytes: u64,
    /// The maximum in MB, for messages.
    pub max_mb: u64,
}

impl Limits {
    /// Reads `_F_L_MIN_SIZE_MB` (offloading is on only when it is set) and `_F_L_MAX_SIZE_MB`.
    pub fn from_env() -> Option<Self> {
        let min: u64 = std::env::var("_F_L_MIN_SIZE_MB")
            .ok()?
            .trim()
            .parse()
            .unwrap_or(10);
        let max: u64 = std::env::var("_F_L_MAX_SIZE_MB")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(1000);
        Some(Self {
            min_bytes: min * MIB,
            max_bytes: max * MIB,
            max_mb: max,
        })
    }
}

/// The cache hash of a literal (see the module docs).
pub fn literal_hash(lit: &Literal) -> String {
    if !lit.hash.is_empty() {
        return lit.hash.clone();
    }
    base64::engine::general_purpose::URL_SAFE.encode(Sha256::digest(lit.encode_to_vec()))
}

/// Offloads the outputs that reach `limits.min_bytes`, writing each beside `outputs.pb`.
pub async fn offload_outputs(
    storage: &Storage,
    output_prefix: &str,
    outputs: &mut LiteralMap,
    interface: &TypedInterface,
    limits: Limits,
) -> Result<(), OffloadError> {
    let mut names: Vec<String> = outputs.literals.keys().cloned().collect();
    names.sort();
    for name in names {
        let lit = &outputs.literals[&name];
        let size = lit.encoded_len() as u64;
        if size >= limits.max_bytes {
            return Err(OffloadError::TooLarge {
                name,
                size,
                max_mb: limits.max_mb,
            });
        }
        if size < limits.min_bytes {
            continue;
        }
        let uri = join(output_prefix, &format!("{name}_offloaded_metadata.pb"));
        storage.put(&uri, lit.encode_to_vec()).await?;
        let inferred_type = interface
            .outputs
            .as_ref()
            .and_then(|o| o.variables.get(&name))
            .and_then(|v| v.r#type.clone());
        let pointer = Literal {
            value: Some(literal::Value::OffloadedMetadata(Box::new(
                LiteralOffloadedMetadata {
                    uri,
                    size_bytes: size,
                    inferred_type,
                },
            ))),
            hash: literal_hash(lit),
            ..Default::default()
        };
        outputs.literals.insert(name, pointer);
    }
    Ok(())
}

/// Replaces offloaded pointers in `inputs`, at any depth, by the literals they point to.
pub async fn resolve_inputs(
    storage: &Storage,
    inputs: &mut LiteralMap,
) -> Result<(), OffloadError> {
    for lit in inputs.literals.values_mut() {
        resolve(storage, lit).await?;
    }
    Ok(())
}

fn resolve<'a>(
    storage: &'a Storage,
    lit: &'a mut Literal,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), OffloadError>> + Send + 'a>> {
    Box::pin(async move {
        match &mut lit.value {
            Some(literal::Value::OffloadedMetadata(meta)) => {
                let uri = meta.uri.clone();
                let bytes = storage.get(&uri).await?;
                let loaded =
                    Literal::decode(bytes.as_ref()).map_err(|e| OffloadError::Corrupt {
                        uri,
                        reason: e.to_string(),
                    })?;
                *lit = loaded;
                resolve(storage, lit).await
            }
            Some(literal::Value::Collection(c)) => {
                for l in &mut c.literals {
                    resolve(storage, l).await?;
                }
                Ok(())
            }
            Some(literal::Value::Map(m)) => {
                for l in m.literals.values_mut() {
                    resolve(storage, l).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    })
}
