//! What EPrints 3.4 writes into its addresses, read back: the encoding of
//! view values in file names (`escape_filename`), the ids of its export
//! plugins, the relation tails of thumbnail addresses and the serialised
//! searches of its export links. Pure functions of the path; the web layer
//! (`pages/eprints_urls.rs`) turns them into Arkiv's addresses.
//!
//! Written by hand: no crate knows EPrints' conventions. Each function
//! names the EPrints source it mirrors (github:eprints/eprints3.4).

use arkiv_model::PersonName;

/// Reverses EPrints' `escape_filename` (perl_lib/EPrints/Utils.pm:1385-1440):
/// `_` is a space, `=XX` a character below 256 and `==XXXX` one above, by
/// code point (`M=FCller` is "Müller"). `None` for a malformed escape.
pub fn unescape_filename(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '=' {
            let (digits, skip) = if rest.starts_with("==") { (rest.get(2..6)?, 6) } else { (rest.get(1..3)?, 3) };
            if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(char::from_u32(u32::from_str_radix(digits, 16).ok()?)?);
            rest = &rest[skip..];
        } else {
            out.push(if c == '_' { ' ' } else { c });
            rest = &rest[c.len_utf8()..];
        }
    }
    Some(out)
}

/// EPrints' `escape_filename`: letters, digits, `,` and `-` kept, a space as
/// `_`, anything else as `=XX` (below 256) or `==XXXX`, by code point.
pub fn escape_filename(s: &str) -> String {
    if s.is_empty() {
        return "NULL".into();
    }
    let mut out = String::new();
    for c in s.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | ',' | '-' => out.push(c),
            ' ' => out.push('_'),
            c if (c as u32) < 256 => out.push_str(&format!("={:02X}", c as u32)),
            c => out.push_str(&format!("=={:04X}", c as u32)),
        }
    }
    out
}

/// A name as EPrints' views give it (`family:given:lineage:honourific`,
/// each part `uri_escape`d for `:` and `%`; perl_lib/EPrints/MetaField/
/// Multipart.pm:304-315), e.g. the decoded `Jaroslewlcz:Aleksandra::`.
pub fn view_name(id: &str) -> Option<PersonName> {
    let mut parts = id.split(':').map(|p| {
        let p = p.replace("%3A", ":").replace("%3a", ":").replace("%25", "%");
        if p == "NULL" {
            String::new()
        } else {
            p
        }
    });
    let family = parts.next()?;
    let given = parts.next().unwrap_or_default();
    (!family.is_empty()).then(|| PersonName::new(family, given))
}

/// The Arkiv export format for an EPrints export plugin id (the FORMAT of
/// `/cgi/export/eprint/N/FORMAT/...`; perl_lib/EPrints/Plugin/Export/ and
/// flavours/pub_lib/plugins/EPrints/Plugin/Export/), for the plugins Arkiv
/// has an equivalent of.
pub fn export_plugin(id: &str) -> Option<&'static str> {
    Some(match id {
        "BibTeX" => "bibtex",
        "RIS" => "ris",
        "Refer" | "EndNote" => "refer",
        "DC" | "OAI_DC" | "ContextObject::DublinCore" => "dc",
        "MODS" => "mods",
        "XML" | "StaffXML" | "XMLFiles" => "ep3",
        "JSON" => "json",
        "CSV" | "MultilineCSV" => "csv",
        "Text" => "text",
        "HTML" => "html",
        "COinS" => "coins",
        "ContextObject" => "context_object",
        "DataCite" | "DataCiteXML" => "datacite",
        "MARC" | "MARCXML" => "marcxml",
        _ => return None,
    })
}

/// The EPrints plugin ids [`export_plugin`] knows, for a page listing them.
pub const EXPORT_PLUGINS: &[&str] = &[
    "BibTeX",
    "RIS",
    "EndNote",
    "Refer",
    "DC",
    "MODS",
    "XML",
    "JSON",
    "CSV",
    "Text",
    "HTML",
    "COinS",
    "ContextObject",
];

/// The document a relation tail names (`1.hassmallThumbnailVersion` in
/// `/id/eprint/N/1.hassmallThumbnailVersion/FILE`): the source position and
/// the kinds of derivation, in order. EPrints turns `hasXVersion` into
/// `isXVersionOf` and follows each in turn (lib/cfg.d/doc_rewrite.pl:2-21,
/// perl_lib/EPrints/Apache/Rewrite.pm:540-541); Arkiv keeps the kind as
/// `X`. `None` when the segment is not a position with a tail.
pub fn relation_tail(segment: &str) -> Option<(u32, Vec<String>)> {
    let (pos, tail) = segment.split_once('.')?;
    let pos: u32 = pos.trim_start_matches('0').parse().ok().filter(|p| *p > 0)?;
    let kinds: Vec<String> = tail
        .split('.')
        .filter(|r| !r.is_empty())
        .map(|r| {
            let r = r.strip_prefix("has").unwrap_or(r);
            let r = r.strip_prefix("is").unwrap_or(r);
            let r = r.strip_suffix("Of").unwrap_or(r);
            r.strip_suffix("Version").unwrap_or(r).to_string()
        })
        .collect();
    (!kinds.is_empty()).then_some((pos, kinds))
}

/// The fields of an EPrints search serialised into an export link's `exp`
/// parameter: `allow_blank|satisfy_all|order|dataset|-|FIELD|...|-|FILTER`,
/// `|` and `\\` escaped with `\\` (perl_lib/EPrints/Search.pm:513-558), each
/// field `id:rawid:merge:match:value` with `:` escaped as `%3A`
/// (perl_lib/EPrints/Search/Field.pm:827-844). Returns (field id, value)
/// for the fields with a value, filters left out.
pub fn search_terms(exp: &str) -> Vec<(String, String)> {
    // Split on the `|` not escaped by a backslash, unescaping as we go.
    let mut parts = vec![String::new()];
    let mut chars = exp.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => parts.last_mut().unwrap().extend(chars.next()),
            '|' => parts.push(String::new()),
            c => parts.last_mut().unwrap().push(c),
        }
    }
    let fields = parts.iter().skip_while(|p| p.as_str() != "-").skip(1).take_while(|p| p.as_str() != "-");
    fields
        .filter_map(|field| {
            let f: Vec<&str> = field.split(':').collect();
            let [id, _rawid, _merge, _match, value] = f.as_slice() else { return None };
            let value = value.replace("%3A", ":").replace("%3a", ":").replace("%25", "%");
            (!value.trim().is_empty()).then(|| (id.to_string(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn view_values_decode_as_eprints_wrote_them() {
        // The examples of perl_lib/EPrints/Utils.pm's escape_filename.
        assert_eq!(unescape_filename("Jaroslewlcz=3AAleksandra=3A=3A").unwrap(), "Jaroslewlcz:Aleksandra::");
        assert_eq!(unescape_filename("M=FCller=3AJ=F6rg=3A=3A").unwrap(), "Müller:Jörg::");
        assert_eq!(unescape_filename("==0141ukasz").unwrap(), "Łukasz");
        assert_eq!(unescape_filename("O=27Brien=3AMary_Ann=3A=3A").unwrap(), "O'Brien:Mary Ann::");
        assert_eq!(unescape_filename("sch=5Fecs").unwrap(), "sch_ecs");
        assert_eq!(unescape_filename("bad=Z1"), None);
        assert_eq!(unescape_filename("cut="), None);
        for s in ["Jaroslewlcz:Aleksandra::", "Müller:Jörg::", "Łukasz", "Smith-Jones:A, B::", "sch_ecs"] {
            assert_eq!(unescape_filename(&escape_filename(s)).unwrap(), s);
        }
        assert_eq!(escape_filename("Jaroslewlcz:Aleksandra::"), "Jaroslewlcz=3AAleksandra=3A=3A");
        let name = view_name("Jaroslewlcz:Aleksandra::").unwrap();
        assert_eq!(name.inverted(), "Jaroslewlcz, Aleksandra");
        assert_eq!(view_name("Plato:NULL:NULL:NULL").unwrap().inverted(), "Plato");
        assert_eq!(view_name(""), None);
    }

    #[test]
    fn relation_tails_name_the_source_and_the_kinds() {
        assert_eq!(relation_tail("1.hassmallThumbnailVersion"), Some((1, vec!["smallThumbnail".to_string()])));
        assert_eq!(relation_tail("02.haspreviewThumbnailVersion."), Some((2, vec!["previewThumbnail".to_string()])));
        assert_eq!(relation_tail("1"), None);
        assert_eq!(relation_tail("1."), None);
        assert_eq!(relation_tail("x.hasVersion"), None);
    }

    #[test]
    fn searches_in_export_links_give_their_words() {
        let exp = "1|1|-date/creators_name/title|archive|-|q:q:ALL:IN:energy security|title:title:ALL:IN:Russia%3A less love|-|type:type:ANY:EQ:article";
        assert_eq!(
            search_terms(exp),
            [("q", "energy security"), ("title", "Russia: less love")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .to_vec()
        );
        assert_eq!(search_terms("nonsense"), Vec::<(String, String)>::new());
        assert_eq!(search_terms("1|1||archive|-|q:q:ALL:IN:a\\|b|-|"), [("q".to_string(), "a|b".to_string())].to_vec());
    }
}
