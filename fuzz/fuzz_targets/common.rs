//! Shared by the fuzz targets: Rust types to convert fuzzed literals into.
// Each target uses part of this module.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use flytekit::idl::core::{Literal, LiteralMap};
use flytekit::prelude::*;
use flytekit::type_engine::{ConversionContext, FlyteType, read_input};
use futures::executor::block_on;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, FlyteType)]
pub enum Color {
    #[serde(rename = "red")]
    Red,
    #[serde(rename = "green")]
    Green,
}

#[derive(Debug, Serialize, Deserialize, FlyteType)]
pub struct Inner {
    pub name: String,
    pub weights: Vec<f64>,
    pub color: Option<Color>,
}

#[derive(Debug, Serialize, Deserialize, FlyteType)]
pub struct Outer {
    pub id: i64,
    pub inner: Inner,
    pub by_key: HashMap<String, Inner>,
    pub when: Option<DateTime<Utc>>,
}

fn try_read<T: FlyteType>(literal: &Literal, cx: &ConversionContext) {
    // Errors are fine; panics are not.
    let _ = block_on(T::from_literal(literal, cx));
}

/// Converts `literal` to every type below. Blob types are left out: they would touch storage.
pub fn convert_all(literal: &Literal) {
    let cx = ConversionContext::in_memory();
    try_read::<i64>(literal, &cx);
    try_read::<u8>(literal, &cx);
    try_read::<i32>(literal, &cx);
    try_read::<f32>(literal, &cx);
    try_read::<f64>(literal, &cx);
    try_read::<bool>(literal, &cx);
    try_read::<String>(literal, &cx);
    try_read::<DateTime<Utc>>(literal, &cx);
    try_read::<Duration>(literal, &cx);
    try_read::<()>(literal, &cx);
    try_read::<Vec<i64>>(literal, &cx);
    try_read::<Vec<Vec<String>>>(literal, &cx);
    try_read::<HashMap<String, f64>>(literal, &cx);
    try_read::<BTreeMap<String, Vec<Option<i32>>>>(literal, &cx);
    try_read::<Option<i64>>(literal, &cx);
    try_read::<Option<Option<String>>>(literal, &cx);
    try_read::<Color>(literal, &cx);
    try_read::<Inner>(literal, &cx);
    try_read::<Outer>(literal, &cx);
    try_read::<Vec<Outer>>(literal, &cx);
    let _ = flytekit::type_engine::literal_to_json(literal);
    let _ = flytekit::type_engine::describe_literal(literal);
}

/// Reads variable `x` of a literal map as several types.
pub fn read_all(map: &LiteralMap) {
    let cx = ConversionContext::in_memory();
    let _ = block_on(read_input::<i64>(map, "x", &cx));
    let _ = block_on(read_input::<Vec<String>>(map, "x", &cx));
    let _ = block_on(read_input::<Option<Outer>>(map, "x", &cx));
    let _ = block_on(read_input::<HashMap<String, Color>>(map, "x", &cx));
    for literal in map.literals.values() {
        convert_all(literal);
    }
}
