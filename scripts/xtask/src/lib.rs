//! The repository's own tasks, run as `cargo xtask <task>` (an alias in `.cargo/config.toml`).
//!
//! - [`facts`]: the facts the CDK app reads from `cdk/lib/facts.json`.
//! - [`settings`]: what the configuration table says about each variable, found from the code.
//! - [`tables`]: the Markdown tables in `docs/configuration.md` and `docs/errors.md`.
//! - [`generated`]: every generated file and where in it; `cargo xtask facts` rewrites them, the
//!   tests fail when one is stale.
//! - [`workspace`]: no crate under `functions/` depends on another one.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod facts;
pub mod generated;
pub mod settings;
pub mod tables;
pub mod workspace;
