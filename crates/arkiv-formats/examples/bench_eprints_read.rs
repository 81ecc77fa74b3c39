//! EPrints XML reading speed: the import's parser stage alone (XML events,
//! the bounded tree, mapping to records), from a file into nothing. Prints
//! records/s and µs per record, the figure BENCHMARKS.md's import section
//! compares with the other stages.
//!
//! `cargo run --release -p arkiv-formats --example bench_eprints_read -- FILE`
//! (make FILE with `arkiv generate --count 100000 --seed 1 -o FILE`).

use arkiv_formats::EprintsReader;
use std::io::BufReader;
use std::time::Instant;

// As the `arkiv` binary: the allocator is a large part of parsing.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::io::Result<()> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench_eprints_read FILE.xml");
        std::process::exit(2);
    };
    let file = std::fs::File::open(&path)?;
    let started = Instant::now();
    let (mut records, mut rejected) = (0u64, 0u64);
    for item in EprintsReader::new(BufReader::with_capacity(256 * 1024, file)) {
        match item.result {
            Ok(r) => {
                records += 1;
                std::hint::black_box(r);
            }
            Err(_) => rejected += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{{\"records\": {records}, \"rejected\": {rejected}, \"secs\": {secs:.3}, \"records_per_sec\": {:.0}, \"us_per_record\": {:.2}}}",
        records as f64 / secs,
        secs * 1e6 / records.max(1) as f64
    );
    Ok(())
}
