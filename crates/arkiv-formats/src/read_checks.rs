//! What the readers' unit tests ask of a reading (RIS, BibTeX, CSL-JSON):
//! an item's record or error, and the shape of a whole file's reading.
//! One copy, so that the readers' tests read alike.

use crate::{ImportedRecord, ReadItem};

/// The record an item holds; a panic naming the item and its error if it
/// holds none.
pub(crate) fn ok(item: &ReadItem) -> &ImportedRecord {
    item.result.as_ref().unwrap_or_else(|e| panic!("item {}: {e}", item.position))
}

/// The error an item holds; a panic naming the item and its title if it
/// was read.
pub(crate) fn err(item: &ReadItem) -> &str {
    match &item.result {
        Err(e) => &e.message,
        Ok(r) => panic!("item {} read, an error was expected: {:?}", item.position, r.record.title),
    }
}

/// (position, Ok or Err) of each item, for the shape of a file's reading.
pub(crate) fn outline(items: &[ReadItem]) -> Vec<(usize, bool)> {
    items.iter().map(|i| (i.position, i.result.is_ok())).collect()
}
