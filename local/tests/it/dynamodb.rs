//! The local DynamoDB through the real SDK client: the model-slot adapter's writes, DynamoDB's error
//! shapes, and refusals of what the stand-in does not support.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use imagegen_aws::DynamoModelSlots;
use imagegen_aws::dynamodb::{NEXT_AT, PARTITION_KEY};
use imagegen_core::ports::{ModelSlots, SlotError, SlotRequest};
use imagegen_local::FakeModelBehavior;

const TABLE: &str = "imagegen-model-slots";
const MODEL: &str = "stability.stable-image-core-v1:1";

fn request(not_before_ms: i64) -> SlotRequest {
    SlotRequest {
        schedule: MODEL.into(),
        not_before_ms,
        interval_ms: 3_000,
        latest_ms: not_before_ms + 3_600_000,
    }
}

/// A request that waits at most a minute.
fn impatient(not_before_ms: i64) -> SlotRequest {
    SlotRequest {
        latest_ms: not_before_ms + 60_000,
        ..request(not_before_ms)
    }
}

fn setup(label: &str) -> (common::TempDir, imagegen_local::LocalAws) {
    let (dir, aws) = common::local(label, FakeModelBehavior::default());
    aws.create_table(TABLE, PARTITION_KEY);
    (dir, aws)
}

async fn next_at(client: &aws_sdk_dynamodb::Client) -> Option<String> {
    let out = client
        .get_item()
        .table_name(TABLE)
        .key(PARTITION_KEY, AttributeValue::S(MODEL.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    out.item()
        .and_then(|i| i.get(NEXT_AT))
        .map(|v| v.as_n().unwrap().clone())
}

#[tokio::test]
async fn slots_follow_one_another_and_restart_when_idle() {
    let (_dir, aws) = setup("ddb-slots");
    let client = aws.dynamodb_client();
    let slots = DynamoModelSlots::new(client.clone(), TABLE);
    assert_eq!(next_at(&client).await, None);
    // Idle: the slot is now; busy: one interval after the other.
    assert_eq!(slots.reserve(&request(1_000)).await.unwrap(), 1_000);
    assert_eq!(slots.reserve(&request(1_500)).await.unwrap(), 4_000);
    assert_eq!(slots.reserve(&request(1_500)).await.unwrap(), 7_000);
    assert_eq!(next_at(&client).await.as_deref(), Some("10000"));
    // Later than the schedule: idle again.
    assert_eq!(slots.reserve(&request(50_000)).await.unwrap(), 50_000);
    assert_eq!(next_at(&client).await.as_deref(), Some("53000"));
}

#[tokio::test]
async fn a_schedule_booked_past_the_latest_slot_refuses_and_keeps_its_place() {
    let (_dir, aws) = setup("ddb-full");
    let client = aws.dynamodb_client();
    let slots = DynamoModelSlots::new(client.clone(), TABLE);
    // 21 slots fill [1 s, 61 s]; the 22nd would be at 64 s, past 1 s + 60 s.
    for i in 0..21 {
        assert_eq!(
            slots.reserve(&impatient(1_000)).await.unwrap(),
            1_000 + i * 3_000
        );
    }
    assert_eq!(
        slots.reserve(&impatient(1_000)).await.unwrap_err(),
        SlotError::Full { next_at_ms: 64_000 }
    );
    assert_eq!(
        next_at(&client).await.as_deref(),
        Some("64000"),
        "nothing taken"
    );
    // A request that may wait longer still gets the next slot.
    assert_eq!(slots.reserve(&impatient(5_000)).await.unwrap(), 64_000);
}

#[tokio::test]
async fn concurrent_reservations_each_get_their_own_slot() {
    let (_dir, aws) = setup("ddb-concurrent");
    let slots = DynamoModelSlots::new(aws.dynamodb_client(), TABLE);
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let slots = slots.clone();
            tokio::spawn(async move { slots.reserve(&request(10_000)).await.unwrap() })
        })
        .collect();
    let mut got = BTreeSet::new();
    for task in tasks {
        got.insert(task.await.unwrap());
    }
    let expected: BTreeSet<i64> = (0..50).map(|i| 10_000 + i * 3_000).collect();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_failed_condition_is_conditional_check_failed() {
    let (_dir, aws) = setup("ddb-ccf");
    let client = aws.dynamodb_client();
    let err = client
        .update_item()
        .table_name(TABLE)
        .key(PARTITION_KEY, AttributeValue::S(MODEL.into()))
        .update_expression("SET #n = #n + :i")
        .condition_expression("#n >= :now")
        .expression_attribute_names("#n", NEXT_AT)
        .expression_attribute_values(":i", AttributeValue::N("1".into()))
        .expression_attribute_values(":now", AttributeValue::N("5".into()))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.as_service_error(),
            Some(UpdateItemError::ConditionalCheckFailedException(_))
        ),
        "{err:?}"
    );
    assert_eq!(next_at(&client).await, None, "nothing written");
}

#[tokio::test]
async fn return_values_and_item_contents() {
    let (_dir, aws) = setup("ddb-return");
    let client = aws.dynamodb_client();
    let update = |expression: &'static str, value: &'static str, returns: ReturnValue| {
        client
            .update_item()
            .table_name(TABLE)
            .key(PARTITION_KEY, AttributeValue::S(MODEL.into()))
            .update_expression(expression)
            .expression_attribute_names("#n", NEXT_AT)
            .expression_attribute_values(":v", AttributeValue::N(value.into()))
            .return_values(returns)
            .send()
    };
    let out = update("SET #n = :v", "7", ReturnValue::AllNew)
        .await
        .unwrap();
    let item = out.attributes().unwrap();
    assert_eq!(item[PARTITION_KEY].as_s().unwrap(), MODEL);
    assert_eq!(item[NEXT_AT].as_n().unwrap(), "7");
    let out = update("SET #n = #n - :v", "10", ReturnValue::UpdatedOld)
        .await
        .unwrap();
    assert_eq!(out.attributes().unwrap().len(), 1);
    assert_eq!(out.attributes().unwrap()[NEXT_AT].as_n().unwrap(), "7");
    let out = update("SET #n = :v", "1", ReturnValue::None).await.unwrap();
    assert!(out.attributes().is_none());
    assert_eq!(next_at(&client).await.as_deref(), Some("1"));
}

#[tokio::test]
async fn refusals_are_validation_errors_never_other_answers() {
    let (_dir, aws) = setup("ddb-refuse");
    let client = aws.dynamodb_client();
    let base = || {
        client
            .update_item()
            .table_name(TABLE)
            .key(PARTITION_KEY, AttributeValue::S(MODEL.into()))
    };
    let cases = [
        (
            base()
                .update_expression("SET nextAt = :v")
                .expression_attribute_values(":v", AttributeValue::N("1".into())),
            "bare attribute name",
        ),
        (
            base()
                .update_expression("SET #n = :v")
                .expression_attribute_names("#n", NEXT_AT)
                .expression_attribute_values(":v", AttributeValue::N("1".into()))
                .expression_attribute_values(":unused", AttributeValue::N("1".into())),
            "unused in expressions: keys: {:unused}",
        ),
        (
            base()
                .update_expression("SET #n = :v")
                .expression_attribute_names("#n", NEXT_AT),
            "attribute value: :v",
        ),
        (
            base()
                .update_expression("SET #n = #n + :v")
                .expression_attribute_names("#n", NEXT_AT)
                .expression_attribute_values(":v", AttributeValue::N("1".into())),
            "does not exist in the item",
        ),
        (
            base()
                .update_expression("SET #n = :v")
                .expression_attribute_names("#n", NEXT_AT)
                .expression_attribute_values(":v", AttributeValue::N("1.5".into())),
            "whole numbers only",
        ),
        (
            base()
                .update_expression("SET #n = :v")
                .expression_attribute_names("#n", NEXT_AT)
                .expression_attribute_values(":v", AttributeValue::Bool(true)),
            "not BOOL values",
        ),
        (
            base()
                .update_expression("SET #k = :v")
                .expression_attribute_names("#k", PARTITION_KEY)
                .expression_attribute_values(":v", AttributeValue::S("x".into())),
            "part of the key",
        ),
        (
            base()
                .update_expression("SET #n = :v")
                .expression_attribute_names("#n", NEXT_AT)
                .expression_attribute_values(":v", AttributeValue::N("1".into()))
                .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total),
            "does not support ReturnConsumedCapacity",
        ),
        (
            client
                .update_item()
                .table_name(TABLE)
                .key("other", AttributeValue::S(MODEL.into())),
            "does not match the schema",
        ),
    ];
    for (request, says) in cases {
        let err = request.send().await.unwrap_err();
        let service = err.into_service_error();
        assert_eq!(
            service.code(),
            Some("ValidationException"),
            "{says}: {service:?}"
        );
        let message = service.message().unwrap_or_default().to_owned();
        assert!(message.contains(says), "{says}: {message}");
    }
    assert_eq!(
        next_at(&client).await,
        None,
        "nothing written by a refused request"
    );

    let missing = client
        .get_item()
        .table_name("no-such-table")
        .key(PARTITION_KEY, AttributeValue::S(MODEL.into()))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            missing.as_service_error(),
            Some(GetItemError::ResourceNotFoundException(_))
        ),
        "{missing:?}"
    );
}
