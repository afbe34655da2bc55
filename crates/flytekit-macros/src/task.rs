//! Expansion of the `task` macro.
//!
//! For
//!
//! ```text
//! /// Adds two numbers.
//! #[task(retries = 2)]
//! pub fn add(a: i64, b: i64) -> i64 { a + b }
//! ```
//!
//! the macro keeps the function as written (it stays a plain Rust function, callable and
//! testable as such) and adds:
//!
//! 1. `pub mod add { pub fn task() -> Task; pub fn node(...) }`: the task, built once through
//!    `flytekit::TaskBuilder` — inputs `a`, `b`, output `o0`, the options, and a body that reads
//!    the inputs from literals, calls `super::add` (on tokio's blocking pool for a sync function),
//!    and writes the outputs — plus the node function workflows call.
//! 2. An `inventory` registration so the default resolver, `list`, `run` and `package` find it.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;

use crate::node::{check_output_names, node_fn, output_name, output_types};
use crate::workflow::{ident_str, is_unit, strip_parens};

/// Options of `#[task(...)]`, each turned into one builder call.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) calls: Vec<TokenStream>,
    pub(crate) name: Option<syn::LitStr>,
    /// `outputs(a, b)`: the outputs' names (default `o0`, `o1`, ...).
    pub(crate) outputs: Vec<String>,
    has_requests_or_limits: Option<Span>,
    has_resources: Option<Span>,
    cache: Option<syn::LitBool>,
    cache_version: Option<syn::LitStr>,
}

pub(crate) const OPTIONS: &str = "name, task_type, image, image_spec, retries, timeout, cache, cache_version, \
                       cache_serialize, cache_ignored_inputs, interruptible, deprecated, requests(..), \
                       limits(..), resources(..), env(..), secret(..), pod_template, \
                       pod_template_name, accelerator, shared_memory, enable_deck, deck_fields(..), \
                       labels(..), annotations(..), tags(..), outputs(..)";

/// The name of an attribute option (`name` in `name = ..` or `name(..)`); empty for a path
/// that is not a single identifier, which no option matches.
pub(crate) fn meta_key(meta: &syn::meta::ParseNestedMeta) -> String {
    meta.path
        .get_ident()
        .map(|i| i.to_string())
        .unwrap_or_default()
}

fn lit_str(meta: &syn::meta::ParseNestedMeta) -> syn::Result<syn::LitStr> {
    meta.value()?.parse()
}

fn flag(meta: &syn::meta::ParseNestedMeta) -> syn::Result<syn::LitBool> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse()
    } else {
        Ok(syn::LitBool::new(true, meta.path.span()))
    }
}

/// A Kubernetes quantity check, the same grammar the runtime uses, so typos fail the build.
fn is_quantity(s: &str) -> bool {
    let s = s.strip_prefix('+').unwrap_or(s);
    let digits_end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(digits_end);
    let num_ok = !num.is_empty()
        && num != "."
        && num.matches('.').count() <= 1
        && num.chars().any(|c| c.is_ascii_digit());
    let suffix_ok = matches!(
        suffix,
        "" | "Ki"
            | "Mi"
            | "Gi"
            | "Ti"
            | "Pi"
            | "Ei"
            | "n"
            | "u"
            | "m"
            | "k"
            | "M"
            | "G"
            | "T"
            | "P"
            | "E"
    ) || {
        let rest = suffix.strip_prefix(['e', 'E']).unwrap_or("x");
        let rest = rest.strip_prefix(['+', '-']).unwrap_or(rest);
        !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit())
    };
    num_ok && suffix_ok
}

fn quantity(lit: &syn::LitStr) -> syn::Result<()> {
    if is_quantity(&lit.value()) {
        Ok(())
    } else {
        Err(syn::Error::new(
            lit.span(),
            format!(
                "\"{}\" is not a Kubernetes quantity; write e.g. \"500m\" or \"2\" for CPU, \"512Mi\" or \"4Gi\" for memory",
                lit.value()
            ),
        ))
    }
}

/// Parses `cpu = "1", mem = ("1Gi", "2Gi"), ...` into `Resources::new().cpu(..).mem(..)`.
fn resources(meta: &syn::meta::ParseNestedMeta, pairs: bool) -> syn::Result<TokenStream> {
    let mut calls = Vec::new();
    meta.parse_nested_meta(|inner| {
        let field = meta_key(&inner);
        let method = match field.as_str() {
            "cpu" | "mem" | "gpu" | "ephemeral_storage" => syn::Ident::new(&field, inner.path.span()),
            "memory" => syn::Ident::new("mem", inner.path.span()),
            _ => return Err(inner.error("unknown resource; use cpu, mem, gpu or ephemeral_storage")),
        };
        let value: syn::Expr = inner.value()?.parse()?;
        match &value {
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => quantity(s)?,
            syn::Expr::Tuple(t) if pairs && t.elems.len() == 2 => {
                for e in &t.elems {
                    if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = e {
                        quantity(s)?;
                    }
                }
            }
            syn::Expr::Tuple(t) => {
                return Err(syn::Error::new(
                    t.span(),
                    if pairs {
                        "a resource pair is (request, limit): two quantities"
                    } else {
                        "a (request, limit) pair is only accepted in `resources(...)`; here give one quantity"
                    },
                ));
            }
            _ => {}
        }
        calls.push(quote! { .#method(#value) });
        Ok(())
    })?;
    Ok(quote! { ::flytekit::__private::Resources::new() #(#calls)* })
}

/// Parses `KEY = "value", ...`.
fn pairs(meta: &syn::meta::ParseNestedMeta) -> syn::Result<Vec<(String, syn::Expr)>> {
    let mut out = Vec::new();
    meta.parse_nested_meta(|inner| {
        let key = match inner.path.get_ident() {
            Some(i) => ident_str(i),
            None => return Err(inner.error("expected `key = value`")),
        };
        out.push((key, inner.value()?.parse()?));
        Ok(())
    })?;
    Ok(out)
}

impl Args {
    pub(crate) fn parse(args: TokenStream) -> syn::Result<Self> {
        Self::parse_with(args, OPTIONS, |_, _| Ok(false))
    }

    /// Parses the options of `#[task]` plus those `extra` accepts: it is called with each
    /// option's name before the task options are tried, and returns whether it took it.
    /// `supported` lists every option for the error on an unknown one.
    pub(crate) fn parse_with(
        args: TokenStream,
        supported: &str,
        mut extra: impl FnMut(&str, &syn::meta::ParseNestedMeta) -> syn::Result<bool>,
    ) -> syn::Result<Self> {
        let mut out = Args::default();
        if args.is_empty() {
            return Ok(out);
        }
        let parser = syn::meta::parser(|meta| {
            let key = meta_key(&meta);
            if extra(&key, &meta)? {
                return Ok(());
            }
            let call = match key.as_str() {
                "name" => {
                    out.name = Some(lit_str(&meta)?);
                    return Ok(());
                }
                "outputs" => {
                    out.outputs = crate::node::parse_output_names(&meta)?;
                    return Ok(());
                }
                "task_type" => {
                    let v = lit_str(&meta)?;
                    quote! { .task_type(#v) }
                }
                "image" => {
                    let v: syn::Expr = meta.value()?.parse()?;
                    quote! { .image(#v) }
                }
                "image_spec" => {
                    let v: syn::Expr = meta.value()?.parse()?;
                    quote! { .image_spec(#v) }
                }
                "retries" => {
                    let v: syn::LitInt = meta.value()?.parse()?;
                    v.base10_parse::<u32>()?;
                    quote! { .retries(#v) }
                }
                "timeout" => {
                    let v: syn::Expr = meta.value()?.parse()?;
                    quote! { .timeout(#v) }
                }
                "cache" => {
                    out.cache = Some(flag(&meta)?);
                    return Ok(());
                }
                "cache_version" => {
                    out.cache_version = Some(lit_str(&meta)?);
                    return Ok(());
                }
                "cache_serialize" => {
                    let v = flag(&meta)?;
                    quote! { .cache_serialize(#v) }
                }
                "cache_ignored_inputs" => {
                    let v: syn::ExprArray = meta.value()?.parse()?;
                    let items = v.elems.iter();
                    quote! { .cache_ignored_inputs([#(#items),*]) }
                }
                "interruptible" => {
                    let v = flag(&meta)?;
                    quote! { .interruptible(#v) }
                }
                "deprecated" => {
                    let v = lit_str(&meta)?;
                    quote! { .deprecated(#v) }
                }
                "requests" | "limits" => {
                    out.has_requests_or_limits = Some(meta.path.span());
                    let r = resources(&meta, false)?;
                    let m = syn::Ident::new(&key, meta.path.span());
                    quote! { .#m(#r) }
                }
                "resources" => {
                    out.has_resources = Some(meta.path.span());
                    let r = resources(&meta, true)?;
                    quote! { .resources(#r) }
                }
                "env" => {
                    let calls = pairs(&meta)?
                        .into_iter()
                        .map(|(k, v)| quote! { .env(#k, #v) });
                    quote! { #(#calls)* }
                }
                "labels" | "annotations" | "tags" => {
                    let m = syn::Ident::new(
                        match key.as_str() {
                            "labels" => "label",
                            "annotations" => "annotation",
                            _ => "tag",
                        },
                        meta.path.span(),
                    );
                    let calls = pairs(&meta)?
                        .into_iter()
                        .map(|(k, v)| quote! { .#m(#k, #v) });
                    quote! { #(#calls)* }
                }
                "secret" => {
                    let mut group = None;
                    let mut key_ = None;
                    let mut extra = Vec::new();
                    meta.parse_nested_meta(|inner| {
                        let k = meta_key(&inner);
                        match k.as_str() {
                            "group" => group = Some(lit_str(&inner)?),
                            "key" => key_ = Some(lit_str(&inner)?),
                            "version" | "group_version" => {
                                let v = lit_str(&inner)?;
                                extra.push(quote! { .group_version(#v) });
                            }
                            "env_var" => {
                                let v = lit_str(&inner)?;
                                let s = v.value();
                                let ok = s
                                    .chars()
                                    .next()
                                    .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
                                    && s.chars().all(|c| {
                                        c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'
                                    });
                                if !ok {
                                    return Err(syn::Error::new(
                                        v.span(),
                                        "env_var must match ^[A-Z_][A-Z0-9_]*$",
                                    ));
                                }
                                extra.push(quote! { .env_var(#v) });
                            }
                            "mount" => {
                                let v = lit_str(&inner)?;
                                let m = match v.value().as_str() {
                                    "any" => quote! { Any },
                                    "env_var" => quote! { EnvVar },
                                    "file" => quote! { File },
                                    _ => {
                                        return Err(syn::Error::new(
                                            v.span(),
                                            "mount is \"any\", \"env_var\" or \"file\"",
                                        ));
                                    }
                                };
                                extra.push(
                                    quote! { .mount(::flytekit::__private::MountRequirement::#m) },
                                );
                            }
                            _ => {
                                return Err(inner
                                    .error("secret options: group, key, version, mount, env_var"));
                            }
                        }
                        Ok(())
                    })?;
                    let (Some(g), Some(k)) = (group, key_) else {
                        return Err(meta.error("a secret needs group = \"...\" and key = \"...\""));
                    };
                    quote! { .secret(::flytekit::__private::Secret::new(#g, #k) #(#extra)*) }
                }
                "pod_template" => {
                    let v: syn::Expr = meta.value()?.parse()?;
                    quote! { .pod_template(#v) }
                }
                "pod_template_name" => {
                    let v = lit_str(&meta)?;
                    quote! { .pod_template_name(#v) }
                }
                "accelerator" => {
                    let v: syn::Expr = meta.value()?.parse()?;
                    quote! { .accelerator(#v) }
                }
                "shared_memory" => {
                    if meta.input.peek(syn::Token![=]) {
                        let v: syn::Lit = meta.value()?.parse()?;
                        match v {
                            syn::Lit::Bool(b) if b.value => quote! { .shared_memory() },
                            syn::Lit::Bool(_) => quote! {},
                            syn::Lit::Str(s) => {
                                quantity(&s)?;
                                quote! { .shared_memory_limit(#s) }
                            }
                            other => {
                                return Err(syn::Error::new(
                                    other.span(),
                                    "shared_memory is true or a size such as \"2Gi\"",
                                ));
                            }
                        }
                    } else {
                        quote! { .shared_memory() }
                    }
                }
                "enable_deck" => {
                    let v = flag(&meta)?;
                    quote! { .enable_deck(#v) }
                }
                "deck_fields" => {
                    let mut fields = Vec::new();
                    meta.parse_nested_meta(|inner| {
                        let f = meta_key(&inner);
                        match f.as_str() {
                            "Input" | "Output" | "Timeline" | "SourceCode" | "Dependencies" => {
                                let i = syn::Ident::new(&f, inner.path.span());
                                fields.push(quote! { ::flytekit::__private::DeckField::#i });
                                Ok(())
                            }
                            _ => Err(inner.error(
                                "deck fields: Input, Output, Timeline, SourceCode, Dependencies",
                            )),
                        }
                    })?;
                    quote! { .deck_fields(&[#(#fields),*]) }
                }
                _ => return Err(meta.error(format!("unknown task option; supported: {supported}"))),
            };
            out.calls.push(call);
            Ok(())
        });
        syn::parse::Parser::parse2(parser, args)?;
        match (&out.cache, &out.cache_version) {
            (Some(on), Some(v)) if on.value => out.calls.push(quote! { .cache(#v) }),
            (Some(on), None) if on.value => {
                return Err(syn::Error::new(
                    on.span(),
                    "caching is enabled (`cache`) but `cache_version` is not set; add cache_version = \"1\"",
                ));
            }
            (_, Some(v)) => out.calls.push(quote! { .cache_version(#v) }),
            _ => {}
        }
        if let (Some(span), Some(_)) = (out.has_resources, out.has_requests_or_limits) {
            return Err(syn::Error::new(
                span,
                "`resources` can not be used together with `limits` or `requests`; set only `resources`",
            ));
        }
        Ok(out)
    }
}

/// The doc comment lines of an item.
pub(crate) fn doc_lines(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|l| l.strip_prefix(' ').map(str::to_string).unwrap_or(l))
        .collect()
}

/// A parameter's description from doc lines such as ``* `a` - the first number`` or
/// `- a: the first number`.
pub(crate) fn param_doc(lines: &[String], name: &str) -> String {
    for l in lines {
        let t = l.trim_start();
        let Some(rest) = t.strip_prefix(['*', '-']) else {
            continue;
        };
        let rest = rest.trim_start();
        let rest = rest
            .strip_prefix(&format!("`{name}`"))
            .or_else(|| rest.strip_prefix(name));
        if let Some(rest) = rest {
            let rest = rest.trim_start();
            if let Some(d) = rest.strip_prefix([':', '-', '—', '–']) {
                return d.trim().to_string();
            }
        }
    }
    String::new()
}

/// Whether `ty` is `&ExecutionContext` (any path ending in `ExecutionContext`).
pub(crate) fn is_context(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Reference(r) => match &*r.elem {
            syn::Type::Path(p) => p
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "ExecutionContext"),
            _ => false,
        },
        _ => false,
    }
}

/// `Result<T, E>` → `Some(T)`.
pub(crate) fn result_ok_type(ty: &syn::Type) -> Option<syn::Type> {
    let syn::Type::Path(p) = strip_parens(ty) else {
        return None;
    };
    let last = p.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
        return None;
    };
    match a.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = Args::parse(args)?;
    let func: syn::ItemFn = syn::parse2(item)?;
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a task function cannot be generic",
        ));
    }
    let fn_name = &sig.ident;
    let fn_str = ident_str(fn_name);
    let vis = &func.vis;
    let is_async = sig.asyncness.is_some();
    let lines = doc_lines(&func.attrs);

    let mut takes_cx = false;
    let mut inputs: Vec<(syn::Ident, syn::Type)> = Vec::new();
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            syn::FnArg::Typed(pt) => {
                if i == 0 && is_context(&pt.ty) {
                    takes_cx = true;
                    continue;
                }
                if is_context(&pt.ty) {
                    return Err(syn::Error::new(
                        pt.ty.span(),
                        "the `&ExecutionContext` parameter must come first",
                    ));
                }
                inputs.push(typed_input(pt)?);
            }
            syn::FnArg::Receiver(r) => {
                return Err(syn::Error::new(
                    r.span(),
                    "a task is a free function, not a method",
                ));
            }
        }
    }

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

    check_output_names(&args.outputs, outs.len(), sig.output.span())?;
    let block = body_block(&Call {
        fn_str: &fn_str,
        callee: quote! { super::#fn_name },
        takes_cx,
        is_async,
        fallible,
        instance: None,
        instance_first: false,
        inputs: &inputs,
        outs: &outs,
        output_names: &args.outputs,
        tuple_out,
    });
    let body = quote! {
        __flytekit_builder.body(|__flytekit_cx: ::flytekit::ExecutionContext, __flytekit_inputs: ::flytekit::idl::core::LiteralMap| #block)
    };
    let module = task_module(
        &TaskFn {
            vis,
            fn_name,
            fn_str: &fn_str,
            args: &args,
            lines: &lines,
            inputs: &inputs,
            outs: &outs,
            output: &output,
            kind: "task",
            attribute: "#[task]",
        },
        body,
        crate::map::map_modules(&fn_str, &inputs, &outs, &output_name(&args.outputs, 0)),
    );
    Ok(quote! {
        #func

        #module
    })
}

/// How a task body calls its function, for [`body_block`].
pub(crate) struct Call<'a> {
    /// The function's name (in conversion errors).
    pub fn_str: &'a str,
    /// The path of the function to call, e.g. `super::add`.
    pub callee: TokenStream,
    /// Whether it takes `&ExecutionContext` first.
    pub takes_cx: bool,
    /// Whether it is `async`.
    pub is_async: bool,
    /// Whether it returns `Result<T, E>` (an `Err` is a user error).
    pub fallible: bool,
    /// The instance argument after the context (an expression valid inside the body's
    /// `async move` block, e.g. `&*__flytekit_instance` for an `Arc` captured by it).
    pub instance: Option<TokenStream>,
    /// Whether the instance comes before the context (a method's `&self`).
    pub instance_first: bool,
    pub inputs: &'a [(syn::Ident, syn::Type)],
    pub outs: &'a [syn::Type],
    /// The declared output names (`outputs(..)`); empty for flytekit's `o0`, `o1`, ...
    pub output_names: &'a [String],
    pub tuple_out: bool,
}

/// The `async move { ... }` block of a task body: reads the inputs from `__flytekit_inputs`, calls
/// the function (on tokio's blocking pool when it is not async; with `__flytekit_cx` when it takes
/// the context), writes its value to the outputs `o0`, `o1`, ... and returns them.
pub(crate) fn body_block(c: &Call) -> TokenStream {
    let Call {
        fn_str,
        callee,
        takes_cx,
        is_async,
        fallible,
        instance,
        instance_first,
        inputs,
        outs,
        output_names,
        tuple_out,
    } = c;
    let reads = input_reads(fn_str, inputs);
    let arg_names: Vec<&syn::Ident> = inputs.iter().map(|(n, _)| n).collect();
    let instance_arg = instance.as_ref().map(|i| quote! { #i, });
    let lead = |cx_arg: Option<TokenStream>| {
        if *instance_first {
            quote! { #instance_arg #cx_arg }
        } else {
            quote! { #cx_arg #instance_arg }
        }
    };
    let call = if *is_async {
        let lead = lead(takes_cx.then(|| quote! { &__flytekit_cx, }));
        quote! { #callee(#lead #(#arg_names),*).await }
    } else {
        let lead = lead(takes_cx.then(|| quote! { &__flytekit_cx2, }));
        quote! {
            {
                let __flytekit_cx2 = __flytekit_cx.clone();
                ::flytekit::__private::run_blocking(#fn_str, move || #callee(#lead #(#arg_names),*)).await?
            }
        }
    };
    let value = if *fallible {
        quote! { #call.map_err(::flytekit::TaskError::from_user)? }
    } else {
        call
    };
    let writes = if outs.is_empty() {
        quote! { let () = __flytekit_value; }
    } else if !tuple_out {
        let var = output_name(output_names, 0);
        quote! {
            ::flytekit::__private::write_output(#fn_str, &mut __flytekit_out, #var, &__flytekit_value, __flytekit_cx.conversion()).await?;
        }
    } else {
        let names: Vec<syn::Ident> = (0..outs.len())
            .map(|i| syn::Ident::new(&format!("__flytekit_o{i}"), Span::call_site()))
            .collect();
        let ws = names.iter().enumerate().map(|(i, n)| {
            let var = output_name(output_names, i);
            quote! {
                ::flytekit::__private::write_output(#fn_str, &mut __flytekit_out, #var, &#n, __flytekit_cx.conversion()).await?;
            }
        });
        quote! {
            let ( #(#names,)* ) = __flytekit_value;
            #(#ws)*
        }
    };
    quote! {
        async move {
            #(#reads)*
            // The literals are read: free them before the body runs (large inputs are not held
            // twice, as literals and as values, while the body works).
            ::std::mem::drop(__flytekit_inputs);
            #[allow(clippy::let_unit_value)]
            let __flytekit_value = #value;
            #[allow(unused_mut)]
            let mut __flytekit_out = ::flytekit::idl::core::LiteralMap::default();
            #writes
            ::std::result::Result::Ok(__flytekit_out)
        }
    }
}

/// What a task attribute (`#[task]`, `#[dynamic]`) knows about its function, for [`task_module`].
pub(crate) struct TaskFn<'a> {
    pub vis: &'a syn::Visibility,
    pub fn_name: &'a syn::Ident,
    pub fn_str: &'a str,
    pub args: &'a Args,
    /// The function's doc comment, line by line.
    pub lines: &'a [String],
    pub inputs: &'a [(syn::Ident, syn::Type)],
    pub outs: &'a [syn::Type],
    pub output: &'a syn::Type,
    /// `"task"` or `"dynamic task"`, in the module's docs.
    pub kind: &'a str,
    /// `"#[task]"` or `"#[dynamic]"`, in the error for an invalid configuration.
    pub attribute: &'a str,
}

/// The companion module of a task function and its registration with the resolver registry.
/// `task()` builds the entity once: a `TaskBuilder` named `__flytekit_builder` with the name,
/// location, docs, source, interface and options, which `finish` (an expression that may also use
/// the name, `__flytekit_name`) turns into the builder to build, e.g. by giving it a body.
/// `node(...)` and the `extra` items follow in the module.
pub(crate) fn task_module(f: &TaskFn, finish: TokenStream, extra: TokenStream) -> TokenStream {
    let TaskFn {
        vis,
        fn_name,
        fn_str,
        args,
        lines,
        inputs,
        outs,
        output,
        kind,
        attribute,
    } = f;
    let (input_decls, output_decls) = interface_decls(inputs, outs, lines, &args.outputs);
    let name_expr = match &args.name {
        Some(n) => quote! { ::std::string::String::from(#n) },
        None => quote! { ::flytekit::__private::entity_name(::std::module_path!(), #fn_str) },
    };
    let docs = lines.join("\n");
    let docs = docs.trim();
    let calls = &args.calls;
    let node = node_fn(vis, inputs, output, &args.outputs, quote! { task() });
    let mod_doc = format!(
        "The Flyte {kind} of [`{fn_str}`](fn@{fn_name}): `task()` builds it once, `node(...)` \
         calls it from a workflow."
    );
    quote! {
        #[doc = #mod_doc]
        #[allow(dead_code)]
        #vis mod #fn_name {
            #[allow(unused_imports)]
            use super::*;

            /// The task, built on first use and cheap to clone afterwards.
            pub fn task() -> ::flytekit::Task {
                static TASK: ::std::sync::OnceLock<::flytekit::Task> = ::std::sync::OnceLock::new();
                TASK.get_or_init(|| {
                    let __flytekit_module = ::std::module_path!();
                    let __flytekit_parent = __flytekit_module
                        .strip_suffix(#fn_str)
                        .and_then(|p| p.strip_suffix("::"))
                        .unwrap_or(__flytekit_module);
                    let __flytekit_name: ::std::string::String = #name_expr;
                    let __flytekit_builder = ::flytekit::Task::builder(__flytekit_name.clone())
                        .located_at(__flytekit_parent, #fn_str)
                        .docs(#docs)
                        .source(::std::concat!(::std::file!(), ":", ::std::line!()))
                        #(#input_decls)*
                        #(#output_decls)*
                        #(#calls)*;
                    #finish
                        .build()
                        .unwrap_or_else(|e| ::std::panic!("invalid {} configuration of `{}`: {e}", #attribute, #fn_str))
                })
                .clone()
            }

            /// The task as the entity of a node (for `on_failure`, `stand_in!`).
            pub fn entity() -> ::flytekit::workflow::Entity {
                ::std::convert::Into::into(task())
            }

            #node

            #extra
        }

        ::flytekit::__private::inventory::submit! {
            ::flytekit::__private::TaskRegistration::new(#fn_name::task)
        }
    }
}

/// The statements that read each input from `__flytekit_inputs` into a local of its name.
pub(crate) fn input_reads(fn_str: &str, inputs: &[(syn::Ident, syn::Type)]) -> Vec<TokenStream> {
    inputs
        .iter()
        .map(|(n, ty)| {
            let var = ident_str(n);
            quote! {
                let #n: #ty = ::flytekit::__private::read_input::<#ty>(#fn_str, &__flytekit_inputs, #var, __flytekit_cx.conversion()).await?;
            }
        })
        .collect()
}

/// The `TaskBuilder` calls declaring a task's interface: `.input::<T>(name, doc)` per input (its
/// description from the doc comment `lines`) and `.output::<T>("o<i>", "")` per output.
pub(crate) fn interface_decls(
    inputs: &[(syn::Ident, syn::Type)],
    outs: &[syn::Type],
    lines: &[String],
    names: &[String],
) -> (Vec<proc_macro2::TokenStream>, Vec<proc_macro2::TokenStream>) {
    let input_decls = inputs
        .iter()
        .map(|(n, ty)| {
            let var = ident_str(n);
            let desc = param_doc(lines, &var);
            quote! { .input::<#ty>(#var, #desc) }
        })
        .collect();
    let output_decls = outs
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let var = output_name(names, i);
            quote! { .output::<#ty>(#var, "") }
        })
        .collect();
    (input_decls, output_decls)
}

/// A task input parameter as its name and type: an owned value bound to a plain name.
pub(crate) fn typed_input(pt: &syn::PatType) -> syn::Result<(syn::Ident, syn::Type)> {
    if let syn::Type::Reference(r) = &*pt.ty {
        return Err(syn::Error::new(
            r.span(),
            "task inputs are owned values (`String`, `Vec<T>`, ...), not references",
        ));
    }
    match &*pt.pat {
        syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
            Ok((pi.ident.clone(), (*pt.ty).clone()))
        }
        other => Err(syn::Error::new(
            other.span(),
            "task inputs must be plain names (`x: i64`): each becomes a named Flyte input",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        for ok in ["1", "500m", "2Gi", "1.5", ".5", "1e3", "+1"] {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["", "-1", "1GB", "one", "1 Gi", "1.2.3", "Gi", "."] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn param_docs() {
        let lines = vec![
            "Adds.".to_string(),
            "* `a` - the first".into(),
            "- b: the second".into(),
        ];
        assert_eq!(param_doc(&lines, "a"), "the first");
        assert_eq!(param_doc(&lines, "b"), "the second");
        assert_eq!(param_doc(&lines, "c"), "");
    }
}
