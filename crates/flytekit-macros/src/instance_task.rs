//! Expansion of the `instance_task` macro: a typed task over an instance value.
//!
//! For
//!
//! ```text
//! /// Looks a key up in a table.
//! #[instance_task(name = "tables.lookup_{name}", retries = 2)]
//! pub fn lookup(table: &Table, key: String) -> Result<i64, UserError> { ... }
//! ```
//!
//! the macro keeps the function as written and adds `pub mod lookup` holding:
//!
//! 1. `Instance { name: String, value: Arc<Table> }`: the instance type, serde (the value's own
//!    fields under `value`), an `InstanceTask` registered under the tag (`tag = "..."`, default
//!    `<module path>::lookup`) whose task has the instance's name, inputs `key`, output `o0`, the
//!    options of `#[task]`, and a body that reads the inputs, calls `super::lookup(&value, key)`
//!    (on tokio's blocking pool for a sync function) and writes the outputs;
//! 2. `task(&Table) -> Result<Task, InstanceError>`: the instance task of one value, its payload
//!    placed when serialized (`flytekit::instance::task_of`); the name is `name` with each
//!    `{field}` replaced by the value's field, or without `name`
//!    `<module path>.lookup_<10 hex digits of the value's digest>`;
//! 3. `node(wf, &Table, key)`: the node function a workflow body calls (`lookup(&table, key)`
//!    there becomes `lookup::node(wf, &table, key)`).
//!
//! The method form, `#[instance_task] impl Table { fn lookup(&self, key: String) -> i64 }` (one
//! `&self` method; a context parameter follows `self`), expands the same way, calling
//! `Table::lookup(&value, key)`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

use crate::node::{node_fn_with, output_types};
use crate::task::{
    Args, Call, OPTIONS, body_block, doc_lines, interface_decls, is_context, result_ok_type,
    typed_input,
};
use crate::workflow::{ident_str, is_unit, strip_parens};

/// The task name: a format string over the instance's fields, e.g. `"tables.lookup_{name}"`.
fn name_expr(template: &syn::LitStr, instance: &syn::Ident) -> syn::Result<TokenStream> {
    let text = template.value();
    let mut fmt = String::new();
    let mut fields: Vec<TokenStream> = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                fmt.push_str("{{");
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                fmt.push_str("}}");
            }
            '{' => {
                let mut path = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => path.push(c),
                        None => {
                            return Err(syn::Error::new(
                                template.span(),
                                "unclosed `{` in the name; write `{field}`, or `{{` for a brace",
                            ));
                        }
                    }
                }
                let segments: Vec<syn::Ident> = path
                    .split('.')
                    .map(|seg| syn::parse_str::<syn::Ident>(seg.trim()))
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        syn::Error::new(
                            template.span(),
                            format!(
                                "`{{{path}}}` in the name is not a field of the instance; write \
                                 `{{field}}` (or `{{field.subfield}}`)"
                            ),
                        )
                    })?;
                fmt.push_str("{}");
                fields.push(quote! { #instance #(.#segments)* });
            }
            '}' => {
                return Err(syn::Error::new(
                    template.span(),
                    "unmatched `}` in the name; write `}}` for a brace",
                ));
            }
            c => fmt.push(c),
        }
    }
    Ok(quote! { ::std::format!(#fmt, #(#fields),*) })
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut tag: Option<syn::LitStr> = None;
    let supported = format!("tag, {OPTIONS}");
    let args = Args::parse_with(args, &supported, |key, meta| {
        if key == "tag" {
            let lit: syn::LitStr = meta.value()?.parse()?;
            if lit.value().trim().is_empty() || lit.value().contains(char::is_whitespace) {
                return Err(syn::Error::new(
                    lit.span(),
                    "the type tag is a non-empty string without spaces, e.g. \"myapp.lookup\"",
                ));
            }
            tag = Some(lit);
            return Ok(true);
        }
        Ok(false)
    })?;
    // The function form, or the method form: an `impl` block with one `&self` method.
    let (kept, sig, vis, attrs, self_ty) = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(func) => (
            quote! { #func },
            func.sig.clone(),
            func.vis.clone(),
            func.attrs.clone(),
            None,
        ),
        Err(_) => {
            let block: syn::ItemImpl = syn::parse2(item).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "#[instance_task] goes on a function whose first parameter is the instance \
                     (`fn lookup(table: &Table, key: String)`), or on an `impl` block holding one \
                     `&self` method",
                )
            })?;
            if let Some((_, path, _)) = &block.trait_ {
                return Err(syn::Error::new(
                    path.span(),
                    "#[instance_task] goes on an inherent `impl` block, not a trait impl",
                ));
            }
            if !block.generics.params.is_empty() {
                return Err(syn::Error::new(
                    block.generics.span(),
                    "an instance type cannot be generic",
                ));
            }
            let methods: Vec<&syn::ImplItemFn> = block
                .items
                .iter()
                .filter_map(|i| match i {
                    syn::ImplItem::Fn(f) => Some(f),
                    _ => None,
                })
                .collect();
            let [method] = methods.as_slice() else {
                return Err(syn::Error::new(
                    block.self_ty.span(),
                    "the `impl` block of an #[instance_task] holds exactly one method, the task",
                ));
            };
            (
                quote! { #block },
                method.sig.clone(),
                method.vis.clone(),
                method.attrs.clone(),
                Some((*block.self_ty).clone()),
            )
        }
    };
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "an instance task function cannot be generic",
        ));
    }
    let fn_name = &sig.ident;
    let fn_str = ident_str(fn_name);
    let vis = &vis;
    let is_async = sig.asyncness.is_some();
    let lines = doc_lines(&attrs);

    let mut takes_cx = false;
    let mut instance_ty: Option<syn::Type> = None;
    let mut inputs: Vec<(syn::Ident, syn::Type)> = Vec::new();
    // The position a context parameter may take: first, or right after `&self`.
    let cx_at = usize::from(self_ty.is_some());
    for (i, arg) in sig.inputs.iter().enumerate() {
        let pt = match (arg, &self_ty) {
            (syn::FnArg::Typed(pt), _) => pt,
            (syn::FnArg::Receiver(r), Some(ty))
                if i == 0 && r.reference.is_some() && r.mutability.is_none() =>
            {
                instance_ty = Some(ty.clone());
                continue;
            }
            (syn::FnArg::Receiver(r), Some(_)) => {
                return Err(syn::Error::new(
                    r.span(),
                    "the method of an #[instance_task] takes its instance as `&self`",
                ));
            }
            (syn::FnArg::Receiver(r), None) => {
                return Err(syn::Error::new(
                    r.span(),
                    "an instance task is a function whose first parameter is the instance \
                     (`table: &Table`), or a method in an #[instance_task] `impl` block",
                ));
            }
        };
        if i == cx_at && is_context(&pt.ty) {
            takes_cx = true;
            continue;
        }
        if is_context(&pt.ty) {
            return Err(syn::Error::new(
                pt.ty.span(),
                if self_ty.is_some() {
                    "the `&ExecutionContext` parameter must come right after `&self`"
                } else {
                    "the `&ExecutionContext` parameter must come first"
                },
            ));
        }
        if instance_ty.is_none() {
            match &*pt.ty {
                syn::Type::Reference(r) if r.mutability.is_none() => {
                    instance_ty = Some((*r.elem).clone());
                }
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "the first parameter of an instance task (after an optional \
                         `&ExecutionContext`) is the instance, by shared reference: `table: &Table`",
                    ));
                }
            }
            continue;
        }
        inputs.push(typed_input(pt)?);
    }
    let Some(instance_ty) = instance_ty else {
        return Err(syn::Error::new(
            sig.span(),
            "an instance task takes its instance first: `fn lookup(table: &Table, key: String)`",
        ));
    };
    let callee = match &self_ty {
        Some(ty) => quote! { <#ty>::#fn_name },
        None => quote! { super::#fn_name },
    };

    let declared: syn::Type = match &sig.output {
        syn::ReturnType::Default => syn::parse_quote!(()),
        syn::ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let (output, fallible) = match result_ok_type(&declared) {
        Some(t) => (t, true),
        None => (declared.clone(), false),
    };
    let outs = if is_unit(&output) {
        Vec::new()
    } else {
        output_types(&output)
    };
    let tuple_out = matches!(strip_parens(&output), syn::Type::Tuple(t) if !t.elems.is_empty());

    let block = body_block(&Call {
        fn_str: &fn_str,
        callee,
        takes_cx,
        is_async,
        fallible,
        instance: Some(quote! { &*__flytekit_instance }),
        instance_first: self_ty.is_some(),
        inputs: &inputs,
        outs: &outs,
        tuple_out,
    });
    let (input_decls, output_decls) = interface_decls(&inputs, &outs, &lines);
    let docs = lines.join("\n");
    let docs = docs.trim();
    let calls = &args.calls;
    let tag_expr = match &tag {
        Some(t) => quote! { #t },
        // Inside the module named after the function: `<parent module>::<function>`.
        None => quote! { ::std::module_path!() },
    };
    let instance = syn::Ident::new("__flytekit_instance", proc_macro2::Span::call_site());
    let name = match &args.name {
        Some(template) => name_expr(template, &instance)?,
        None => quote! {
            ::std::format!(
                "{}_{}",
                ::flytekit::__private::entity_name(::std::module_path!(), #fn_str),
                &::flytekit::instance::sha256_hex(&::flytekit::instance::encode_value(#instance)?)[..10]
            )
        },
    };
    let node = node_fn_with(
        quote! { #instance: &#instance_ty, },
        &inputs,
        &output,
        quote! {
            match task(#instance) {
                ::std::result::Result::Ok(t) => t,
                ::std::result::Result::Err(e) => ::flytekit::__private::failed_node_task(
                    __flytekit_wf,
                    e,
                    ::flytekit::Task::builder(::flytekit::__private::entity_name(::std::module_path!(), #fn_str))
                        #(#input_decls)*
                        #(#output_decls)*,
                ),
            }
        },
    );
    let function = match &self_ty {
        Some(ty) => format!("`{}::{fn_str}`", quote!(#ty).to_string().replace(' ', "")),
        None => format!("[`{fn_str}`](fn@{fn_name})"),
    };
    let mod_doc = format!(
        "The Flyte instance task of {function}: `task(&instance)` makes the task of one instance, \
         `node(...)` calls it from a workflow, `Instance` is its registered type."
    );
    let task_doc = format!(
        "The instance task of `instance`: {function} over it, its payload placed when the task is \
         serialized (inline, offloaded to the payload store or bundled)."
    );
    Ok(quote! {
        #kept

        #[doc = #mod_doc]
        #[allow(dead_code)]
        #vis mod #fn_name {
            #[allow(unused_imports)]
            use super::*;

            /// The registered instance type: an instance value and the name of its task.
            #[derive(::flytekit::__private::serde::Serialize, ::flytekit::__private::serde::Deserialize)]
            #[serde(crate = "::flytekit::__private::serde")]
            pub struct Instance {
                /// The task's name.
                pub name: ::std::string::String,
                /// The instance value.
                #[serde(with = "::flytekit::__private::arc_value")]
                pub value: ::std::sync::Arc<#instance_ty>,
            }

            /// [`Instance`] borrowed: serializes to the same payload.
            #[derive(::flytekit::__private::serde::Serialize)]
            #[serde(crate = "::flytekit::__private::serde")]
            struct InstanceRef<'__flytekit> {
                name: &'__flytekit str,
                value: &'__flytekit #instance_ty,
            }

            impl ::flytekit::__private::InstanceTask for Instance {
                const TYPE_TAG: &'static str = #tag_expr;

                fn task(&self) -> ::flytekit::TaskBuilder {
                    let __flytekit_instance = ::std::sync::Arc::clone(&self.value);
                    let __flytekit_builder = ::flytekit::Task::builder(self.name.clone())
                        .docs(#docs)
                        .source(::std::concat!(::std::file!(), ":", ::std::line!()))
                        #(#input_decls)*
                        #(#output_decls)*
                        #(#calls)*;
                    __flytekit_builder.body(move |__flytekit_cx: ::flytekit::ExecutionContext, __flytekit_inputs: ::flytekit::idl::core::LiteralMap| {
                        let __flytekit_instance = ::std::sync::Arc::clone(&__flytekit_instance);
                        #block
                    })
                }
            }

            ::flytekit::register_instance_type!(Instance);

            #[doc = #task_doc]
            pub fn task(
                #instance: &#instance_ty,
            ) -> ::std::result::Result<::flytekit::Task, ::flytekit::instance::InstanceError> {
                let __flytekit_name: ::std::string::String = #name;
                let __flytekit_raw = ::flytekit::instance::encode_value(&InstanceRef {
                    name: &__flytekit_name,
                    value: #instance,
                })?;
                ::flytekit::__private::task_of_encoded::<Instance>(__flytekit_raw)
            }

            #node
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_take_fields_and_escapes() {
        let i = syn::Ident::new("x", proc_macro2::Span::call_site());
        let lit: syn::LitStr = syn::parse_quote!("t.lookup_{name}_{{v}}_{cfg.id}");
        let e = name_expr(&lit, &i).unwrap().to_string();
        assert!(e.contains("\"t.lookup_{}_{{v}}_{}\""), "{e}");
        assert!(e.contains("x . name") && e.contains("x . cfg . id"), "{e}");
        for bad in ["a{", "a}", "{1x}", "{a b}"] {
            let lit = syn::LitStr::new(bad, proc_macro2::Span::call_site());
            assert!(name_expr(&lit, &i).is_err(), "{bad}");
        }
    }
}
