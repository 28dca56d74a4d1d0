//! The integration tests of `imagegen-cli`, one test binary for all of them: each file used to be
//! its own binary, and each linked the handlers, the offline AWS and the SDK clients again.
//! `common` holds the helpers they share; `serve` runs the real `imagegen serve` binary.

mod aws;
mod burst;
mod common;
mod definition;
mod e2e;
mod hostile;
mod jsonata_parity;
mod models;
mod robustness;
mod serve;
