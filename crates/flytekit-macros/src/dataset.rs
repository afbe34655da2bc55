//! Expansion of `#[derive(DatasetColumns)]`: a struct whose named fields are the columns of a
//! structured dataset, in order (flytekit's `kwtypes(name=type, ...)`).
//!
//! For
//!
//! ```text
//! #[derive(DatasetColumns)]
//! #[dataset(format = "parquet")]
//! struct Sale { region: String, #[dataset(rename = "Amount")] amount: Option<f64> }
//! ```
//!
//! the derive implements `::flytekit::dataset::DatasetColumns` with
//! `columns()` = `[DatasetColumn::of::<String>("region"), DatasetColumn::of::<Option<f64>>("Amount")]`,
//! `arrow_schema()` = one `Field` per column from `ColumnType::arrow_type()` and
//! `ColumnType::NULLABLE`, and `format()` = `"parquet"`. A field type that is not a
//! `ColumnType` fails the build at the field. The struct is a declaration: the derive also emits
//! an item that destructures and rebuilds it so that its fields do not warn as unused.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(DatasetColumns)] does not support generic types; implement flytekit::dataset::DatasetColumns by hand",
        ));
    }
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(fields) => fields,
            _ => return Err(not_a_struct(&input)),
        },
        _ => return Err(not_a_struct(&input)),
    };
    let mut format: Option<String> = None;
    let mut arrow_schema = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("dataset")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("format") {
                format = Some(meta.value()?.parse::<LitStr>()?.value());
                Ok(())
            } else if meta.path.is_ident("arrow_schema") {
                arrow_schema = true;
                Ok(())
            } else {
                Err(meta.error(
                    "unknown dataset attribute; supported on the struct: #[dataset(format = \"parquet\")], #[dataset(arrow_schema)]",
                ))
            }
        })?;
    }
    let mut names = Vec::new();
    let mut types = Vec::new();
    let mut idents = Vec::new();
    for field in &fields.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| syn::Error::new(field.span(), "unnamed field"))?;
        let mut name = ident.to_string().trim_start_matches("r#").to_string();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("dataset")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta.error(
                        "unknown dataset attribute; supported on a field: #[dataset(rename = \"column name\")]",
                    ))
                }
            })?;
        }
        if names.contains(&name) {
            return Err(syn::Error::new(
                field.span(),
                format!("column `{name}` is declared twice"),
            ));
        }
        names.push(name);
        types.push(field.ty.clone());
        idents.push(ident);
    }
    let ident = &input.ident;
    let ds = quote! { ::flytekit::dataset };
    let columns = names.iter().zip(&types).map(|(name, ty)| {
        quote! { #ds::DatasetColumn::of::<#ty>(#name) }
    });
    let arrow_fields = names.iter().zip(&types).map(|(name, ty)| {
        let span = ty.span();
        quote::quote_spanned! {span=>
            #ds::arrow::datatypes::Field::new(
                #name,
                <#ty as #ds::ColumnType>::arrow_type(),
                <#ty as #ds::ColumnType>::NULLABLE,
            )
        }
    });
    let format_fn = format.map(|f| {
        quote! {
            fn format() -> &'static str {
                #f
            }
        }
    });
    let external_fn = arrow_schema.then(|| {
        quote! {
            fn external_schema() -> ::std::option::Option<#ds::ExternalSchema> {
                ::std::option::Option::Some(#ds::ExternalSchema::arrow(
                    &<Self as #ds::DatasetColumns>::arrow_schema(),
                ))
            }
        }
    });
    Ok(quote! {
        impl #ds::DatasetColumns for #ident {
            fn columns() -> ::std::vec::Vec<#ds::DatasetColumn> {
                ::std::vec![#(#columns),*]
            }

            fn arrow_schema() -> #ds::arrow::datatypes::Schema {
                #ds::arrow::datatypes::Schema::new(::std::vec![#(#arrow_fields),*])
            }

            #format_fn
            #external_fn
        }

        // A declaration is never built or read; this keeps its fields from warning as unused.
        const _: () = {
            #[allow(dead_code, clippy::all)]
            fn __flytekit_dataset_columns(value: #ident) -> #ident {
                let #ident { #(#idents),* } = value;
                #ident { #(#idents),* }
            }
        };
    })
}

fn not_a_struct(input: &DeriveInput) -> syn::Error {
    syn::Error::new(
        input.ident.span(),
        "#[derive(DatasetColumns)] needs a struct with named fields, one per column",
    )
}
