//! What an uploaded file really is. A browser's Content-Type is whatever
//! the depositor's machine guessed from the name (or an attacker chose), so
//! the type recorded is read from the bytes: magic numbers through the
//! `infer` crate, then plain text, then the name's extension, never the
//! declared type alone. Downloads are served by this type, and anything
//! that could run script (HTML, SVG, XML) as a sandboxed attachment; a
//! type not known to be safe ([`is_safe_download_type`]) as bytes.

/// The MIME type of a file from its first bytes (`head`, up to a few KB),
/// its name and the type the browser declared.
pub fn mime_type(head: &[u8], filename: &str, declared: Option<&str>) -> String {
    // Markup is told apart below: `infer` calls an SVG image `text/xml`.
    if let Some(kind) = infer::get(head).filter(|k| !matches!(k.mime_type(), "text/xml" | "text/html")) {
        return kind.mime_type().to_string();
    }
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let text = std::str::from_utf8(head).is_ok() || head.len() == 8192 && std::str::from_utf8(&head[..8188]).is_ok();
    if text {
        let start = String::from_utf8_lossy(&head[..head.len().min(512)]).trim_start().to_ascii_lowercase();
        if start.starts_with("<!doctype html") || start.starts_with("<html") || ext == "html" || ext == "htm" {
            return "text/html".into();
        }
        if start.contains("<svg") || ext == "svg" {
            return "image/svg+xml".into();
        }
        if start.starts_with("<?xml") || ext == "xml" {
            return "application/xml".into();
        }
        return match ext.as_str() {
            "csv" => "text/csv",
            "md" => "text/markdown",
            "json" => "application/json",
            "bib" => "application/x-bibtex",
            "ris" => "application/x-research-info-systems",
            _ => "text/plain",
        }
        .into();
    }
    // Binary of a kind `infer` does not know: trust the declared type only
    // if it is one a browser neither runs nor renders (`text/ecmascript`,
    // say, would make the file a script of the site's origin).
    match declared.map(|d| d.split(';').next().unwrap_or("").trim().to_ascii_lowercase()) {
        Some(d) if is_safe_download_type(&d) => d,
        _ => "application/octet-stream".into(),
    }
}

/// Whether a browser given bytes of this type (its essence, lower case:
/// `text/plain`) neither runs them as script nor renders them as a page
/// with script: documents, images, sound, video, archives, data. Downloads
/// of any other type, but the markup served as sandboxed attachments
/// (HTML, SVG, XML), go out as `application/octet-stream`.
pub fn is_safe_download_type(essence: &str) -> bool {
    let Some((top, sub)) = essence.split_once('/') else { return false };
    match top {
        "image" => !sub.contains("svg") && !sub.contains("xml"),
        "audio" | "video" => !sub.contains("xml"),
        "text" => matches!(sub, "plain" | "csv" | "tab-separated-values" | "markdown" | "x-bibtex" | "x-tex"),
        "application" => {
            matches!(
                sub,
                "pdf"
                    | "octet-stream"
                    | "zip"
                    | "gzip"
                    | "x-gzip"
                    | "x-tar"
                    | "x-bzip2"
                    | "x-xz"
                    | "x-7z-compressed"
                    | "vnd.rar"
                    | "epub+zip"
                    | "rtf"
                    | "msword"
                    | "vnd.ms-excel"
                    | "vnd.ms-powerpoint"
                    | "json"
                    | "x-bibtex"
                    | "x-research-info-systems"
                    | "postscript"
            ) || sub.starts_with("vnd.openxmlformats-officedocument.")
                || sub.starts_with("vnd.oasis.opendocument.")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::mime_type;

    #[test]
    fn bytes_win_over_names_and_declared_types() {
        assert_eq!(mime_type(b"%PDF-1.7\n...", "paper.txt", Some("text/plain")), "application/pdf");
        assert_eq!(
            mime_type(b"<!DOCTYPE html><script>alert(1)</script>", "paper.pdf", Some("application/pdf")),
            "text/html"
        );
        assert_eq!(
            mime_type(b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>", "a.png", None),
            "image/svg+xml"
        );
        assert_eq!(mime_type(b"just words", "notes", None), "text/plain");
        assert_eq!(mime_type(&[0u8, 159, 146, 150, 1, 2], "x.bin", Some("text/html")), "application/octet-stream");
        let binary = [0u8, 159, 146, 150, 1, 2];
        assert_eq!(mime_type(&binary, "x.js", Some("text/ecmascript")), "application/octet-stream");
        assert_eq!(mime_type(&binary, "x.wasm", Some("application/wasm")), "application/octet-stream");
        assert_eq!(mime_type(&binary, "x.doc", Some("application/msword")), "application/msword");
    }
}
