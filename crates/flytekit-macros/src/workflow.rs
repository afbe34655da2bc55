//! Expansion of the `workflow` macro.
//!
//! For
//!
//! ```text
//! #[workflow(defaults(y = 2))]
//! pub fn wf(x: i64, y: i64) -> i64 {
//!     let s = add(x, y);
//!     add(s, 1)
//! }
//! ```
//!
//! the macro emits four items:
//!
//! 1. `fn __flytekit_workflow_wf(wf: &WorkflowBuilder)`, next to the original function so every path
//!    in the body resolves as the user wrote it. Its parameters become typed promises
//!    (`wf.input::<i64>("x")`), each call `f(args)` whose callee is a plain lowercase path becomes
//!    `f::node(wf, args)`, and the body's value is bound to the outputs `o0`, `o1`, ...
//! 2. `pub async fn wf(x: i64, y: i64) -> Result<i64, EngineError>`: runs the workflow on the local
//!    engine.
//! 3. `pub mod wf { pub fn workflow() -> Workflow; pub fn node(...) }`: the entity (built once) and
//!    the node function that lets other workflows call this one as a sub-workflow.
//! 4. An `inventory` registration so `run` and `list` find the workflow by name.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;

use crate::node::{node_fn, output_types};

/// Options of `#[workflow(...)]`.
#[derive(Default)]
struct Args {
    name: Option<syn::LitStr>,
    defaults: Vec<(syn::Ident, syn::Expr)>,
    failure_policy: Option<syn::LitStr>,
    interruptible: Option<syn::LitBool>,
}

impl Args {
    fn parse(args: TokenStream) -> syn::Result<Self> {
        let mut out = Args::default();
        if args.is_empty() {
            return Ok(out);
        }
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("name") {
                out.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("defaults") {
                meta.parse_nested_meta(|inner| {
                    let ident = inner.path.get_ident().cloned().ok_or_else(|| {
                        inner.error("expected `input = value`, e.g. `defaults(x = 3)`")
                    })?;
                    let value: syn::Expr = inner.value()?.parse()?;
                    out.defaults.push((ident, value));
                    Ok(())
                })?;
            } else if meta.path.is_ident("failure_policy") {
                let lit: syn::LitStr = meta.value()?.parse()?;
                match lit.value().as_str() {
                    "fail_immediately" | "fail_after_executable_nodes_complete" => {}
                    _ => {
                        return Err(syn::Error::new(
                            lit.span(),
                            "unknown failure policy; use \"fail_immediately\" (the default) or \
                             \"fail_after_executable_nodes_complete\"",
                        ));
                    }
                }
                out.failure_policy = Some(lit);
            } else if meta.path.is_ident("interruptible") {
                out.interruptible = Some(if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse()?
                } else {
                    syn::LitBool::new(true, meta.path.span())
                });
            } else {
                return Err(meta.error(
                    "unknown workflow option; supported: name = \"...\", defaults(input = value, ...), \
                     failure_policy = \"...\", interruptible",
                ));
            }
            Ok(())
        });
        syn::parse::Parser::parse2(parser, args)?;
        Ok(out)
    }
}

/// A function whose body builds a workflow (`#[workflow]`, `#[dynamic]`) is neither async nor
/// generic; the errors say so in the attribute's words.
pub(crate) fn check_builder_fn(
    sig: &syn::Signature,
    when_async: &str,
    when_generic: &str,
) -> syn::Result<()> {
    if let Some(a) = &sig.asyncness {
        return Err(syn::Error::new(a.span(), when_async));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(sig.generics.span(), when_generic));
    }
    Ok(())
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = Args::parse(args)?;
    let func: syn::ItemFn = syn::parse2(item)?;
    let sig = &func.sig;
    check_builder_fn(
        sig,
        "a workflow function is not async: its body only wires tasks together",
        "a workflow function cannot be generic",
    )?;
    let fn_name = &sig.ident;
    let vis = &func.vis;
    let docs: Vec<&syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .collect();
    let other_attrs: Vec<&syn::Attribute> = func
        .attrs
        .iter()
        .filter(|a| !a.path().is_ident("doc"))
        .collect();

    let mut inputs: Vec<(syn::Ident, syn::Type)> = Vec::new();
    for arg in &sig.inputs {
        match arg {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    inputs.push((pi.ident.clone(), (*pt.ty).clone()));
                }
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "workflow inputs must be plain names (`x: i64`): each becomes a named Flyte input",
                    ));
                }
            },
            syn::FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "a workflow is a free function, not a method",
                ));
            }
        }
    }
    for (name, _) in &args.defaults {
        if !inputs.iter().any(|(i, _)| i == name) {
            return Err(syn::Error::new(
                name.span(),
                format!("`{name}` is not an input of this workflow"),
            ));
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

    let wf = syn::Ident::new("__flytekit_wf", Span::call_site());
    let builder_fn = syn::Ident::new(
        &format!("__flytekit_workflow_{}", ident_str(fn_name)),
        fn_name.span(),
    );

    // 1. The builder function, with the rewritten body.
    let mut body = func.block.clone();
    Rewriter { wf: wf.clone() }.visit_block_mut(&mut body);
    let input_decls = inputs.iter().map(|(name, ty)| {
        let var = ident_str(name);
        match args.defaults.iter().find(|(d, _)| d == name) {
            Some((_, value)) => quote_spanned! {value.span()=>
                let #name = #wf.input_with_default::<#ty>(#var, ::std::convert::Into::<#ty>::into(#value));
            },
            None => quote! { let #name = #wf.input::<#ty>(#var); },
        }
    });
    let bind_outputs = bind_outputs(&wf, &outs, tuple_out);
    let builder = quote! {
        #[doc(hidden)]
        #[allow(non_snake_case, clippy::redundant_closure_call, clippy::let_unit_value)]
        fn #builder_fn(#wf: &::flytekit::workflow::WorkflowBuilder) {
            #(#input_decls)*
            #[allow(unused_mut)]
            let mut __flytekit_body = || #body;
            let __flytekit_out = __flytekit_body();
            #bind_outputs
        }
    };

    // 2. The native async function that runs the workflow locally.
    let params = inputs.iter().map(|(n, t)| quote! { #n: #t });
    let (set_inputs, result) = local_call(&inputs, &outs, tuple_out);
    let native_doc = format!(
        "Runs the workflow `{fn_name}` on the local engine (in-process, default options) and returns \
         its outputs. The workflow entity is [`{fn_name}::workflow()`](mod@{fn_name})."
    );
    let native = quote! {
        #(#docs)*
        ///
        #[doc = #native_doc]
        #(#other_attrs)*
        #[allow(dead_code)]
        #vis async fn #fn_name(#(#params),*) -> ::std::result::Result<#output, ::flytekit::engine::EngineError> {
            let mut __flytekit_call = ::flytekit::__private::LocalCall::new(#fn_name::workflow());
            #(#set_inputs)*
            let __flytekit_outputs = __flytekit_call.execute().await?;
            #result
        }
    };

    // 3. The companion module.
    let name_expr = match &args.name {
        Some(n) => quote! { ::std::string::String::from(#n) },
        None => {
            let f = ident_str(fn_name);
            quote! { ::flytekit::__private::entity_name(::std::module_path!(), #f) }
        }
    };
    let policy = match args.failure_policy.as_ref().map(|l| l.value()) {
        Some(p) if p == "fail_after_executable_nodes_complete" => {
            quote! { __flytekit_builder.failure_policy(::flytekit::workflow::FailurePolicy::FailAfterExecutableNodesComplete); }
        }
        _ => quote! {},
    };
    let interruptible = match &args.interruptible {
        Some(b) => quote! { __flytekit_builder.interruptible(#b); },
        None => quote! {},
    };
    let description: String = docs
        .iter()
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    let node = node_fn(vis, &inputs, &output, quote! { workflow() });
    let mod_doc = format!(
        "The Flyte entity of the workflow [`{fn_name}`](fn@{fn_name}): `workflow()` builds it once, \
         `node(...)` calls it as a sub-workflow from another workflow."
    );
    let module = quote! {
        #[doc = #mod_doc]
        #[allow(dead_code)]
        #vis mod #fn_name {
            #[allow(unused_imports)]
            use super::*;

            /// The workflow as a Flyte entity, built on first use and cheap to clone afterwards.
            pub fn workflow() -> ::flytekit::workflow::Workflow {
                static WORKFLOW: ::std::sync::OnceLock<::flytekit::workflow::Workflow> = ::std::sync::OnceLock::new();
                WORKFLOW
                    .get_or_init(|| {
                        let __flytekit_builder = ::flytekit::workflow::WorkflowBuilder::new(#name_expr);
                        __flytekit_builder.description(#description);
                        #policy
                        #interruptible
                        super::#builder_fn(&__flytekit_builder);
                        __flytekit_builder.finish()
                    })
                    .clone()
            }

            #node
        }
    };

    // 4. Registration.
    let register = quote! {
        ::flytekit::__private::inventory::submit! {
            ::flytekit::__private::WorkflowRegistration::new(#fn_name::workflow)
        }
    };

    Ok(quote! {
        #builder
        #native
        #module
        #register
    })
}

pub(crate) fn ident_str(i: &syn::Ident) -> String {
    let s = i.to_string();
    s.strip_prefix("r#").map(str::to_string).unwrap_or(s)
}

pub(crate) fn strip_parens(t: &syn::Type) -> &syn::Type {
    match t {
        syn::Type::Paren(p) => strip_parens(&p.elem),
        other => other,
    }
}

pub(crate) fn is_unit(t: &syn::Type) -> bool {
    matches!(strip_parens(t), syn::Type::Tuple(t) if t.elems.is_empty())
}

/// Rewrites entity calls in a workflow body: `f(a, b)` becomes `f::node(&wf, a, b)`.
pub(crate) struct Rewriter {
    pub(crate) wf: syn::Ident,
}

impl Rewriter {
    /// Whether a call's callee names a task or workflow: a path of lowercase segments (types,
    /// enum variants and tuple structs start with an uppercase letter), with no generic arguments,
    /// outside `std`/`core`/`alloc`.
    fn is_entity_path(path: &syn::ExprPath) -> bool {
        if path.qself.is_some() {
            return false;
        }
        let segs = &path.path.segments;
        if let Some(first) = segs.first() {
            let f = first.ident.to_string();
            if segs.len() > 1 && matches!(f.as_str(), "std" | "core" | "alloc") {
                return false;
            }
        }
        segs.iter().all(|s| {
            let name = s.ident.to_string();
            let name = name.strip_prefix("r#").unwrap_or(&name);
            matches!(s.arguments, syn::PathArguments::None)
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_lowercase() || c == '_')
        }) && !segs.is_empty()
    }
}

impl VisitMut for Rewriter {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        if let syn::Expr::Call(call) = expr
            && let syn::Expr::Path(path) = &*call.func
            && Rewriter::is_entity_path(path)
        {
            let wf = &self.wf;
            let span = path.span();
            let p = &path.path;
            let args = &call.args;
            let new: syn::Expr = syn::parse_quote_spanned! {span=> #p::node(#wf, #args) };
            *expr = new;
        }
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        // `vec![a(x), b(y)]` builds a collection binding: rewrite the calls inside it too.
        if !mac.path.is_ident("vec") {
            return;
        }
        let parser = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(mut elems) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) {
            for e in elems.iter_mut() {
                self.visit_expr_mut(e);
            }
            mac.tokens = elems.to_token_stream();
        }
    }
}

/// The body parts of the native function that runs an entity through `LocalCall`: the
/// statements setting `inputs` on `__flytekit_call`, and the expression reading the outputs
/// (`outs`; a tuple when `tuple_out`) from `__flytekit_outputs`.
pub(crate) fn local_call(
    inputs: &[(syn::Ident, syn::Type)],
    outs: &[syn::Type],
    tuple_out: bool,
) -> (Vec<proc_macro2::TokenStream>, proc_macro2::TokenStream) {
    let set_inputs = inputs
        .iter()
        .map(|(n, _)| {
            let var = ident_str(n);
            quote! { __flytekit_call.input(#var, &#n).await?; }
        })
        .collect();
    let result = if outs.is_empty() {
        quote! { ::std::result::Result::Ok(()) }
    } else if !tuple_out {
        let ty = &outs[0];
        quote! { __flytekit_outputs.get::<#ty>("o0").await }
    } else {
        let gets = outs.iter().enumerate().map(|(i, ty)| {
            let var = format!("o{i}");
            quote! { __flytekit_outputs.get::<#ty>(#var).await? }
        });
        quote! { ::std::result::Result::Ok(( #(#gets,)* )) }
    };
    (set_inputs, result)
}

/// Statements declaring the body's value `__flytekit_out` as the outputs (`o0`, `o1`, ...) of the
/// workflow built through `wf`; `outs` are their types, a tuple when `tuple_out`.
pub(crate) fn bind_outputs(
    wf: &syn::Ident,
    outs: &[syn::Type],
    tuple_out: bool,
) -> proc_macro2::TokenStream {
    if outs.is_empty() {
        quote! { let _ = __flytekit_out; }
    } else if !tuple_out {
        let ty = &outs[0];
        quote! { #wf.output::<#ty>("o0", __flytekit_out); }
    } else {
        let names: Vec<syn::Ident> = (0..outs.len())
            .map(|i| syn::Ident::new(&format!("__flytekit_o{i}"), Span::call_site()))
            .collect();
        let sets = names.iter().zip(outs).enumerate().map(|(i, (n, ty))| {
            let var = format!("o{i}");
            quote! { #wf.output::<#ty>(#var, #n); }
        });
        quote! {
            let ( #(#names,)* ) = __flytekit_out;
            #(#sets)*
        }
    }
}
