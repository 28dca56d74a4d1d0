//! Property tests: the event reader takes any bytes and any JSON shape (S3 notifications,
//! EventBridge events, SQS and SNS wrappers, and everything near them) without panicking; an event
//! it cannot use is the typed `InvalidEvent`, a record it cannot use a `Record::Bad`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use start_execution::event::{Record, parse};

/// Field names the reader looks at, so generated objects look like events often enough.
const NAMES: &[&str] = &[
    "Records",
    "eventSource",
    "EventSource",
    "eventName",
    "s3",
    "bucket",
    "name",
    "object",
    "key",
    "eTag",
    "versionId",
    "sequencer",
    "body",
    "Sns",
    "Message",
    "Type",
    "detail-type",
    "detail",
    "source",
    "etag",
    "version-id",
    "Event",
];
const TEXTS: &[&str] = &[
    "aws:s3",
    "aws:sqs",
    "aws:sns",
    "ObjectCreated:Put",
    "ObjectRemoved:Delete",
    "Object Created",
    "aws.s3",
    "Notification",
    "s3:TestEvent",
    "prompts/a.txt",
    "prompts/%ZZ.txt",
    "prompts/a+b.json",
    "%C3%28",
    "",
    "{\"Records\": []}",
    "{\"Records\": [{\"eventSource\": \"aws:sqs\", \"body\": \"{}\"}]}",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        prop::sample::select(TEXTS).prop_map(|s| Value::String(s.to_owned())),
        ".{0,24}".prop_map(Value::String),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        text,
    ];
    let key = prop_oneof![
        3 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => ".{0,8}",
    ];
    leaf.prop_recursive(5, 96, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A real notification with one field replaced by anything.
fn mutated_notification() -> impl Strategy<Value = Value> {
    let pointers = prop::sample::select(
        &[
            "/Records",
            "/Records/0",
            "/Records/0/eventSource",
            "/Records/0/eventName",
            "/Records/0/s3",
            "/Records/0/s3/bucket",
            "/Records/0/s3/bucket/name",
            "/Records/0/s3/object",
            "/Records/0/s3/object/key",
            "/Records/0/s3/object/eTag",
            "/Records/0/s3/object/versionId",
        ][..],
    );
    (pointers, arb_json()).prop_map(|(pointer, value)| {
        let mut event = json!({"Records": [{
            "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "prompts/a.txt", "eTag": "e", "sequencer": "01"}}
        }]});
        if let Some(slot) = event.pointer_mut(pointer) {
            *slot = value;
        }
        event
    })
}

fn check(event: &Value) {
    match parse(event) {
        Ok(records) => {
            for record in records {
                if let Record::Created(object) = record {
                    assert!(
                        !object.key.is_empty() && !object.bucket.is_empty(),
                        "{event}"
                    );
                }
            }
        }
        Err(e) => assert_eq!(e.name(), "InvalidEvent", "{event}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(event) = serde_json::from_slice::<Value>(&bytes) {
            check(&event);
        }
    }

    #[test]
    fn any_json_shape_is_read_or_refused(event in arb_json()) {
        check(&event);
        check(&json!({"Records": [event.clone()]}));
        check(&json!({"Records": [{"eventSource": "aws:sqs", "body": event.to_string()}]}));
        check(&json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": event.to_string()}}]}));
    }

    #[test]
    fn a_damaged_notification_is_read_or_refused(event in mutated_notification()) {
        check(&event);
    }
}
