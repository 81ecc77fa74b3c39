//! Reading Arkiv's pages as a reader sees them, for assertions on what a
//! page shows rather than on its markup.

/// The text a browser shows for a stretch of HTML: script elements (the
/// JSON-LD is data, not text) and tags dropped, the entities minijinja (or
/// Arkiv) writes decoded.
pub fn visible(html: &str) -> String {
    let mut shown = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        shown.push_str(&rest[..start]);
        rest = rest[start..].find("</script>").map(|end| &rest[start + end + 9..]).unwrap_or("");
    }
    shown.push_str(rest);
    let mut out = String::new();
    let mut in_tag = false;
    for c in shown.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(&out)
}

/// Text with the entities Arkiv's pages and XML write decoded (`&amp;`
/// last, so that an escaped entity stays one).
pub fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_text_without_tags_or_scripts() {
        let html =
            r#"<p class="x">Rock &amp; <b>Roll</b> &lt;3</p><script type="application/ld+json">{"a":1}</script>&#39;s"#;
        assert_eq!(visible(html), "Rock & Roll <3's");
        assert_eq!(unescape("&amp;lt;"), "&lt;");
    }
}
