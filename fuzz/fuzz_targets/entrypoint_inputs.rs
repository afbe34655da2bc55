//! The entrypoint's input path on arbitrary bytes: `inputs.pb` decoded, shown in the Input deck,
//! offloaded literals resolved (from an in-memory store the fuzzer also fills), then the task run
//! on them — `flytekit::__private::inputs_from_bytes` and `Task::dispatch`, the code `execute`
//! runs. Errors are fine; a panic (libFuzzer aborts on it, even inside the task's catch) or a
//! hang is a bug.
//!
//! Input layout: byte 0 picks the task; byte 1 is the number `n` (mod 4) of stored objects; then
//! `n` times a little-endian u16 length and that many bytes, stored at `memory://fuzz/o<i>.pb`
//! (offloaded literals the inputs may point to); the rest is `inputs.pb`.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use flytekit::execution::{ExecutionContext, ExecutionMode};
use flytekit::prelude::*;
use flytekit::storage::Storage;
use flytekit::type_engine::ConversionContext;
use libfuzzer_sys::fuzz_target;
use serde::{Deserialize, Serialize};

#[task]
fn add(a: i64, b: i64) -> i64 {
    a.wrapping_add(b)
}

#[task]
fn scale(x: f64) -> f64 {
    x * 2.0
}

#[derive(Debug, Serialize, Deserialize, FlyteType)]
struct Point {
    x: i64,
    y: Option<Vec<f64>>,
}

#[task]
fn norm(p: Point) -> i64 {
    p.x.wrapping_abs()
}

#[task]
fn count(xs: Vec<Vec<i64>>) -> i64 {
    xs.len() as i64
}

#[task]
fn names(m: HashMap<String, Option<String>>, when: DateTime<Utc>) -> i64 {
    m.len() as i64 + when.timestamp().signum()
}

#[task(enable_deck = true)]
fn echo(s: String) -> String {
    s
}

struct Harness {
    runtime: tokio::runtime::Runtime,
    storage: Storage,
    work: tempfile::TempDir,
    tasks: Vec<Task>,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| Harness {
        runtime: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime"),
        storage: Storage::new(),
        work: tempfile::tempdir().expect("tempdir"),
        tasks: vec![
            add::task(),
            scale::task(),
            norm::task(),
            count::task(),
            names::task(),
            echo::task(),
        ],
    })
}

fuzz_target!(|data: &[u8]| {
    let h = harness();
    let (Some(&pick), Some(&objects)) = (data.first(), data.get(1)) else {
        return;
    };
    let mut rest = &data[2..];
    let mut stored = Vec::new();
    for i in 0..(objects % 4) {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            return;
        };
        let len = usize::from(u16::from_le_bytes(*len)).min(tail.len());
        stored.push((format!("memory://fuzz/o{i}.pb"), tail[..len].to_vec()));
        rest = &tail[len..];
    }
    let task = &h.tasks[usize::from(pick) % h.tasks.len()];
    h.runtime.block_on(async {
        for (uri, bytes) in stored {
            h.storage.put(&uri, bytes).await.expect("memory store");
        }
        let conversion = ConversionContext::new(
            h.storage.clone(),
            h.work.path().join("local"),
            "memory://fuzz/raw",
        );
        let cx = ExecutionContext::builder(ExecutionMode::Container, conversion, h.work.path())
            .build();
        if let Ok(inputs) =
            flytekit::__private::inputs_from_bytes(rest, "fuzz/inputs.pb", task, &cx).await
        {
            let _ = task.dispatch(&inputs, &cx).await;
        }
    });
});
