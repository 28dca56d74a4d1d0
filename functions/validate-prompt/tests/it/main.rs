//! The integration tests of `validate-prompt`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
mod props;
