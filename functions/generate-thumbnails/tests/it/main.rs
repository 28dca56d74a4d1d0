//! The integration tests of `generate-thumbnails`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
