//! `cargo xtask facts`: rewrite the files generated from the Rust code.

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask facts\n\n  facts  rewrite cdk/lib/facts.json and the generated tables in docs/configuration.md and docs/errors.md";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["facts"] => match xtask::generated::sync(&xtask::generated::root(), true) {
            Ok(written) if written.is_empty() => {
                println!("Every generated file was up to date.");
                ExitCode::SUCCESS
            }
            Ok(written) => {
                println!("Rewrote {}.", written.join(", "));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cargo xtask facts: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
