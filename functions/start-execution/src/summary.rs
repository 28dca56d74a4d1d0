//! What one invocation did, record by record.

use imagegen_core::PipelineError;
use serde::Serialize;

/// The handler's result: `{"started":[..],"duplicates":[..],"skipped":[..],"failed":[..]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub started: Vec<Started>,
    /// Already started by an earlier delivery of the same event.
    pub duplicates: Vec<Duplicate>,
    /// Not prompt uploads: other keys, other event types.
    pub skipped: Vec<Skipped>,
    /// Records that could not be read, and starts that failed.
    pub failed: Vec<Failed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub key: String,
    pub execution_name: String,
    pub execution_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Duplicate {
    pub key: String,
    pub execution_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    pub key: String,
    pub reason: String,
}

impl Summary {
    /// `Ok(self)` when nothing failed; otherwise a `StartExecutionError` naming each failed key and why.
    ///
    /// Why fail the whole invocation when some records did start: the function is invoked
    /// asynchronously by S3, and an error is the only signal that reaches the on-failure destination
    /// (the failed-triggers queue) and the function's error alarm. Lambda then retries the whole event,
    /// which is safe: the records that started already come back as duplicates (deterministic execution
    /// names), a throttled start gets another chance, and a record that can never work (a malformed
    /// key) ends up in the queue with this message after the retries.
    pub fn into_result(self) -> Result<Self, PipelineError> {
        if self.failed.is_empty() {
            return Ok(self);
        }
        let handled = self.started.len() + self.duplicates.len() + self.skipped.len();
        let failures: Vec<String> = self
            .failed
            .iter()
            .map(|f| format!("{}: {}", f.key, f.reason))
            .collect();
        Err(PipelineError::StartExecutionError(format!(
            "{} record(s) could not be started ({} other(s) handled: {} started, {} duplicate(s), {} skipped): {}",
            self.failed.len(),
            handled,
            self.started.len(),
            self.duplicates.len(),
            self.skipped.len(),
            failures.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_camel_case() {
        let summary = Summary {
            started: vec![Started {
                key: "k".into(),
                execution_name: "n".into(),
                execution_arn: "a".into(),
            }],
            ..Summary::default()
        };
        assert_eq!(
            serde_json::to_value(&summary).unwrap(),
            serde_json::json!({
                "started": [{"key": "k", "executionName": "n", "executionArn": "a"}],
                "duplicates": [], "skipped": [], "failed": []
            })
        );
    }

    #[test]
    fn any_failure_is_an_error_naming_each_key() {
        let summary = Summary {
            failed: vec![
                Failed {
                    key: "prompts/%ZZ.txt".into(),
                    reason: "bad escape".into(),
                },
                Failed {
                    key: "Records[2]".into(),
                    reason: "no key".into(),
                },
            ],
            skipped: vec![Skipped {
                key: "x".into(),
                reason: "y".into(),
            }],
            ..Summary::default()
        };
        let err = summary.into_result().unwrap_err();
        assert_eq!(err.name(), "StartExecutionError");
        let message = err.to_string();
        assert!(
            message.starts_with("2 record(s) could not be started"),
            "{message}"
        );
        assert!(message.contains("prompts/%ZZ.txt: bad escape"), "{message}");
        assert!(message.contains("Records[2]: no key"), "{message}");
        assert!(Summary::default().into_result().is_ok());
    }
}
