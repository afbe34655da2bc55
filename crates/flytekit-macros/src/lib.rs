//! Procedural macros of flytekit-rs. Use them through `flytekit::prelude`, not directly.
//!
//! Every macro expands to plain Rust that calls public `flytekit` APIs; `cargo expand` output is
//! meant to be readable. The generated code names the runtime crate as `::flytekit`.

use proc_macro::TokenStream;

mod dataset;
mod derive;
mod dynamic;
mod instance_task;
mod map;
mod node;
mod task;
mod workflow;

/// Derives `flytekit::type_engine::FlyteType` for a serde struct (a Flyte STRUCT, msgpack values,
/// like a Python dataclass) or a unit-only enum (a Flyte enum of strings).
#[proc_macro_derive(FlyteType, attributes(flyte))]
pub fn derive_flyte_type(input: TokenStream) -> TokenStream {
    derive::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `flytekit::dataset::DatasetColumns` for a struct whose named fields are the columns
/// of a structured dataset (flytekit's `kwtypes(...)`). See `flytekit::dataset::DatasetColumns`.
#[proc_macro_derive(DatasetColumns, attributes(dataset))]
pub fn derive_dataset_columns(input: TokenStream) -> TokenStream {
    dataset::expand(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns a Rust function into a Flyte task. See `flytekit::task` for the options.
#[proc_macro_attribute]
pub fn task(args: TokenStream, item: TokenStream) -> TokenStream {
    task::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns a Rust function whose body calls tasks into a Flyte workflow. See `flytekit::workflow`.
#[proc_macro_attribute]
pub fn workflow(args: TokenStream, item: TokenStream) -> TokenStream {
    workflow::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns a Rust function whose body builds a workflow from its (real) inputs into a dynamic Flyte
/// task. Takes the options of `task`. See `flytekit::dynamic`.
#[proc_macro_attribute]
pub fn dynamic(args: TokenStream, item: TokenStream) -> TokenStream {
    dynamic::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Turns a Rust function over an instance value (`fn lookup(table: &Table, key: String) -> i64`)
/// into a typed instance task: one Flyte task per value, its payload carried by the task. Takes
/// the options of `task`, plus `tag = "..."` (the registered type tag). See
/// `flytekit::instance`.
#[proc_macro_attribute]
pub fn instance_task(args: TokenStream, item: TokenStream) -> TokenStream {
    instance_task::expand(args.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
