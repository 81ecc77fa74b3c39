//! The test corpora, from the workspace's test kit.
#![allow(unused_imports)]

pub use arkiv_testkit::*;
