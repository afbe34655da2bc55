//! Decks: the HTML report Flyte's console shows for a task run (`deck.html` beside `outputs.pb`,
//! contract §9). The Input, Output and Timeline decks are built in; user code adds its own with
//! [`ExecutionContext::add_deck`](crate::ExecutionContext::add_deck).

use std::fmt::Write as _;

use flytekit_idl::core::LiteralMap;

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

    /// A deck with a two-column table of a literal map's values rendered as JSON.
    pub fn literal_map(name: impl Into<String>, map: &LiteralMap) -> Self {
        let mut names: Vec<&String> = map.literals.keys().collect();
        names.sort();
        let mut html =
            String::from("<table><thead><tr><th>name</th><th>value</th></tr></thead><tbody>");
        for n in names {
            let value = serde_json::to_string_pretty(&literal_to_json(&map.literals[n]))
                .unwrap_or_else(|e| format!("<unrenderable: {e}>"));
            let _ = write!(
                html,
                "<tr><td>{}</td><td><pre>{}</pre></td></tr>",
                html_escape::encode_text(n),
                html_escape::encode_text(&value)
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
}
