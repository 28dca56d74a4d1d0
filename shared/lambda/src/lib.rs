//! The Lambda glue every imagegen function shares, so that each `main.rs` only wires clients:
//!
//! ```no_run
//! # use imagegen_core::{PipelineError, config::ConfigError};
//! # async fn handle(config: &String, event: serde_json::Value) -> Result<u32, PipelineError> { Ok(1) }
//! #[tokio::main]
//! async fn main() -> Result<(), imagegen_lambda::Error> {
//!     imagegen_lambda::run(
//!         async || Ok::<_, ConfigError>("settings and SDK clients".to_owned()),
//!         async |config, event| handle(config, event).await,
//!     )
//!     .await
//! }
//! ```
//!
//! - logging by the runtime's conventions ([`telemetry`]);
//! - handler errors reach Lambda as their stable [`PipelineError`] name (the `errorType` that
//!   `Retry`/`Catch` match), never as a Rust type name;
//! - a missing or malformed setting does not stop the process before the runtime starts (Lambda
//!   would report an init failure, which Step Functions sees as `Lambda.Unknown` or a
//!   `Runtime.ExitError`): the runtime starts anyway and answers every invocation with
//!   `ConfigError` naming the setting, so the pipeline's `Catch` sends the failure email with that
//!   reason.
//! - with the `http` feature, [`http::run`] does the same for a function behind API Gateway.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "http")]
pub mod http;
pub mod telemetry;

use imagegen_core::PipelineError;
use imagegen_core::config::ConfigError;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde::Serialize;
use serde_json::Value;

pub use lambda_runtime::Error;

/// The Lambda error for a pipeline error: its stable name and its message.
pub fn diagnostic(error: &PipelineError) -> Diagnostic {
    Diagnostic {
        error_type: error.name().to_owned(),
        error_message: error.to_string(),
    }
}

/// Start logging, build the function's state with `setup` (settings and SDK clients), then serve
/// invocations with `handler` until the runtime stops. When `setup` fails, every invocation is
/// answered with that `ConfigError` instead (see the crate docs for why).
pub async fn run<S, T>(
    setup: impl AsyncFnOnce() -> Result<S, ConfigError>,
    handler: impl AsyncFn(&S, Value) -> Result<T, PipelineError>,
) -> Result<(), Error>
where
    T: Serialize,
{
    telemetry::init();
    match setup().await {
        Ok(state) => {
            let (state, handler) = (&state, &handler);
            lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
                // Boxed: the handler's future nested inside the runtime's inside `main`'s is deep
                // enough to overflow the compiler's layout query limit for some handlers.
                Box::pin(handler(state, event.payload))
                    .await
                    .map_err(|e| diagnostic(&e))
            }))
            .await
        }
        Err(error) => {
            tracing::error!(%error, "the function is misconfigured; every invocation fails with ConfigError");
            let failure = diagnostic(&error.into());
            let failure = &failure;
            lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
                Err::<Value, Diagnostic>(failure.clone())
            }))
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_carry_the_stable_name_and_message() {
        let d = diagnostic(&PipelineError::ModelThrottled("slow down".into()));
        assert_eq!(d.error_type, "ModelThrottled");
        assert_eq!(d.error_message, "slow down");
        let d = diagnostic(&ConfigError("TOPIC_ARN is not set".into()).into());
        assert_eq!(d.error_type, "ConfigError");
        assert_eq!(d.error_message, "configuration: TOPIC_ARN is not set");
    }
}
