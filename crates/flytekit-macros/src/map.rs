//! Generation of the typed map-task entry points `#[task]` adds to a task's companion module.
//!
//! For `fn add(a: i64, b: i64) -> i64` the module `add` gets:
//!
//! ```text
//! pub mod map {
//!     pub fn node<'w>(wf: &'w WorkflowBuilder, a: impl MapInput<i64>, b: impl MapInput<i64>)
//!         -> Promise<'w, Vec<i64>>;
//! }
//! pub mod map_with {
//!     pub fn node<'w, M: MapMode>(wf: &'w WorkflowBuilder, options: MapOptions<M>,
//!         a: impl MapInput<i64>, b: impl MapInput<i64>) -> Promise<'w, Vec<M::Out<i64>>>;
//! }
//! ```
//!
//! so that `add::map(xs, ys)` and `add::map_with(options, xs, Bound(y))` in a workflow body
//! (rewritten to `add::map::node(&wf, ...)`) add an ArrayNode. Tasks with more than one output
//! cannot be mapped (as in flytekit) and get neither module.

use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The `map` and `map_with` modules for a task named `fn_str` with `inputs` and `outputs`.
pub(crate) fn map_modules(
    fn_str: &str,
    inputs: &[(syn::Ident, syn::Type)],
    outputs: &[syn::Type],
) -> TokenStream {
    if outputs.len() > 1 {
        return quote! {};
    }
    let wf = syn::Ident::new("__flytekit_wf", Span::call_site());
    let options = syn::Ident::new("__flytekit_options", Span::call_site());
    let params: Vec<TokenStream> = inputs
        .iter()
        .map(|(name, ty)| quote! { #name: impl ::flytekit::__private::MapInput<#ty> })
        .collect();
    let names: Vec<&syn::Ident> = inputs.iter().map(|(n, _)| n).collect();
    let binds = inputs.iter().map(|(name, ty)| {
        let var = name.to_string();
        let var = var.strip_prefix("r#").unwrap_or(&var).to_string();
        quote! { ::flytekit::__private::MapInput::<#ty>::map_input(#name, #wf, #var) }
    });
    let (ret_all, ret_with, value) = match outputs.first() {
        None => (
            quote! { ::flytekit::workflow::NodeRef<'w> },
            quote! { ::flytekit::workflow::NodeRef<'w> },
            quote! { __flytekit_node },
        ),
        Some(ty) => (
            quote! { ::flytekit::workflow::Promise<'w, ::std::vec::Vec<#ty>> },
            quote! {
                ::flytekit::workflow::Promise<'w, ::std::vec::Vec<<M as ::flytekit::__private::MapMode>::Out<#ty>>>
            },
            quote! {
                __flytekit_node.output::<::std::vec::Vec<<M as ::flytekit::__private::MapMode>::Out<#ty>>>("o0")
            },
        ),
    };
    let map_doc = format!(
        "Maps the task `{fn_str}` over lists: `{fn_str}::map(xs, ...)` in a workflow body runs it \
         once per element (an ArrayNode). Pass `Bound(v)` for an input given whole to every element."
    );
    let with_doc = format!(
        "Maps the task `{fn_str}` over lists with options: \
         `{fn_str}::map_with(MapOptions::new().concurrency(8), xs, ...)`; with `min_successes` or \
         `min_success_ratio` the outputs are `Vec<Option<_>>`."
    );
    quote! {
        #[doc = #map_doc]
        pub mod map {
            #[allow(unused_imports)]
            use super::*;

            #[doc = #map_doc]
            #[allow(clippy::too_many_arguments)]
            pub fn node<'w>(
                #wf: &'w ::flytekit::workflow::WorkflowBuilder,
                #(#params,)*
            ) -> #ret_all {
                super::map_with::node(#wf, ::flytekit::map::MapOptions::new(), #(#names),*)
            }
        }

        #[doc = #with_doc]
        pub mod map_with {
            #[allow(unused_imports)]
            use super::*;

            #[doc = #with_doc]
            #[allow(clippy::too_many_arguments)]
            pub fn node<'w, M: ::flytekit::__private::MapMode>(
                #wf: &'w ::flytekit::workflow::WorkflowBuilder,
                #options: ::flytekit::map::MapOptions<M>,
                #(#params,)*
            ) -> #ret_with {
                let __flytekit_node = ::flytekit::__private::map_node(
                    #wf,
                    super::task(),
                    &#options,
                    ::std::vec![#(#binds),*],
                );
                #value
            }
        }
    }
}
