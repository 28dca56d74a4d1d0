//! The glue for a function behind API Gateway (feature `http`): each proxy event arrives as an
//! [`http::Request`](lambda_http::Request) (lambda_http's reading of the REST proxy event), and the
//! handler always answers with a response, its errors included, because API Gateway turns a
//! function error into a bare `502 Internal server error` a client can do nothing with.
//!
//! As in [`crate::run`], a missing or malformed setting does not stop the process: every request is
//! answered `500` with a JSON body naming the setting.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use imagegen_core::config::ConfigError;
use lambda_http::{Body, Request, Response, service_fn};

use crate::Error;

/// Start logging, build the function's state with `setup`, then answer requests with `handler`.
pub async fn run<S, F, Fut>(
    setup: impl AsyncFnOnce() -> Result<S, ConfigError>,
    handler: F,
) -> Result<(), Error>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Request) -> Fut,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    crate::telemetry::init();
    match setup().await {
        Ok(state) => {
            let state = Arc::new(state);
            let handler = &handler;
            lambda_http::run(service_fn(move |request: Request| {
                let answer = handler(Arc::clone(&state), request);
                async move { Ok::<_, Infallible>(answer.await) }
            }))
            .await
        }
        Err(error) => {
            tracing::error!(%error, "the function is misconfigured; every request is answered 500");
            let answer = misconfigured(&error);
            lambda_http::run(service_fn(move |_: Request| {
                let answer = answer.clone();
                async move { Ok::<_, Infallible>(answer.into_response()) }
            }))
            .await
        }
    }
}

/// The answer of a misconfigured function: a 500 whose body names the setting.
#[derive(Debug, Clone)]
pub struct Misconfigured {
    body: String,
}

impl Misconfigured {
    fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Body::Text(self.body));
        *response.status_mut() = lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR;
        response.headers_mut().insert(
            lambda_http::http::header::CONTENT_TYPE,
            lambda_http::http::HeaderValue::from_static("application/json"),
        );
        response
    }
}

/// The 500 answer for `error`.
pub fn misconfigured(error: &ConfigError) -> Misconfigured {
    Misconfigured {
        body: serde_json::json!({
            "message": format!("The service is misconfigured ({error}); its operators were told in its logs.")
        })
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misconfigured_function_answers_500_naming_the_setting() {
        let response =
            misconfigured(&ConfigError("STATE_MACHINE_ARN is not set".into())).into_response();
        assert_eq!(response.status(), 500);
        let Body::Text(text) = response.body() else {
            panic!("{response:?}")
        };
        let body: serde_json::Value = serde_json::from_str(text).unwrap();
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("STATE_MACHINE_ARN is not set"),
            "{body}"
        );
    }
}
