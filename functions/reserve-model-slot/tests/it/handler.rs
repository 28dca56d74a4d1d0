//! ReserveModelSlot through the real DynamoDB adapter, with the SDK client mocked and a fixed clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::operation::update_item::{
    UpdateItemError, UpdateItemInput, UpdateItemOutput,
};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::{ConditionalCheckFailedException, InternalServerError};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use imagegen_aws::DynamoModelSlots;
use imagegen_core::PipelineError;
use imagegen_core::ports::Clock;
use imagegen_core::types::SlotState;
use reserve_model_slot::{Config, handle};
use serde_json::{Value, json};

/// 2026-01-02T03:04:05.000Z
const NOW_MS: i64 = 1_767_323_045_000;
const MODEL: &str = "stability.stable-image-core-v1:1";

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(NOW_MS as u64)
    }
}

fn config(quota_rpm: u32) -> Config {
    Config {
        table: "slots".into(),
        quota_rpm,
        max_wait_minutes: 60,
    }
}

fn number(r: &UpdateItemInput, name: &str) -> Option<i64> {
    r.expression_attribute_values()?
        .get(name)?
        .as_n()
        .ok()?
        .parse()
        .ok()
}

/// The schedule is busy: the next slot is `old`.
fn busy(not_before: i64, interval: i64, old: i64) -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(move |r| {
            r.table_name() == Some("slots")
                && r.update_expression() == Some("SET #next = #next + :interval")
                && number(r, ":notBefore") == Some(not_before)
                && number(r, ":interval") == Some(interval)
        })
        .then_output(move || {
            UpdateItemOutput::builder()
                .attributes("nextAt", AttributeValue::N(old.to_string()))
                .build()
        })
}

fn event(previous: Value) -> Value {
    json!({
        "request": {"requestId": "r-1", "prompt": "a lighthouse", "model": {"id": MODEL, "family": "stability"}},
        "previous": previous
    })
}

async fn run(rules: &[&Rule], quota: u32, event: Value) -> Result<SlotState, PipelineError> {
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules);
    let slots = DynamoModelSlots::new(client, "slots");
    handle(&config(quota), &slots, &FixedClock, event).await
}

#[tokio::test]
async fn the_first_slot_of_a_busy_schedule_is_its_next_one() {
    let slot = NOW_MS + 90_000;
    let rule = busy(NOW_MS, 3_000, slot);
    let out = run(&[&rule], 20, event(json!({"attempt": 0})))
        .await
        .unwrap();
    assert_eq!(
        out,
        SlotState {
            attempt: 1,
            at: Some("2026-01-02T03:05:35.000Z".into()),
            wait_millis: Some(90_000),
            last_error: None,
        }
    );
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({"attempt": 1, "at": "2026-01-02T03:05:35.000Z", "waitMillis": 90000})
    );
}

#[tokio::test]
async fn an_idle_schedule_gives_a_slot_now() {
    let conflict = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        )
    });
    let idle = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| {
            r.update_expression() == Some("SET #next = :next")
                && number(r, ":next") == Some(NOW_MS + 6_000)
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let out = run(&[&conflict, &idle], 10, event(json!({"attempt": 0})))
        .await
        .unwrap();
    assert_eq!(out.at.as_deref(), Some("2026-01-02T03:04:05.000Z"));
    assert_eq!(out.wait_millis, Some(0));
}

#[tokio::test]
async fn a_failed_attempt_backs_off_before_its_next_slot() {
    // The third attempt: two failures so far, so not before now + 4 s.
    let rule = busy(NOW_MS + 4_000, 1_000, NOW_MS + 4_000);
    let previous = json!({
        "attempt": 2,
        "at": "2026-01-02T03:04:00.000Z",
        "waitMillis": 0,
        "lastError": {"Error": "ModelThrottled", "Cause": "{\"errorMessage\":\"slow down\"}"}
    });
    let out = run(&[&rule], 60, event(previous)).await.unwrap();
    assert_eq!((out.attempt, out.wait_millis), (3, Some(4_000)));
    assert_eq!(out.last_error, None, "a new slot starts clean");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn spent_attempts_end_with_the_last_error_and_no_write() {
    let untouched = busy(0, 0, 0);
    for (last, name) in [
        ("ModelThrottled", "ModelThrottled"),
        ("ModelUnavailable", "ModelUnavailable"),
        ("States.Timeout", "ModelUnavailable"),
        ("StorageError", "StorageError"),
    ] {
        let previous = json!({
            "attempt": 8,
            "lastError": {"Error": last, "Cause": "{\"errorMessage\":\"Rate exceeded\"}"}
        });
        let err = run(&[&untouched], 20, event(previous)).await.unwrap_err();
        assert_eq!(err.name(), name);
        let text = err.to_string();
        assert!(
            text.contains("after 8 attempts") && text.contains("Rate exceeded"),
            "{text}"
        );
    }
    assert_eq!(untouched.num_calls(), 0);
}

#[tokio::test]
async fn a_dynamodb_failure_is_a_storage_error() {
    let down = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::InternalServerError(InternalServerError::builder().message("oops").build())
    });
    let err = run(&[&down], 20, event(json!({"attempt": 0})))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "StorageError");
    assert!(err.to_string().contains("slots"), "{err}");
}

#[tokio::test]
async fn malformed_events_are_invalid() {
    let untouched = busy(0, 0, 0);
    let model = json!({"id": MODEL, "family": "stability"});
    for bad in [
        json!({}),
        json!({"request": {"model": model}}),
        json!({"request": {}, "previous": {"attempt": 0}}),
        json!({"request": {"model": {"id": " ", "family": "stability"}}, "previous": {"attempt": 0}}),
        json!({"request": {"model": model}, "previous": {"attempt": -1}}),
    ] {
        let err = run(&[&untouched], 20, bad.clone()).await.unwrap_err();
        assert_eq!(err.name(), "InvalidEvent", "{bad}");
    }
}

#[tokio::test]
async fn a_schedule_booked_past_the_longest_wait_is_queue_full_and_says_how_far() {
    // Booked 2 h 30 min ahead; the longest wait is 60 min.
    let next = NOW_MS + 150 * 60_000;
    let full = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| number(r, ":latest") == Some(NOW_MS + 60 * 60_000))
        .then_error(move || {
            UpdateItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .item("nextAt", AttributeValue::N(next.to_string()))
                    .build(),
            )
        });
    let err = run(&[&full], 20, event(json!({"attempt": 0})))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "QueueFull");
    let text = err.to_string();
    assert!(
        text.contains("booked 2 h 30 min ahead")
            && text.contains("longer than the 1 h a request may wait (MAX_SLOT_WAIT_MINUTES)")
            && text.contains("not queued"),
        "{text}"
    );
    assert_eq!(full.num_calls(), 1, "no slot taken, no other write");
}
