//! Expansion of `#[derive(FlyteType)]`.
//!
//! - On a struct with named fields (which also derives serde's `Serialize` and `Deserialize`): a
//!   Flyte `STRUCT`, exactly as flytekit treats a `@dataclass` (JSON schema in the literal type's
//!   metadata, field types in `structure.dataclass_type`, values as msgpack `Binary`).
//! - On an enum whose variants are all units: a Flyte enum of strings, as flytekit treats an
//!   `enum.Enum` whose values are strings.
//!
//! Names follow serde: `#[serde(rename = "...")]` on fields and variants and `#[serde(rename_all =
//! "...")]` on the container are honoured, so the names in the literal type match the names in the
//! msgpack that serde writes. `#[flyte(rename = "...")]` overrides a variant's value or the struct's
//! title (the Python class name). Fields with `#[serde(default)]` are optional in the schema, like
//! dataclass fields with a default; `#[serde(skip)]` fields are left out.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(FlyteType)] does not support generic types; implement flytekit::type_engine::FlyteType by hand",
        ));
    }
    let container = Attrs::parse(&input.attrs)?;
    match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => expand_struct(&input, &container, fields),
            _ => Err(syn::Error::new(
                input.ident.span(),
                "#[derive(FlyteType)] needs a struct with named fields (a dataclass) or a unit-only enum",
            )),
        },
        Data::Enum(data) => expand_enum(&input, &container, data),
        Data::Union(_) => Err(syn::Error::new(
            input.ident.span(),
            "#[derive(FlyteType)] needs a struct with named fields (a dataclass) or a unit-only enum",
        )),
    }
}

/// The `serde` and `flyte` attributes the derive understands; others are skipped.
#[derive(Default)]
struct Attrs {
    serde_rename: Option<String>,
    flyte_rename: Option<String>,
    rename_all: Option<(String, Span)>,
    /// `#[serde(default)]` (None inside) or `#[serde(default = "path")]` (the path).
    default: Option<Option<syn::ExprPath>>,
    skip: bool,
    flatten: bool,
}

impl Attrs {
    fn parse(attrs: &[syn::Attribute]) -> syn::Result<Self> {
        let mut out = Attrs::default();
        for attr in attrs {
            if attr.path().is_ident("serde") {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("rename") && meta.input.peek(syn::Token![=]) {
                        out.serde_rename = Some(meta.value()?.parse::<LitStr>()?.value());
                    } else if meta.path.is_ident("rename_all") && meta.input.peek(syn::Token![=]) {
                        let lit = meta.value()?.parse::<LitStr>()?;
                        out.rename_all = Some((lit.value(), lit.span()));
                    } else if meta.path.is_ident("default") {
                        if meta.input.peek(syn::Token![=]) {
                            let lit = meta.value()?.parse::<LitStr>()?;
                            out.default = Some(Some(lit.parse()?));
                        } else {
                            out.default = Some(None);
                        }
                    } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                        out.skip = true;
                    } else if meta.path.is_ident("flatten") {
                        out.flatten = true;
                    } else {
                        skip_meta_value(&meta)?;
                    }
                    Ok(())
                })?;
            } else if attr.path().is_ident("flyte") {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("rename") {
                        out.flyte_rename = Some(meta.value()?.parse::<LitStr>()?.value());
                        Ok(())
                    } else {
                        Err(meta.error(
                            "unknown flyte attribute; supported: #[flyte(rename = \"...\")]",
                        ))
                    }
                })?;
            }
        }
        Ok(out)
    }
}

/// Consumes the value of a serde attribute the derive does not need (`= "..."` or `(...)`).
fn skip_meta_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| skip_meta_value(&inner))?;
    }
    Ok(())
}

/// Applies serde's `rename_all` rule to a variant name (PascalCase) or field name (snake_case).
fn apply_rename_all(rule: &str, span: Span, name: &str, is_variant: bool) -> syn::Result<String> {
    let snake = if is_variant {
        let mut s = String::new();
        for (i, c) in name.char_indices() {
            if c.is_uppercase() && i > 0 {
                s.push('_');
            }
            s.extend(c.to_lowercase());
        }
        s
    } else {
        name.to_string()
    };
    let pascal = || -> String {
        if is_variant {
            return name.to_string();
        }
        let mut s = String::new();
        let mut upper = true;
        for c in name.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                s.extend(c.to_uppercase());
                upper = false;
            } else {
                s.push(c);
            }
        }
        s
    };
    Ok(match rule {
        "lowercase" => {
            if is_variant {
                name.to_ascii_lowercase()
            } else {
                name.to_string()
            }
        }
        "UPPERCASE" => name.to_ascii_uppercase(),
        "PascalCase" => pascal(),
        "camelCase" => {
            let p = pascal();
            let mut chars = p.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => p,
            }
        }
        "snake_case" => snake,
        "SCREAMING_SNAKE_CASE" => snake.to_ascii_uppercase(),
        "kebab-case" => snake.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => snake.replace('_', "-").to_ascii_uppercase(),
        other => {
            return Err(syn::Error::new(
                span,
                format!("unknown rename_all rule \"{other}\""),
            ));
        }
    })
}

/// The serialized name of a field or variant.
fn serialized_name(
    ident: &syn::Ident,
    attrs: &Attrs,
    container: &Attrs,
    is_variant: bool,
) -> syn::Result<String> {
    if let Some(name) = attrs.flyte_rename.as_ref().filter(|_| is_variant) {
        return Ok(name.clone());
    }
    if let Some(name) = &attrs.serde_rename {
        return Ok(name.clone());
    }
    let raw = ident.to_string();
    let raw = raw.strip_prefix("r#").unwrap_or(&raw);
    match &container.rename_all {
        Some((rule, span)) => apply_rename_all(rule, *span, raw, is_variant),
        None => Ok(raw.to_string()),
    }
}

fn expand_struct(
    input: &DeriveInput,
    container: &Attrs,
    fields: &syn::FieldsNamed,
) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let title = container
        .flyte_rename
        .clone()
        .or_else(|| container.serde_rename.clone())
        .unwrap_or_else(|| ident.to_string());
    let mut entries = Vec::new();
    let mut default_fns = Vec::new();
    for field in &fields.named {
        let Some(field_ident) = &field.ident else {
            continue;
        };
        let attrs = Attrs::parse(&field.attrs)?;
        if attrs.flatten {
            return Err(syn::Error::new(
                field.span(),
                "#[serde(flatten)] is not supported by #[derive(FlyteType)]: a dataclass has a fixed set of fields",
            ));
        }
        if attrs.skip {
            continue;
        }
        let name = serialized_name(field_ident, &attrs, container, false)?;
        let ty = &field.ty;
        let default = match (&attrs.default, &container.default) {
            (Some(None), _) => {
                quote! { Some(::flytekit::__private::dataclass::default_json::<#ty>) }
            }
            (Some(Some(path)), _) => {
                let f = format_ident!("__default_{}", field_ident);
                default_fns.push(quote! {
                    fn #f() -> ::flytekit::type_engine::JsonValue {
                        ::flytekit::__private::dataclass::to_json(&#path())
                    }
                });
                quote! { Some(#f) }
            }
            (None, Some(_)) => {
                let f = format_ident!("__default_{}", field_ident);
                default_fns.push(quote! {
                    fn #f() -> ::flytekit::type_engine::JsonValue {
                        ::flytekit::__private::dataclass::to_json(&<#ident as ::core::default::Default>::default().#field_ident)
                    }
                });
                quote! { Some(#f) }
            }
            (None, None) => quote! { None },
        };
        entries.push(quote! {
            ::flytekit::__private::dataclass::Field {
                name: #name,
                literal_type: <#ty as ::flytekit::type_engine::FlyteType>::literal_type,
                json_schema: <#ty as ::flytekit::type_engine::FlyteType>::json_schema,
                default: #default,
            }
        });
    }
    Ok(quote! {
        const _: () = {
            #(#default_fns)*

            const FIELDS: &[::flytekit::__private::dataclass::Field] = &[#(#entries),*];

            impl ::flytekit::type_engine::FlyteType for #ident {
                fn literal_type() -> ::flytekit::idl::core::LiteralType {
                    ::flytekit::__private::dataclass::literal_type(
                        <Self as ::flytekit::type_engine::FlyteType>::json_schema(),
                        FIELDS,
                    )
                }

                fn json_schema() -> ::flytekit::type_engine::JsonValue {
                    ::flytekit::__private::dataclass::json_schema(#title, FIELDS)
                }

                async fn to_literal(
                    &self,
                    _cx: &::flytekit::type_engine::ConversionContext,
                ) -> ::core::result::Result<::flytekit::idl::core::Literal, ::flytekit::type_engine::TypeError> {
                    ::flytekit::__private::dataclass::to_literal(self)
                }

                async fn from_literal(
                    literal: &::flytekit::idl::core::Literal,
                    _cx: &::flytekit::type_engine::ConversionContext,
                ) -> ::core::result::Result<Self, ::flytekit::type_engine::TypeError> {
                    ::flytekit::__private::dataclass::from_literal(
                        literal,
                        <Self as ::flytekit::type_engine::FlyteType>::literal_type,
                    )
                }
            }
        };
    })
}

fn expand_enum(
    input: &DeriveInput,
    container: &Attrs,
    data: &syn::DataEnum,
) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    if data.variants.is_empty() {
        return Err(syn::Error::new(
            ident.span(),
            "#[derive(FlyteType)] needs at least one enum variant",
        ));
    }
    let mut values = Vec::new();
    let mut to_arms = Vec::new();
    let mut from_arms = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            return Err(syn::Error::new(
                variant.span(),
                "#[derive(FlyteType)] supports only unit variants (a Flyte enum is a set of strings)",
            ));
        }
        let attrs = Attrs::parse(&variant.attrs)?;
        let value = serialized_name(&variant.ident, &attrs, container, true)?;
        if values.contains(&value) {
            return Err(syn::Error::new(
                variant.span(),
                format!("two variants have the value \"{value}\""),
            ));
        }
        let v = &variant.ident;
        to_arms.push(quote! { Self::#v => #value });
        from_arms.push(quote! { #value => Ok(Self::#v) });
        values.push(value);
    }
    Ok(quote! {
        const _: () = {
            const VALUES: &[&str] = &[#(#values),*];

            impl ::flytekit::type_engine::FlyteType for #ident {
                fn literal_type() -> ::flytekit::idl::core::LiteralType {
                    ::flytekit::__private::enums::literal_type(VALUES)
                }

                async fn to_literal(
                    &self,
                    _cx: &::flytekit::type_engine::ConversionContext,
                ) -> ::core::result::Result<::flytekit::idl::core::Literal, ::flytekit::type_engine::TypeError> {
                    let value = match self {
                        #(#to_arms,)*
                    };
                    Ok(::flytekit::__private::enums::to_literal(value))
                }

                async fn from_literal(
                    literal: &::flytekit::idl::core::Literal,
                    _cx: &::flytekit::type_engine::ConversionContext,
                ) -> ::core::result::Result<Self, ::flytekit::type_engine::TypeError> {
                    match ::flytekit::__private::enums::from_literal(literal, VALUES)? {
                        #(#from_arms,)*
                        other => Err(::flytekit::__private::enums::unknown_value(other, VALUES)),
                    }
                }
            }
        };
    })
}
