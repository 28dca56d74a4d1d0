//! The integration tests of `imagegen-local`, one test binary for all of them (one link instead of
//! one per file); `common` holds their shared helpers.

mod agreement;
mod bedrock;
mod common;
mod datadir;
mod dynamodb;
mod endpoint;
mod lambda;
mod s3;
mod server;
mod sfn;
mod sns;
mod tls;
