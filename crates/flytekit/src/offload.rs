//! Literal offloading (flytekit ≥ 1.14, contract §6.4): a literal too large for Propeller's
//! messages is written to its own blob, and `outputs.pb`/`inputs.pb` carry a
//! `Literal{offloaded_metadata{uri, size_bytes, inferred_type}, hash}` pointer instead.
//!
//! - Outputs: when Propeller enables offloading (`_F_L_MIN_SIZE_MB` set), an output literal of at
//!   least `_F_L_MIN_SIZE_MB` MiB is written to `<output prefix>/<name>_offloaded_metadata.pb`;
//!   one of at least `_F_L_MAX_SIZE_MB` (default 1000) MiB is an error.
//! - Inputs: pointers, at any depth of the inputs, are replaced by the literal they point to
//!   before the task's inputs are converted. As in flytekit, a pointer is followed once: the
//!   literal it names must not itself be a pointer (A → B, A → A), though its elements may be.
//!   The work is bounded: at most [`MAX_OFFLOADED_LITERALS`] pointers are resolved per input set
//!   (each object is fetched once, however often it is named) and pointers nest at most
//!   [`MAX_OFFLOAD_NESTING`] deep (A → [A] is refused there, not followed forever).
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
    /// The offloaded literal is itself a pointer (flytekit follows one level).
    #[error(
        "the offloaded literal at {uri} is itself an offloaded literal (pointing to {next}); a pointer must name the literal itself, as flytekit follows one level"
    )]
    Chained {
        /// The pointer that was followed.
        uri: String,
        /// Where the loaded pointer points.
        next: String,
    },
    /// Too many pointers in one input set.
    #[error(
        "the inputs name more than {limit} offloaded literals (at {uri}); refusing to resolve more"
    )]
    TooMany {
        /// [`MAX_OFFLOADED_LITERALS`].
        limit: usize,
        /// The pointer that went over the limit.
        uri: String,
    },
    /// Pointers nest too deep (an offloaded literal holding pointers, holding pointers, ...).
    #[error(
        "offloaded literals nest more than {limit} deep (at {uri}: a pointer inside a literal loaded through a pointer, ...); a cycle such as A -> [A] ends here"
    )]
    TooDeep {
        /// [`MAX_OFFLOAD_NESTING`].
        limit: usize,
        /// The pointer found too deep.
        uri: String,
    },
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

/// The most offloaded pointers resolved for one input set (see the module docs).
pub const MAX_OFFLOADED_LITERALS: usize = 10_000;

/// How deep pointers may nest inside literals loaded through pointers (see the module docs).
pub const MAX_OFFLOAD_NESTING: usize = 8;

impl OffloadError {
    /// The task error an input that cannot be resolved becomes, classified as flytekit classifies
    /// it: a download that failed for another reason than a missing object is a recoverable
    /// SYSTEM error (flytekit's `FlyteDownloadDataException`); anything else (a missing or
    /// corrupt object, a chain, too many or too deep pointers) does not convert and is not
    /// retried.
    pub fn into_task_error(self, task: &str) -> crate::task::TaskError {
        match &self {
            OffloadError::Storage(e) if e.retry_may_help() => {
                crate::task::TaskError::system(format!("cannot load an offloaded input: {self}"))
            }
            _ => crate::task::TaskError::InputConversion {
                task: task.to_string(),
                message: format!("cannot load an offloaded input: {self}"),
            },
        }
    }
}

/// Replaces offloaded pointers in `inputs`, at any depth, by the literals they point to (see the
/// module docs for the rules and bounds).
pub async fn resolve_inputs(
    storage: &Storage,
    inputs: &mut LiteralMap,
) -> Result<(), OffloadError> {
    let mut state = Resolver {
        storage,
        loaded: std::collections::HashMap::new(),
        resolved: 0,
    };
    for lit in inputs.literals.values_mut() {
        state.resolve(lit, 0).await?;
    }
    Ok(())
}

struct Resolver<'a> {
    storage: &'a Storage,
    /// Objects already fetched, by URI: each is read once however often it is named.
    loaded: std::collections::HashMap<String, Literal>,
    resolved: usize,
}

impl Resolver<'_> {
    fn resolve<'s>(
        &'s mut self,
        lit: &'s mut Literal,
        nesting: usize,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), OffloadError>> + Send + 's>>
    {
        Box::pin(async move {
            match &mut lit.value {
                Some(literal::Value::OffloadedMetadata(meta)) => {
                    let uri = meta.uri.clone();
                    if nesting >= MAX_OFFLOAD_NESTING {
                        return Err(OffloadError::TooDeep {
                            limit: MAX_OFFLOAD_NESTING,
                            uri,
                        });
                    }
                    self.resolved += 1;
                    if self.resolved > MAX_OFFLOADED_LITERALS {
                        return Err(OffloadError::TooMany {
                            limit: MAX_OFFLOADED_LITERALS,
                            uri,
                        });
                    }
                    let loaded = match self.loaded.get(&uri) {
                        Some(l) => l.clone(),
                        None => {
                            let bytes = self.storage.get(&uri).await?;
                            let l = Literal::decode(bytes.as_ref()).map_err(|e| {
                                OffloadError::Corrupt {
                                    uri: uri.clone(),
                                    reason: e.to_string(),
                                }
                            })?;
                            if let Some(literal::Value::OffloadedMetadata(next)) = &l.value {
                                return Err(OffloadError::Chained {
                                    uri,
                                    next: next.uri.clone(),
                                });
                            }
                            self.loaded.insert(uri, l.clone());
                            l
                        }
                    };
                    *lit = loaded;
                    self.resolve(lit, nesting + 1).await
                }
                Some(literal::Value::Collection(c)) => {
                    for l in &mut c.literals {
                        self.resolve(l, nesting).await?;
                    }
                    Ok(())
                }
                Some(literal::Value::Map(m)) => {
                    for l in m.literals.values_mut() {
                        self.resolve(l, nesting).await?;
                    }
                    Ok(())
                }
                Some(literal::Value::Scalar(flytekit_idl::core::Scalar {
                    value: Some(flytekit_idl::core::scalar::Value::Union(u)),
                })) => match u.value.as_deref_mut() {
                    Some(inner) => self.resolve(inner, nesting).await,
                    None => Ok(()),
                },
                _ => Ok(()),
            }
        })
    }
}
