//! [`ModelSlots`] over `aws_sdk_dynamodb::Client`: the model-slot schedule is one item per model,
//! `{modelId, nextAt}`, where `nextAt` is the first free slot (milliseconds since the epoch).
//!
//! A reservation is one conditional UpdateItem, in one of two forms:
//!
//! - the schedule runs ahead of `notBefore` but not past the request's latest slot
//!   (`nextAt >= :notBefore AND nextAt <= :latest`): take `nextAt` and move it on by one interval
//!   (`SET nextAt = nextAt + :interval`, the old value returned);
//! - the schedule is idle (`nextAt` absent or `< :notBefore`): the slot is `notBefore` itself, and
//!   `nextAt` becomes `notBefore + interval`.
//!
//! A failed busy write returns the item as it is (`ReturnValuesOnConditionCheckFailure`): a
//! `nextAt` past `:latest` means the schedule is full for this request ([`SlotError::Full`], nothing
//! written, so a refused request takes no one's slot). Otherwise the two conditions are each other's
//! negation, so one of them always applies; a conditional-check failure only means the item changed
//! between our look and our write (or the schedule was idle), and the other form is tried. Every write is atomic, so every reservation gets a slot of its own,
//! exactly one interval after the previous one: no polling, no lock, no retry storm.
//!
//! The busy form goes first: in a burst the schedule is ahead, and each reservation is one write;
//! on an idle schedule the first write fails its condition and the second succeeds.
//!
//! A model served by several pools has one schedule per pool. [`ModelSlots::reserve_earliest`]
//! reads each schedule once (a consistent GetItem), then reserves on the one with the earliest free
//! slot (among idle ones, the one idle longest), its latest slot bounded by the next pool's: a schedule that moved on meanwhile answers as
//! full for that bound, and the choice is made again with what the write returned. In a burst each
//! reservation is one write on one pool's item, so no item takes more writes than its own slots.
//! [`ModelSlots::push_back`] moves a throttled pool's schedule later (one conditional write).

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
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
    /// The schedule is booked past the request's latest slot (its next free slot).
    Full(i64),
    Failed(SlotError),
}

impl DynamoModelSlots {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn failed(&self, error: &SdkError<UpdateItemError, HttpResponse>, latest_ms: i64) -> Write {
        if let Some(UpdateItemError::ConditionalCheckFailedException(e)) = error.as_service_error()
        {
            // Only the busy form asks for the item back; past `latest` it is full, else idle.
            return match e.item().and_then(next_at) {
                Some(next) if next > latest_ms => Write::Full(next),
                _ => Write::OtherForm,
            };
        }
        Write::Failed(SlotError::Failed(format!(
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
            .key(PARTITION_KEY, AttributeValue::S(request.schedule.clone()))
            .update_expression("SET #next = #next + :interval")
            .condition_expression("#next >= :notBefore AND #next <= :latest")
            .expression_attribute_names("#next", NEXT_AT)
            .expression_attribute_values(":interval", number(request.interval_ms))
            .expression_attribute_values(":notBefore", number(request.not_before_ms))
            .expression_attribute_values(":latest", number(request.latest_ms))
            .return_values(ReturnValue::UpdatedOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match out {
            Ok(out) => {
                let old = out.attributes().and_then(next_at);
                match old {
                    Some(slot) => Write::Reserved(slot),
                    None => Write::Failed(SlotError::Failed(format!(
                        "the DynamoDB table {} did not return the previous {NEXT_AT} of {} as a whole number",
                        self.table, request.schedule
                    ))),
                }
            }
            Err(e) => self.failed(&e, request.latest_ms),
        }
    }

    /// The schedule is idle: the slot is `not_before`, and the next one an interval later.
    async fn start_idle(&self, request: &SlotRequest) -> Write {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(request.schedule.clone()))
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
            Err(e) => self.failed(&e, request.latest_ms),
        }
    }
}

/// The item's `nextAt`, if it is a whole number.
fn next_at(item: &std::collections::HashMap<String, AttributeValue>) -> Option<i64> {
    item.get(NEXT_AT)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<i64>().ok())
}

fn number(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

impl DynamoModelSlots {
    /// A schedule's first free slot as stored (`None`: never used), read consistently.
    async fn next_free(&self, schedule: &str) -> Result<Option<i64>, SlotError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(schedule.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e: SdkError<GetItemError, HttpResponse>| {
                SlotError::Failed(format!(
                    "reading the model slot schedule {schedule} in the DynamoDB table {} failed: {}",
                    self.table,
                    crate::error_text(&e)
                ))
            })?;
        Ok(out.item().and_then(next_at))
    }
}

/// What is known of one pool's schedule during a reservation.
#[derive(Debug, Clone, Copy)]
struct Known {
    /// Its first free slot as stored (`None`: never used).
    stored: Option<i64>,
    /// The slot a reservation would get there; `None` once it is known to be booked past the
    /// request's latest slot.
    expected: Option<i64>,
}

/// Which schedule to try next, and the bound that keeps it the earliest (the runner-up's expected
/// slot, or the request's own latest). The earliest expected slot wins; among equals (idle pools,
/// whose slot is the request's earliest), the one idle longest (the earliest stored first free
/// slot, never used first), so that even a quiet stream of requests spreads over the pools.
fn earliest(known: &[Known], requests: &[SlotRequest]) -> Option<(usize, i64)> {
    let mut order: Vec<(i64, i64, usize)> = known
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.expected.map(|at| (at, k.stored.unwrap_or(i64::MIN), i)))
        .collect();
    order.sort_unstable();
    let &(_, _, best) = order.first()?;
    let bound = order
        .get(1)
        .map_or(requests[best].latest_ms, |&(runner_up, _, _)| {
            runner_up.min(requests[best].latest_ms)
        });
    Some((best, bound))
}

impl ModelSlots for DynamoModelSlots {
    async fn reserve_earliest(&self, requests: &[SlotRequest]) -> Result<(usize, i64), SlotError> {
        if let [only] = requests {
            return self.reserve(only).await.map(|slot| (0, slot));
        }
        let mut known = Vec::with_capacity(requests.len());
        for request in requests {
            let stored = self.next_free(&request.schedule).await?;
            known.push(Known {
                stored,
                expected: Some(
                    stored.map_or(request.not_before_ms, |n| n.max(request.not_before_ms)),
                ),
            });
        }
        let mut full_at = i64::MAX;
        for _ in 0..TRIES * requests.len() {
            let Some((best, bound)) = earliest(&known, requests) else {
                return Err(SlotError::Full {
                    next_at_ms: full_at,
                });
            };
            let request = &requests[best];
            let bounded = SlotRequest {
                latest_ms: bound,
                ..request.clone()
            };
            match self.reserve(&bounded).await {
                Ok(slot) => return Ok((best, slot)),
                Err(SlotError::Full { next_at_ms }) if next_at_ms > request.latest_ms => {
                    known[best].expected = None;
                    full_at = full_at.min(next_at_ms);
                }
                Err(SlotError::Full { next_at_ms }) => {
                    known[best] = Known {
                        stored: Some(next_at_ms),
                        expected: Some(next_at_ms.max(request.not_before_ms)),
                    };
                }
                Err(other) => return Err(other),
            }
        }
        Err(SlotError::Failed(format!(
            "no model slot in the DynamoDB table {}: the schedules changed under each of {} writes",
            self.table,
            TRIES * requests.len()
        )))
    }

    async fn push_back(&self, schedule: &str, until_ms: i64) -> Result<(), SlotError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, AttributeValue::S(schedule.to_owned()))
            .update_expression("SET #next = :until")
            .condition_expression("attribute_not_exists(#next) OR #next < :until")
            .expression_attribute_names("#next", NEXT_AT)
            .expression_attribute_values(":until", number(until_ms))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Already later than that: nothing to do.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(SlotError::Failed(format!(
                "pushing back the model slot schedule {schedule} in the DynamoDB table {} failed: {}",
                self.table,
                crate::error_text(&e)
            ))),
        }
    }

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
                Write::Full(next_at_ms) => return Err(SlotError::Full { next_at_ms }),
                Write::OtherForm => busy = !busy,
                Write::Failed(e) => return Err(e),
            }
        }
        Err(SlotError::Failed(format!(
            "no model slot for {} in the DynamoDB table {}: its schedule changed under each of {TRIES} writes",
            request.schedule, self.table
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

    #[test]
    fn the_earliest_slot_wins_and_among_idle_pools_the_one_idle_longest() {
        let requests = vec![request(); 3];
        let known = |stored: Option<i64>, expected: Option<i64>| Known { stored, expected };
        // Distinct slots: the earliest, bounded by the runner-up's.
        let pools = [
            known(Some(1_009_000), Some(1_009_000)),
            known(Some(1_003_000), Some(1_003_000)),
            known(Some(1_006_000), Some(1_006_000)),
        ];
        assert_eq!(earliest(&pools, &requests), Some((1, 1_006_000)));
        // All idle (each slot would be not-before): the never-used pool, then the one idle longest.
        let idle = [
            known(Some(990_000), Some(1_000_000)),
            known(None, Some(1_000_000)),
            known(Some(980_000), Some(1_000_000)),
        ];
        assert_eq!(earliest(&idle, &requests), Some((1, 1_000_000)));
        let used = [idle[0], known(Some(995_000), Some(1_000_000)), idle[2]];
        assert_eq!(earliest(&used, &requests), Some((2, 1_000_000)));
        // Full pools drop out; none left is none.
        let full = [known(Some(2_000_000), None); 3];
        assert_eq!(earliest(&full, &requests), None);
    }

    fn request() -> SlotRequest {
        SlotRequest {
            schedule: "stability.stable-image-core-v1:1".into(),
            not_before_ms: 1_000_000,
            interval_ms: 3_000,
            latest_ms: 1_600_000,
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
            && r.condition_expression() == Some("#next >= :notBefore AND #next <= :latest")
            && r.expression_attribute_names()
                .and_then(|n| n.get("#next"))
                .map(String::as_str)
                == Some(NEXT_AT)
            && value(r, ":interval") == Some("3000")
            && value(r, ":notBefore") == Some("1000000")
            && value(r, ":latest") == Some("1600000")
            && r.return_values() == Some(&ReturnValue::UpdatedOld)
            && r.return_values_on_condition_check_failure()
                == Some(&ReturnValuesOnConditionCheckFailure::AllOld)
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

    /// The busy form's condition fails on a schedule whose next free slot is `next`.
    fn busy_refuses_at(next: &'static str) -> Rule {
        mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(is_busy_form)
            .then_error(move || {
                UpdateItemError::ConditionalCheckFailedException(
                    ConditionalCheckFailedException::builder()
                        .message("The conditional request failed")
                        .item(NEXT_AT, AttributeValue::N(next.into()))
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
    async fn a_schedule_booked_past_the_latest_slot_is_full_and_nothing_is_written() {
        let full = busy_refuses_at("1600001");
        let err = reserve(&[&full]).await.unwrap_err();
        assert_eq!(
            err,
            SlotError::Full {
                next_at_ms: 1_600_001
            }
        );
        assert_eq!(full.num_calls(), 1, "no second form is tried");
    }

    #[tokio::test]
    async fn a_schedule_behind_not_before_is_idle_even_when_the_item_comes_back() {
        let (first, second) = (busy_refuses_at("999999"), idle_answers());
        assert_eq!(reserve(&[&first, &second]).await.unwrap(), 1_000_000);
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
        assert!(
            err.to_string().contains("changed under each of 6 writes"),
            "{err}"
        );
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
        let text = err.to_string();
        assert!(
            text.contains("slots") && text.contains("Requested resource not found"),
            "{err}"
        );
        assert_eq!(missing.num_calls(), 1, "not retried as a conflict");
    }

    #[tokio::test]
    async fn a_missing_old_value_is_an_error() {
        let empty = mock!(aws_sdk_dynamodb::Client::update_item)
            .then_output(|| UpdateItemOutput::builder().build());
        let err = reserve(&[&empty]).await.unwrap_err();
        assert!(err.to_string().contains("whole number"), "{err}");
    }
}
