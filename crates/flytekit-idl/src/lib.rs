//! Flyte IDL v1 wire types, hand-written as [`prost`] messages.
//!
//! These types speak the protocol of FlytePropeller and FlyteAdmin 1.16 (the `flyteidl` v1 protos).
//! They are defined in Rust source, not generated at build time, so this crate needs no `protoc`.
//! A conformance test compares every message here, field by field, against the descriptors of the
//! Python `flyteidl` package that flytekit installs.
//!
//! Modules follow the proto packages: [`core`] is `flyteidl.core`, [`admin`] is `flyteidl.admin`,
//! [`service`] is `flyteidl.service` (the messages of OAuth2 discovery and the data proxy).
//! Well-known types (`Timestamp`, `Duration`, `Struct`, ...) come from [`prost_types`], re-exported
//! here as [`wkt`]. [`codec`] encodes and decodes the `LiteralMap`s that carry task data, byte
//! for byte as prost does, faster for large literals.

#![warn(missing_docs)]

pub mod admin;
pub mod codec;
pub mod core;
pub mod service;

/// Protobuf well-known types (`google.protobuf.*`) used by the Flyte messages.
pub use prost_types as wkt;

/// Re-export of [`prost`] so users can call `Message::encode_to_vec` without a direct dependency.
pub use prost;
pub use prost::Message;
