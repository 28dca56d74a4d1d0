//! ReserveModelSlot through the real DynamoDB adapter, with the SDK client mocked and a fixed clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::update_item::{
    UpdateItemError, UpdateItemInput, UpdateItemOutput,
};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::{ConditionalCheckFailedException, InternalServerError};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use imagegen_aws::DynamoModelSlots;
use imagegen_core::PipelineError;
use imagegen_core::pools;
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
        pools: pools::parse(None, quota_rpm).unwrap(),
        fallbacks: Vec::new(),
    }
}

/// The model in three Regions, 20 a minute each.
fn three_pools() -> Config {
    Config {
        pools: pools::parse(Some("us-west-2=20,us-east-1=20,us-east-2=20"), 10).unwrap(),
        ..config(10)
    }
}

fn key_of(r: &UpdateItemInput) -> Option<&str> {
    r.key()?.get("modelId")?.as_s().ok().map(String::as_str)
}

/// A consistent read of `schedule` finds its next free slot at `next` (`None`: never used).
fn schedule_at(schedule: &'static str, next: Option<i64>) -> Rule {
    mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(move |r| {
            r.consistent_read() == Some(true)
                && r.key()
                    .and_then(|k| k.get("modelId"))
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some(schedule)
        })
        .then_output(move || {
            let out = GetItemOutput::builder();
            match next {
                Some(n) => out.item("nextAt", AttributeValue::N(n.to_string())),
                None => out,
            }
            .build()
        })
}

/// The three pools' schedules read: us-west-2's, us-east-1's and us-east-2's next free slots.
fn three_reads(west: Option<i64>, east: Option<i64>, east_2: Option<i64>) -> [Rule; 3] {
    [
        schedule_at("stability.stable-image-core-v1:1@us-west-2", west),
        schedule_at("stability.stable-image-core-v1:1@us-east-1", east),
        schedule_at("stability.stable-image-core-v1:1@us-east-2", east_2),
    ]
}

/// The schedule `schedule` is pushed back to `until`.
fn pushed(schedule: &'static str, until: i64) -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(move |r| {
            key_of(r) == Some(schedule)
                && r.update_expression() == Some("SET #next = :until")
                && r.condition_expression() == Some("attribute_not_exists(#next) OR #next < :until")
                && number(r, ":until") == Some(until)
        })
        .then_output(|| UpdateItemOutput::builder().build())
}

/// The busy form on `schedule`, bounded by `latest`, takes `slot`.
fn taken(schedule: &'static str, latest: i64, slot: i64) -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(move |r| {
            key_of(r) == Some(schedule)
                && r.update_expression() == Some("SET #next = #next + :interval")
                && number(r, ":latest") == Some(latest)
                && number(r, ":interval") == Some(3_000)
        })
        .then_output(move || {
            UpdateItemOutput::builder()
                .attributes("nextAt", AttributeValue::N(slot.to_string()))
                .build()
        })
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
    run_with(&config(quota), rules, event).await
}

async fn run_with(
    config: &Config,
    rules: &[&Rule],
    event: Value,
) -> Result<SlotState, PipelineError> {
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, rules);
    let slots = DynamoModelSlots::new(client, "slots");
    handle(config, &slots, &FixedClock, event).await
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
            pool: None,
            model: None,
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
    // The third attempt: two failures so far, so not before now + 4 s; the model's one schedule
    // (the function's own Region) is pushed back as far first.
    let push = pushed(MODEL, NOW_MS + 4_000);
    let rule = busy(NOW_MS + 4_000, 1_000, NOW_MS + 4_000);
    let previous = json!({
        "attempt": 2,
        "at": "2026-01-02T03:04:00.000Z",
        "waitMillis": 0,
        "lastError": {"Error": "ModelThrottled", "Cause": "{\"errorMessage\":\"slow down\"}"}
    });
    let out = run(&[&push, &rule], 60, event(previous)).await.unwrap();
    assert_eq!(push.num_calls(), 1);
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

#[tokio::test]
async fn the_earliest_slot_across_the_pools_is_taken_and_its_pool_named() {
    // us-east-1 is free soonest (30 s), us-east-2 next (45 s, never beyond it), us-west-2 last.
    let reads = three_reads(
        Some(NOW_MS + 60_000),
        Some(NOW_MS + 30_000),
        Some(NOW_MS + 45_000),
    );
    let take = taken(
        "stability.stable-image-core-v1:1@us-east-1",
        NOW_MS + 45_000,
        NOW_MS + 30_000,
    );
    let out = run_with(
        &three_pools(),
        &[&reads[0], &reads[1], &reads[2], &take],
        event(json!({"attempt": 0})),
    )
    .await
    .unwrap();
    assert_eq!(out.pool.as_deref(), Some("us-east-1"));
    assert_eq!(out.wait_millis, Some(30_000));
    assert_eq!(take.num_calls(), 1, "one write, on one pool's item");
    assert_eq!(
        serde_json::to_value(&out).unwrap()["pool"],
        json!("us-east-1"),
        "GenerateImage reads the pool from the slot"
    );
}

#[tokio::test]
async fn a_pool_that_moved_on_meanwhile_gives_way_to_the_next_earliest() {
    // The read saw us-west-2 free now, but another reservation took it: its write, bounded by
    // us-east-1's 3 s, finds it at 6 s and answers full; us-east-1 is taken instead.
    let reads = three_reads(None, Some(NOW_MS + 3_000), Some(NOW_MS + 9_000));
    let moved = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| {
            key_of(r) == Some("stability.stable-image-core-v1:1@us-west-2")
                && number(r, ":latest") == Some(NOW_MS + 3_000)
        })
        .then_error(|| {
            UpdateItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .item("nextAt", AttributeValue::N((NOW_MS + 6_000).to_string()))
                    .build(),
            )
        });
    let take = taken(
        "stability.stable-image-core-v1:1@us-east-1",
        NOW_MS + 6_000,
        NOW_MS + 3_000,
    );
    let out = run_with(
        &three_pools(),
        &[&reads[0], &reads[1], &reads[2], &moved, &take],
        event(json!({"attempt": 0})),
    )
    .await
    .unwrap();
    assert_eq!(
        (out.pool.as_deref(), out.wait_millis),
        (Some("us-east-1"), Some(3_000))
    );
}

#[tokio::test]
async fn a_throttled_pool_pushes_back_only_its_own_schedule() {
    let push = pushed("stability.stable-image-core-v1:1@us-west-2", NOW_MS + 2_000);
    let reads = three_reads(
        Some(NOW_MS + 2_000),
        Some(NOW_MS + 12_000),
        Some(NOW_MS + 6_000),
    );
    let take = taken(
        "stability.stable-image-core-v1:1@us-west-2",
        NOW_MS + 6_000,
        NOW_MS + 2_000,
    );
    let previous = json!({
        "attempt": 1,
        "pool": "us-west-2",
        "lastError": {"Error": "ModelThrottled", "Cause": "{\"errorMessage\":\"slow down\"}"}
    });
    let out = run_with(
        &three_pools(),
        &[&push, &reads[0], &reads[1], &reads[2], &take],
        event(previous),
    )
    .await
    .unwrap();
    assert_eq!(push.num_calls(), 1, "pushed to now + the 2 s backoff");
    assert_eq!(out.attempt, 2);
    // A content filter or a storage error says nothing about the pool: nothing is pushed.
    let reads = three_reads(
        Some(NOW_MS + 2_000),
        Some(NOW_MS + 12_000),
        Some(NOW_MS + 6_000),
    );
    let take = taken(
        "stability.stable-image-core-v1:1@us-west-2",
        NOW_MS + 6_000,
        NOW_MS + 2_000,
    );
    let previous = json!({
        "attempt": 1,
        "pool": "us-west-2",
        "lastError": {"Error": "StorageError", "Cause": "{}"}
    });
    run_with(
        &three_pools(),
        &[&reads[0], &reads[1], &reads[2], &take],
        event(previous),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn every_pool_full_is_queue_full_naming_the_pools() {
    let far = NOW_MS + 120 * 60_000;
    let reads = three_reads(Some(far), Some(far + 1), Some(far + 2));
    let full = |key: &'static str, next: i64| {
        mock!(aws_sdk_dynamodb::Client::update_item)
            .match_requests(move |r| key_of(r) == Some(key))
            .then_error(move || {
                UpdateItemError::ConditionalCheckFailedException(
                    ConditionalCheckFailedException::builder()
                        .item("nextAt", AttributeValue::N(next.to_string()))
                        .build(),
                )
            })
    };
    let writes = [
        full("stability.stable-image-core-v1:1@us-west-2", far),
        full("stability.stable-image-core-v1:1@us-east-1", far + 1),
        full("stability.stable-image-core-v1:1@us-east-2", far + 2),
    ];
    let mut rules: Vec<&Rule> = reads.iter().collect();
    rules.extend(writes.iter());
    let err = run_with(&three_pools(), &rules, event(json!({"attempt": 0})))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "QueueFull");
    let text = err.to_string();
    assert!(
        text.contains("booked 2 h ahead") && text.contains("3 pools, 60 requests a minute in all"),
        "{text}"
    );
}

const ULTRA: &str = "stability.stable-image-ultra-v1:1";

fn retired(model: Option<&str>) -> Value {
    let mut previous = json!({
        "attempt": 1,
        "pool": "us-west-2",
        "lastError": {
            "Error": "ModelRetired",
            "Cause": "{\"errorMessage\":\"stability.stable-image-core-v1:1 is retired on Bedrock; current models: ...\"}"
        }
    });
    if let Some(id) = model {
        previous["model"] = json!({"id": id, "family": "stability"});
    }
    event(previous)
}

#[tokio::test]
async fn a_retired_model_moves_the_request_to_the_first_fallback_on_its_own_schedule() {
    // The fallback's own schedule, at once (no backoff), nothing pushed back.
    let take = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|r| key_of(r) == Some(ULTRA) && number(r, ":notBefore") == Some(NOW_MS))
        .then_output(|| {
            UpdateItemOutput::builder()
                .attributes("nextAt", AttributeValue::N(NOW_MS.to_string()))
                .build()
        });
    let config = Config {
        fallbacks: vec![ULTRA.into()],
        ..config(20)
    };
    let out = run_with(&config, &[&take], retired(None)).await.unwrap();
    assert_eq!(out.attempt, 1, "the fallback's first attempt");
    assert_eq!(out.model.as_ref().map(|m| m.id.as_str()), Some(ULTRA));
    assert_eq!(
        serde_json::to_value(&out).unwrap()["model"],
        json!({"id": ULTRA, "family": "stability"}),
        "GenerateImage reads the model from the slot"
    );
    assert_eq!(take.num_calls(), 1);
}

#[tokio::test]
async fn a_retired_model_without_a_fallback_left_ends_in_model_retired_and_no_write() {
    let untouched = busy(0, 0, 0);
    let err = run(&[&untouched], 20, retired(None)).await.unwrap_err();
    assert_eq!(err.name(), "ModelRetired");
    let text = err.to_string();
    assert!(
        text.contains("is retired on Bedrock") && text.contains("no fallback model is set"),
        "{text}"
    );
    // The fallback itself retired, and nothing after it.
    let config = Config {
        fallbacks: vec![ULTRA.into()],
        ..config(20)
    };
    let err = run_with(&config, &[&untouched], retired(Some(ULTRA)))
        .await
        .unwrap_err();
    assert_eq!(err.name(), "ModelRetired");
    assert!(
        err.to_string().contains(
            "no fallback model is left (FALLBACK_MODEL_IDS: stability.stable-image-ultra-v1:1)"
        ),
        "{err}"
    );
    assert_eq!(untouched.num_calls(), 0);
}
