//! The HTTP face of the offline model: `POST /model/{modelId}/invoke`, answered the way Bedrock
//! answers it, so the SDK parses successes and errors into the same types as on AWS.

use std::sync::Arc;

use percent_encoding::percent_decode_str;
use serde_json::json;

use super::{FakeModel, ModelError};
use crate::config::ClientOptions;
use crate::ids::new_id;
use crate::transport::{InProcessClient, LocalRequest, LocalResponse, LocalService};

/// The Bedrock runtime stand-in: routes requests to a [`FakeModel`].
#[derive(Debug)]
pub struct BedrockService {
    model: Arc<FakeModel>,
}

impl BedrockService {
    pub fn new(model: Arc<FakeModel>) -> Self {
        Self { model }
    }
}

fn error_response(error: &ModelError) -> LocalResponse {
    LocalResponse::new(
        error.status(),
        "application/json",
        json!({ "message": error.message() }).to_string(),
    )
    .with_header("x-amzn-errortype", error.error_type())
    .with_header("x-amzn-requestid", new_id())
}

fn other_error(status: u16, error_type: &'static str, message: &str) -> LocalResponse {
    LocalResponse::new(
        status,
        "application/json",
        json!({ "message": message }).to_string(),
    )
    .with_header("x-amzn-errortype", error_type)
    .with_header("x-amzn-requestid", new_id())
}

impl LocalService for BedrockService {
    async fn handle(&self, request: LocalRequest) -> LocalResponse {
        let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
        let model_id = match (request.method.as_str(), segments.as_slice()) {
            ("POST", ["model", id, "invoke"]) => percent_decode_str(id).decode_utf8_lossy(),
            (
                "POST",
                [
                    "model",
                    _,
                    "invoke-with-response-stream" | "converse" | "converse-stream",
                ],
            ) => {
                return other_error(
                    400,
                    "ValidationException",
                    "The offline image model answers InvokeModel only.",
                );
            }
            _ => {
                return other_error(
                    404,
                    "UnknownOperationException",
                    &format!("no such operation: {} {}", request.method, request.path),
                );
            }
        };
        // The Region the client signed for: one endpoint stands in for Bedrock in every Region,
        // and a pool in another Region has a quota of its own.
        let region = crate::server::sigv4::scope_region(
            request.header("authorization"),
            request.query.as_deref(),
        )
        .unwrap_or_else(|| crate::config::DEFAULT_REGION.to_owned());
        match self.model.invoke(&region, &model_id, &request.body).await {
            Ok(body) => {
                tracing::debug!(%model_id, bytes = body.len(), "offline model: InvokeModel answered");
                LocalResponse::new(200, "application/json", body)
                    .with_header("x-amzn-requestid", new_id())
            }
            Err(error) => {
                tracing::debug!(%model_id, %error, "offline model: InvokeModel refused");
                error_response(&error)
            }
        }
    }
}

/// An `aws_sdk_bedrockruntime::Client` whose InvokeModel calls are answered by `model`, in process.
pub fn bedrock_client(
    model: Arc<FakeModel>,
    options: &ClientOptions,
) -> aws_sdk_bedrockruntime::Client {
    aws_sdk_bedrockruntime::Client::new(&crate::config::sdk_config(
        options,
        InProcessClient::new(Arc::new(BedrockService::new(model))),
    ))
}
