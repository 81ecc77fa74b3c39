//! SWORD's multipart deposit: an Atom entry and a file in one request, as
//! `multipart/related` (RFC 2387; the SWORD profile's section 6.3.2), the
//! parts named `atom` and `payload` in their `Content-Disposition`. The
//! payload's own headers say its `Packaging` and `Content-MD5`; it may be
//! base64 (`Content-Transfer-Encoding: base64`, as the profile's examples
//! send it), decoded as it streams to the spool, never held whole. The
//! entry may be base64 too (PyPI's sword2 client encodes both parts).
//!
//! multer splits the parts (it reads any multipart body by its boundary);
//! the boundary is taken from the `Content-Type` here, since multer's own
//! parser accepts `multipart/form-data` only.

use super::{media, SwordProblem, MAX_ENTRY_BYTES};
use crate::AppState;
use arkiv_services::sword::Content;
use axum::body::Body;
use axum::http::{header, HeaderMap};
use base64::Engine;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use std::io;

/// The entry and the file of a multipart deposit, checked as a single
/// deposit's would be.
pub(super) async fn read(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Content, SwordProblem> {
    let boundary = boundary(headers)
        .ok_or_else(|| SwordProblem::bad_request("multipart/related needs its boundary in the Content-Type."))?;
    let mut parts = multer::Multipart::new(body.into_data_stream(), boundary);
    let unreadable =
        |e: multer::Error| SwordProblem::bad_request(format!("The multipart body could not be read: {e}."));
    let (mut entry, mut media_part) = (None, None);
    while let Some(field) = parts.next_field().await.map_err(unreadable)? {
        let part_headers = field.headers().clone();
        let base64 = is_base64(&part_headers);
        let bytes = field.map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()));
        let bytes: std::pin::Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>> =
            if base64 { Box::pin(decode_base64(bytes)) } else { Box::pin(bytes) };
        match part_name(&part_headers).as_deref() {
            Some("atom") if entry.is_none() => entry = Some(read_entry(bytes).await?),
            Some("payload") if media_part.is_none() => {
                media_part = Some(media(state, &part_headers, bytes).await?);
            }
            other => {
                return Err(SwordProblem::bad_request(format!(
                    "A multipart deposit has one part named atom and one named payload, not {other:?}."
                )))
            }
        }
    }
    match (entry, media_part) {
        (Some(entry), Some(media)) => Ok(Content::Multipart { entry, media: Box::new(media) }),
        _ => Err(SwordProblem::bad_request(
            "A multipart deposit needs both parts: atom (the entry) and payload (the file).",
        )),
    }
}

/// The boundary parameter of a `multipart/related` Content-Type.
fn boundary(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    ct.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

/// A part's name: `Content-Disposition`'s `name`, quoted or not.
fn part_name(headers: &HeaderMap) -> Option<String> {
    let cd = headers.get(header::CONTENT_DISPOSITION)?.to_str().ok()?;
    cd.split(';').find_map(|p| p.trim().strip_prefix("name=").map(|v| v.trim_matches('"').to_string()))
}

fn is_base64(headers: &HeaderMap) -> bool {
    headers
        .get("content-transfer-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("base64"))
}

async fn read_entry<S>(mut bytes: S) -> Result<Vec<u8>, SwordProblem>
where
    S: Stream<Item = io::Result<Bytes>> + Unpin,
{
    let mut entry = Vec::new();
    while let Some(chunk) = bytes.next().await {
        let chunk =
            chunk.map_err(|e| SwordProblem::bad_request(format!("The Atom entry part could not be read: {e}.")))?;
        if entry.len() + chunk.len() > MAX_ENTRY_BYTES {
            return Err(super::too_large(MAX_ENTRY_BYTES as u64));
        }
        entry.extend_from_slice(&chunk);
    }
    // An entry sent as base64 without saying so (the sword2 client's) is
    // read as what it decodes to when it is not XML as it stands.
    let text = entry.trim_ascii_start();
    if !text.starts_with(b"<") {
        let compact: Vec<u8> = entry.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(compact) {
            return Ok(decoded);
        }
    }
    Ok(entry)
}

/// Base64 decoded as it arrives: whitespace (line breaks) dropped, whole
/// quanta decoded, the rest carried to the next chunk.
fn decode_base64<S>(bytes: S) -> impl Stream<Item = io::Result<Bytes>> + Send
where
    S: Stream<Item = io::Result<Bytes>> + Unpin + Send,
{
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidData, format!("the payload is not base64: {why}"));
    futures::stream::unfold((bytes, Vec::new(), false), move |(mut bytes, mut carry, done)| async move {
        if done {
            return None;
        }
        loop {
            match bytes.next().await {
                Some(Ok(chunk)) => {
                    carry.extend(chunk.iter().filter(|b| !b.is_ascii_whitespace()));
                    let whole = carry.len() / 4 * 4;
                    if whole == 0 {
                        continue;
                    }
                    let rest = carry.split_off(whole);
                    let decoded = base64::engine::general_purpose::STANDARD
                        .decode(&carry)
                        .map(Bytes::from)
                        .map_err(|e| invalid(e.to_string()));
                    let failed = decoded.is_err();
                    return Some((decoded, (bytes, rest, failed)));
                }
                Some(Err(e)) => return Some((Err(e), (bytes, carry, true))),
                None if carry.is_empty() => return None,
                None => return Some((Err(invalid("it ends inside a quantum".into())), (bytes, Vec::new(), true))),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn base64_is_decoded_across_chunks_and_lines() {
        let text = b"%PDF-1.4 a file whose base64 is cut at awkward places";
        let encoded = base64::engine::general_purpose::STANDARD.encode(text);
        let wrapped: String =
            encoded.as_bytes().chunks(7).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("\r\n");
        let chunks: Vec<io::Result<Bytes>> =
            wrapped.as_bytes().chunks(5).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let out: Vec<Bytes> = decode_base64(futures::stream::iter(chunks)).try_collect().await.unwrap();
        assert_eq!(out.concat(), text);
        let bad = futures::stream::iter(vec![Ok(Bytes::from_static(b"QUJD!"))]);
        assert!(decode_base64(bad).try_collect::<Vec<_>>().await.is_err(), "not base64, or cut short");
    }
}
