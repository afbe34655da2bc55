//! Datasets for people: the first rows as an HTML table (decks, like flytekit's
//! `TopFrameRenderer`), and a summary (URI, row count, schema) for `run`'s printed outputs.

use std::fmt::Write as _;

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use flytekit_idl::core::{Literal, LiteralMap, literal, scalar};
use futures::StreamExt;
use serde_json::{Value, json};

use super::columns::{DatasetColumns, pyarrow_type_string};
use super::error::DatasetError;
use super::read::without_zone;
use super::value::StructuredDataset;
use crate::deck::Deck;
use crate::type_engine::literals::{scalar_of, unwrap_union};
use crate::type_engine::{ConversionContext, FlyteType};

/// Rows a deck shows of each dataset (flytekit's `TopFrameRenderer` default).
pub const DECK_ROWS: usize = 10;

/// The first `max_rows` rows of `batches` as an HTML table (header: column names and types);
/// every value is HTML-escaped.
pub fn batches_to_html(schema: &SchemaRef, batches: &[RecordBatch], max_rows: usize) -> String {
    let mut html = String::from("<table class=\"dataset\"><thead><tr>");
    for field in schema.fields() {
        let _ = write!(
            html,
            "<th>{}<br><small>{}</small></th>",
            html_escape::encode_text(field.name()),
            html_escape::encode_text(&pyarrow_type_string(field.data_type()))
        );
    }
    html.push_str("</tr></thead><tbody>");
    let options = FormatOptions::default().with_null("null");
    let mut left = max_rows;
    'batches: for batch in batches {
        // Zoned timestamps print as their UTC instant and the zone's name (formatting them in
        // their zone needs a time zone database, which is not built in).
        let columns: Vec<(ArrayRef, String)> = batch
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Timestamp(_, Some(zone)) => match without_zone(c) {
                    Ok(naive) => (naive, format!(" {zone}")),
                    Err(_) => (c.clone(), String::new()),
                },
                _ => (c.clone(), String::new()),
            })
            .collect();
        let formatters: Vec<Option<(ArrayFormatter<'_>, &str, &ArrayRef)>> = columns
            .iter()
            .map(|(c, suffix)| {
                ArrayFormatter::try_new(c.as_ref(), &options)
                    .ok()
                    .map(|f| (f, suffix.as_str(), c))
            })
            .collect();
        for row in 0..batch.num_rows() {
            if left == 0 {
                break 'batches;
            }
            left -= 1;
            html.push_str("<tr>");
            for f in &formatters {
                let cell = match f {
                    Some((f, suffix, c)) if c.is_valid(row) => format!("{}{suffix}", f.value(row)),
                    Some((f, _, _)) => f.value(row).to_string(),
                    None => "?".to_string(),
                };
                let _ = write!(html, "<td>{}</td>", html_escape::encode_text(&cell));
            }
            html.push_str("</tr>");
        }
    }
    html.push_str("</tbody></table>");
    html
}

impl<C: DatasetColumns> StructuredDataset<C> {
    /// The first `max_rows` rows as an HTML table; reads no more than the row group holding them.
    pub async fn to_html(&self, max_rows: usize) -> Result<String, DatasetError> {
        let mut stream = self.stream().await?;
        let schema = stream.schema();
        let mut batches = Vec::new();
        let mut rows = 0;
        while rows < max_rows {
            match stream.next().await {
                Some(batch) => {
                    let batch = batch?;
                    rows += batch.num_rows();
                    batches.push(batch);
                }
                None => break,
            }
        }
        Ok(batches_to_html(&schema, &batches, max_rows))
    }

    /// A deck named `name` showing the dataset's first [`DECK_ROWS`] rows, for
    /// [`ExecutionContext::add_deck`](crate::ExecutionContext::add_deck).
    pub async fn deck(&self, name: impl Into<String>) -> Result<Deck, DatasetError> {
        let mut html = String::new();
        if let Some(uri) = self.uri() {
            let _ = write!(html, "<p>{}</p>", html_escape::encode_text(uri));
        }
        html.push_str(&self.to_html(DECK_ROWS).await?);
        Ok(Deck::html(name, html))
    }

    /// URI, format, row count and columns (`name: type`, pyarrow's type names) as JSON.
    pub async fn summary(&self) -> Result<Value, DatasetError> {
        let rows = self.num_rows().await?;
        let schema = match self.schema() {
            Some(s) => s,
            None => self.stream().await?.schema(),
        };
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| format!("{}: {}", f.name(), pyarrow_type_string(f.data_type())))
            .collect();
        Ok(json!({
            "uri": self.uri().unwrap_or_default(),
            "format": self.format(),
            "rows": rows,
            "columns": columns,
        }))
    }
}

/// The dataset a literal holds (top level or inside a union), read without declared columns.
async fn open(
    literal: &Literal,
    cx: &ConversionContext,
) -> Option<Result<StructuredDataset, DatasetError>> {
    match scalar_of(unwrap_union(literal)) {
        Some(scalar::Value::StructuredDataset(_)) => Some(
            StructuredDataset::from_literal(literal, cx)
                .await
                .map_err(|e| match e {
                    crate::type_engine::TypeError::Dataset(d) => match d.downcast::<DatasetError>()
                    {
                        Ok(d) => *d,
                        Err(other) => DatasetError::Batches(other.to_string()),
                    },
                    other => DatasetError::Batches(other.to_string()),
                }),
        ),
        _ => None,
    }
}

/// The input or output deck of a task: like [`Deck::literal_map`], but each dataset shows its
/// URI and first rows (or why they cannot be read).
pub(crate) async fn literal_map_deck(name: &str, map: &LiteralMap, cx: &ConversionContext) -> Deck {
    let mut names: Vec<&String> = map.literals.keys().collect();
    names.sort();
    let mut html =
        String::from("<table><thead><tr><th>name</th><th>value</th></tr></thead><tbody>");
    for n in names {
        let literal = &map.literals[n];
        let cell = match open(literal, cx).await {
            Some(Ok(ds)) => match ds.deck(n.as_str()).await {
                Ok(deck) => deck.html,
                Err(e) => format!("<pre>{}</pre>", html_escape::encode_text(&e.to_string())),
            },
            Some(Err(e)) => format!("<pre>{}</pre>", html_escape::encode_text(&e.to_string())),
            None => crate::deck::literal_cell(literal),
        };
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{cell}</td></tr>",
            html_escape::encode_text(n)
        );
    }
    html.push_str("</tbody></table>");
    Deck::html(name, html)
}

/// Replaces, in the JSON of `run`'s outputs, each dataset's URI by its summary (URI, format, row
/// count, columns); a dataset that cannot be read gets an `"error"` next to its URI.
pub(crate) async fn describe_outputs(
    outputs: &LiteralMap,
    json: &mut Value,
    cx: &ConversionContext,
) {
    for (name, literal) in &outputs.literals {
        if let Some(slot) = json.get_mut(name) {
            describe(literal, slot, cx, 0).await;
        }
    }
}

fn describe<'a>(
    literal: &'a Literal,
    slot: &'a mut Value,
    cx: &'a ConversionContext,
    depth: usize,
) -> futures::future::BoxFuture<'a, ()> {
    Box::pin(async move {
        if depth > 16 {
            return;
        }
        match (&literal.value, slot) {
            (Some(literal::Value::Collection(c)), Value::Array(items)) => {
                for (l, v) in c.literals.iter().zip(items.iter_mut()) {
                    describe(l, v, cx, depth + 1).await;
                }
            }
            (Some(literal::Value::Map(m)), Value::Object(entries)) => {
                for (k, l) in &m.literals {
                    if let Some(v) = entries.get_mut(k) {
                        describe(l, v, cx, depth + 1).await;
                    }
                }
            }
            (_, slot) => {
                if let Some(ds) = open(literal, cx).await {
                    let uri = slot.clone();
                    *slot = match ds {
                        Ok(ds) => match ds.summary().await {
                            Ok(summary) => summary,
                            Err(e) => json!({"uri": uri, "error": e.to_string()}),
                        },
                        Err(e) => json!({"uri": uri, "error": e.to_string()}),
                    };
                }
            }
        }
    })
}
