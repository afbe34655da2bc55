//! The flytekit-rs side of `bench/engine.sh`: the local engine on a chain of N trivial task nodes,
//! on a fan-out of N-1 nodes gathered by one node, and on a chain of N conditionals (each
//! evaluates its condition and runs one of its two task nodes).
//!
//! Prints one JSON line: `{"n": N, "chain_s": [...], "fan_s": [...], "branch_s": [...]}`, wall
//! times of each run in
//! seconds. Workflow construction is outside the clock; each run goes through `Engine::run`
//! (input validation, scheduling, literal round trips through `Task::dispatch`), with the cache
//! and progress off.
//!
//! `cargo bench -p flytekit --bench engine -- [N] [RUNS]`

use std::time::Instant;

use flytekit::engine::{CacheMode, Engine, EngineOptions, ProgressMode};
use flytekit::idl::core::LiteralMap;
use flytekit::prelude::*;
use flytekit::workflow::{Workflow, WorkflowBuilder};

#[task]
fn inc(x: i64) -> i64 {
    x + 1
}

#[task]
fn dec(x: i64) -> i64 {
    x - 1
}

#[task]
fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// `x = conditional("c<i>").if_(x >= 0).then(inc(x)).else_().then(dec(x))`, N times.
fn branches(n: usize) -> Workflow {
    let b = WorkflowBuilder::new("bench.branches");
    let mut p = b.input::<i64>("x");
    for i in 0..n {
        p = b
            .conditional(&format!("c{i}"))
            .if_(p.ge(0))
            .then(inc::node(&b, p))
            .else_()
            .then(dec::node(&b, p));
    }
    b.output::<i64>("o0", p);
    b.build().expect("valid workflow")
}

fn chain(n: usize) -> Workflow {
    let b = WorkflowBuilder::new("bench.chain");
    let mut p = b.input::<i64>("x");
    for _ in 0..n {
        p = inc::node(&b, p);
    }
    b.output::<i64>("o0", p);
    b.build().expect("valid workflow")
}

fn fan(n: usize) -> Workflow {
    let b = WorkflowBuilder::new("bench.fan");
    let x = b.input::<i64>("x");
    let parts: Vec<_> = (0..n.saturating_sub(1)).map(|_| inc::node(&b, x)).collect();
    let t = total::node(&b, parts);
    b.output::<i64>("o0", t);
    b.build().expect("valid workflow")
}

async fn timed(engine: &Engine, wf: &Workflow, runs: usize, expected: i64) -> Vec<f64> {
    let mut out = Vec::new();
    for _ in 0..runs {
        let mut inputs = LiteralMap::default();
        let cx = engine.conversion_context();
        inputs
            .literals
            .insert("x".into(), 0i64.to_literal(cx).await.expect("literal"));
        let t = Instant::now();
        let result = engine.run_workflow(wf, inputs).await.expect("run");
        out.push(t.elapsed().as_secs_f64());
        let got: i64 = flytekit::type_engine::read_input(&result, "o0", cx)
            .await
            .expect("output");
        assert_eq!(got, expected);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let engine = Engine::new(EngineOptions {
        cache: CacheMode::Disabled,
        progress: ProgressMode::Off,
        ..EngineOptions::default()
    });
    let (c, f, br) = (chain(n), fan(n), branches(n));
    let (chain_s, fan_s, branch_s) = rt.block_on(async {
        // One warm-up run each (allocator, thread pool).
        timed(&engine, &c, 1, n as i64).await;
        timed(&engine, &f, 1, n as i64 - 1).await;
        timed(&engine, &br, 1, n as i64).await;
        (
            timed(&engine, &c, runs, n as i64).await,
            timed(&engine, &f, runs, n as i64 - 1).await,
            timed(&engine, &br, runs, n as i64).await,
        )
    });
    println!(
        "{}",
        serde_json::json!({"n": n, "chain_s": chain_s, "fan_s": fan_s, "branch_s": branch_s})
    );
}
