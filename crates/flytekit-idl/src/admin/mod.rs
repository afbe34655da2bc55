//! `flyteidl.admin`: registration and execution messages of FlyteAdmin.
//!
//! Covers what a client needs to register tasks, workflows and launch plans, to create, watch and
//! read executions and to answer their signals (the admin proto files `task`, `workflow`,
//! `launch_plan`, `execution`, `node_execution`, `signal`, `common`, `schedule`,
//! `description_entity`, `matchable_resource` and `cluster_assignment`), which between them
//! reference no other admin file. One submodule per `.proto` file; everything is re-exported
//! flat here, so `flyteidl.admin.TaskSpec` is [`TaskSpec`] and nested types live in modules such as
//! [`execution_spec`].

/// Implements [`prost::Name`] for `flyteidl.admin` messages.
///
/// Each entry is `RustType => "ProtoName"`, where the proto name is relative to the package.
macro_rules! impl_name {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(
            impl ::prost::Name for $ty {
                const NAME: &'static str = $name;
                const PACKAGE: &'static str = "flyteidl.admin";
                fn full_name() -> String {
                    concat!("flyteidl.admin.", $name).into()
                }
                fn type_url() -> String {
                    concat!("/flyteidl.admin.", $name).into()
                }
            }
        )*
    };
}

mod cluster_assignment;
mod common;
mod description_entity;
mod execution;
mod launch_plan;
mod matchable_resource;
mod node_execution;
// Renamed because `schedule.rs` defines a nested module `schedule` (the oneof of message
// `Schedule`), which the glob re-export below exposes as `admin::schedule`.
#[path = "schedule.rs"]
mod schedule_proto;
mod signal;
mod task;
mod workflow;

pub use cluster_assignment::*;
pub use common::*;
pub use description_entity::*;
pub use execution::*;
pub use launch_plan::*;
pub use matchable_resource::*;
pub use node_execution::*;
pub use schedule_proto::*;
pub use signal::*;
pub use task::*;
pub use workflow::*;
