//! Reading Crossref's REST API works (`api.crossref.org/works/{doi}`).
//! (Being written: this is the stub the other modules build against.)

use crate::{ImportedRecord, ReadItem, RecordError};
use arkiv_model::ItemTypes;
use std::io::BufRead;

/// One work as Crossref's API answers for one DOI (the whole answer,
/// `{"status":"ok","message":{...}}`, or the bare work).
pub fn read_work(json: &[u8], types: &ItemTypes) -> Result<ImportedRecord, RecordError> {
    let _ = (json, types);
    Err(RecordError::new("Crossref works are not read yet"))
}

/// Reads a file of Crossref works, one [`ReadItem`] each.
pub struct CrossrefReader<R: BufRead> {
    _input: R,
    _types: ItemTypes,
}

impl<R: BufRead> CrossrefReader<R> {
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        CrossrefReader { _input: reader, _types: types }
    }
}

impl<R: BufRead> Iterator for CrossrefReader<R> {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        None
    }
}
