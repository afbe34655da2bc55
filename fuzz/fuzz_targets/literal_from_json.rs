//! A fuzzed `LiteralType` (protobuf) and JSON value: `literal_from_json` never panics, and what it
//! builds renders back with `literal_to_json` and converts without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;

mod common;

fuzz_target!(|data: &[u8]| {
    // Layout: 2-byte length of the LiteralType bytes, the bytes, then the JSON text.
    if data.len() < 2 {
        return;
    }
    let n = usize::from(u16::from_le_bytes([data[0], data[1]])).min(data.len() - 2);
    let (type_bytes, json_bytes) = data[2..].split_at(n);
    let Ok(literal_type) = flytekit::idl::core::LiteralType::decode(type_bytes) else {
        return;
    };
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(json_bytes) else {
        return;
    };
    if let Ok(literal) = flytekit::type_engine::literal_from_json(&literal_type, &json) {
        let _ = flytekit::type_engine::literal_to_json(&literal);
        common::convert_all(&literal);
    }
});
