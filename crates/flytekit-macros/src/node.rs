//! Generation of the `node` function that adds a task or workflow to a workflow under construction.
//!
//! Shared by `#[task]` and `#[workflow]`: both give their entity a companion module holding
//! `node(...)`, which the `#[workflow]` body rewrite calls. For `fn add(a: i64, b: i64) -> i64` the
//! generated function reads:
//!
//! ```text
//! pub fn node<'w>(
//!     wf: &'w ::flytekit::workflow::WorkflowBuilder,
//!     a: impl ::flytekit::workflow::IntoBinding<i64>,
//!     b: impl ::flytekit::workflow::IntoBinding<i64>,
//! ) -> ::flytekit::workflow::Promise<'w, i64> {
//!     let node = wf.add_node(task(), ::std::vec![wf.bind::<i64>("a", a), wf.bind::<i64>("b", b)]);
//!     node.output::<i64>("o0")
//! }
//! ```
//!
//! An entity without outputs returns the node handle (`NodeRef`) instead of a promise; a tuple
//! output returns a tuple of promises named `o0`, `o1`, ...

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// Generates `pub fn node(...)` for an entity with the given typed inputs and output type.
///
/// - `vis`: visibility of the entity function. The generated function lives in the entity's
///   companion module, whose own visibility already is `vis`, so the function itself is always
///   `pub` (a `pub(super)` inside the module would mean something else).
/// - `inputs`: the entity's parameters, in order.
/// - `output`: the entity's output type with any `Result<T, E>` already unwrapped to `T`
///   (`()` for no output; a tuple for several outputs named `o0`, `o1`, ...).
/// - `entity`: an expression that evaluates to the runtime entity (e.g. `task()`), converted
///   with `Into<::flytekit::workflow::Entity>`.
///
/// The module receiving the function must see the parameter types, e.g. through `use super::*;`.
pub(crate) fn node_fn(
    vis: &syn::Visibility,
    inputs: &[(syn::Ident, syn::Type)],
    output: &syn::Type,
    entity: TokenStream,
) -> TokenStream {
    let _ = vis;
    node_fn_with(TokenStream::new(), inputs, output, entity)
}

/// [`node_fn`] with parameters `lead` (e.g. `instance: &Table,`) before the inputs; `entity` may
/// use them and the builder, `__flytekit_wf`.
pub(crate) fn node_fn_with(
    lead: TokenStream,
    inputs: &[(syn::Ident, syn::Type)],
    output: &syn::Type,
    entity: TokenStream,
) -> TokenStream {
    let wf = syn::Ident::new("__flytekit_wf", Span::call_site());
    let node = syn::Ident::new("__flytekit_node", Span::call_site());
    let params = inputs.iter().map(|(name, ty)| {
        quote! { #name: impl ::flytekit::workflow::IntoBinding<#ty> }
    });
    let binds = inputs.iter().map(|(name, ty)| {
        let var = name.to_string();
        let var = var.strip_prefix("r#").unwrap_or(&var).to_string();
        quote! { #wf.bind::<#ty>(#var, #name) }
    });
    let outputs = output_types(output);
    let (ret, value) = match outputs.as_slice() {
        [] => (
            quote! { ::flytekit::workflow::NodeRef<'w> },
            quote! { #node },
        ),
        [single] if !is_tuple(output) => (
            quote! { ::flytekit::workflow::Promise<'w, #single> },
            quote! { #node.output::<#single>("o0") },
        ),
        many => {
            let tys = many
                .iter()
                .map(|ty| quote! { ::flytekit::workflow::Promise<'w, #ty> });
            let vals = many.iter().enumerate().map(|(i, ty)| {
                let name = format!("o{i}");
                quote! { #node.output::<#ty>(#name) }
            });
            (quote! { ( #(#tys,)* ) }, quote! { ( #(#vals,)* ) })
        }
    };
    let doc = "Adds this entity as a node of the workflow under construction and returns typed \
               promises of its outputs. Called by the `#[workflow]` body rewrite: `f(x, y)` \
               in a workflow body becomes `f::node(&wf, x, y)`.";
    quote! {
        #[doc = #doc]
        #[allow(clippy::too_many_arguments, clippy::unused_unit)]
        pub fn node<'w>(
            #wf: &'w ::flytekit::workflow::WorkflowBuilder,
            #lead
            #(#params,)*
        ) -> #ret {
            let #node = #wf.add_node(#entity, ::std::vec![#(#binds),*]);
            #value
        }
    }
}

/// The output types of an entity: none for `()`, the elements of a tuple, or the single type.
pub(crate) fn output_types(output: &syn::Type) -> Vec<syn::Type> {
    match output {
        syn::Type::Tuple(t) => t.elems.iter().cloned().collect(),
        syn::Type::Paren(p) => output_types(&p.elem),
        other => vec![other.clone()],
    }
}

fn is_tuple(output: &syn::Type) -> bool {
    match output {
        syn::Type::Tuple(_) => true,
        syn::Type::Paren(p) => is_tuple(&p.elem),
        _ => false,
    }
}
