//! The integration tests of `notify-backstop`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
mod props;
