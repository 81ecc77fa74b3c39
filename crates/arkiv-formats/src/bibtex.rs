//! Reading BibTeX and BibLaTeX: the inverse of [`crate::export::bibtex`].
//! (Being written: this is the stub the other modules build against.)

use crate::ReadItem;
use arkiv_model::ItemTypes;
use std::io::BufRead;

/// Reads BibTeX entries, one [`ReadItem`] per entry.
pub struct BibtexReader<R: BufRead> {
    _input: R,
    _types: ItemTypes,
}

impl<R: BufRead> BibtexReader<R> {
    pub fn new(reader: R) -> Self {
        Self::with_types(reader, ItemTypes::default())
    }
    pub fn with_types(reader: R, types: ItemTypes) -> Self {
        BibtexReader { _input: reader, _types: types }
    }
}

impl<R: BufRead> Iterator for BibtexReader<R> {
    type Item = ReadItem;
    fn next(&mut self) -> Option<ReadItem> {
        None
    }
}
