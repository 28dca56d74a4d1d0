//! DynamoDB's errors as the awsJson1_0 protocol carries them: `{"__type", "message"}` with the
//! error's shape id, which the SDK turns into its typed errors.

use serde_json::{Value, json};

use crate::ids::new_id;
use crate::transport::LocalResponse;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    pub status: u16,
    pub error_type: &'static str,
    pub message: String,
    /// The item as it was, for a failed condition asked with
    /// `ReturnValuesOnConditionCheckFailure: ALL_OLD` (in the wire's attribute-value form).
    pub item: Option<Value>,
}

impl DbError {
    fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error_type,
            message: message.into(),
            item: None,
        }
    }

    /// A request DynamoDB would refuse, or one the stand-in does not support.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationException", message)
    }

    pub fn conditional_check_failed() -> Self {
        Self::new(
            400,
            "ConditionalCheckFailedException",
            "The conditional request failed",
        )
    }

    pub fn resource_not_found() -> Self {
        Self::new(
            400,
            "ResourceNotFoundException",
            "Requested resource not found",
        )
    }

    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new(400, "UnknownOperationException", message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(400, "SerializationException", message)
    }

    /// The shape id DynamoDB puts in `__type`.
    fn shape_id(&self) -> String {
        let namespace = match self.error_type {
            "ValidationException" => "com.amazon.coral.validate",
            "UnknownOperationException" | "SerializationException" => "com.amazon.coral.service",
            _ => "com.amazonaws.dynamodb.v20120810",
        };
        format!("{namespace}#{}", self.error_type)
    }

    /// The same error, carrying the item as it was (see [`Self::item`]).
    pub fn with_item(mut self, item: Value) -> Self {
        self.item = Some(item);
        self
    }

    pub fn response(&self) -> LocalResponse {
        let mut body = json!({"__type": self.shape_id(), "message": self.message});
        if let Some(item) = &self.item {
            body["Item"] = item.clone();
        }
        LocalResponse::new(self.status, CONTENT_TYPE, body.to_string())
            .with_header("x-amzn-errortype", self.error_type)
            .with_header("x-amzn-requestid", new_id())
    }
}
