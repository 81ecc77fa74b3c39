//! The OAI-PMH 2.0 data provider: the six verbs over a [`Repository`], as
//! text responses the web layer serves at `/oai2` (and `/cgi/oai2`).
//!
//! - `request.rs`: arguments, verbs, error codes, datestamps;
//! - `token.rs`: stateless, tamper-evident resumption tokens;
//! - `sets.rs`: set names and setSpec syntax;
//! - `response.rs`: the envelope and headers.
//! - `ahead.rs`: the next page of a harvest, made while the harvester
//!   reads this one.
//!
//! Records: every record that has ever been live, identified `oai:HOST:ID`
//! as EPrints does, dated by its lastmod, reported deleted once no longer
//! live (deletedRecord `persistent`). Lists are keyset pages by record id,
//! [`RECORDS_PER_PAGE`] records or [`IDENTIFIERS_PER_PAGE`] headers per
//! response, so a response's memory and cost are bounded whatever the size
//! of the repository; completeListSize is counted at the first request and
//! carried in the token.

mod ahead;
mod request;
mod response;
mod sets;
mod token;

pub use ahead::Ahead;
pub use request::{parse_datestamp, ErrorCode, Granularity, OaiError, Request, Verb};
pub use sets::{is_valid_spec, set_name};
pub use token::Token;

use crate::Repository;
use anyhow::Result;
use arkiv_formats::export::{oai_formats, ExportContext, OaiFormat};
use arkiv_model::oai_sets::record_sets;
use arkiv_model::{Record, RecordId, Status, Timestamp};
use arkiv_storage::OaiQuery;
use std::sync::Arc;

/// Harvested records' origins, by local id.
type Origins = std::collections::HashMap<RecordId, arkiv_storage::HarvestOrigin>;

/// Records per ListRecords response. EPrints and DSpace send 100; a
/// harvester pays a round trip and the server a query per response, and at
/// 100 those were about a quarter of a full harvest's time (BENCHMARKS.md). 500
/// records of oai_dc are about 750 KB, of DataCite about 1.5 MB: still a
/// bounded response, and arXiv's provider sends larger ones.
pub const RECORDS_PER_PAGE: usize = 500;
/// Headers per ListIdentifiers response (a header is about 300 bytes).
pub const IDENTIFIERS_PER_PAGE: usize = 1000;
pub const SETS_PER_PAGE: usize = 200;

/// The settings key of the secret that signs resumption tokens.
const TOKEN_KEY: &str = "oai_token_key";

/// Answers one request. `endpoint` is the URL it was sent to (the
/// response's `<request>`); `args` the arguments as sent, repeats included.
/// Protocol errors are answers; `Err` is only a failing store.
pub async fn respond(repo: &Arc<Repository>, endpoint: &str, args: &[(String, String)]) -> Result<String> {
    let request = match Request::parse(args) {
        Ok(r) => r,
        Err(e) => return Ok(response::error(endpoint, None, &e)),
    };
    let listing = matches!(request.verb, Verb::ListRecords | Verb::ListIdentifiers);
    if let Some(token) = request.get("resumptionToken").filter(|_| listing) {
        if let Some(body) = Ahead::take(repo, endpoint, request.verb, token).await? {
            return Ok(body);
        }
    }
    let provider = Provider { repo, ctx: repo.export_context(), endpoint, key: token_key(repo).await? };
    let answer = if listing {
        provider.list(&request).await?.map(|(body, next)| {
            if let Some(next) = next {
                Ahead::start(repo, endpoint, request.verb, next);
            }
            body
        })
    } else {
        provider.answer(&request).await?
    };
    match answer {
        Ok(body) => Ok(body),
        Err(e) => {
            let echo = !matches!(e.code, ErrorCode::BadArgument | ErrorCode::BadVerb);
            Ok(response::error(endpoint, echo.then_some(&request), &e))
        }
    }
}

/// The token secret, made on first use and kept in the store, so tokens
/// outlive restarts and every node of a repository shares it.
async fn token_key(repo: &Repository) -> Result<Vec<u8>> {
    if let Some(k) = repo.store.meta(TOKEN_KEY).await? {
        return Ok(k.into_bytes());
    }
    // Two nodes answering their first harvest at once both sign with the
    // key that landed first.
    let key = hex::encode(rand::random::<[u8; 32]>());
    Ok(repo.store.meta_or_insert(TOKEN_KEY, &key).await?.into_bytes())
}

type Answer = Result<Result<String, OaiError>>;

struct Provider<'a> {
    repo: &'a Repository,
    ctx: ExportContext,
    endpoint: &'a str,
    key: Vec<u8>,
}

fn format_for(prefix: &str) -> Result<&'static OaiFormat, OaiError> {
    oai_formats().map(|(_, o)| o).find(|o| o.prefix == prefix).ok_or_else(|| {
        OaiError::new(
            ErrorCode::CannotDisseminateFormat,
            format!("This repository does not serve the metadata format {prefix:?}."),
        )
    })
}

/// What a list request walks, from its arguments or its token.
struct ListState {
    prefix: String,
    query: OaiQuery,
    after: RecordId,
    cursor: u64,
    total: Option<u64>,
}

impl<'a> Provider<'a> {
    async fn answer(&self, request: &Request) -> Answer {
        match request.verb {
            Verb::Identify => self.identify(request).await,
            Verb::ListMetadataFormats => self.list_metadata_formats(request).await,
            Verb::ListSets => self.list_sets(request).await,
            Verb::GetRecord => self.get_record(request).await,
            Verb::ListIdentifiers | Verb::ListRecords => Ok(self.list(request).await?.map(|(body, _)| body)),
        }
    }

    fn begin(&self, request: &Request) -> String {
        let mut out = String::with_capacity(64 * 1024);
        response::open(&mut out, self.endpoint, Some(request));
        out
    }

    fn finish(mut out: String) -> String {
        response::close(&mut out);
        out
    }

    async fn identify(&self, request: &Request) -> Answer {
        let mut out = self.begin(request);
        let earliest = self.repo.store.oai_earliest().await?.unwrap_or_else(Timestamp::now);
        let host = &self.ctx.oai_host;
        let settings = self.repo.settings();
        let configured = settings.contact_email.trim();
        let email_ok = |e: &str| {
            e.split_once('@').is_some_and(|(u, d)| !u.is_empty() && d.contains('.') && !d.ends_with('.'))
                && !e.chars().any(char::is_whitespace)
        };
        let admin = if email_ok(configured) { configured.to_string() } else { format!("postmaster@{host}.invalid") };
        out.push_str("<Identify><repositoryName>");
        response::escape(&settings.name, &mut out);
        out.push_str("</repositoryName><baseURL>");
        response::escape(self.endpoint, &mut out);
        out.push_str("</baseURL><protocolVersion>2.0</protocolVersion><adminEmail>");
        response::escape(&admin, &mut out);
        out.push_str("</adminEmail><earliestDatestamp>");
        out.push_str(&earliest.to_iso8601());
        out.push_str("</earliestDatestamp><deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity>");
        // The oai-identifier description requires a domain name with a dot.
        if is_domain_name(host) {
            out.push_str(
                "<description><oai-identifier xmlns=\"http://www.openarchives.org/OAI/2.0/oai-identifier\" \
                 xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                 xsi:schemaLocation=\"http://www.openarchives.org/OAI/2.0/oai-identifier \
                 http://www.openarchives.org/OAI/2.0/oai-identifier.xsd\"><scheme>oai</scheme><repositoryIdentifier>",
            );
            out.push_str(host);
            out.push_str("</repositoryIdentifier><delimiter>:</delimiter><sampleIdentifier>oai:");
            out.push_str(host);
            out.push_str(":1</sampleIdentifier></oai-identifier></description>");
        }
        out.push_str("</Identify>\n");
        Ok(Ok(Self::finish(out)))
    }

    /// The record an `oai:HOST:ID` identifier names, if it was ever live.
    async fn find(&self, identifier: &str) -> Result<Result<Record, OaiError>> {
        let missing = || {
            OaiError::new(
                ErrorCode::IdDoesNotExist,
                format!("No record has the identifier {:?}.", identifier.chars().take(80).collect::<String>()),
            )
        };
        let id = identifier
            .strip_prefix("oai:")
            .and_then(|rest| rest.rsplit_once(':'))
            .filter(|(host, _)| *host == self.ctx.oai_host)
            .and_then(|(_, id)| id.parse::<RecordId>().ok())
            .filter(|id| *id > 0);
        let Some(id) = id else { return Ok(Err(missing())) };
        match self.repo.store.get_record(id).await? {
            Some(r) if r.datestamp.is_some() => Ok(Ok(r)),
            _ => Ok(Err(missing())),
        }
    }

    async fn list_metadata_formats(&self, request: &Request) -> Answer {
        if let Some(identifier) = request.get("identifier") {
            if let Err(e) = self.find(identifier).await? {
                return Ok(Err(e));
            }
        }
        let mut out = self.begin(request);
        out.push_str("<ListMetadataFormats>");
        for (_, f) in oai_formats() {
            out.push_str("<metadataFormat><metadataPrefix>");
            response::escape(f.prefix, &mut out);
            out.push_str("</metadataPrefix><schema>");
            response::escape(f.schema, &mut out);
            out.push_str("</schema><metadataNamespace>");
            response::escape(f.namespace, &mut out);
            out.push_str("</metadataNamespace></metadataFormat>");
        }
        out.push_str("</ListMetadataFormats>\n");
        Ok(Ok(Self::finish(out)))
    }

    async fn list_sets(&self, request: &Request) -> Answer {
        let (after, cursor) = match request.get("resumptionToken") {
            Some(t) => match Token::decode(t, &self.key).filter(|t| t.verb == "ListSets") {
                Some(t) => (t.after, t.cursor),
                None => return Ok(Err(bad_token())),
            },
            None => (String::new(), 0),
        };
        let mut specs = self.repo.store.oai_set_specs(&after, SETS_PER_PAGE as i64 + 1).await?;
        if specs.is_empty() {
            return Ok(Err(if after.is_empty() {
                OaiError::new(ErrorCode::NoSetHierarchy, "This repository has no sets yet.")
            } else {
                bad_token()
            }));
        }
        let more = specs.len() > SETS_PER_PAGE;
        specs.truncate(SETS_PER_PAGE);
        let mut out = self.begin(request);
        out.push_str("<ListSets>");
        for spec in &specs {
            out.push_str("<set><setSpec>");
            response::escape(spec, &mut out);
            out.push_str("</setSpec><setName>");
            response::escape(&set_name(spec, &self.ctx), &mut out);
            out.push_str("</setName></set>");
        }
        let next_cursor = cursor + specs.len() as u64;
        if more {
            let t = Token {
                verb: "ListSets".into(),
                prefix: String::new(),
                set: None,
                from: None,
                until: None,
                after: specs.last().cloned().unwrap_or_default(),
                cursor: next_cursor,
                complete_list_size: None,
            };
            response::resumption_token(&mut out, Some(&t.encode(&self.key)), cursor, None);
        } else if cursor > 0 {
            response::resumption_token(&mut out, None, cursor, None);
        }
        out.push_str("</ListSets>\n");
        Ok(Ok(Self::finish(out)))
    }

    async fn get_record(&self, request: &Request) -> Answer {
        let format = match format_for(request.get("metadataPrefix").unwrap_or_default()) {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        let record = match self.find(request.get("identifier").unwrap_or_default()).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        };
        let mut out = self.begin(request);
        out.push_str("<GetRecord>");
        let origins = self.origins(std::slice::from_ref(&record)).await?;
        self.write_record(&record, Some(format), &origins, &mut out);
        out.push_str("</GetRecord>\n");
        Ok(Ok(Self::finish(out)))
    }

    /// A list's records, rendered on every core in chunks and joined in
    /// order: rendering is most of a ListRecords response's cost, and a
    /// harvester waits for each response before it asks for the next. The
    /// records are freed where they were rendered, also in parallel.
    fn write_records(&self, records: Vec<Record>, format: Option<&OaiFormat>, origins: &Origins, out: &mut String) {
        use rayon::prelude::*;
        const CHUNK: usize = 50;
        if records.len() <= CHUNK {
            for record in &records {
                self.write_record(record, format, origins, out);
            }
            return;
        }
        let parts: Vec<String> = records
            .into_par_iter()
            .chunks(CHUNK)
            .map(|chunk| {
                let mut part = String::with_capacity(chunk.len() * 2048);
                for record in &chunk {
                    self.write_record(record, format, origins, &mut part);
                }
                part
            })
            .collect();
        out.reserve(parts.iter().map(String::len).sum());
        for part in parts {
            out.push_str(&part);
        }
    }

    /// One record (`format` given) or one header; a harvested record's
    /// `<about>` says where it came from (OAI-PMH's provenance container).
    fn write_record(&self, record: &Record, format: Option<&OaiFormat>, origins: &Origins, out: &mut String) {
        let deleted = record.status != Status::Archive;
        let datestamp = record.lastmod.or(record.datestamp).unwrap_or(Timestamp(0));
        let sets = record_sets(record, &self.ctx.subjects, self.ctx.today);
        if format.is_some() {
            out.push_str("<record>");
        }
        response::header(out, &self.ctx.oai_identifier(record), datestamp, deleted, &sets);
        if let Some(f) = format.filter(|_| !deleted) {
            out.push_str("<metadata>");
            (f.element)(record, &self.ctx, out);
            out.push_str("</metadata>");
            if let Some(origin) = record.id.and_then(|id| origins.get(&id)) {
                response::provenance(out, origin);
            }
        }
        if format.is_some() {
            out.push_str("</record>");
        }
        out.push('\n');
    }

    /// Where the harvested ones among `records` came from: one query by
    /// their ids (an index lookup, empty when nothing was harvested).
    async fn origins(&self, records: &[Record]) -> Result<Origins> {
        let ids: Vec<RecordId> = records.iter().filter_map(|r| r.id).collect();
        let origins = self.repo.store.harvest_origins(&ids).await?;
        Ok(origins.into_iter().map(|o| (o.record_id, o)).collect())
    }

    /// The walk a first list request asks for, or an error.
    async fn start_list(&self, request: &Request) -> Result<Result<ListState, OaiError>> {
        let prefix = request.get("metadataPrefix").unwrap_or_default().to_string();
        if let Err(e) = format_for(&prefix) {
            return Ok(Err(e));
        }
        let from = request.get("from").map(|s| parse_datestamp(s, false)).transpose();
        let until = request.get("until").map(|s| parse_datestamp(s, true)).transpose();
        let (from, until) = match (from, until) {
            (Ok(f), Ok(u)) => (f, u),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        if let (Some((f, fg)), Some((u, ug))) = (from, until) {
            if fg != ug {
                return Ok(Err(OaiError::bad_argument("from and until must have the same granularity.")));
            }
            if f > u {
                return Ok(Err(OaiError::bad_argument("from is later than until.")));
            }
        }
        let set = request.get("set").map(str::to_string);
        if let Some(s) = &set {
            if !is_valid_spec(s) {
                return Ok(Err(OaiError::bad_argument(format!(
                    "{:?} is not a setSpec.",
                    s.chars().take(80).collect::<String>()
                ))));
            }
        }
        let query = OaiQuery { set, from: from.map(|(t, _)| t), until: until.map(|(t, _)| t) };
        let total = self.repo.store.oai_count(&query).await?;
        Ok(Ok(ListState { prefix, query, after: 0, cursor: 0, total: Some(total.max(0) as u64) }))
    }

    /// A list page, and the resumption token of the next if there is one.
    async fn list(&self, request: &Request) -> Result<Result<(String, Option<String>), OaiError>> {
        let with_metadata = request.verb == Verb::ListRecords;
        let state = match request.get("resumptionToken") {
            Some(text) => {
                let token = Token::decode(text, &self.key).filter(|t| t.verb == request.verb.as_str());
                match token.and_then(|t| {
                    Some(ListState {
                        after: t.after.parse().ok()?,
                        prefix: t.prefix,
                        query: OaiQuery { set: t.set, from: t.from, until: t.until },
                        cursor: t.cursor,
                        total: t.complete_list_size,
                    })
                }) {
                    Some(s) => s,
                    None => return Ok(Err(bad_token())),
                }
            }
            None => match self.start_list(request).await? {
                Ok(s) => s,
                Err(e) => return Ok(Err(e)),
            },
        };
        let format = match format_for(&state.prefix) {
            Ok(f) => f,
            // A token for a format no longer served.
            Err(_) => return Ok(Err(bad_token())),
        };
        let page = if with_metadata { RECORDS_PER_PAGE } else { IDENTIFIERS_PER_PAGE };
        let mut records = self.repo.store.oai_records(&state.query, state.after, page as i64 + 1).await?;
        if records.is_empty() {
            return Ok(Err(OaiError::new(ErrorCode::NoRecordsMatch, "No records match the request.")));
        }
        let more = records.len() > page;
        records.truncate(page);
        let mut out = self.begin(request);
        out.push_str(if with_metadata { "<ListRecords>\n" } else { "<ListIdentifiers>\n" });
        let next_cursor = state.cursor + records.len() as u64;
        let last = records.last().and_then(|r| r.id).unwrap_or(0);
        let origins = if with_metadata { self.origins(&records).await? } else { Origins::new() };
        self.write_records(records, with_metadata.then_some(format), &origins, &mut out);
        let mut next = None;
        if more {
            let t = Token {
                verb: request.verb.as_str().into(),
                prefix: state.prefix.clone(),
                set: state.query.set.clone(),
                from: state.query.from,
                until: state.query.until,
                after: last.to_string(),
                cursor: next_cursor,
                // Records may come into the set's range while it is walked:
                // never announce fewer than already sent.
                complete_list_size: state.total.map(|n| n.max(next_cursor + 1)),
            };
            let token = t.encode(&self.key);
            response::resumption_token(
                &mut out,
                Some(&token),
                state.cursor,
                state.total.map(|n| n.max(next_cursor + 1)),
            );
            next = Some(token);
        } else if state.cursor > 0 {
            response::resumption_token(&mut out, None, state.cursor, state.total.map(|n| n.max(next_cursor)));
        }
        out.push_str(if with_metadata { "</ListRecords>\n" } else { "</ListIdentifiers>\n" });
        Ok(Ok((Self::finish(out), next)))
    }
}

fn bad_token() -> OaiError {
    OaiError::new(
        ErrorCode::BadResumptionToken,
        "The resumptionToken is not one this repository issued, or it has been altered.",
    )
}

/// `repo.example.org`: the form the oai-identifier schema allows.
fn is_domain_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            l.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
