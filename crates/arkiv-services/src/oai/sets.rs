//! Names of sets, for ListSets: what a setSpec means to a person. The specs
//! themselves come from the store (only non-empty sets are listed); which
//! records a set holds is `arkiv_model::oai_sets`.

use arkiv_formats::export::ExportContext;
use arkiv_model::oai_sets::{decode_set_segment, DRIVER_SET};

/// "Article", "Geography > Asia", "Division: Faculty of Engineering",
/// "Series: Tech Reports", the DRIVER set.
pub fn set_name(spec: &str, ctx: &ExportContext) -> String {
    if spec == DRIVER_SET {
        return "Open access with full text (DRIVER)".into();
    }
    let mut parts = spec.split(':');
    let kind = parts.next().unwrap_or("");
    let segments: Vec<String> = parts.map(|p| decode_set_segment(p).unwrap_or_else(|| p.to_string())).collect();
    let last = segments.last().cloned().unwrap_or_default();
    match kind {
        "type" => format!("Item type: {}", ctx.item_types.label(&last)),
        "subject" | "division" => {
            let label = if kind == "subject" { "Subject" } else { "Division" };
            format!("{label}: {}", segments.iter().map(|s| ctx.subjects.name(s)).collect::<Vec<_>>().join(" > "))
        }
        "series" => format!("Series: {last}"),
        _ => spec.to_string(),
    }
}

/// Whether `spec` is a well-formed setSpec: segments of the allowed
/// alphabet (as the encoder writes them) between single colons.
pub fn is_valid_spec(spec: &str) -> bool {
    !spec.is_empty() && spec.split(':').all(|seg| !seg.is_empty() && decode_set_segment(seg).is_some())
}
