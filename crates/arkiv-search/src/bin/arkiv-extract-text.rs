//! The text-extraction child: a PDF on stdin, its text on stdout. Run by
//! `arkiv_search::extract::Extractor` under time and memory limits; see that
//! module.

fn main() {
    arkiv_search::extract::child_main();
}
