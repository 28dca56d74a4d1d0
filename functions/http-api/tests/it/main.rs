//! The integration tests of `http-api`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
mod props;
