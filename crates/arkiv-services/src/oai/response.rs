//! The XML of responses: the OAI-PMH envelope, record headers and errors.
//! Written as text (the envelope is fixed, and each record's metadata comes
//! from its export format as a finished element); every value from a record
//! or a request goes through [`escape`].

use super::request::{OaiError, Request};
use arkiv_model::Timestamp;

pub const OAI_NS: &str = "http://www.openarchives.org/OAI/2.0/";

/// Escapes text for element content and double-quoted attributes, dropping
/// characters XML 1.0 cannot carry.
pub fn escape(s: &str, out: &mut String) {
    arkiv_formats::eprints::escape_into(s, out, arkiv_formats::eprints::Escape::Loose);
}

/// Opens the envelope: declaration, root, responseDate and the request
/// echo. Errors badVerb and badArgument echo no arguments (the protocol
/// says so: they were not understood).
pub fn open(out: &mut String, endpoint: &str, request: Option<&Request>) {
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OAI-PMH xmlns=\"");
    out.push_str(OAI_NS);
    out.push_str("\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:schemaLocation=\"");
    out.push_str(OAI_NS);
    out.push_str(" http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd\">\n<responseDate>");
    out.push_str(&Timestamp::now().to_iso8601());
    out.push_str("</responseDate>\n<request");
    if let Some(r) = request {
        out.push_str(" verb=\"");
        out.push_str(r.verb.as_str());
        out.push('"');
        for (k, v) in &r.args {
            out.push(' ');
            out.push_str(k);
            out.push_str("=\"");
            escape(v, out);
            out.push('"');
        }
    }
    out.push('>');
    escape(endpoint, out);
    out.push_str("</request>\n");
}

pub fn close(out: &mut String) {
    out.push_str("</OAI-PMH>\n");
}

/// A whole error response.
pub fn error(endpoint: &str, request: Option<&Request>, e: &OaiError) -> String {
    let mut out = String::with_capacity(1024);
    open(&mut out, endpoint, request);
    out.push_str("<error code=\"");
    out.push_str(e.code.as_str());
    out.push_str("\">");
    escape(&e.message, &mut out);
    out.push_str("</error>\n");
    close(&mut out);
    out
}

/// `<header>` of a record: identifier, datestamp, setSpecs, and
/// `status="deleted"` for a record no longer live.
pub fn header(out: &mut String, identifier: &str, datestamp: Timestamp, deleted: bool, sets: &[String]) {
    out.push_str(if deleted { "<header status=\"deleted\"><identifier>" } else { "<header><identifier>" });
    escape(identifier, out);
    out.push_str("</identifier><datestamp>");
    out.push_str(&datestamp.to_iso8601());
    out.push_str("</datestamp>");
    for s in sets {
        out.push_str("<setSpec>");
        escape(s, out);
        out.push_str("</setSpec>");
    }
    out.push_str("</header>");
}

/// The `<about>` of a harvested record: OAI-PMH's provenance container
/// (<http://www.openarchives.org/OAI/2.0/guidelines-provenance.htm>),
/// naming the source, the record's identifier and datestamp there, and
/// the format it was harvested in. `altered` is always true: Arkiv keeps
/// the record in its own model and writes it afresh.
pub fn provenance(out: &mut String, origin: &arkiv_storage::HarvestOrigin) {
    out.push_str(
        "<about><provenance xmlns=\"http://www.openarchives.org/OAI/2.0/provenance\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/provenance \
         http://www.openarchives.org/OAI/2.0/provenance.xsd\">",
    );
    out.push_str("<originDescription harvestDate=\"");
    out.push_str(&origin.harvested.to_iso8601());
    out.push_str("\" altered=\"true\"><baseURL>");
    escape(&origin.base_url, out);
    out.push_str("</baseURL><identifier>");
    escape(&origin.identifier, out);
    out.push_str("</identifier><datestamp>");
    escape(&origin.datestamp, out);
    out.push_str("</datestamp><metadataNamespace>");
    out.push_str(match origin.prefix.as_str() {
        "datacite" | "oai_datacite" => "http://datacite.org/schema/kernel-4",
        "ep3" => "http://eprints.org/ep2/data/2.0",
        _ => "http://www.openarchives.org/OAI/2.0/oai_dc/",
    });
    out.push_str("</metadataNamespace></originDescription></provenance></about>");
}

/// `<resumptionToken>`: with the token while the list goes on, empty on its
/// last page.
pub fn resumption_token(out: &mut String, token: Option<&str>, cursor: u64, complete_list_size: Option<u64>) {
    out.push_str("<resumptionToken");
    if let Some(n) = complete_list_size {
        out.push_str(&format!(" completeListSize=\"{n}\""));
    }
    out.push_str(&format!(" cursor=\"{cursor}\">"));
    if let Some(t) = token {
        escape(t, out);
    }
    out.push_str("</resumptionToken>\n");
}
