//! The integration tests of `asl-run`, one test binary for all of them (one link instead of
//! one per file).

mod asl_run;
