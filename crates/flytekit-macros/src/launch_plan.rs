//! Expansion of the `launch_plan` macro, on the signature of the plan's callable inputs:
//!
//! ```text
//! #[launch_plan(workflow = report, defaults(n = 7), fixed(region = "eu"),
//!               schedule = Schedule::cron("0 * * * *").kickoff_input("kickoff"))]
//! pub fn hourly_report(kickoff: DateTime<Utc>, n: i64) -> String;
//! ```
//!
//! emits `pub mod hourly_report { pub fn launch_plan() -> LaunchPlan; pub fn entity();
//! pub fn node(...) }` and an `inventory` registration. Every type is checked against the
//! workflow's (`report::inputs::n`, `report::Outputs`), so an input that does not exist or has
//! another type does not compile.

use crate::task::meta_key;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use crate::node::node_fn;
use crate::workflow::{ident_str, is_unit};

#[derive(Default)]
struct Args {
    workflow: Option<syn::Path>,
    name: Option<syn::LitStr>,
    defaults: Vec<(syn::Ident, syn::Expr)>,
    fixed: Vec<(syn::Ident, syn::Expr)>,
    calls: Vec<TokenStream>,
}

fn pairs(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Vec<(syn::Ident, syn::Expr)>> {
    let mut out = Vec::new();
    meta.parse_nested_meta(|inner| {
        let ident = inner
            .path
            .get_ident()
            .cloned()
            .ok_or_else(|| inner.error("expected `input = value`"))?;
        out.push((ident, inner.value()?.parse()?));
        Ok(())
    })?;
    Ok(out)
}

impl Args {
    fn parse(args: TokenStream) -> syn::Result<Self> {
        let mut out = Args::default();
        let parser = syn::meta::parser(|meta| {
            let key = meta_key(&meta);
            match key.as_str() {
                "workflow" => out.workflow = Some(meta.value()?.parse()?),
                "name" => out.name = Some(meta.value()?.parse()?),
                "defaults" => out.defaults = pairs(&meta)?,
                "fixed" => out.fixed = pairs(&meta)?,
                "schedule" | "notify" | "raw_output_prefix" | "max_parallelism"
                | "security_context" => {
                    let v: syn::Expr = meta.value()?.parse()?;
                    let m = syn::Ident::new(&key, meta.path.span());
                    out.calls.push(quote! { .#m(#v) });
                }
                "overwrite_cache" => {
                    let v: syn::LitBool = if meta.input.peek(syn::Token![=]) {
                        meta.value()?.parse()?
                    } else {
                        syn::LitBool::new(true, meta.path.span())
                    };
                    out.calls.push(quote! { .overwrite_cache(#v) });
                }
                "labels" | "annotations" => {
                    let m = syn::Ident::new(
                        if key == "labels" {
                            "label"
                        } else {
                            "annotation"
                        },
                        meta.path.span(),
                    );
                    for (k, v) in pairs(&meta)? {
                        let k = ident_str(&k);
                        out.calls.push(quote! { .#m(#k, #v) });
                    }
                }
                _ => {
                    return Err(meta.error(
                        "unknown launch plan option; supported: workflow = path, name = \"...\", \
                         defaults(input = value, ..), fixed(input = value, ..), schedule = .., \
                         notify = .., labels(..), annotations(..), raw_output_prefix = \"..\", \
                         max_parallelism = N, security_context = .., overwrite_cache",
                    ));
                }
            }
            Ok(())
        });
        syn::parse::Parser::parse2(parser, args)?;
        Ok(out)
    }
}

/// A signature without a body (`fn f(a: i64) -> i64;`): its attributes, visibility and
/// signature; the typed inputs; the output type.
pub(crate) struct Signature {
    pub attrs: Vec<syn::Attribute>,
    pub vis: syn::Visibility,
    pub sig: syn::Signature,
    pub inputs: Vec<(syn::Ident, syn::Type)>,
    pub output: syn::Type,
}

pub(crate) fn parse_signature(item: TokenStream, what: &str) -> syn::Result<Signature> {
    let f: syn::ForeignItemFn = syn::parse2(item.clone()).map_err(|_| {
        syn::Error::new(
            item.span(),
            format!(
                "a {what} is declared by its signature alone, ending with `;` (no body): \
                 `pub fn name(x: i64) -> i64;`"
            ),
        )
    })?;
    if !f.sig.generics.params.is_empty() || f.sig.asyncness.is_some() {
        return Err(syn::Error::new(
            f.sig.span(),
            format!("a {what} signature is neither generic nor async"),
        ));
    }
    let mut inputs = Vec::new();
    for arg in &f.sig.inputs {
        match arg {
            syn::FnArg::Typed(pt) => inputs.push(crate::task::typed_input(pt)?),
            syn::FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    format!("a {what} is not a method"),
                ));
            }
        }
    }
    let output = match &f.sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    };
    Ok(Signature {
        attrs: f.attrs,
        vis: f.vis,
        sig: f.sig,
        inputs,
        output,
    })
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = Args::parse(args)?;
    let Signature {
        attrs,
        vis,
        sig,
        inputs,
        output,
    } = parse_signature(item, "launch plan")?;
    let Some(workflow) = &args.workflow else {
        return Err(syn::Error::new(
            sig.ident.span(),
            "name the workflow the plan launches: #[launch_plan(workflow = my_workflow, ..)]",
        ));
    };
    let fn_name = &sig.ident;
    let fn_str = ident_str(fn_name);
    for (name, _) in &inputs {
        if args.fixed.iter().any(|(f, _)| f == name) {
            return Err(syn::Error::new(
                name.span(),
                format!(
                    "`{name}` is fixed by the plan: a caller cannot give it; leave it out of the \
                     signature"
                ),
            ));
        }
    }
    let name_expr = match &args.name {
        Some(n) => quote! { ::std::string::String::from(#n) },
        None => quote! { ::flytekit::__private::entity_name(::std::module_path!(), #fn_str) },
    };
    let checks = inputs.iter().map(|(name, ty)| {
        quote_spanned! {ty.span()=>
            const _: fn(#ty) -> #workflow::inputs::#name = |x| x;
        }
    });
    let output_check = if is_unit(&output) {
        quote! { const _: fn(#workflow::Outputs) -> () = |_| (); }
    } else {
        quote_spanned! {output.span()=> const _: fn(#workflow::Outputs) -> #output = |x| x; }
    };
    let values = |which: &str, list: &[(syn::Ident, syn::Expr)]| -> Vec<TokenStream> {
        let m = syn::Ident::new(which, proc_macro2::Span::call_site());
        list.iter()
            .map(|(name, value)| {
                let s = ident_str(name);
                quote_spanned! {value.span()=>
                    .#m::<#workflow::inputs::#name>(#s, ::std::convert::Into::into(#value))
                }
            })
            .collect()
    };
    let defaults = values("default_input", &args.defaults);
    let fixed = values("fixed_input", &args.fixed);
    let calls = &args.calls;
    let docs: Vec<&syn::Attribute> = attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    let node = node_fn(&vis, &inputs, &output, &[], quote! { launch_plan() });
    let mod_doc = format!(
        "The launch plan `{fn_str}`: `launch_plan()` builds it once, `node(...)` calls it from a \
         workflow."
    );
    Ok(quote! {
        #(#docs)*
        #[doc = #mod_doc]
        #[allow(dead_code)]
        #vis mod #fn_name {
            #[allow(unused_imports)]
            use super::*;

            #(#checks)*
            #output_check

            /// The launch plan, built on first use and cheap to clone afterwards.
            pub fn launch_plan() -> ::flytekit::workflow::LaunchPlan {
                static PLAN: ::std::sync::OnceLock<::flytekit::workflow::LaunchPlan> = ::std::sync::OnceLock::new();
                PLAN.get_or_init(|| {
                    ::flytekit::workflow::LaunchPlan::new(#name_expr, &#workflow::workflow())
                        #(#fixed)*
                        #(#defaults)*
                        #(#calls)*
                })
                .clone()
            }

            /// The launch plan as the entity of a node.
            pub fn entity() -> ::flytekit::workflow::Entity {
                ::std::convert::Into::into(launch_plan())
            }

            #node
        }

        ::flytekit::__private::inventory::submit! {
            ::flytekit::__private::LaunchPlanRegistration::new(#fn_name::launch_plan)
        }
    })
}
