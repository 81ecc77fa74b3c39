//! Formatted citations in the styles readers ask for (APA, Chicago
//! author-date, Harvard, MLA, IEEE) and in any CSL style file: the "Cite"
//! box of the abstract page and the formatted-bibliography exports.
//!
//! STUB: every style renders the repository's own citation line until the
//! CSL renderer (hayagriva) lands; the API is what callers build on.

use super::ExportContext;
use arkiv_model::Record;

/// A citation style readers can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitationStyle {
    /// URL parameter and file-name part: `apa`.
    pub id: &'static str,
    /// What the style picker shows: "APA (7th edition)".
    pub label: &'static str,
}

/// The built-in styles, in the order the style picker lists them.
pub static STYLES: &[CitationStyle] = &[
    CitationStyle { id: "apa", label: "APA (7th edition)" },
    CitationStyle { id: "chicago-author-date", label: "Chicago (author-date)" },
    CitationStyle { id: "harvard", label: "Harvard (Cite Them Right)" },
    CitationStyle { id: "mla", label: "MLA (9th edition)" },
    CitationStyle { id: "ieee", label: "IEEE" },
];

/// One record formatted in one style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormattedCitation {
    /// Plain text, for copying.
    pub text: String,
    /// An HTML fragment (escaped; `<i>` and the like for the style's
    /// formatting), for showing.
    pub html: String,
}

/// `record` in the built-in style `style_id`, or `None` for an unknown style.
pub fn render(style_id: &str, record: &Record, ctx: &ExportContext) -> Option<FormattedCitation> {
    STYLES.iter().find(|s| s.id == style_id)?;
    let text = arkiv_model::citation::citation_line(record, &ctx.item_types);
    let html = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    Some(FormattedCitation { text, html })
}
