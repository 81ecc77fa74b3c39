//! arkiv-storage
