//! The local engine runs the quickstart workflow in-process with correct outputs.

#[path = "../examples/quickstart/workflows.rs"]
#[allow(dead_code)]
mod quickstart;

use flytekit::engine::{Engine, EngineOptions, LocalCall};

#[tokio::test]
async fn quickstart_pi_estimates_pi() {
    let cache = tempfile::tempdir().expect("tempdir");
    let engine = Engine::new(EngineOptions {
        cache_dir: Some(cache.path().to_path_buf()),
        ..EngineOptions::default()
    });
    let mut call = LocalCall::with_engine(quickstart::pi::workflow(), engine);
    call.input("samples", &50_000i64).await.expect("input");
    call.input("name", &"Ada".to_string()).await.expect("input");
    let outputs = call.execute().await.expect("runs");
    let est: quickstart::Estimate = outputs.get("o0").await.expect("estimate");
    assert_eq!((est.samples, est.shards), (200_000, 4));
    assert!((est.pi - std::f64::consts::PI).abs() < 0.02, "{est:?}");
    let report: String = outputs.get("o1").await.expect("report");
    assert!(report.starts_with("Hello Ada: π ≈ 3.1"), "{report}");

    // The same estimate through the generated async function (default engine).
    let (again, _, report_file) = quickstart::pi(50_000, "Ada".into()).await.expect("runs");
    assert_eq!(again, est, "sampling is deterministic");
    let text = std::fs::read_to_string(report_file.path()).expect("the report file is local");
    assert!(
        text.starts_with("# π report") && text.contains("Hello Ada"),
        "{text}"
    );
}

#[test]
fn sample_is_deterministic_and_plausible() {
    let hits = quickstart::sample(1, 10_000);
    assert_eq!(hits, quickstart::sample(1, 10_000));
    let ratio = hits as f64 / 10_000.0;
    assert!(
        (ratio - std::f64::consts::FRAC_PI_4).abs() < 0.03,
        "{ratio}"
    );
}
