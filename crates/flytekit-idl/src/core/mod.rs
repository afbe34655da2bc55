//! `flyteidl.core`: literals, types, interfaces, tasks, workflows, identifiers, errors, security.
//!
//! One submodule per `.proto` file of the package; everything is re-exported flat here, so
//! `flyteidl.core.Literal` is [`Literal`] and its nested types live in [`literal`].

/// Implements [`prost::Name`] for `flyteidl.core` messages.
///
/// Each entry is `RustType => "ProtoName"`, where the proto name is relative to the package
/// (`"Literal"`, or `"ConnectionSet.IdList"` for nested messages).
macro_rules! impl_name {
    ($($ty:ty => $name:literal),* $(,)?) => {
        $(
            impl ::prost::Name for $ty {
                const NAME: &'static str = $name;
                const PACKAGE: &'static str = "flyteidl.core";
                fn full_name() -> String {
                    concat!("flyteidl.core.", $name).into()
                }
                fn type_url() -> String {
                    concat!("/flyteidl.core.", $name).into()
                }
            }
        )*
    };
}

mod artifact_id;
mod catalog;
mod compiler;
mod condition;
mod dynamic_job;
mod errors;
mod execution;
mod execution_envs;
mod identifier;
mod interface;
mod literals;
mod metrics;
mod security;
mod tasks;
mod types;
mod workflow;
mod workflow_closure;

pub use artifact_id::*;
pub use catalog::*;
pub use compiler::*;
pub use condition::*;
pub use dynamic_job::*;
pub use errors::*;
pub use execution::*;
pub use execution_envs::*;
pub use identifier::*;
pub use interface::*;
pub use literals::*;
pub use metrics::*;
pub use security::*;
pub use tasks::*;
pub use types::*;
pub use workflow::*;
pub use workflow_closure::*;
