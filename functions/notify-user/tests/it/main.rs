//! The integration tests of `notify-user`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
mod misconfigured;
