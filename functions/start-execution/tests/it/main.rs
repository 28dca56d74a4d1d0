//! The integration tests of `start-execution`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
mod props;
