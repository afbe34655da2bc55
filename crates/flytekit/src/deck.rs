//! Decks: the HTML report Flyte's console shows for a task run (`deck.html` beside `outputs.pb`,
//! contract §9). The Input, Output and Timeline decks are built in; user code adds its own with
//! [`ExecutionContext::add_deck`](crate::ExecutionContext::add_deck).

use std::fmt::Write as _;

use flytekit_idl::Message;
use flytekit_idl::core::{Literal, LiteralMap};

use crate::type_engine::literal_to_json;

/// One tab of `deck.html`: a name and an HTML body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deck {
    /// The tab's name (escaped when rendered).
    pub name: String,
    /// The tab's HTML body (trusted: build it with [`Deck::text`] or [`Deck::markdown`] for
    /// untrusted content).
    pub html: String,
}

impl Deck {
    /// A deck with raw HTML.
    pub fn html(name: impl Into<String>, html: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            html: html.into(),
        }
    }

    /// A deck showing plain text, HTML-escaped.
    pub fn text(name: impl Into<String>, text: &str) -> Self {
        Self::html(
            name,
            format!("<pre>{}</pre>", html_escape::encode_text(text)),
        )
    }

    /// A deck rendered from Markdown; raw HTML in the Markdown is escaped, not passed through.
    pub fn markdown(name: impl Into<String>, markdown: &str) -> Self {
        use pulldown_cmark::{Event, Parser};
        let events = Parser::new(markdown).map(|e| match e {
            Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
            other => other,
        });
        let mut out = String::new();
        pulldown_cmark::html::push_html(&mut out, events);
        Self::html(name, out)
    }

    /// A deck with a two-column table of a literal map's values rendered as JSON. Each value
    /// shows at most [`DECK_VALUE_LIMIT`] bytes of its rendering, with a note where it was cut.
    pub fn literal_map(name: impl Into<String>, map: &LiteralMap) -> Self {
        let mut names: Vec<&String> = map.literals.keys().collect();
        names.sort();
        let mut html =
            String::from("<table><thead><tr><th>name</th><th>value</th></tr></thead><tbody>");
        for n in names {
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{}</td></tr>",
                html_escape::encode_text(n),
                literal_cell(&map.literals[n])
            );
        }
        html.push_str("</tbody></table>");
        Self::html(name, html)
    }

    /// A timeline table from `(phase, seconds since start)` marks.
    pub fn timeline(marks: &[(String, f64)]) -> Self {
        let mut html = String::from(
            "<table><thead><tr><th>phase</th><th>started at (s)</th><th>duration (s)</th></tr></thead><tbody>",
        );
        for (i, (phase, at)) in marks.iter().enumerate() {
            let dur = marks.get(i + 1).map(|(_, next)| next - at);
            let _ = write!(
                html,
                "<tr><td>{}</td><td>{at:.6}</td><td>{}</td></tr>",
                html_escape::encode_text(phase),
                dur.map(|d| format!("{d:.6}")).unwrap_or_default()
            );
        }
        html.push_str("</tbody></table>");
        Self::html("Timeline", html)
    }
}

/// The most of one input or output value that the Input and Output decks show: this many bytes
/// of its JSON rendering (a 200 MB string input makes a deck of about this size, not 400 MB).
pub const DECK_VALUE_LIMIT: usize = 64 * 1024;

/// Literals up to this size (encoded) are rendered whole, then cut; larger ones are walked only
/// as far as the limit.
const RENDER_WHOLE_UP_TO: usize = 1024 * 1024;

/// The JSON rendering of `literal`, at most about `limit` bytes, and whether it was cut.
fn render_value(literal: &Literal, limit: usize) -> (String, bool) {
    if literal.encoded_len() <= RENDER_WHOLE_UP_TO {
        let mut text = serde_json::to_string_pretty(&literal_to_json(literal))
            .unwrap_or_else(|e| format!("<unrenderable: {e}>"));
        if text.len() <= limit {
            return (text, false);
        }
        text.truncate(floor_char_boundary(&text, limit));
        text.push_str(" …");
        return (text, true);
    }
    let mut w = CappedJson {
        out: String::new(),
        limit,
        cut: false,
    };
    w.literal(literal);
    if w.cut {
        w.out.push_str(" …");
    }
    (w.out, w.cut)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Compact JSON of a large literal, written only up to a limit: collections, maps and strings are
/// walked as far as the limit allows, so the work and memory are bounded by the limit.
struct CappedJson {
    out: String,
    limit: usize,
    cut: bool,
}

impl CappedJson {
    fn full(&mut self) -> bool {
        if self.out.len() >= self.limit {
            self.cut = true;
        }
        self.cut
    }

    fn literal(&mut self, lit: &Literal) {
        use flytekit_idl::core::{literal, primitive, scalar};
        if self.full() {
            return;
        }
        match &lit.value {
            Some(literal::Value::Collection(c)) => {
                self.out.push('[');
                for (i, l) in c.literals.iter().enumerate() {
                    if self.full() {
                        return;
                    }
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.literal(l);
                }
                self.out.push(']');
            }
            Some(literal::Value::Map(m)) => {
                self.out.push('{');
                for (i, (k, l)) in m.literals.iter().enumerate() {
                    if self.full() {
                        return;
                    }
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.string(k);
                    self.out.push_str(": ");
                    self.literal(l);
                }
                self.out.push('}');
            }
            Some(literal::Value::Scalar(s)) => match &s.value {
                Some(scalar::Value::Primitive(p)) => match &p.value {
                    Some(primitive::Value::StringValue(text)) => self.string(text),
                    _ => self.small(lit),
                },
                Some(scalar::Value::Union(u)) => match u.value.as_deref() {
                    Some(inner) => self.literal(inner),
                    None => self.out.push_str("null"),
                },
                Some(scalar::Value::Binary(b))
                    if b.value.len() > self.limit.saturating_sub(self.out.len()) =>
                {
                    let _ = write!(self.out, "<{} bytes of {:?} data>", b.value.len(), b.tag);
                    self.cut = true;
                }
                _ => self.small(lit),
            },
            _ => self.small(lit),
        }
    }

    /// A JSON string, cut at the limit.
    fn string(&mut self, text: &str) {
        let room = self.limit.saturating_sub(self.out.len());
        let shown = if text.len() > room {
            self.cut = true;
            &text[..floor_char_boundary(text, room)]
        } else {
            text
        };
        match serde_json::to_string(shown) {
            Ok(quoted) if self.cut => self.out.push_str(&quoted[..quoted.len() - 1]),
            Ok(quoted) => self.out.push_str(&quoted),
            Err(_) => self.out.push_str("\"?\""),
        }
    }

    /// A literal whose JSON is small (a number, a blob's URI, ...).
    fn small(&mut self, lit: &Literal) {
        let text = serde_json::to_string(&literal_to_json(lit))
            .unwrap_or_else(|e| format!("<unrenderable: {e}>"));
        self.out.push_str(&text);
    }
}

/// Renders `decks` into one self-contained HTML page titled after `task_name`.
pub fn render(task_name: &str, decks: &[Deck]) -> String {
    let mut nav = String::new();
    let mut bodies = String::new();
    for (i, d) in decks.iter().enumerate() {
        let _ = write!(
            nav,
            "<li onclick=\"handleLinkClick(this)\"{}>{}</li>",
            if i == 0 { " class=\"active\"" } else { "" },
            html_escape::encode_text(&d.name)
        );
        let _ = write!(
            bodies,
            "<div class=\"deck\"{}>{}</div>",
            if i == 0 {
                ""
            } else {
                " style=\"display:none\""
            },
            d.html
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 0; display: flex; }}
#nav {{ list-style: none; margin: 0; padding: 1em; min-width: 10em; background: #f4f4f8; }}
#nav li {{ cursor: pointer; padding: .4em; }}
#nav li.active {{ font-weight: bold; }}
#content {{ padding: 1em; flex: 1; }}
table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }}
</style>
</head>
<body>
<ul id="nav">{nav}</ul>
<div id="content">{bodies}</div>
<script>
function handleLinkClick(li) {{
  const items = Array.from(document.querySelectorAll('#nav li'));
  const decks = document.querySelectorAll('#content > .deck');
  items.forEach((x, i) => {{
    x.classList.toggle('active', x === li);
    decks[i].style.display = x === li ? '' : 'none';
  }});
}}
</script>
</body>
</html>
"#,
        title = html_escape::encode_text(task_name),
    )
}

/// A literal's value as a deck table cell: its JSON in `<pre>`, cut at [`DECK_VALUE_LIMIT`] bytes
/// with a note saying so.
pub(crate) fn literal_cell(literal: &flytekit_idl::core::Literal) -> String {
    let (value, cut) = render_value(literal, DECK_VALUE_LIMIT);
    let note = if cut {
        format!(
            "<p><em>The value was cut: the deck shows the first {} KiB of it (the literal is {} bytes).</em></p>",
            DECK_VALUE_LIMIT / 1024,
            literal.encoded_len()
        )
    } else {
        String::new()
    };
    format!("<pre>{}</pre>{note}", html_escape::encode_text(&value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_text_are_escaped() {
        let page = render(
            "t<1>",
            &[
                Deck::text("<b>", "<script>alert(1)</script>"),
                Deck::markdown("md", "# Hi\n<img src=x onerror=alert(1)>"),
            ],
        );
        assert!(!page.contains("<script>alert"));
        assert!(!page.contains("<img"));
        assert!(page.contains("&lt;b&gt;"));
        assert!(page.contains("<h1>Hi</h1>"));
    }

    #[test]
    fn large_values_are_cut_with_a_note() {
        use flytekit_idl::core::{
            LiteralCollection, Primitive, Scalar, literal, primitive, scalar,
        };
        let string = |s: String| Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Primitive(Primitive {
                    value: Some(primitive::Value::StringValue(s)),
                })),
            })),
            ..Default::default()
        };
        let int = |i: i64| Literal {
            value: Some(literal::Value::Scalar(Scalar {
                value: Some(scalar::Value::Primitive(Primitive {
                    value: Some(primitive::Value::Integer(i)),
                })),
            })),
            ..Default::default()
        };
        let long = Literal {
            value: Some(literal::Value::Collection(LiteralCollection {
                literals: (0..1_000_000).map(int).collect(),
            })),
            ..Default::default()
        };
        let map = LiteralMap {
            literals: [
                ("big".to_string(), string("é".repeat(3_000_000))),
                ("long".to_string(), long),
                ("small".to_string(), string("hi".into())),
            ]
            .into_iter()
            .collect(),
        };
        let deck = Deck::literal_map("Input", &map);
        assert!(
            deck.html.len() < 3 * DECK_VALUE_LIMIT + 4096,
            "{}",
            deck.html.len()
        );
        assert_eq!(deck.html.matches("The value was cut").count(), 2);
        assert!(deck.html.contains("&quot;hi&quot;") || deck.html.contains("\"hi\""));
        assert!(deck.html.contains("[0, 1, 2"));
    }
}
