//! Reading CSL-JSON: the inverse of [`crate::export::csljson`].
//! (Being written: this is the stub the other modules build against.)

use crate::ReadItem;
use arkiv_model::ItemTypes;
use std::io::BufRead;

/// Reads CSL-JSON items (one array, or JSON Lines), one [`ReadItem`] each.
pub struct CslJsonReader<R: BufRead> {
    _input: R,
    _types: ItemTypes,
}

impl<R: BufRead> CslJsonReader<R> {
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        CslJsonReader { _input: reader, _types: types }
    }
}

impl<R: BufRead> Iterator for CslJsonReader<R> {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        None
    }
}
