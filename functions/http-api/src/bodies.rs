//! The JSON bodies of the API's answers (camelCase): `Started`, `Status` and what they hold,
//! `Refused` and `Failed`. None names an ARN: the account, the state machine and the roles are
//! not the caller's business.

use serde::{Deserialize, Serialize};

/// `202 Accepted` for `POST /generate-image`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    /// Names the request's outputs and its status URL.
    pub request_id: String,
    pub execution_name: String,
    /// `GET` it for the status (`?wait=N` holds the answer up to N seconds).
    pub status_url: String,
    /// The model the request will use.
    pub model: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Where a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Running,
    Succeeded,
    /// Failed, timed out or stopped: `error` and `reason` say which and why.
    Failed,
}

/// `200` for `GET /images/{requestId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub request_id: String,
    pub status: Phase,
    /// Step Functions' own status (`RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`).
    pub execution_status: String,
    /// The error name of a failed request (`PromptRejected`, `ContentFiltered`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why it failed, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The images of a request that succeeded, each with its thumbnails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageLinks>,
    /// How long the links work.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub links_expire_in_seconds: Option<u64>,
    /// Anything else to know (results that have expired, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One generated image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageLinks {
    /// A presigned GET link.
    pub url: String,
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub thumbnails: Vec<ThumbnailLink>,
}

/// One thumbnail of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThumbnailLink {
    /// A presigned GET link.
    pub url: String,
    pub key: String,
    /// The longest side asked for.
    pub size: u32,
    pub width: u32,
    pub height: u32,
    pub bytes: u64,
    pub format: String,
}

/// `400` for a request that was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub message: String,
    /// Every problem found.
    pub problems: Vec<String>,
}

/// `500` or `503`: the API itself failed ([`crate::failure::Failure`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    /// What to do, in a sentence (no detail: that is in the log).
    pub message: String,
    /// The id the log lines of this request carry (API Gateway's request id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}
