//! Property tests: the notifiers' event readers (notify-user's state-machine event, the backstop's
//! EventBridge event) take any bytes and any JSON shape without panicking; what they cannot use is
//! `InvalidEvent`. A failure email made from any state is sentences: no raw control characters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use imagegen_core::display::needs_escape;
use imagegen_core::notify::event::parse as parse_notify;
use imagegen_core::notify::failure_email::Failure;
use notify_backstop::event::parse as parse_status_change;
use notify_backstop::handler::failure_of;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const NAMES: &[&str] = &[
    "status",
    "executionName",
    "state",
    "request",
    "generation",
    "thumbnails",
    "error",
    "Error",
    "Cause",
    "input",
    "prompt",
    "source",
    "bucket",
    "key",
    "detail-type",
    "source",
    "detail",
    "executionArn",
    "name",
    "inputDetails",
    "included",
    "cause",
];
const TEXTS: &[&str] = &[
    "FAILED",
    "SUCCEEDED",
    "TIMED_OUT",
    "ABORTED",
    "Step Functions Execution Status Change",
    "aws.states",
    "States.DataLimitExceeded",
    "PromptRejected",
    "{\"errorType\":\"X\",\"errorMessage\":\"boom\"}",
    "a cat\u{0}\u{1b}[31m",
    "",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(TEXTS).prop_map(|s| Value::String(s.to_owned())),
        ".{0,30}".prop_map(Value::String),
    ];
    let key = prop_oneof![
        3 => prop::sample::select(NAMES).prop_map(str::to_owned),
        1 => ".{0,8}",
    ];
    leaf.prop_recursive(5, 80, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..7)
                .prop_map(|fields| Value::Object(fields.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn check(event: &Value) {
    if let Err(e) = parse_notify(event.clone()) {
        assert_eq!(e.name(), "InvalidEvent", "{event}");
    }
    match parse_status_change(event) {
        Ok(change) => {
            let body = failure_of(&change).body(&change.name);
            assert!(
                !body.chars().any(|c| c != '\n' && needs_escape(c)),
                "{body:?}"
            );
        }
        Err(e) => assert_eq!(e.name(), "InvalidEvent", "{event}"),
    }
    let body = Failure::from_state(event).body("e");
    assert!(
        !body.chars().any(|c| c != '\n' && needs_escape(c)),
        "{body:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_are_read_or_refused(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(event) = serde_json::from_slice::<Value>(&bytes) {
            check(&event);
        }
    }

    #[test]
    fn any_json_shape_is_read_or_refused(event in arb_json()) {
        check(&event);
        check(&json!({"status": "FAILED", "executionName": "e", "state": event.clone()}));
        check(&json!({"detail-type": "Step Functions Execution Status Change", "source": "aws.states",
                      "detail": event}));
    }
}
