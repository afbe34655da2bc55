//! The instance-task types of the `instances` example: values whose tasks are built at run time.
//!
//! This file is shared, via `#[path]`, by the example binary (which runs the tasks under
//! `execute`), by `tests/instance_tasks.rs` and by `bench/instances.rs` (which serialize values of
//! the very same registered types with the public API). A payload only names a type tag; the
//! binary that executes it must register a type with that tag and a compatible shape.

// Not every includer uses every item.
#![allow(dead_code)]

use std::collections::BTreeMap;

use flytekit::idl::core::LiteralMap;
use flytekit::instance::InstanceTask;
use flytekit::task::{TaskBuilder, TaskError, UserError, read_input, write_output};
use serde::{Deserialize, Serialize};

/// Multiplies its input by a factor fixed at registration: one task per factor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    /// The factor.
    pub factor: i64,
}

impl Scale {
    /// The task name for this factor.
    pub fn name(&self) -> String {
        format!("instances.scale_{}", self.factor).replace('-', "minus_")
    }
}

impl InstanceTask for Scale {
    const TYPE_TAG: &'static str = "examples.instances.Scale";

    fn task(&self) -> TaskBuilder {
        let factor = self.factor;
        let name = self.name();
        TaskBuilder::new(name.clone())
            .docs(format!("Multiplies x by {factor}."))
            .input::<i64>("x", "the number to scale")
            .output::<i64>("o0", "x times the factor")
            .body(move |cx, inputs| {
                let name = name.clone();
                async move {
                    let x: i64 = read_input(&name, &inputs, "x", cx.conversion()).await?;
                    let y = x.checked_mul(factor).ok_or_else(|| {
                        TaskError::from_user(UserError::new(
                            "USER:Overflow",
                            format!("{x} * {factor} overflows"),
                        ))
                    })?;
                    let mut out = LiteralMap::default();
                    write_output(&name, &mut out, "o0", &y, cx.conversion()).await?;
                    Ok(out)
                }
            })
    }
}

flytekit::register_instance_type!(Scale);

/// Looks keys up in a table configured at registration: one task per table. Tables can be large,
/// which is what offloading is for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lookup {
    /// The table's name.
    pub table: String,
    /// Its rows.
    pub rows: BTreeMap<String, i64>,
}

impl InstanceTask for Lookup {
    const TYPE_TAG: &'static str = "examples.instances.Lookup";

    fn task(&self) -> TaskBuilder {
        let name = format!("instances.lookup_{}", self.table);
        let table = self.table.clone();
        let rows = std::sync::Arc::new(self.rows.clone());
        TaskBuilder::new(name.clone())
            .docs(format!("Looks a key up in table {table}."))
            .input::<String>("key", "the key to look up")
            .output::<i64>("o0", "its value")
            .body(move |cx, inputs| {
                let (name, table, rows) = (name.clone(), table.clone(), rows.clone());
                async move {
                    let key: String = read_input(&name, &inputs, "key", cx.conversion()).await?;
                    let value = rows.get(&key).copied().ok_or_else(|| {
                        TaskError::from_user(UserError::new(
                            "USER:KeyNotFound",
                            format!("no key '{key}' in table {table} ({} rows)", rows.len()),
                        ))
                    })?;
                    let mut out = LiteralMap::default();
                    write_output(&name, &mut out, "o0", &value, cx.conversion()).await?;
                    Ok(out)
                }
            })
    }
}

flytekit::register_instance_type!(Lookup);

/// Greets with a template configured at registration (`{who}` is replaced by the input).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Greeting {
    /// Distinguishes greetings (the task name).
    pub id: String,
    /// The template.
    pub template: String,
}

impl InstanceTask for Greeting {
    const TYPE_TAG: &'static str = "examples.instances.Greeting";

    fn task(&self) -> TaskBuilder {
        let name = format!("instances.greeting_{}", self.id);
        let template = std::sync::Arc::new(self.template.clone());
        TaskBuilder::new(name.clone())
            .input::<String>("who", "who to greet")
            .output::<String>("o0", "the greeting")
            .body(move |cx, inputs| {
                let (name, template) = (name.clone(), template.clone());
                async move {
                    let who: String = read_input(&name, &inputs, "who", cx.conversion()).await?;
                    let mut out = LiteralMap::default();
                    let text = template.replace("{who}", &who);
                    write_output(&name, &mut out, "o0", &text, cx.conversion()).await?;
                    Ok(out)
                }
            })
    }
}

flytekit::register_instance_type!(Greeting);

/// Deterministic pseudo-random lowercase text of `len` bytes (payloads that do not compress to
/// nothing, for tests and benchmarks).
pub fn pseudo_random_text(len: usize, seed: u64) -> String {
    let mut s = seed | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (b'a' + (s % 26) as u8) as char
        })
        .collect()
}

/// A lookup table of about `bytes` bytes of serialized rows.
pub fn big_table(table: &str, bytes: usize) -> Lookup {
    let mut rows = BTreeMap::new();
    let mut i: i64 = 0;
    let mut size = 0usize;
    while size < bytes {
        let key = format!("k{i}-{}", pseudo_random_text(12, i as u64 + 7));
        let value = i * 3;
        // MessagePack: a string header byte, the key, the smallest integer encoding.
        let int_len = match value {
            0..=127 => 1,
            128..=255 => 2,
            256..=65_535 => 3,
            _ => 5,
        };
        size += 1 + key.len() + int_len;
        rows.insert(key, value);
        i += 1;
    }
    Lookup {
        table: table.to_string(),
        rows,
    }
}
