//! The integration tests of `generate-image`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
