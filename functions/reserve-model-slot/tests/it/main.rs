//! The integration tests of `reserve-model-slot`, one test binary for all of them (one link instead of
//! one per file).

mod handler;
