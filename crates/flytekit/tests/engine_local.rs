//! The local engine: outputs, parallelism, failures naming node/task/cause, retries, cache.

use std::sync::atomic::{AtomicU32, Ordering};

use flytekit::engine::{CacheMode, Engine, EngineError, EngineOptions, LocalCache, LocalCall};
use flytekit::idl::core::LiteralMap;
use flytekit::prelude::*;

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);
static CACHED_CALLS: AtomicU32 = AtomicU32::new(0);

#[task]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

#[task]
fn boom(x: i64) -> Result<i64, std::io::Error> {
    Err(std::io::Error::other(format!("cannot handle {x}")))
}

/// Fails twice with a recoverable error (retried, as Propeller retries), then succeeds.
#[task(retries = 2)]
fn flaky(x: i64) -> Result<i64, RecoverableError> {
    if FLAKY_CALLS.fetch_add(1, Ordering::SeqCst) < 2 {
        Err(RecoverableError::new("transient"))
    } else {
        Ok(x)
    }
}

#[task(cache = true, cache_version = "1")]
fn slow_square(x: i64) -> i64 {
    CACHED_CALLS.fetch_add(1, Ordering::SeqCst);
    x * x
}

#[workflow]
fn diamond(x: i64) -> i64 {
    let a = add(x, 1);
    let b = add(x, 2);
    add(a, b)
}

#[workflow]
fn fails(x: i64) -> i64 {
    let a = add(x, 1);
    boom(a)
}

#[workflow]
fn nested_fails(x: i64) -> i64 {
    let a = add(x, 1);
    fails(a)
}

#[workflow]
fn retried(x: i64) -> i64 {
    flaky(x)
}

#[workflow]
fn cached(x: i64) -> i64 {
    slow_square(x)
}

#[workflow(failure_policy = "fail_after_executable_nodes_complete")]
fn keeps_going(x: i64) -> (i64, i64, i64) {
    let a = boom(x);
    let b = boom(x);
    let c = add(x, 1);
    (a, b, add(c, 1))
}

#[workflow]
fn stops(x: i64) -> (i64, i64) {
    (boom(x), boom(x))
}

fn engine(dir: &std::path::Path) -> Engine {
    Engine::new(EngineOptions {
        cache_dir: Some(dir.to_path_buf()),
        ..EngineOptions::default()
    })
}

#[tokio::test]
async fn runs_a_diamond() {
    assert_eq!(diamond(1).await.expect("runs"), 5);
}

#[tokio::test]
async fn failure_names_node_task_and_cause() {
    let err = fails(1).await.expect_err("fails");
    let msg = err.to_string();
    assert!(matches!(err, EngineError::TaskFailed { .. }), "{err:?}");
    assert!(msg.contains("node n1"), "{msg}");
    assert!(msg.contains(boom::task().name()), "{msg}");
    assert!(msg.contains("cannot handle 2"), "{msg}");

    let err = nested_fails(1).await.expect_err("fails");
    let msg = err.to_string();
    assert!(msg.contains("node n1 (workflow"), "{msg}");
    assert!(
        msg.contains(&format!("node n1/n1 (task {})", boom::task().name())),
        "{msg}"
    );
}

#[tokio::test]
async fn retries_until_success() {
    FLAKY_CALLS.store(0, Ordering::SeqCst);
    assert_eq!(retried(7).await.expect("third attempt succeeds"), 7);
    assert_eq!(FLAKY_CALLS.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn second_run_hits_the_cache() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |x: i64| {
        let e = engine(dir.path());
        async move {
            let mut call = LocalCall::with_engine(cached::workflow(), e);
            call.input("x", &x).await?;
            call.execute().await?.get::<i64>("o0").await
        }
    };
    CACHED_CALLS.store(0, Ordering::SeqCst);
    assert_eq!(run(9).await.expect("first"), 81);
    assert_eq!(run(9).await.expect("second"), 81);
    assert_eq!(
        CACHED_CALLS.load(Ordering::SeqCst),
        1,
        "second run is served from the cache"
    );
    assert_eq!(run(3).await.expect("other input"), 9);
    assert_eq!(CACHED_CALLS.load(Ordering::SeqCst), 2);

    let cache = LocalCache::open(dir.path()).expect("open");
    assert_eq!(cache.len().expect("len"), 2);
    let overwrite = Engine::new(EngineOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        cache: CacheMode::Overwrite,
        ..EngineOptions::default()
    });
    let mut call = LocalCall::with_engine(cached::workflow(), overwrite);
    call.input("x", &9i64).await.expect("input");
    call.execute().await.expect("runs");
    assert_eq!(
        CACHED_CALLS.load(Ordering::SeqCst),
        3,
        "overwrite runs the task"
    );
    assert_eq!(cache.clear().expect("clear"), 2);
}

#[tokio::test]
async fn inputs_are_checked() {
    let e = Engine::default();
    let err = e
        .run_workflow(&diamond::workflow(), LiteralMap::default())
        .await
        .expect_err("missing");
    assert!(err.to_string().contains("missing input 'x'"), "{err}");
    let mut m = LiteralMap::default();
    m.literals.insert(
        "y".into(),
        1i64.to_literal(e.conversion_context()).await.expect("lit"),
    );
    let err = e
        .run_workflow(&diamond::workflow(), m)
        .await
        .expect_err("unknown");
    assert!(err.to_string().contains("has no input 'y'"), "{err}");
}

#[tokio::test]
async fn failure_policies() {
    let err = keeps_going(1).await.expect_err("fails");
    match &err {
        EngineError::Multiple(errors) => assert_eq!(errors.len(), 2, "{err}"),
        other => panic!("expected both failures, got {other}"),
    }
    let err = stops(1).await.expect_err("fails");
    assert!(matches!(err, EngineError::TaskFailed { .. }), "{err}");
}
