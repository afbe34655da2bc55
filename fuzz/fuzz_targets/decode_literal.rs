//! Arbitrary bytes decoded as a `Literal` and converted to many Rust types: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;

mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(literal) = flytekit::idl::core::Literal::decode(data) {
        common::convert_all(&literal);
    }
});
