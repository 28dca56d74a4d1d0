use aws_sdk_bedrockruntime::config::http::HttpResponse;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use aws_sdk_bedrockruntime::primitives::Blob;

use imagegen_core::ports::{ImageModel, InvokeError};

/// [`ImageModel`] over `aws_sdk_bedrockruntime::Client` (InvokeModel).
#[derive(Debug, Clone)]
pub struct BedrockModel {
    client: aws_sdk_bedrockruntime::Client,
}

impl BedrockModel {
    pub fn new(client: aws_sdk_bedrockruntime::Client) -> Self {
        Self { client }
    }
}

/// Map an SDK error to what the pipeline does about it.
fn classify(err: SdkError<InvokeModelError, HttpResponse>) -> InvokeError {
    let status = err.raw_response().map(|r| r.status().as_u16());
    let Some(service) = err.as_service_error() else {
        // Timeouts, connection failures, unreadable responses: the service may come back.
        return InvokeError::Unavailable(crate::error_text(&err));
    };
    let message = service
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| crate::error_text(&err));
    let code = service.code().unwrap_or("");
    match service {
        InvokeModelError::ThrottlingException(_)
        | InvokeModelError::ServiceQuotaExceededException(_) => InvokeError::Throttled(message),
        InvokeModelError::ValidationException(_) => InvokeError::Refused(message),
        InvokeModelError::ServiceUnavailableException(_)
        | InvokeModelError::InternalServerException(_)
        | InvokeModelError::ModelNotReadyException(_)
        | InvokeModelError::ModelTimeoutException(_) => InvokeError::Unavailable(message),
        _ if status == Some(429) || code == "ThrottlingException" => {
            InvokeError::Throttled(message)
        }
        _ if matches!(status, Some(500..=599)) => InvokeError::Unavailable(message),
        _ => InvokeError::Failed(if code.is_empty() {
            message
        } else {
            format!("{code}: {message}")
        }),
    }
}

impl ImageModel for BedrockModel {
    async fn invoke(&self, model_id: &str, body: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let out = self
            .client
            .invoke_model()
            .model_id(model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(body))
            .send()
            .await
            .map_err(classify)?;
        Ok(out.body.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelOutput;
    use aws_sdk_bedrockruntime::types::error::{
        AccessDeniedException, ServiceUnavailableException, ThrottlingException,
        ValidationException,
    };
    use aws_smithy_mocks::{mock, mock_client};

    async fn invoke_with(rule: aws_smithy_mocks::Rule) -> Result<Vec<u8>, InvokeError> {
        let model = BedrockModel::new(mock_client!(aws_sdk_bedrockruntime, [&rule]));
        model
            .invoke("amazon.nova-canvas-v1:0", b"{}".to_vec())
            .await
    }

    #[tokio::test]
    async fn returns_the_body() {
        let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model)
            .match_requests(|r| r.model_id() == Some("amazon.nova-canvas-v1:0"))
            .then_output(|| {
                InvokeModelOutput::builder()
                    .body(Blob::new(b"{\"images\":[]}".to_vec()))
                    .content_type("application/json")
                    .build()
                    .unwrap()
            });
        assert_eq!(invoke_with(rule).await.unwrap(), b"{\"images\":[]}");
    }

    #[tokio::test]
    async fn errors_are_classified() {
        let throttled = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::ThrottlingException(
                ThrottlingException::builder()
                    .message("Too many requests")
                    .build(),
            )
        });
        assert!(matches!(
            invoke_with(throttled).await,
            Err(InvokeError::Throttled(_))
        ));

        let refused = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::ValidationException(
                ValidationException::builder()
                    .message("This request has been blocked by our content filters.")
                    .build(),
            )
        });
        let got = invoke_with(refused).await;
        assert!(
            matches!(&got, Err(InvokeError::Refused(m)) if m.contains("content filters")),
            "{got:?}"
        );

        let down = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::ServiceUnavailableException(
                ServiceUnavailableException::builder()
                    .message("down")
                    .build(),
            )
        });
        assert!(matches!(
            invoke_with(down).await,
            Err(InvokeError::Unavailable(_))
        ));

        let denied = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::AccessDeniedException(
                AccessDeniedException::builder().message("no").build(),
            )
        });
        assert!(matches!(
            invoke_with(denied).await,
            Err(InvokeError::Failed(_))
        ));
    }

    #[tokio::test]
    async fn http_429_without_a_modeled_error_is_throttling() {
        let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(429).unwrap(),
                aws_smithy_types::body::SdkBody::from(r#"{"message":"Too many requests"}"#),
            )
        });
        let got = invoke_with(rule).await;
        assert!(matches!(got, Err(InvokeError::Throttled(_))), "{got:?}");
    }
}
