//! The template environment for the Markdown and HTML renderings: the files in `templates/`
//! plus the report's stylesheet, so the comparison page looks like the report.
//!
//! `.html` templates are HTML-escaped; the Markdown template is not, and escapes its free text
//! with the `md` filter instead (table pipes, angle brackets).

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

const TEMPLATES: [(&str, &str); 3] = [
    ("compare.md", include_str!("templates/compare.md")),
    ("compare.html", include_str!("templates/compare.html")),
    // Shared with the report, so both pages look alike.
    ("style.css", crate::render::STYLE_CSS),
];

/// Renders template `name` with `ctx`; errors are template bugs, reported as text.
pub(crate) fn render(name: &str, ctx: impl serde::Serialize) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Block tags on lines of their own leave no blank lines: Markdown tables need that.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.add_filter("md", md_escape);
    for (n, source) in TEMPLATES {
        env.add_template(n, source).map_err(|e| format!("{e:#}"))?;
    }
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| format!("{e:#}"))
}

/// Escapes free text for a Markdown table cell or paragraph: backslashes and pipes are
/// backslash-escaped, angle brackets and ampersands become entities (GitHub would otherwise
/// read `<…>` as HTML), line breaks become spaces.
pub(crate) fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escaping() {
        assert_eq!(
            md_escape("a|b <script> & c\\d\ne"),
            "a\\|b &lt;script&gt; &amp; c\\\\d e"
        );
    }
}
