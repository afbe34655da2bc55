//! Control flow and composition: conditionals, gates, launch plans (and launch-plan nodes),
//! reference entities with a local stand-in, failure nodes, attribute access on promises,
//! named outputs and node overrides. The README's "Control flow" section runs these; the
//! conformance tests compare them with their Python twins (`conformance/control_twins.py`).
//!
//! ```sh
//! cargo run --example control -- run classify --x 0.5
//! cargo run --example control -- run checkout --xs '[1,2,3]' --approve ok-total --signal tip=5
//! cargo run --example control -- run hourly_report --kickoff 2024-05-01T10:00:00Z
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flytekit::prelude::*;
use flytekit::task::{Resources, T4};
use serde::{Deserialize, Serialize};

// --- Conditionals ------------------------------------------------------------------------------

/// Doubles a number.
#[task]
pub fn double(n: f64) -> f64 {
    n * 2.0
}

/// Squares a number.
#[task]
pub fn square(n: f64) -> f64 {
    n * n
}

/// Whether a number is below one half.
#[task]
pub fn is_small(n: f64) -> bool {
    n < 0.5
}

/// Doubles `x` in [0.1, 1]; squares small or negative ones down to -10; fails below.
#[workflow]
pub fn classify(x: f64) -> f64 {
    let small = is_small(x);
    conditional("fractions")
        .if_(x.ge(0.1) & x.le(1.0))
        .then(double(x))
        .elif_(small.is_true() | x.lt(0.0))
        .then(
            conditional("inner")
                .if_(x.gt(-10.0))
                .then(square(x))
                .else_()
                .fail("x is below -10"),
        )
        .else_()
        .then(square(x))
}

/// Rounds a number down.
#[task]
pub fn floor(n: f64) -> i64 {
    n.floor() as i64
}

/// A whole number when positive.
#[task]
pub fn positive(n: f64) -> Option<i64> {
    (n > 0.0).then_some(n as i64)
}

/// Does nothing.
#[task]
pub fn noop() {}

/// A conditional's value used downstream, comparisons of promises, strings and optional values,
/// an arm without outputs, and an `else` that fails.
#[workflow]
pub fn after(x: f64, name: String) -> f64 {
    let f = floor(x);
    let p = positive(x);
    let g = floor(x);
    conditional("notify")
        .if_(name.eq("loud"))
        .then(noop())
        .else_()
        .then(noop());
    let r = conditional("pick")
        .if_(f.gt(3) & name.ne("skip"))
        .then(double(x))
        .elif_(p.is_none())
        .then(square(x))
        .elif_(f.lt(g) | f.ge(g))
        .then(double(x))
        .else_()
        .fail("no rule matched");
    square(r)
}

// --- Gates -------------------------------------------------------------------------------------

/// Sums numbers.
#[task]
pub fn total(xs: Vec<i64>) -> i64 {
    xs.iter().sum()
}

/// Adds two numbers.
#[task]
pub fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// Waits a moment, asks for a tip and for approval of the total, and adds the two.
#[workflow]
pub fn checkout(xs: Vec<i64>) -> i64 {
    let t = total(xs);
    let pause = sleep(Duration::from_millis(50));
    let tip: Promise<i64> = wait_for_input("tip", Duration::from_secs(300));
    let approved = approve(t, "ok-total", Duration::from_secs(7200));
    pause.then(tip);
    add(approved, tip)
}

/// Adds a number given while the workflow runs, within two seconds.
#[workflow]
pub fn ask(x: i64) -> i64 {
    let y: Promise<i64> = wait_for_input("y", Duration::from_secs(2));
    add(x, y)
}

// --- Launch plans --------------------------------------------------------------------------

/// Reports on a region.
#[task]
pub fn render(kickoff: DateTime<Utc>, region: String, n: i64) -> String {
    format!("{n} rows for {region} at {}", kickoff.to_rfc3339())
}

/// A report of `n` rows for `region`, at `kickoff`.
#[workflow(defaults(n = 3i64))]
pub fn report(kickoff: DateTime<Utc>, region: String, n: i64) -> String {
    render(kickoff, region, n)
}

/// The EU report, hourly, with 7 rows unless told otherwise.
#[launch_plan(
    workflow = report,
    name = "hourly_report",
    defaults(n = 7i64),
    fixed(region = "eu"),
    schedule = Schedule::cron("0 * * * *").kickoff_input("kickoff"),
    notify = Notification::email([WorkflowPhase::Failed], ["ops@example.com"]),
    notify = Notification::slack([WorkflowPhase::Succeeded, WorkflowPhase::Aborted], ["data@example.com"]),
    labels(team = "data"),
    annotations(owner = "reports"),
    raw_output_prefix = "s3://bucket/raw",
    max_parallelism = 8,
    security_context = SecurityContext::service_account("reporter")
        .secret(Secret::new("reports", "token")),
    overwrite_cache
)]
pub fn hourly_report(kickoff: DateTime<Utc>, n: i64) -> String;

/// The report every ten minutes.
#[launch_plan(workflow = report, name = "frequent_report",
              schedule = Schedule::fixed_rate(Duration::from_secs(600)).kickoff_input("kickoff"))]
pub fn frequent_report(kickoff: DateTime<Utc>, region: String, n: i64) -> String;

/// Runs the hourly report as a launch-plan node.
#[workflow]
pub fn reports(at: DateTime<Utc>) -> String {
    hourly_report(at, 1i64)
}

// --- Reference entities --------------------------------------------------------------------

/// A Python task registered elsewhere (`conformance/shapes.py`).
#[reference_task(
    project = "flytesnacks",
    domain = "development",
    name = "shapes.area",
    version = "v1",
    outputs(area, label)
)]
pub fn area(width: f64, height: f64) -> (f64, String);

/// A launch plan registered elsewhere.
#[reference_launch_plan(
    project = "flytesnacks",
    domain = "development",
    name = "shapes.scale_lp",
    version = "v1"
)]
pub fn scale(x: f64) -> f64;

/// The local stand-in for `area`: same interface, Rust code.
#[task(outputs(area, label))]
pub fn local_area(width: f64, height: f64) -> (f64, String) {
    (width * height, format!("{width}x{height} (local)"))
}

flytekit::stand_in!(area, local_area);

/// Labels the area of a rectangle with a task registered elsewhere.
#[workflow]
pub fn measure(width: f64, height: f64) -> String {
    let (_area, label) = area(width, height);
    label
}

/// A Python dynamic task registered elsewhere, whose graph branches on a value it computes.
#[reference_task(
    project = "flytesnacks",
    domain = "development",
    name = "shapes.bucket",
    version = "v1"
)]
pub fn bucket(x: f64) -> f64;

/// A Python dynamic task whose branch compares a float with an integer.
#[reference_task(
    project = "flytesnacks",
    domain = "development",
    name = "shapes.bad_bucket",
    version = "v1"
)]
pub fn bad_bucket(x: f64) -> f64;

/// Buckets `x` with the Python dynamic task.
#[workflow]
pub fn bucketed(x: f64) -> f64 {
    bucket(x)
}

/// Buckets `x` with the Python dynamic task whose condition is malformed.
#[workflow]
pub fn bad_bucketed(x: f64) -> f64 {
    bad_bucket(x)
}

/// Scales through a reference launch plan.
#[workflow]
pub fn rescale(x: f64) -> f64 {
    let (a, _label) = area(x, x);
    scale(a)
}

// --- Failure nodes -------------------------------------------------------------------------

/// Fails on negative numbers.
#[task]
pub fn check(x: i64) -> Result<i64, String> {
    if x < 0 {
        return Err(format!("{x} is negative"));
    }
    Ok(x)
}

/// Writes the error that failed the workflow to `note` (a file path).
#[task]
pub fn cleanup(x: i64, note: String, err: Option<FlyteError>) -> std::io::Result<()> {
    let message = err.map(|e| e.message).unwrap_or_default();
    if !note.is_empty() {
        std::fs::write(&note, format!("{x}: {message}"))?;
    }
    Ok(())
}

/// Checks `x`; on failure `cleanup` runs with the error.
#[workflow(on_failure = cleanup)]
pub fn guarded(x: i64, note: String) -> i64 {
    let _ = note; // only the failure node reads it
    check(x)
}

// --- Attribute access and named outputs ----------------------------------------------------

/// Summary statistics.
#[derive(Clone, Debug, Serialize, Deserialize, FlyteType)]
pub struct Stats {
    /// The mean.
    pub mean: f64,
    /// The values.
    pub values: Vec<i64>,
    /// Counts by tag.
    pub tags: BTreeMap<String, i64>,
}

/// Statistics of numbers.
#[task]
pub fn stats(xs: Vec<i64>) -> Stats {
    let mean = xs.iter().sum::<i64>() as f64 / xs.len().max(1) as f64;
    Stats {
        mean,
        tags: BTreeMap::from([("n".to_string(), xs.len() as i64)]),
        values: xs,
    }
}

/// Describes a mean, a first value and a count.
#[task]
pub fn describe(mean: f64, first: i64, n: i64) -> String {
    format!("mean {mean}, first {first}, n {n}")
}

/// The sum and a label (named outputs).
#[task(outputs(total, label))]
pub fn split(xs: Vec<i64>) -> (i64, String) {
    let t: i64 = xs.iter().sum();
    (t, format!("total {t}"))
}

/// Fields, elements and map values of promises passed on, and named outputs.
#[workflow(outputs(text, first, label))]
pub fn summary(xs: Vec<i64>) -> (String, i64, String) {
    let s = stats(xs);
    let text = describe(s.mean(), s.values().at(0), s.tags().get("n"));
    let (_total, label) = split(s.values());
    (text, s.values().at(1), label)
}

// --- Node overrides ------------------------------------------------------------------------

/// Doubles with per-node settings, as flytekit's `with_overrides`.
#[workflow]
pub fn tuned(x: f64) -> f64 {
    let y = double(x);
    if let Some(node) = y.node() {
        node.name("tuned-double")
            .requests(Resources::new().cpu("1").mem("1Gi"))
            .limits(Resources::new().cpu("2").mem("2Gi"))
            .container_image("ghcr.io/org/other:2")
            .timeout(Duration::from_secs(30))
            .retries(3)
            .interruptible(true)
            .cache(true)
            .cache_version("5")
            .cache_serialize(true)
            .accelerator(T4);
    }
    let z = square(y);
    if let Some(node) = z.node() {
        node.pod_template(
            PodTemplate::new(serde_json::json!({"containers": [{"name": "primary"}]}))
                .label("a", "b"),
        );
    }
    z
}

// --- Conditionals in dynamic workflows -------------------------------------------------------

/// Doubles small numbers and squares the others, decided in a dynamic task's graph (`k` is
/// unused: the twin's signature).
#[dynamic]
pub fn pick_dyn(x: f64, k: i64) -> f64 {
    let _ = k;
    let s = is_small(x);
    conditional("dyn")
        .if_(s.is_true())
        .then(double(x))
        .else_()
        .then(square(x))
}

// --- Launch plans in dynamic workflows ------------------------------------------------------

/// `classify` with its input defaulted.
#[launch_plan(workflow = classify, name = "classify_lp", defaults(x = 0.5))]
pub fn classify_lp(x: f64) -> f64;

/// Runs a launch plan of this project and one registered elsewhere from a dynamic task's graph.
#[dynamic]
pub fn plans_dyn(x: f64) -> (f64, f64) {
    (classify_lp(x), scale(x))
}

fn main() {
    flytekit::main()
}
