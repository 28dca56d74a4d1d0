//! The integration tests of `imagegen-local-pipeline`, one test binary for all of them (one link instead of
//! one per file).

mod asl_loader_props;
