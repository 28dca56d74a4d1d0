//! [`ModelSlots`] over `aws_sdk_dynamodb::Client`: the model-slot schedule is one item per model,
//! `{modelId, nextAt}`, where `nextAt` is the first free slot (milliseconds since the epoch).
//!
//! A reservation is one conditional UpdateItem, in one of two forms:
//!
//! - the schedule runs ahead of `notBefore` (`nextAt >= :notBefore`): take `nextAt` and move it on
//!   by one interval (`SET nextAt = nextAt + :interval`, the old value returned);
//! - the schedule is idle (`nextAt` absent or `< :notBefore`): the slot is `notBefore` itself, and
//!   `nextAt` becomes `notBefore + interval`.
//!
//! Each form's condition is the other's negation, so one of them always applies; a conditional-check
//! failure only means the item changed between our look and our write (or the schedule was idle), and
//! the other form is tried. Every write is atomic, so every reservation gets a slot of its own,
//! exactly one interval after the previous one: no polling, no lock, no retry storm.
//!
//! The busy form goes first: in a burst the schedule is ahead, and each reservation is one write;
//! on an idle schedule the first write fails its condition and the second succeeds.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use imagegen_core::ports::{ModelSlots, SlotError, SlotRequest};

/// The table's partition key (a string: the model id). The CDK app reads it from the facts file.
pub const PARTITION_KEY: &str = "modelId";
/// The attribute holding the first free slot, in milliseconds since the Unix epoch (a number).
pub const NEXT_AT: &str = "nextAt";
/// Writes per reservation before giving up; each failed one means another reservation succeeded.
const TRIES: usize = 6;

/// [`ModelSlots`] over one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoModelSlots {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// How one write went.
enum Write {
    Reserved(i64),
    /// The condition did not hold: try the other form.
    OtherForm,
    Failed(SlotError),
}

impl DynamoModelSlots {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn failed(&self, error: &SdkError<UpdateItemError, HttpResponse>) -> Write {
        if matches!(
            error.as_service_error(),
            Some(UpdateItemError::ConditionalCheckFailedException(_))
        ) {
            return Write::OtherForm;
        }
        Write::Failed(SlotError(format!(
            "reserving a model slot in the DynamoDB table {} failed: {}",
            self.table,
            crate::error_text(error)
        )))
    }

    /// The schedule is ahead: take its next slot.
    async fn take_next(&self, request: &SlotRequest) -> Write {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(request.model_id.clone()))
            .update_expression("SET #next = #next + :interval")
            .condition_expression("#next >= :notBefore")
            .expression_attribute_names("#next", NEXT_AT)
            .expression_attribute_values(":interval", number(request.interval_ms))
            .expression_attribute_values(":notBefore", number(request.not_before_ms))
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        match out {
            Ok(out) => {
                let old = out
                    .attributes()
                    .and_then(|a| a.get(NEXT_AT))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<i64>().ok());
                match old {
                    Some(slot) => Write::Reserved(slot),
                    None => Write::Failed(SlotError(format!(
                        "the DynamoDB table {} did not return the previous {NEXT_AT} of {} as a whole number",
                        self.table, request.model_id
                    ))),
                }
            }
            Err(e) => self.failed(&e),
        }
    }

    /// The schedule is idle: the slot is `not_before`, and the next one an interval later.
    async fn start_idle(&self, request: &SlotRequest) -> Write {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(request.model_id.clone()))
            .update_expression("SET #next = :next")
            .condition_expression("attribute_not_exists(#next) OR #next < :notBefore")
            .expression_attribute_names("#next", NEXT_AT)
            .expression_attribute_values(
                ":next",
                number(request.not_before_ms.saturating_add(request.interval_ms)),
            )
            .expression_attribute_values(":notBefore", number(request.not_before_ms))
            .send()
            .await;
        match out {
            Ok(_) => Write::Reserved(request.not_before_ms),
            Err(e) => self.failed(&e),
        }
    }
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

impl ModelSlots for DynamoModelSlots {
    async fn reserve(&self, request: &SlotRequest) -> Result<i64, SlotError> {
        let mut busy = true;
        for _ in 0..TRIES {
            let write = if busy {
                self.take_next(request).await
            } else {
                self.start_idle(request).await
            };
            match write {
                Write::Reserved(slot) => return Ok(slot),
                Write::OtherForm => busy = !busy,
                Write::Failed(e) => return Err(e),
            }
        }
        Err(SlotError(format!(
            "no model slot for {} in the DynamoDB table {}: its schedule changed under each of {TRIES} writes",
            request.model_id, self.table
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, ResourceNotFoundException,
    };
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};

    fn request() -> SlotRequest {
        SlotRequest {
            model_id: "stability.stable-image-core-v1:1".into(),
            not_before_ms: 1_000_000,
            interval_ms: 3_000,
        }
    }

    fn value<'a>(
        r: &'a aws_sdk_dynamodb::operation::update_item::UpdateItemInput,
        name: &str,
    ) -> Option<&'a str> {
        r.expression_attribute_values()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_n().ok())
            .map(String::as_str)
    }

    fn is_busy_form(r: &aws_sdk_dynamodb::operation::update_item::UpdateItemInput) -> bool {
        r.table_name() == Some("slots")
            && r.key()
                .and_then(|k| k.get(PARTITION_KEY))
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some("stability.stable-image-core-v1:1")
            && r.update_expression() == Some("SET #next = #next + :interval")
            && r.condition_expression() == Some("#next >= :notBefore")
            && r.expression_attribute_names()
                .and_then(|n| n.get("#next"))
                .map(String::as_str)
                == Some(NEXT_AT)
            && value(r, ":interval") == Some("3000")
            && value(r, ":notBefore") == Some("1000000")
            && r.return_values() == Some(&ReturnValue::UpdatedOld)
    }

    fn is_idle_form(r: &aws_sdk_dynamodb::operation::update_item::UpdateItemInput) -> bool {
        r.update_expression() == Some("SET #next = :next")
            && r.condition_expression() == Some("attribute_not_exists(#next) OR #next < :notBefore")
            && value(r, ":next") == Some("1003000")
            && value(r, ":notBefore") == Some("1000000")
    }

    fn busy_answers(old: &'static str) -> Rule {
        mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(is_busy_form)
            .then_output(move || {
                UpdateItemOutput::builder()
                    .attributes(NEXT_AT, AttributeValue::N(old.into()))
                    .build()
            })
    }

    fn conflict(
        matches: fn(&aws_sdk_dynamodb::operation::update_item::UpdateItemInput) -> bool,
    ) -> Rule {
        mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(matches)
            .then_error(|| {
                UpdateItemError::ConditionalCheckFailedException(
                    ConditionalCheckFailedException::builder()
                        .message("The conditional request failed")
                        .build(),
                )
            })
    }

    fn idle_answers() -> Rule {
        mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(is_idle_form)
            .then_output(|| UpdateItemOutput::builder().build())
    }

    async fn reserve(rules: &[&Rule]) -> Result<i64, SlotError> {
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules);
        DynamoModelSlots::new(client, "slots")
            .reserve(&request())
            .await
    }

    #[tokio::test]
    async fn a_busy_schedule_gives_its_next_slot_in_one_write() {
        let busy = busy_answers("1042000");
        assert_eq!(reserve(&[&busy]).await.unwrap(), 1_042_000);
        assert_eq!(busy.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_idle_schedule_gives_not_before() {
        let (first, second) = (conflict(is_busy_form), idle_answers());
        assert_eq!(reserve(&[&first, &second]).await.unwrap(), 1_000_000);
        assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_race_between_the_forms_settles() {
        // Idle at the first look, busy by the second (another reservation started it): busy again.
        let rules = [
            conflict(is_busy_form),
            conflict(is_idle_form),
            busy_answers("1003000"),
        ];
        let refs: Vec<&Rule> = rules.iter().collect();
        assert_eq!(reserve(&refs).await.unwrap(), 1_003_000);
    }

    #[tokio::test]
    async fn endless_conflicts_are_an_error_not_a_loop() {
        let rules: Vec<Rule> = (0..TRIES)
            .map(|i| {
                if i % 2 == 0 {
                    conflict(is_busy_form)
                } else {
                    conflict(is_idle_form)
                }
            })
            .collect();
        let refs: Vec<&Rule> = rules.iter().collect();
        let err = reserve(&refs).await.unwrap_err();
        assert!(err.0.contains("changed under each of 6 writes"), "{err}");
    }

    #[tokio::test]
    async fn other_errors_name_the_table() {
        let missing = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
            UpdateItemError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Requested resource not found")
                    .build(),
            )
        });
        let err = reserve(&[&missing]).await.unwrap_err();
        assert!(
            err.0.contains("slots") && err.0.contains("Requested resource not found"),
            "{err}"
        );
        assert_eq!(missing.num_calls(), 1, "not retried as a conflict");
    }

    #[tokio::test]
    async fn a_missing_old_value_is_an_error() {
        let empty = mock!(aws_sdk_dynamodb::Client::update_item)
            .then_output(|| UpdateItemOutput::builder().build());
        let err = reserve(&[&empty]).await.unwrap_err();
        assert!(err.0.contains("whole number"), "{err}");
    }
}
