//! The integration tests of `xtask`, one test binary for all of them (one link instead of
//! one per file).

mod functions_independent;
mod generated;
