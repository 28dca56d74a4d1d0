//! SDK errors in words a person reads: the service's own code and message when it answered, the
//! HTTP status when it answered without one, and otherwise the chain of causes, each by its
//! `Display`. Never the SDK's `Debug` (or `DisplayErrorContext`, which includes it): that prints
//! `ServiceError(ServiceError { ... SdkBody ... })` into emails and terminals.

use std::error::Error;

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `err` as a sentence fragment, e.g. `AccessDenied: Access Denied`, `the service answered HTTP
/// 500`, `dispatch failure: io error: connection refused`.
pub fn error_text<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
{
    if let Some(service) = err.as_service_error() {
        let code = service.code().filter(|c| !c.is_empty());
        let message = service.message().map(str::trim).filter(|m| !m.is_empty());
        return match (code, message) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (Some(code), None) => code.to_owned(),
            (None, Some(message)) => message.to_owned(),
            // A modeled error made without metadata (as the SDK's test builders do) still says
            // what it is, with its message, in its own words.
            (None, None) => match (service.to_string(), err.raw_response()) {
                (text, _)
                    if !text.trim().is_empty()
                        && !text.contains('{')
                        && !text.starts_with("unhandled error") =>
                {
                    text
                }
                (_, Some(response)) => {
                    format!("the service answered HTTP {}", response.status().as_u16())
                }
                (_, None) => "the service answered with an error it did not name".to_owned(),
            },
        };
    }
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(all(test, feature = "s3"))]
mod tests {
    use super::*;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(
            StatusCode::try_from(status).unwrap(),
            SdkBody::from("<Error/>"),
        )
    }

    #[test]
    fn service_errors_are_their_code_and_message() {
        let meta = aws_sdk_s3::error::ErrorMetadata::builder()
            .code("InternalError")
            .message("We encountered an internal error. Please try again.")
            .build();
        let err = SdkError::service_error(GetObjectError::generic(meta), response(500));
        let text = error_text(&err);
        assert_eq!(
            text,
            "InternalError: We encountered an internal error. Please try again."
        );
        let bare = SdkError::service_error(
            GetObjectError::generic(aws_sdk_s3::error::ErrorMetadata::builder().build()),
            response(503),
        );
        assert_eq!(error_text(&bare), "the service answered HTTP 503");
        for text in [text, error_text(&bare)] {
            assert!(!text.contains("SdkBody") && !text.contains('{'), "{text}");
        }
    }
}
