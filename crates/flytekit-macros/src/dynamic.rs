//! Expansion of the `dynamic` macro.
//!
//! For
//!
//! ```text
//! /// Sums `n` increments.
//! #[dynamic(retries = 1)]
//! pub fn fan(n: i64, base: i64) -> i64 {
//!     let ys: Vec<_> = (0..n).map(|i| inc(base + i)).collect();
//!     total(ys)
//! }
//! ```
//!
//! the macro emits:
//!
//! 1. `fn __flytekit_dynamic_fan(wf: &WorkflowBuilder, n: i64, base: i64)`: the body, rewritten as
//!    a `#[workflow]` body (calls of lowercase paths become `f::node(wf, ...)`), with the inputs as
//!    plain values; its value is bound to the outputs `o0`, `o1`, ...
//! 2. `pub async fn fan(n: i64, base: i64) -> Result<i64, EngineError>`: runs the task locally.
//! 3. `pub mod fan { pub fn task() -> Task; pub fn node(...) }`: the task — built through
//!    `flytekit::dynamic::dynamic_task` with the same options as `#[task]`, whose graph builder
//!    reads the input literals and calls (1) on tokio's blocking pool — and its node function.
//! 4. An `inventory` registration so the default resolver finds it in its container.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::node::output_types;
use crate::task::{Args, TaskFn, doc_lines, is_context};
use crate::workflow::{Rewriter, check_builder_fn, ident_str, is_unit, strip_parens};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = Args::parse(args)?;
    let func: syn::ItemFn = syn::parse2(item)?;
    let sig = &func.sig;
    check_builder_fn(
        sig,
        "a dynamic task's body is not async: it builds the workflow that runs",
        "a dynamic task function cannot be generic",
    )?;
    let fn_name = &sig.ident;
    let fn_str = ident_str(fn_name);
    let vis = &func.vis;
    let lines = doc_lines(&func.attrs);
    let other_attrs: Vec<&syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| !a.path().is_ident("doc"))
        .collect();
    let docs_attrs: Vec<&syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();

    let mut inputs: Vec<(syn::Ident, syn::Type)> = Vec::new();
    for arg in &sig.inputs {
        match arg {
            syn::FnArg::Typed(pt) => {
                if is_context(&pt.ty) {
                    return Err(syn::Error::new(
                        pt.ty.span(),
                        "a dynamic task does not take an `&ExecutionContext`: its body only builds a workflow",
                    ));
                }
                inputs.push(crate::task::typed_input(pt)?);
            }
            syn::FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "a dynamic task is a free function, not a method",
                ));
            }
        }
    }

    let output: syn::Type = match &sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let outs = if is_unit(&output) {
        Vec::new()
    } else {
        output_types(&output)
    };
    let tuple_out = matches!(strip_parens(&output), syn::Type::Tuple(t) if !t.elems.is_empty());

    // 1. The graph builder.
    let wf = syn::Ident::new("__flytekit_wf", Span::call_site());
    let builder_fn = syn::Ident::new(&format!("__flytekit_dynamic_{fn_str}"), fn_name.span());
    let mut body = func.block.clone();
    Rewriter { wf: wf.clone() }.visit_block_mut(&mut body);
    let params = inputs.iter().map(|(n, t)| quote! { #n: #t });
    let bind_outputs = crate::workflow::bind_outputs(&wf, &outs, tuple_out);
    let builder = quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, unused_variables, clippy::redundant_closure_call, clippy::let_unit_value)]
        fn #builder_fn(#wf: &::flytekit::workflow::WorkflowBuilder, #(#params),*) {
            #[allow(unused_mut)]
            let mut __flytekit_body = || #body;
            let __flytekit_out = __flytekit_body();
            #bind_outputs
        }
    };

    // 2. The native function that runs the task locally.
    let native_params = inputs.iter().map(|(n, t)| quote! { #n: #t });
    let (set_inputs, result) = crate::workflow::local_call(&inputs, &outs, tuple_out);
    let native_doc = format!(
        "Runs the dynamic task `{fn_str}` on the local engine (in-process, default options): builds \
         its workflow from the inputs and runs it. The task entity is \
         [`{fn_str}::task()`](mod@{fn_name})."
    );
    let native = quote! {
        #(#docs_attrs)*
        ///
        #[doc = #native_doc]
        #(#other_attrs)*
        #[allow(dead_code)]
        #vis async fn #fn_name(#(#native_params),*) -> ::std::result::Result<#output, ::flytekit::engine::EngineError> {
            let mut __flytekit_call = ::flytekit::__private::LocalCall::new(#fn_name::task());
            #(#set_inputs)*
            let __flytekit_outputs = __flytekit_call.execute().await?;
            #result
        }
    };

    // 3. The companion module.
    let reads = crate::task::input_reads(&fn_str, &inputs);
    let arg_names: Vec<&syn::Ident> = inputs.iter().map(|(n, _)| n).collect();
    let body = quote! {
        ::flytekit::__private::dynamic_task(
            __flytekit_builder,
            move |__flytekit_cx: ::flytekit::ExecutionContext, __flytekit_inputs: ::flytekit::idl::core::LiteralMap| {
                let __flytekit_name = __flytekit_name.clone();
                async move {
                    let _ = &__flytekit_cx;
                    #(#reads)*
                    ::flytekit::__private::run_blocking(#fn_str, move || {
                        let __flytekit_wf = ::flytekit::workflow::WorkflowBuilder::new(__flytekit_name);
                        super::#builder_fn(&__flytekit_wf, #(#arg_names),*);
                        __flytekit_wf.finish()
                    })
                    .await
                }
            },
        )
    };
    let module = crate::task::task_module(
        &TaskFn {
            vis,
            fn_name,
            fn_str: &fn_str,
            args: &args,
            lines: &lines,
            inputs: &inputs,
            outs: &outs,
            output: &output,
            kind: "dynamic task",
            attribute: "#[dynamic]",
        },
        body,
        TokenStream::new(),
    );

    Ok(quote! {
        #builder
        #native
        #module
    })
}
