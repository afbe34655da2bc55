//! The flytekit-rs side of `bench/map.sh`: a map task over N elements of a trivial task, on the
//! local engine.
//!
//! Prints one JSON line: `{"n": N, "map_s": [...]}`, wall times of each run in seconds. Workflow
//! construction is outside the clock; each run converts the native list to a literal, goes
//! through `Engine::run` (input validation, splitting the list into elements, each element's
//! literal round trip through `Task::dispatch`, gathering) with the cache and progress off, and
//! converts the output back — native in, native out, as flytekit's `mapped(xs=xs)`.
//!
//! `cargo bench -p flytekit --bench map -- [N] [RUNS]`

use std::time::Instant;

use flytekit::engine::{CacheMode, Engine, EngineOptions, ProgressMode};
use flytekit::idl::core::LiteralMap;
use flytekit::prelude::*;
use flytekit::workflow::{Workflow, WorkflowBuilder};

#[task]
fn inc(x: i64) -> i64 {
    x + 1
}

fn mapped() -> Workflow {
    let b = WorkflowBuilder::new("bench.mapped");
    let xs = b.input::<Vec<i64>>("xs");
    let ys = inc::map::node(&b, xs);
    b.output::<Vec<i64>>("o0", ys);
    b.build().expect("valid workflow")
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(10_000);
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
    let wf = mapped();
    let xs: Vec<i64> = (0..n as i64).collect();
    let expected: Vec<i64> = xs.iter().map(|x| x + 1).collect();
    let times = rt.block_on(async {
        let cx = engine.conversion_context();
        let mut out = Vec::new();
        for _ in 0..runs {
            // Native list in, native list out, like flytekit's `mapped(xs=xs)`.
            let t = Instant::now();
            let mut inputs = LiteralMap::default();
            inputs
                .literals
                .insert("xs".into(), xs.to_literal(cx).await.expect("literal"));
            let result = engine.run_workflow(&wf, inputs).await.expect("run");
            let got: Vec<i64> = flytekit::type_engine::read_input(&result, "o0", cx)
                .await
                .expect("output");
            out.push(t.elapsed().as_secs_f64());
            assert_eq!(got, expected);
        }
        out
    });
    println!("{}", serde_json::json!({"n": n, "map_s": times}));
}
