//! Citations as EPrints' `Text` ("ASCII Citation") and `HTML` ("HTML
//! Citation") exports give them: the repository's own citation line (the
//! one on the abstract page, `arkiv_model::citation`), with the record's
//! address. Plain text is one citation and its address per paragraph;
//! HTML a small page of linked citations, every value escaped.

use super::{ExportContext, ExportFormat, ExportWriter};
use crate::eprints::escape_markup as escape;
use arkiv_model::citation::citation_line;
use arkiv_model::Record;
use std::io::{self, Write};

pub const TEXT: ExportFormat = ExportFormat {
    id: "text",
    label: "Citation (plain text)",
    media_type: "text/plain; charset=utf-8",
    extension: "txt",
    writer: |ctx| Box::new(TextWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: None,
};

pub const HTML: ExportFormat = ExportFormat {
    id: "html",
    label: "Citation (HTML)",
    media_type: "text/html; charset=utf-8",
    extension: "html",
    writer: |ctx| Box::new(HtmlWriter { ctx: ctx.clone() }),
    list_may_be_empty: true,
    oai: None,
};

struct TextWriter {
    ctx: ExportContext,
}

impl ExportWriter for TextWriter {
    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let line = citation_line(record, &self.ctx.item_types);
        writeln!(out, "{line}\n{}\n", self.ctx.record_url(record))
    }
}

struct HtmlWriter {
    ctx: ExportContext,
}

impl ExportWriter for HtmlWriter {
    fn begin(&mut self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title></head><body>",
            escape(&self.ctx.repository_name)
        )
    }

    fn record(&mut self, record: &Record, out: &mut dyn Write) -> io::Result<()> {
        let line = citation_line(record, &self.ctx.item_types);
        let url = self.ctx.record_url(record);
        writeln!(out, "<p class=\"citation\">{} <a href=\"{}\">{}</a></p>", escape(&line), escape(&url), escape(&url))
    }

    fn end(&mut self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "</body></html>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::write_all;

    #[test]
    fn a_citation_in_text_and_html_with_its_address() {
        let ctx = ExportContext::example();
        let mut r = Record::new("policy_paper", "Less love, <more> fear");
        r.id = Some(7);
        let written = |format| {
            let mut out = Vec::new();
            write_all(format, &ctx, [&r], &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let text = written(&TEXT);
        assert!(text.contains("Less love, <more> fear"), "{text}");
        assert!(text.contains(&format!("{}/7/", ctx.base_url)), "{text}");
        let html = written(&HTML);
        assert!(html.contains("Less love, &lt;more&gt; fear") && !html.contains("<more>"), "{html}");
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</body></html>"));
    }
}
