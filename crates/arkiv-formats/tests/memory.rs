//! The reader's memory stays bounded whatever the input holds: an over-long
//! text is cut off while it is read, not read and then refused. Measured
//! with a counting allocator, so this file holds one test only (tests of one
//! binary share the allocator).

use arkiv_formats::EprintsReader;
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const NS: &str = "http://eprints.org/ep2/data/2.0";

#[test]
fn huge_texts_are_never_held() {
    const HUGE: u64 = 64 << 20;
    let head = format!("<eprints xmlns=\"{NS}\"><eprint><title>Before</title></eprint>\n<eprint><title>");
    let middle = "</title></eprint>\n<eprint><title>T</title><abstract>";
    let tail = "</abstract></eprint>\n<eprint><title>After</title></eprint></eprints>";
    // 64 MiB of title and 64 MiB of abstract, generated as they are read.
    let input = head
        .as_bytes()
        .chain(std::io::repeat(b'x').take(HUGE))
        .chain(middle.as_bytes())
        .chain(std::io::repeat(b'y').take(HUGE))
        .chain(tail.as_bytes());

    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let outcomes: Vec<_> = EprintsReader::new(BufReader::new(input))
        .map(|i| i.result.map(|r| r.record.title).map_err(|e| e.message))
        .collect();
    let peak = PEAK.load(Ordering::SeqCst) - before;

    assert_eq!(outcomes.len(), 4, "{outcomes:?}");
    assert_eq!(outcomes[0], Ok("Before".into()));
    assert_eq!(outcomes[1], Err("title: longer than 2000 characters".into()));
    assert!(outcomes[2].as_ref().unwrap_err().starts_with("abstract: text longer than"));
    assert_eq!(outcomes[3], Ok("After".into()));
    // The text limit is 1 MiB; quick-xml's buffer may double once past it.
    assert!(peak < 4 << 20, "peak {peak} bytes while reading 128 MiB of text");
}
