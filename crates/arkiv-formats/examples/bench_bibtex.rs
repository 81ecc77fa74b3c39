//! BibTeX export speed: N generated records (varied authors, years, titles,
//! so that keys collide as in a real repository) written through the
//! BibTeX writer to a sink. Prints records/s.
//!
//! `cargo run --release -p arkiv-formats --example bench_bibtex -- 1000000`
//! (the default is 100000). The records are built before the clock starts;
//! only the export is timed.

use arkiv_formats::export::{self, ExportContext};
use arkiv_model::{Creator, PartialDate, Record};
use std::time::Instant;

const FAMILIES: &[&str] =
    &["Jaroslewlcz", "Müller", "Smith", "Nowak", "O'Brien", "García", "Kowalski", "Chen", "Ivanova", "Dubois"];
const WORDS: &[&str] =
    &["Kazakhstan", "integration", "Russia", "energy", "policy", "security", "trade", "China", "elections", "water"];

fn record(i: usize) -> Record {
    let w = |k: usize| WORDS[(i / k) % WORDS.len()];
    let mut r = Record::new(
        ["policy_paper", "article", "book_section", "thesis", "report"][i % 5],
        &format!("{} and {}: {} & {}% of the {}", w(1), w(7), w(3), i % 100, w(11)),
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
    r.keywords = vec![w(1).into(), w(5).into()];
    r.abstract_text = Some(format!("{} An abstract of about three hundred characters, with an ampersand & and a percent sign % and some Unicode: Łódź, Astana’s.", w(2)).repeat(2));
    r
}

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
