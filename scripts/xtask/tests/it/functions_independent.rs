//! No crate under `functions/` depends on another one: what two functions share lives in a
//! `shared/` crate (`imagegen-core` for the domain's rules).

use xtask::generated::root;
use xtask::workspace::{function_edges, metadata};

#[test]
fn no_function_depends_on_another() {
    let metadata = metadata(&root()).unwrap_or_else(|e| panic!("{e}"));
    let edges = function_edges(&metadata);
    assert!(
        edges.is_empty(),
        "function crates depend on function crates (move the shared rule to a shared/ crate): {}",
        edges.join("; ")
    );
}
