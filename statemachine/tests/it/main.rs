//! The integration tests of `imagegen-statemachine`, one test binary for all of them (one link
//! instead of one per file).

mod conformance;
mod engine;
mod jsonata_suite;
mod module_graph;
mod robustness;
mod test_state;
