//! Cite-box speed: N generated records formatted in each built-in style
//! (the abstract page's "Cite" box renders one). Prints records/s per
//! style, so a change to the CSL path shows what it costs a first view.
//!
//! `cargo run --release -p arkiv-formats --example bench_cite -- 2000`
//! (the default is 2000). The records (`common::record`, as the BibTeX
//! benchmark's) are built before the clock starts.

mod common;

use arkiv_formats::export::{styles, ExportContext};
use arkiv_model::Record;
use common::record;
use std::time::Instant;

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
