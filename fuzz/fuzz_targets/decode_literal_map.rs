//! Arbitrary bytes decoded as a `LiteralMap` (the `inputs.pb` of a task) and read as task inputs:
//! never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;

mod common;

fuzz_target!(|data: &[u8]| {
    if let Ok(map) = flytekit::idl::core::LiteralMap::decode(data) {
        common::read_all(&map);
    }
});
