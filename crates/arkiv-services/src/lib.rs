//! arkiv-services
