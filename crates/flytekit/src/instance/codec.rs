//! Payload encoding: MessagePack with field names, zlib-compressed, addressed by SHA-256.

use std::io::{Read, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{InstanceError, MAX_DECODED_PAYLOAD};

/// Deserializes a MessagePack payload into `T`; a mismatch is [`InstanceError::SchemaDrift`]
/// naming `tag`, the Rust type and the path of the field that failed.
pub fn decode_value<T: DeserializeOwned>(tag: &str, msgpack: &[u8]) -> Result<T, InstanceError> {
    let mut de = rmp_serde::Deserializer::new(msgpack);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        InstanceError::SchemaDrift {
            tag: tag.to_string(),
            type_name: std::any::type_name::<T>().to_string(),
            path: if path == "." { String::new() } else { path },
            message: {
                let m = e.into_inner().to_string();
                if m.starts_with("wrong msgpack marker") {
                    format!("{m} (the field holds a value of another type than the one declared)")
                } else {
                    m
                }
            },
        }
    })
}

/// Serializes `value` to MessagePack with field names (the uncompressed payload).
pub fn encode_value<T: Serialize>(value: &T) -> Result<Vec<u8>, InstanceError> {
    rmp_serde::to_vec_named(value).map_err(|e| InstanceError::Encode {
        type_name: std::any::type_name::<T>().to_string(),
        message: e.to_string(),
    })
}

/// The encoded payload of `value`: MessagePack with field names, zlib-compressed. This is what
/// travels inline (base64url) or is uploaded.
pub fn encode_payload<T: Serialize>(value: &T) -> Result<Vec<u8>, InstanceError> {
    compress(&encode_value(value)?)
}

pub(crate) fn compress(data: &[u8]) -> Result<Vec<u8>, InstanceError> {
    let mut enc = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 2 + 64),
        flate2::Compression::default(),
    );
    enc.write_all(data)
        .and_then(|_| enc.finish())
        .map_err(|e| InstanceError::Encode {
            type_name: "payload".into(),
            message: format!("compression failed: {e}"),
        })
}

/// Decompresses an encoded payload (at most [`MAX_DECODED_PAYLOAD`] bytes). `what` names the
/// payload in errors.
pub(crate) fn decompress(data: &[u8], what: &str) -> Result<Vec<u8>, InstanceError> {
    let mut out = Vec::with_capacity(data.len().saturating_mul(2).min(1 << 26));
    let mut dec = flate2::read::ZlibDecoder::new(data).take(MAX_DECODED_PAYLOAD + 1);
    dec.read_to_end(&mut out)
        .map_err(|e| InstanceError::Corrupt {
            what: what.to_string(),
            message: format!("not a zlib stream ({e})"),
        })?;
    if out.len() as u64 > MAX_DECODED_PAYLOAD {
        return Err(InstanceError::Corrupt {
            what: what.to_string(),
            message: format!("it decompresses to more than {MAX_DECODED_PAYLOAD} bytes"),
        });
    }
    Ok(out)
}

pub use crate::disk_cache::sha256_hex;

/// Checks that `hex` is a lowercase hex SHA-256 (it becomes a file name in the cache).
pub(crate) fn valid_sha256(hex: &str) -> bool {
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
