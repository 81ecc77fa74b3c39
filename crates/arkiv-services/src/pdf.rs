//! A one-page PDF written by hand, for test fixtures, benchmarks and the demo.
//!
//! Generated records need a full text that a browser opens, a download counts
//! and `arkiv fsck` can hash, but not a typeset document. A PDF with a title and
//! a few lines of text in one of the fourteen standard fonts is a few hundred
//! bytes of plain syntax: catalog, page tree, one page, a font, a content
//! stream, and a cross-reference table of byte offsets. Writing it directly
//! keeps this crate free of a PDF engine; heavy PDF crates (for text extraction
//! or thumbnails) stay optional features of the crates that need them.
//!
//! The standard fonts are used with `WinAnsiEncoding`, which covers Latin-1 and
//! a few more characters (Š, Ž, Œ, dashes, quotes) but not Polish, Czech,
//! Lithuanian or Cyrillic letters. Those are transliterated (`ł` → `l`,
//! `Ж` → `Zh`); anything else becomes `?`. The metadata in the record keeps the
//! real spelling; only the fixture's rendering is folded.

use std::fmt::Write as _;

/// Page size: A4 in points.
const PAGE_WIDTH: u32 = 595;
const PAGE_HEIGHT: u32 = 842;
const MARGIN: u32 = 64;
/// Title font size and leading, in points.
const TITLE_SIZE: u32 = 15;
const TITLE_LEADING: u32 = 19;
/// Body font size and leading, in points.
const BODY_SIZE: u32 = 10;
const BODY_LEADING: u32 = 13;
/// Characters per line: Helvetica averages about half an em per character,
/// so this keeps text inside the margins without measuring glyphs.
const TITLE_CHARS: usize = 52;
const MAX_TITLE_LINES: usize = 6;
const BODY_CHARS: usize = 88;

/// A valid one-page PDF 1.4 with `title` in Helvetica Bold and `lines` below it
/// in Helvetica. Long lines are wrapped at word boundaries; text that does not
/// fit on the page is cut. An empty string in `lines` is a blank line.
pub fn small_pdf(title: &str, lines: &[&str]) -> Vec<u8> {
    let content = content_stream(title, lines);
    let info_title = info_string(title);

    let mut out: Vec<u8> = Vec::with_capacity(content.len() + 1024);
    // The second line is the customary comment of bytes above 127 that tells
    // transfer tools the file is binary.
    out.extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
    let mut offsets: Vec<usize> = Vec::with_capacity(7);
    let mut object = |out: &mut Vec<u8>, body: &[u8]| {
        offsets.push(out.len());
        let n = offsets.len();
        out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    };
    object(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut out,
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
             /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        )
        .as_bytes(),
    );
    object(&mut out, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
    object(&mut out, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>");
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(&content);
    stream.extend_from_slice(b"\nendstream");
    object(&mut out, &stream);
    let mut info = b"<< /Title ".to_vec();
    info.extend_from_slice(&info_title);
    info.extend_from_slice(b" /Producer (Arkiv test fixture) >>");
    object(&mut out, &info);

    let xref_at = out.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1);
    for off in &offsets {
        // Each entry is exactly 20 bytes: 10 digits, space, 5 digits, space,
        // type, space, newline.
        let _ = writeln!(xref, "{off:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root 1 0 R /Info {} 0 R >>\nstartxref\n{xref_at}\n%%EOF\n",
        offsets.len() + 1,
        offsets.len()
    );
    out.extend_from_slice(xref.as_bytes());
    out
}

/// The page's content stream: the title, then the lines, top to bottom.
fn content_stream(title: &str, lines: &[&str]) -> Vec<u8> {
    let mut s: Vec<u8> = Vec::with_capacity(512 + lines.iter().map(|l| l.len() + 8).sum::<usize>());
    let top = PAGE_HEIGHT - MARGIN - TITLE_SIZE;
    s.extend_from_slice(format!("BT\n/F2 {TITLE_SIZE} Tf\n{TITLE_LEADING} TL\n{MARGIN} {top} Td\n").as_bytes());
    let mut y = top as i64;
    for (i, line) in wrap(title, TITLE_CHARS).take(MAX_TITLE_LINES).enumerate() {
        if i > 0 {
            s.extend_from_slice(b"T*\n");
            y -= TITLE_LEADING as i64;
        }
        s.extend_from_slice(&literal(line));
        s.extend_from_slice(b" Tj\n");
    }
    // One blank body line between title and text.
    s.extend_from_slice(format!("/F1 {BODY_SIZE} Tf\n{BODY_LEADING} TL\nT*\n").as_bytes());
    y -= BODY_LEADING as i64;
    let bottom = MARGIN as i64;
    'page: for line in lines {
        let mut wrapped = wrap(line, BODY_CHARS).peekable();
        if wrapped.peek().is_none() {
            s.extend_from_slice(b"T*\n");
            y -= BODY_LEADING as i64;
        }
        for part in wrapped {
            y -= BODY_LEADING as i64;
            if y < bottom {
                break 'page;
            }
            // `'` moves to the next line and shows the string.
            s.extend_from_slice(&literal(part));
            s.extend_from_slice(b" '\n");
        }
    }
    s.extend_from_slice(b"ET");
    s
}

/// Splits `text` into lines of at most `width` characters at spaces; a word
/// longer than `width` stands on a line of its own.
fn wrap(text: &str, width: usize) -> impl Iterator<Item = &str> {
    let mut rest = text.trim();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len();
        let mut last_space = None;
        for (count, (i, c)) in rest.char_indices().enumerate() {
            if count == width {
                end = last_space
                    .unwrap_or_else(|| rest[i..].find(char::is_whitespace).map(|j| i + j).unwrap_or(rest.len()));
                break;
            }
            if c.is_whitespace() {
                last_space = Some(i);
            }
        }
        let line = &rest[..end];
        rest = rest[end..].trim_start();
        Some(line.trim_end())
    })
}

/// `text` as a PDF text string for the document information dictionary: a
/// literal in PDFDocEncoding when every character has a byte there (most
/// Latin titles), else UTF-16BE with a byte order mark, in hex. Either way the
/// metadata keeps every character the page itself cannot show.
fn info_string(text: &str) -> Vec<u8> {
    if let Some(bytes) = text.chars().map(pdfdoc).collect::<Option<Vec<u8>>>() {
        let mut out = Vec::with_capacity(bytes.len() + 2);
        out.push(b'(');
        bytes.into_iter().for_each(|b| push_escaped(&mut out, b));
        out.push(b')');
        return out;
    }
    let mut out = String::with_capacity(6 + text.len() * 4);
    out.push_str("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out.into_bytes()
}

/// The PDFDocEncoding byte of `c`, if it has one. It agrees with Latin-1 from
/// 0xA1 up, and differs from WinAnsi below.
fn pdfdoc(c: char) -> Option<u8> {
    let u = c as u32;
    match u {
        0x20..=0x7E | 0xA1..=0xAC | 0xAE..=0xFF => Some(u as u8),
        _ => Some(match c {
            '•' => 0x80,
            '†' => 0x81,
            '‡' => 0x82,
            '…' => 0x83,
            '—' => 0x84,
            '–' => 0x85,
            'ƒ' => 0x86,
            '‹' => 0x88,
            '›' => 0x89,
            '−' => 0x8A,
            '‰' => 0x8B,
            '„' => 0x8C,
            '\u{201C}' => 0x8D,
            '\u{201D}' => 0x8E,
            '\u{2018}' => 0x8F,
            '\u{2019}' => 0x90,
            '‚' => 0x91,
            '™' => 0x92,
            'Ł' => 0x95,
            'Œ' => 0x96,
            'Š' => 0x97,
            'Ÿ' => 0x98,
            'Ž' => 0x99,
            'ı' => 0x9A,
            'ł' => 0x9B,
            'œ' => 0x9C,
            'š' => 0x9D,
            'ž' => 0x9E,
            '€' => 0xA0,
            _ => return None,
        }),
    }
}

/// Appends one byte of a string literal: parentheses and backslashes escaped,
/// bytes above 126 as octal escapes so the file stays ASCII past its header,
/// control characters as spaces.
fn push_escaped(out: &mut Vec<u8>, b: u8) {
    match b {
        b'(' | b')' | b'\\' => {
            out.push(b'\\');
            out.push(b);
        }
        0x20..=0x7E => out.push(b),
        0x00..=0x1F | 0x7F => out.push(b' '),
        _ => {
            out.push(b'\\');
            out.push(b'0' + (b >> 6));
            out.push(b'0' + ((b >> 3) & 7));
            out.push(b'0' + (b & 7));
        }
    }
}

/// `text` as a PDF string literal in WinAnsi (see [`push_escaped`]), letters
/// outside it folded to ASCII, anything else as `?`.
fn literal(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 2);
    out.push(b'(');
    let mut push = |b: u8| push_escaped(&mut out, b);
    for c in text.chars() {
        if let Some(b) = winansi(c) {
            push(b);
        } else if let Some(t) = fold(c) {
            t.bytes().for_each(&mut push);
        } else {
            push(b'?');
        }
    }
    out.push(b')');
    out
}

/// The WinAnsi (Windows-1252) byte of `c`, if it has one.
fn winansi(c: char) -> Option<u8> {
    let u = c as u32;
    match u {
        0x00..=0x7F | 0xA0..=0xFF => Some(u as u8),
        _ => Some(match c {
            '€' => 0x80,
            '‚' => 0x82,
            'ƒ' => 0x83,
            '„' => 0x84,
            '…' => 0x85,
            '†' => 0x86,
            '‡' => 0x87,
            'ˆ' => 0x88,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201C}' => 0x93,
            '\u{201D}' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '˜' => 0x98,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            _ => return None,
        }),
    }
}

/// Base letters of U+0100..U+017F (Latin Extended-A), in order.
const LATIN_EXT_A: &[u8; 128] = b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// An ASCII spelling of a letter outside ASCII: diacritics dropped, Cyrillic
/// (Russian, Ukrainian, Kazakh) transliterated. `None` if there is none.
pub(crate) fn fold(c: char) -> Option<&'static str> {
    let u = c as u32;
    if u < 0x80 {
        return None;
    }
    if (0x100..0x180).contains(&u) {
        let b = LATIN_EXT_A[(u - 0x100) as usize];
        let i = if b.is_ascii_uppercase() { b - b'A' } else { 26 + b - b'a' } as usize;
        return Some(&LETTERS[i..i + 1]);
    }
    Some(match c {
        'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "A",
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' => "C",
        'ç' => "c",
        'È' | 'É' | 'Ê' | 'Ë' => "E",
        'è' | 'é' | 'ê' | 'ë' => "e",
        'Ì' | 'Í' | 'Î' | 'Ï' => "I",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'Ð' => "D",
        'ð' => "d",
        'Ñ' => "N",
        'ñ' => "n",
        'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "O",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => "o",
        'Ù' | 'Ú' | 'Û' | 'Ü' => "U",
        'ù' | 'ú' | 'û' | 'ü' => "u",
        'Ý' => "Y",
        'ý' | 'ÿ' => "y",
        'Þ' => "Th",
        'þ' => "th",
        'ß' => "ss",
        'Œ' => "OE",
        'œ' => "oe",
        'Ÿ' => "Y",
        'Ș' | 'Ş' => "S",
        'ș' | 'ş' => "s",
        'Ț' | 'Ţ' => "T",
        'ț' | 'ţ' => "t",
        'Ə' => "E",
        'ə' => "e",
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' => " ",
        '\u{2010}'..='\u{2015}' | '\u{2212}' => "-",
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{2032}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '«' | '»' => "\"",
        '…' => "...",
        '№' => "No.",
        // Cyrillic: Russian, then Ukrainian and Kazakh letters.
        'А' => "A",
        'Б' => "B",
        'В' => "V",
        'Г' => "G",
        'Д' => "D",
        'Е' => "E",
        'Ё' => "Yo",
        'Ж' => "Zh",
        'З' => "Z",
        'И' => "I",
        'Й' => "Y",
        'К' => "K",
        'Л' => "L",
        'М' => "M",
        'Н' => "N",
        'О' => "O",
        'П' => "P",
        'Р' => "R",
        'С' => "S",
        'Т' => "T",
        'У' => "U",
        'Ф' => "F",
        'Х' => "Kh",
        'Ц' => "Ts",
        'Ч' => "Ch",
        'Ш' => "Sh",
        'Щ' => "Shch",
        'Ъ' | 'Ь' | 'ъ' | 'ь' => "",
        'Ы' => "Y",
        'Э' => "E",
        'Ю' => "Yu",
        'Я' => "Ya",
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "yo",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ы' => "y",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        'Є' => "Ye",
        'є' => "ye",
        'І' => "I",
        'і' => "i",
        'Ї' => "Yi",
        'ї' => "yi",
        'Ґ' => "G",
        'ґ' => "g",
        'Ә' => "A",
        'ә' => "a",
        'Ғ' => "Gh",
        'ғ' => "gh",
        'Қ' => "Q",
        'қ' => "q",
        'Ң' => "Ng",
        'ң' => "ng",
        'Ө' => "O",
        'ө' => "o",
        'Ұ' | 'Ү' => "U",
        'ұ' | 'ү' => "u",
        'Һ' => "H",
        'һ' => "h",
        _ => return None,
    })
}

/// `text` in ASCII: each character folded, unknown ones dropped.
pub(crate) fn ascii_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if let Some(f) = fold(c) {
            out.push_str(f);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the structure a reader relies on: header, trailer, and that
    /// every xref entry points at its object.
    fn check_structure(pdf: &[u8]) {
        assert!(pdf.starts_with(b"%PDF-1.4\n"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
        // Past the binary comment of the header the file is ASCII, so byte
        // offsets and string offsets agree from there on.
        let body = std::str::from_utf8(&pdf[15..]).expect("ASCII after the header");
        let startxref: usize = body.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[startxref..].starts_with(b"xref\n0 8\n"));
        let xref = std::str::from_utf8(&pdf[startxref..]).unwrap();
        let entries: Vec<&str> = xref.lines().skip(2).take(8).collect();
        assert_eq!(entries[0], "0000000000 65535 f ");
        for (n, e) in entries.iter().enumerate().skip(1) {
            assert_eq!(e.len(), 19);
            let off: usize = e[..10].parse().unwrap();
            assert!(pdf[off..].starts_with(format!("{n} 0 obj\n").as_bytes()), "object {n}");
        }
        let text = body;
        // The stream's /Length is the exact byte count between the keywords.
        let s = text.find("stream\n").unwrap() + "stream\n".len();
        let e = text.find("\nendstream").unwrap();
        let len: usize = text.split("/Length ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        assert_eq!(e - s, len);
    }

    #[test]
    fn a_small_pdf_is_well_formed() {
        let pdf = small_pdf("Energy security: a title", &["First line.", "", "Second (with parentheses) \\ line."]);
        check_structure(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("(Energy security: a title) Tj"));
        assert!(text.contains("(Second \\(with parentheses\\) \\\\ line.) '"));
        assert!(pdf.len() < 3 * 1024, "{}", pdf.len());
        assert!(text.contains("/Title (Energy security: a title)"));
        assert_eq!(info_string("Łó – x"), b"(\\225\\363 \\205 x)".to_vec());
        assert_eq!(info_string("Łó Ж"), b"<FEFF014100F300200416>".to_vec());
    }

    #[test]
    fn text_outside_winansi_is_folded() {
        assert_eq!(literal("Łukasz Wójcik"), b"(Lukasz W\\363jcik)".to_vec());
        assert_eq!(literal("Jiří Dvořák"), b"(Jir\\355 Dvor\\341k)".to_vec());
        assert_eq!(literal("Олег Жуков"), b"(Oleg Zhukov)".to_vec());
        assert_eq!(literal("Қасымов Ұлан 中"), b"(Qasymov Ulan ?)".to_vec());
        assert_eq!(literal("Šimkus – Müller"), b"(\\212imkus \\226 M\\374ller)".to_vec());
        assert_eq!(ascii_fold("Ramūnas Šimkus, Zoë Lefèvre, Jürgen Weiß"), "Ramunas Simkus, Zoe Lefevre, Jurgen Weiss");
        assert_eq!(fold('ŀ'), Some("l"));
        assert_eq!(fold('ž'), Some("z"));
        assert_eq!(fold('ſ'), Some("s"));
    }

    #[test]
    fn long_text_is_wrapped_and_cut_at_the_page_end() {
        let long = "word ".repeat(3000);
        let title = "A very long title that will certainly need more than one line to be set in bold";
        let pdf = small_pdf(title, &[long.as_str()]);
        check_structure(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        let shown = text.matches(" '\n").count();
        assert!(shown > 10 && shown < 80, "{shown}");
        for line in text.lines().filter(|l| l.ends_with(" '")) {
            assert!(line.len() <= BODY_CHARS + 6, "{line}");
        }
        let parts: Vec<_> = wrap("  alpha beta gamma  ", 11).collect();
        assert_eq!(parts, ["alpha beta", "gamma"]);
        let parts: Vec<_> = wrap("supercalifragilistic x", 5).collect();
        assert_eq!(parts, ["supercalifragilistic", "x"]);
        assert_eq!(wrap("", 5).count(), 0);
    }
}
