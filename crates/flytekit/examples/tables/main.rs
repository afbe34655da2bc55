//! Instance tasks from a configuration file: one lookup task per table of `tables.yaml`, a
//! workflow over all of them built from the same file, a workflow over a table fixed in the code,
//! and a dynamic task that makes instances from its inputs.
//!
//! ```text
//! cargo run --example tables -- list
//! cargo run --example tables -- run lookup_all --key apple
//! cargo run --example tables -- run lookup_all --key apple --sandbox
//! cargo run --example tables -- package --payload-store /tmp/payloads --image ghcr.io/acme/tables:1
//! ```
//!
//! `--instance-arg config=<file>` reads another configuration (the tests give one with a 5 MiB
//! table, which is offloaded to the payload store).

use std::collections::BTreeMap;

use flytekit::instance::{Instances, ProviderArgs};
use flytekit::prelude::*;
use flytekit::task::BoxError;
use flytekit::workflow::WorkflowBuilder;
use serde::{Deserialize, Serialize};

/// A lookup table: a name, rows, and the value of missing keys.
#[derive(Debug, Serialize, Deserialize)]
pub struct Table {
    /// The table's name (part of its task's name).
    pub name: String,
    /// The rows.
    pub rows: BTreeMap<String, i64>,
    /// The value of a key that is not in the table; without one, such a key is an error.
    #[serde(default)]
    pub default: Option<i64>,
    /// Free text kept with the table (documentation, provenance); it travels in the payload.
    #[serde(default)]
    pub notes: String,
}

impl Table {
    /// A table fixed in the code (the `price` workflow's).
    pub fn discounts() -> Table {
        Table {
            name: "discounts".into(),
            rows: [("apple".to_string(), 1), ("pear".to_string(), 2)].into(),
            default: Some(0),
            notes: String::new(),
        }
    }
}

/// Looks a key up in a table.
///
/// * `key` - the key to look up
#[instance_task(name = "tables.lookup_{name}", retries = 1, requests(cpu = "100m"))]
pub fn lookup(table: &Table, key: String) -> Result<i64, UserError> {
    match (table.rows.get(&key), table.default) {
        (Some(v), _) => Ok(*v),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(UserError::new(
            "USER:KeyNotFound",
            format!(
                "no key '{key}' in table {} ({} rows)",
                table.name,
                table.rows.len()
            ),
        )),
    }
}

/// Sums values.
#[task]
pub fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// The configuration file.
#[derive(Debug, Deserialize)]
pub struct Config {
    /// Tables with a task each, inlined or offloaded by size.
    #[serde(default)]
    pub tables: Vec<Table>,
    /// Tables whose tasks travel together in one bundle.
    #[serde(default)]
    pub bundled: Vec<Table>,
}

impl Config {
    /// Reads the file named by `--instance-arg config=<file>` (default: the example's own).
    pub fn read(args: &ProviderArgs) -> Result<Config, BoxError> {
        let path = args.get_or(
            "config",
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/tables/tables.yaml"),
        );
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the tables configuration {path}: {e}"))?;
        serde_yaml::from_str(&text).map_err(|e| format!("{path}: {e}").into())
    }
}

/// Looks `key` up in every configured table and sums the values: a workflow whose graph comes
/// from the configuration, built with the workflow builder.
fn lookup_all(config: &Config) -> Result<flytekit::Workflow, BoxError> {
    let wf = WorkflowBuilder::new("tables.lookup_all");
    wf.description("Looks a key up in every configured table and sums the values.");
    let key = wf.input::<String>("key");
    let values: Vec<Promise<i64>> = config
        .tables
        .iter()
        .chain(&config.bundled)
        .map(|t| lookup::node(&wf, t, key))
        .collect();
    let sum = total::node(&wf, values);
    wf.output::<i64>("o0", sum);
    Ok(wf.build()?)
}

/// One task per configured table, and the workflow over them.
fn tables(args: &ProviderArgs) -> Result<Instances, BoxError> {
    let config = Config::read(args)?;
    let tasks = config
        .tables
        .iter()
        .map(lookup::task)
        .collect::<Result<Instances, _>>()?;
    Ok(tasks.workflow(lookup_all(&config)?))
}
flytekit::register_instances!(tables);

/// The bundled tables' tasks: one upload, one digest.
fn bundled_tables(args: &ProviderArgs) -> Result<Instances, BoxError> {
    let config = Config::read(args)?;
    let tasks = config
        .bundled
        .iter()
        .map(lookup::task)
        .collect::<Result<Instances, _>>()?;
    Ok(tasks.bundled())
}
flytekit::register_instances!(bundled_tables);

/// The discount on an item: a workflow over a table fixed in the code.
#[workflow]
pub fn price(item: String) -> i64 {
    lookup(&Table::discounts(), item)
}

/// An offset, with padding that makes its payload as large as asked.
#[derive(Debug, Serialize, Deserialize)]
pub struct Offset {
    /// What is added.
    pub by: i64,
    /// Ballast.
    pub pad: String,
}

/// The method form: the instance is `self`.
#[instance_task(name = "tables.offset_{by}")]
impl Offset {
    /// Adds the offset.
    pub fn offset(&self, x: i64) -> i64 {
        x + self.by
    }
}

/// `x + i` for `i` in `0..n`, one instance task each, each carrying `pad` bytes of ballast
/// (large ones are offloaded by the dynamic task's container before it writes `futures.pb`).
#[dynamic]
pub fn offsets(x: i64, n: i64, pad: i64) -> Vec<i64> {
    let ys: Vec<_> = (0..n)
        .map(|i| {
            offset(
                &Offset {
                    by: i,
                    pad: (ballast)(pad as usize, i as u64),
                },
                x,
            )
        })
        .collect();
    ys
}

/// Pseudo-random lowercase text of `len` bytes (it compresses, but not to nothing).
fn ballast(len: usize, seed: u64) -> String {
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (b'a' + (s % 26) as u8) as char
        })
        .collect()
}

fn main() {
    flytekit::main()
}
