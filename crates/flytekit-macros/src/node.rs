//! Generation of the `node` function that adds a task or workflow to a workflow under construction.
//!
//! Shared by `#[task]` and `#[workflow]`: both give their entity a companion module holding
//! `node(...)`, which the `#[workflow]` body rewrite calls.

use proc_macro2::TokenStream;

/// Generates `pub fn node(...)` for an entity with the given typed inputs and output type.
///
/// - `vis`: visibility of the generated function (the entity function's visibility).
/// - `inputs`: the entity's parameters, in order.
/// - `output`: the entity's output type with any `Result<T, E>` already unwrapped to `T`
///   (`()` for no output; a tuple for several outputs named `o0`, `o1`, ...).
/// - `entity`: an expression that evaluates to the runtime entity (e.g. `task()`).
pub(crate) fn node_fn(
    vis: &syn::Visibility,
    inputs: &[(syn::Ident, syn::Type)],
    output: &syn::Type,
    entity: TokenStream,
) -> TokenStream {
    let _ = (vis, inputs, output, entity);
    TokenStream::new()
}
