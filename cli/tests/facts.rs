//! The CDK app reads its defaults, variable names, prefixes and error names from
//! `cdk/lib/facts.json`; this test fails when that file and the Rust code disagree.
//! `IMAGEGEN_UPDATE_FACTS=1 cargo test -p imagegen-cli --test facts` rewrites it.
#![allow(clippy::expect_used)]

use std::path::PathBuf;

use imagegen_cli::facts::{FACTS_FILE, facts};

#[test]
fn the_cdk_facts_file_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(FACTS_FILE);
    let mut expected = serde_json::to_string_pretty(&facts()).expect("facts serialise");
    expected.push('\n');
    if std::env::var_os("IMAGEGEN_UPDATE_FACTS").is_some() {
        std::fs::write(&path, &expected).expect("facts file is writable");
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{FACTS_FILE} is out of date with the Rust code; run \
         `IMAGEGEN_UPDATE_FACTS=1 cargo test -p imagegen-cli --test facts` and commit it.\n\
         expected:\n{expected}\nfound:\n{actual}"
    );
}
