//! Cite-box speed: N generated records formatted in each built-in style
//! (the abstract page's "Cite" box renders one). Prints records/s per
//! style, so a change to the CSL path shows what it costs a first view.
//!
//! `cargo run --release -p arkiv-formats --example bench_cite -- 2000`
//! (the default is 2000). The records are built before the clock starts.

use arkiv_formats::export::{styles, ExportContext};
use arkiv_model::{Creator, PartialDate, Record};
use std::time::Instant;

const FAMILIES: &[&str] = &["Jaroslewlcz", "Müller", "Smith", "Nowak", "O'Brien", "García", "Kowalski", "Chen"];
const WORDS: &[&str] = &["Kazakhstan", "integration", "Russia", "energy", "policy", "security", "trade", "water"];

fn record(i: usize) -> Record {
    let w = |k: usize| WORDS[(i / k) % WORDS.len()];
    let mut r = Record::new(
        ["policy_paper", "article", "book_section", "thesis", "report"][i % 5],
        &format!("{} and {}: {} of the {}", w(1), w(7), w(3), w(11)),
    );
    r.id = Some(i as i64 + 1);
    r.creators.push(Creator::new(FAMILIES[i % FAMILIES.len()], "Anna"));
    if i.is_multiple_of(3) {
        r.creators.push(Creator::new(FAMILIES[(i / 3) % FAMILIES.len()], "Jan"));
    }
    r.date = Some(PartialDate { year: 1990 + (i % 36) as i32, month: Some((i % 12) as u8 + 1), day: None });
    r.series = Some("OSW Commentary".into());
    r.number = Some((i % 500).to_string());
    r.publisher = Some("OSW Centre for Eastern Studies".into());
    r.publication = Some("Journal of Eurasian Studies".into());
    r
}

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let ctx = ExportContext::example();
    let records: Vec<Record> = (0..n).map(record).collect();
    // Decoding the styles and locales happens once per process; not timed.
    for s in styles::STYLES {
        styles::render(s.id, &records[0], &ctx);
    }
    for s in styles::STYLES {
        let start = Instant::now();
        let mut bytes = 0;
        for r in &records {
            bytes += styles::render(s.id, r, &ctx).map(|c| c.html.len()).unwrap_or(0);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{:<20} {n} records in {secs:.2} s: {:.0} records/s, {:.0} µs each ({bytes} bytes of HTML)",
            s.id,
            n as f64 / secs,
            secs * 1e6 / n as f64
        );
    }
}
