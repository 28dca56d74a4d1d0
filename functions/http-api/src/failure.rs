//! What went wrong behind a `500` or `503`, named once here: the detail (SDK errors quote role and
//! account ARNs, bucket and key names, parser wording) goes to the log with the request's
//! correlation id; the caller gets a plain sentence and that id, which is all support needs to find
//! the log line.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::{bodies, caller, responses};

/// A failure of the API itself (not of the caller's request), with its detail for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// StartExecution failed (throttled, denied, unreachable). `keyed`: the request had an
    /// `Idempotency-Key`, so a retry with it is safe.
    #[error("StartExecution failed: {detail}")]
    NotStarted { detail: String, keyed: bool },
    /// An execution of the request's name exists, and DescribeExecution failed, so whether it is
    /// the same request is not known.
    #[error("an execution of the name exists and could not be described: {0}")]
    ReplayUnchecked(String),
    /// DescribeExecution failed for a status.
    #[error("{0}")]
    NotDescribed(String),
    /// The manifest of a request that succeeded could not be fetched.
    #[error("the manifest could not be read: {0}")]
    ManifestUnreadable(String),
    /// The manifest is not one (not JSON of its shape).
    #[error("the manifest {key} is not a manifest: {detail}")]
    ManifestInvalid { key: String, detail: String },
    /// A presigned link could not be made.
    #[error("a link to {key} could not be made: {detail}")]
    LinkNotMade { key: String, detail: String },
}

impl Failure {
    /// The failure's stable name, as the log carries it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NotStarted { .. } => "NotStarted",
            Self::ReplayUnchecked(_) => "ReplayUnchecked",
            Self::NotDescribed(_) => "NotDescribed",
            Self::ManifestUnreadable(_) => "ManifestUnreadable",
            Self::ManifestInvalid { .. } => "ManifestInvalid",
            Self::LinkNotMade { .. } => "LinkNotMade",
        }
    }

    /// `503` for what a retry may cure (a service that failed to answer), `500` for what it will not.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotStarted { .. }
            | Self::ReplayUnchecked(_)
            | Self::NotDescribed(_)
            | Self::ManifestUnreadable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::ManifestInvalid { .. } | Self::LinkNotMade { .. } => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// What the caller is told: no detail, only what to do.
    pub fn message(&self) -> &'static str {
        match self {
            Self::NotStarted { keyed: true, .. } => {
                "The pipeline could not be started; try again with the same Idempotency-Key (a retry never starts it twice)."
            }
            Self::NotStarted { keyed: false, .. } => {
                "The pipeline could not be started; try again."
            }
            Self::ReplayUnchecked(_) => {
                "The request may have been started before, and that could not be checked; try again."
            }
            Self::NotDescribed(_) | Self::ManifestUnreadable(_) => {
                "The request's status could not be read; try again."
            }
            Self::ManifestInvalid { .. } | Self::LinkNotMade { .. } => {
                "The request's images could not be listed; quote the correlation id when you report it."
            }
        }
    }

    /// Log the failure with its detail and answer the caller without it.
    pub fn answer(&self, request: &Request) -> Response<Body> {
        let correlation_id = correlation_id(request);
        tracing::error!(
            error_name = self.name(),
            correlation_id = correlation_id.as_deref().unwrap_or_default(),
            error = %self,
            "the request could not be answered"
        );
        responses::json(
            self.status(),
            &bodies::Failed {
                message: self.message().to_owned(),
                correlation_id,
            },
        )
    }
}

/// The id that ties an answer to its log lines: API Gateway's request id (which it also sends back
/// as `x-amzn-RequestId`), else Lambda's for a direct invocation.
pub fn correlation_id(request: &Request) -> Option<String> {
    caller::request_id(request).or_else(|| {
        request
            .lambda_context_ref()
            .map(|context| context.request_id.clone())
            .filter(|id| !id.trim().is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_no_detail() {
        let detail = "arn:aws:iam::123456789012:role/R is not authorized".to_owned();
        for failure in [
            Failure::NotStarted {
                detail: detail.clone(),
                keyed: true,
            },
            Failure::ReplayUnchecked(detail.clone()),
            Failure::NotDescribed(detail.clone()),
            Failure::ManifestUnreadable(detail.clone()),
            Failure::ManifestInvalid {
                key: "results/r.json".to_owned(),
                detail: detail.clone(),
            },
            Failure::LinkNotMade {
                key: "images/r/0.png".to_owned(),
                detail: detail.clone(),
            },
        ] {
            assert!(failure.to_string().contains(&detail), "{failure}");
            assert!(!failure.message().contains("arn:"), "{}", failure.name());
            assert!(failure.message().ends_with('.'), "{}", failure.name());
        }
    }
}
