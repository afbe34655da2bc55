//! Expansion of `reference_task`, `reference_launch_plan` and `reference_workflow`, on the
//! signature of an entity registered elsewhere:
//!
//! ```text
//! #[reference_task(project = "p", domain = "d", name = "shapes.area", version = "v3",
//!                  outputs(area, label))]
//! pub fn area(width: f64, height: f64) -> (f64, String);
//! ```
//!
//! emits `pub mod area { pub fn reference() -> Reference; pub fn entity(); pub fn node(...) }`:
//! a workflow calls `area(w, h)` like a task.

use crate::task::meta_key;
use proc_macro2::TokenStream;
use quote::quote;

use crate::launch_plan::{Signature, parse_signature};
use crate::node::{check_output_names, node_fn, output_name, output_types};
use crate::workflow::{ident_str, is_unit};

pub(crate) fn expand(kind: &str, args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut project = None;
    let mut domain = None;
    let mut name = None;
    let mut version = None;
    let mut outputs: Vec<String> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let key = meta_key(&meta);
        match key.as_str() {
            "project" => project = Some(meta.value()?.parse::<syn::LitStr>()?),
            "domain" => domain = Some(meta.value()?.parse::<syn::LitStr>()?),
            "name" => name = Some(meta.value()?.parse::<syn::LitStr>()?),
            "version" => version = Some(meta.value()?.parse::<syn::LitStr>()?),
            "outputs" => outputs = crate::node::parse_output_names(&meta)?,
            _ => {
                return Err(meta.error(
                    "unknown reference option; supported: project, domain, name, version \
                     (all required), outputs(name, ..)",
                ));
            }
        }
        Ok(())
    });
    syn::parse::Parser::parse2(parser, args)?;
    let what = format!("reference {kind}");
    let Signature {
        attrs,
        vis,
        sig,
        inputs,
        output,
    } = parse_signature(item, &what)?;
    let (Some(project), Some(domain), Some(name), Some(version)) = (project, domain, name, version)
    else {
        return Err(syn::Error::new(
            sig.ident.span(),
            format!(
                "a {what} names what it refers to: project = \"..\", domain = \"..\", name = \
                 \"..\", version = \"..\""
            ),
        ));
    };
    let outs = if is_unit(&output) {
        Vec::new()
    } else {
        output_types(&output)
    };
    check_output_names(&outputs, outs.len(), sig.output_span())?;
    let fn_name = &sig.ident;
    let kind_ident = syn::Ident::new(
        match kind {
            "task" => "Task",
            "launch plan" => "LaunchPlan",
            _ => "Workflow",
        },
        proc_macro2::Span::call_site(),
    );
    let input_decls = inputs.iter().map(|(n, ty)| {
        let s = ident_str(n);
        quote! { .input::<#ty>(#s) }
    });
    let output_decls = outs.iter().enumerate().map(|(i, ty)| {
        let s = output_name(&outputs, i);
        quote! { .output::<#ty>(#s) }
    });
    let docs: Vec<&syn::Attribute> = attrs.iter().filter(|a| a.path().is_ident("doc")).collect();
    let node = node_fn(&vis, &inputs, &output, &outputs, quote! { reference() });
    let mod_doc = format!(
        "The {what} `{}`: `reference()` declares it, `node(...)` calls it from a workflow.",
        name.value()
    );
    Ok(quote! {
        #(#docs)*
        #[doc = #mod_doc]
        #[allow(dead_code)]
        #vis mod #fn_name {
            #[allow(unused_imports)]
            use super::*;

            /// The reference, built on first use and cheap to clone afterwards.
            pub fn reference() -> ::flytekit::workflow::Reference {
                static REFERENCE: ::std::sync::OnceLock<::flytekit::workflow::Reference> = ::std::sync::OnceLock::new();
                REFERENCE
                    .get_or_init(|| {
                        ::flytekit::workflow::Reference::new(
                            ::flytekit::workflow::ReferenceKind::#kind_ident,
                            #project,
                            #domain,
                            #name,
                            #version,
                        )
                        #(#input_decls)*
                        #(#output_decls)*
                    })
                    .clone()
            }

            /// The reference as the entity of a node.
            pub fn entity() -> ::flytekit::workflow::Entity {
                ::std::convert::Into::into(reference())
            }

            #node
        }
    })
}

trait OutputSpan {
    fn output_span(&self) -> proc_macro2::Span;
}

impl OutputSpan for syn::Signature {
    fn output_span(&self) -> proc_macro2::Span {
        use syn::spanned::Spanned;
        self.output.span()
    }
}
