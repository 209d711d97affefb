//! Escaping archived text for the formats we write, and the one guard on archived links.
//!
//! Everything here takes text from the network (titles, outlet names, URLs, errors) and makes it
//! inert in one output format. askama escapes the web pages itself; these are for the writers that
//! build their output by hand: the digest (Markdown, HTML), OPML and the Atom feed's text.

use url::Url;

/// An archived link that may become a clickable link: an absolute http(s) URL, parsed. Anything else
/// (`javascript:`, `data:`, relative, unparsable) is `None` and is shown as text, never linked.
pub fn http_url(url: &str) -> Option<Url> {
    let parsed = Url::parse(url.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(parsed)
}

/// Text for HTML element content and quoted attribute values.
pub fn html(s: &str) -> String {
    markup(s, false)
}

/// Text for Markdown: nothing in a title may become a link, an image, HTML, code or emphasis.
/// (Brackets are enough to stop link syntax, so parentheses stay readable.) Line breaks become
/// spaces, so a title stays on its table row or list item.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '!' | '|' | '>' | '~' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A Markdown link target: an http(s) URL ([`http_url`]) with the characters that would end or
/// break the target percent-encoded; empty for anything else (the caller then writes no link).
pub fn markdown_url(url: &str) -> String {
    match http_url(url) {
        Some(u) => u
            .as_str()
            .replace('(', "%28")
            .replace(')', "%29")
            .replace(' ', "%20")
            .replace('<', "%3C")
            .replace('>', "%3E"),
        None => String::new(),
    }
}

/// Whether XML 1.0 carries `c` without trouble: tab, line feed, carriage return, and no other
/// control character (C0, DEL, C1), surrogate or non-character U+FFFE/U+FFFF.
pub fn xml_allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r') || !(c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}'))
}

/// Text with the characters XML 1.0 cannot carry dropped, for a template that escapes the rest.
pub fn xml_text(s: &str) -> String {
    s.chars().filter(|&c| xml_allowed(c)).collect()
}

/// Text for an XML attribute value or element content: escaped, line breaks and tabs as character
/// references (so an attribute keeps them), characters XML cannot carry dropped.
pub fn xml(s: &str) -> String {
    markup(s, true)
}

/// The five markup characters escaped; for XML also `&apos;` rather than HTML's `&#39;`, white space
/// other than a space as references, and what XML cannot carry dropped.
fn markup(s: &str, xml: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' if xml => out.push_str("&apos;"),
            '\'' => out.push_str("&#39;"),
            '\n' if xml => out.push_str("&#10;"),
            '\r' if xml => out.push_str("&#13;"),
            '\t' if xml => out.push_str("&#9;"),
            c if xml && !xml_allowed(c) => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_http_only() {
        assert_eq!(
            http_url(" https://example.org/a?b=1 ")
                .map(String::from)
                .as_deref(),
            Some("https://example.org/a?b=1")
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "/relative",
            "ftp://x.org/",
            "",
            "http//x",
        ] {
            assert_eq!(http_url(bad), None, "{bad}");
            assert_eq!(markdown_url(bad), "", "{bad}");
        }
        assert_eq!(
            markdown_url("https://x.org/a (b)<c>"),
            "https://x.org/a%20%28b%29%3Cc%3E"
        );
    }

    #[test]
    fn html_and_markdown() {
        assert_eq!(
            html(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(
            markdown("[x](y) *b* <i>\n#1 & `c`"),
            r"\[x\](y) \*b\* &lt;i\> \#1 &amp; \`c\`"
        );
    }

    #[test]
    fn xml_drops_what_it_cannot_carry() {
        let hostile = "a\u{0}b\u{8}c\u{7F}d\u{85}e\u{FFFE}f\u{FFFF}g\th\ni\rj";
        assert_eq!(xml_text(hostile), "abcdefg\th\ni\rj");
        assert_eq!(xml(hostile), "abcdefg&#9;h&#10;i&#13;j");
        assert_eq!(
            xml(r#"<a b="c">'&'"#),
            "&lt;a b=&quot;c&quot;&gt;&apos;&amp;&apos;"
        );
    }
}
