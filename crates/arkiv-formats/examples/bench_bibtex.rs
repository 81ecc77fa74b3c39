//! BibTeX export speed: N generated records (varied authors, years, titles,
//! so that keys collide as in a real repository) written through the
//! BibTeX writer to a sink. Prints records/s.
//!
//! `cargo run --release -p arkiv-formats --example bench_bibtex -- 1000000`
//! (the default is 100000). The records are built before the clock starts;
//! only the export is timed.

mod common;

use arkiv_formats::export::{self, ExportContext};
use arkiv_model::Record;
use common::record;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let ctx = ExportContext::example();
    let records: Vec<Record> = (0..n).map(record).collect();
    let mut sink = CountingSink(0);
    let start = Instant::now();
    export::write_all(&export::bibtex::BIBTEX, &ctx, &records, &mut sink).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "bibtex export: {n} records, {:.1} MB in {secs:.2} s: {:.0} records/s",
        sink.0 as f64 / 1e6,
        n as f64 / secs
    );
}

/// A sink that counts bytes, so the output size can be reported.
struct CountingSink(u64);

impl std::io::Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
