//! Instance tasks and bundles: tasks built at run time from data (one per factor, per table, per
//! template), the Rust analog of flytekit's cloud-pickle and notebook resolvers.
//!
//! The types live in `instances/types.rs` and are registered with
//! `flytekit::register_instance_type!`; this binary is what the container runs. A registration
//! program (here: `tests/instance_tasks.rs` and `bench/instances.rs`, which include the same
//! types file) turns values into tasks:
//!
//! ```text
//! let prepared = flytekit::instance::instance_task(&Scale { factor: 3 },
//!     &PayloadSettings::default().offload_to("s3://bucket/payloads"))?;
//! prepared.upload(&storage).await?;            // content-addressed, skipped when present
//! let template = prepared.task().template(&settings)?;
//! ```
//!
//! and Flyte runs, e.g.:
//!
//! ```text
//! instances execute --inputs ... --output-prefix ... --resolver flytekit.resolver.instance \
//!     -- type examples.instances.Scale inline eNpr...
//! instances execute ... --resolver flytekit.resolver.instance \
//!     -- type examples.instances.Lookup uri s3://bucket/payloads/sha256-<hex> sha256 <hex>
//! instances execute ... --resolver flytekit.resolver.bundle \
//!     -- bundle s3://bucket/bundles/sha256-<hex> sha256 <hex> entity instances.scale_2
//! ```

#[path = "instances/types.rs"]
mod types;

fn main() {
    flytekit::main()
}
