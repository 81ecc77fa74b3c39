//! arkiv-formats
