//! The generated files (`cdk/lib/facts.json`, the tables in `docs/configuration.md` and
//! `docs/errors.md`) must say what the code says; `cargo xtask facts` rewrites them.

use xtask::generated::{root, sync};

#[test]
fn the_generated_files_match_the_code() {
    let stale = sync(&root(), false).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        stale.is_empty(),
        "{} out of date with the Rust code; run `cargo xtask facts` and commit the result.",
        stale.join(", ")
    );
}
