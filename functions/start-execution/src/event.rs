//! Reading the incoming event into one [`Record`] per object.
//!
//! Accepted shapes:
//! - an S3 event notification: `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",
//!   "s3":{"bucket":{"name"},"object":{"key","eTag","versionId","sequencer"}}}]}`; its keys are
//!   URL-encoded (`+` for a space, `%XX`) and are decoded here;
//! - an EventBridge event: `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name"},
//!   "object":{"key","etag","version-id","sequencer"}}}`; its keys arrive as stored (not URL-encoded:
//!   a real event shows `2023-08-08T14:03:40.532432.zip` where a notification would say `%3A`), so they
//!   are used as they are;
//! - either of those wrapped in SQS records (`body`) or SNS records (`Sns.Message`), or an SNS
//!   envelope inside an SQS body (one level of each is plenty; nesting is capped);
//! - the `s3:TestEvent` S3 sends when a notification is configured (nothing to do).
//!
//! Fields are looked up one by one instead of through strict structs, so a record with an odd or missing
//! field becomes a [`Record::Bad`] naming it, and the other records still go through.

use imagegen_core::PipelineError;
use imagegen_core::types::json_kind;
use serde_json::Value;

use crate::key::decode_s3_key;

/// An object that was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub bucket: String,
    /// The key as stored (decoded).
    pub key: String,
    pub version_id: Option<String>,
    /// Without surrounding quotes.
    pub etag: Option<String>,
    pub sequencer: Option<String>,
}

/// What one record of the event says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// An object was created.
    Created(ObjectCreated),
    /// Not something to act on (another event type or source); `key` is the object key if known.
    Ignored { key: String, reason: String },
    /// A record that should have been actionable but cannot be read; `key` is the raw key if there is
    /// one, else where the record sits in the event.
    Bad { key: String, reason: String },
}

/// How deep SQS/SNS wrappers may nest.
const MAX_DEPTH: usize = 3;

/// Read the event. Only an event with no recognisable shape at all (not an object, no `Records`, no
/// EventBridge `detail-type`) is an error; problems inside a record are [`Record::Bad`].
pub fn parse(event: &Value) -> Result<Vec<Record>, PipelineError> {
    let mut records = Vec::new();
    collect(event, 0, "event", &mut records).map_err(PipelineError::InvalidEvent)?;
    Ok(records)
}

fn collect(value: &Value, depth: usize, at: &str, out: &mut Vec<Record>) -> Result<(), String> {
    let Some(object) = value.as_object() else {
        return Err(format!(
            "{at} is {}, expected a JSON object (an S3 notification or an EventBridge event)",
            json_kind(value)
        ));
    };
    if let Some(records) = object.get("Records") {
        let Some(records) = records.as_array() else {
            return Err(format!(
                "{at}: `Records` is {}, expected an array",
                json_kind(records)
            ));
        };
        for (i, record) in records.iter().enumerate() {
            let here = if depth == 0 {
                format!("Records[{i}]")
            } else {
                format!("{at}.Records[{i}]")
            };
            record_of(record, depth, &here, out);
        }
        Ok(())
    } else if object.contains_key("detail-type") {
        out.push(eventbridge(value));
        Ok(())
    } else if str_at(value, "/Event") == Some("s3:TestEvent") {
        out.push(Record::Ignored {
            key: String::new(),
            reason: "s3:TestEvent (sent when the bucket notification is configured)".to_owned(),
        });
        Ok(())
    } else if str_at(value, "/Type") == Some("Notification") && object.contains_key("Message") {
        // An SNS envelope, as found in the body of an SQS message subscribed to a topic.
        nested(value.get("Message"), depth, &format!("{at}.Message"), out)
    } else {
        Err(format!(
            "{at} has no `Records` array and no EventBridge `detail-type`: not an S3 event"
        ))
    }
}

/// A JSON document inside a string field (SQS body, SNS message).
fn nested(
    text: Option<&Value>,
    depth: usize,
    at: &str,
    out: &mut Vec<Record>,
) -> Result<(), String> {
    if depth >= MAX_DEPTH {
        return Err(format!("{at}: wrapped more than {MAX_DEPTH} levels deep"));
    }
    let Some(text) = text.and_then(Value::as_str) else {
        return Err(format!("{at} is missing or not a string"));
    };
    let inner: Value = serde_json::from_str(text).map_err(|e| format!("{at} is not JSON: {e}"))?;
    collect(&inner, depth + 1, at, out)
}

fn record_of(record: &Value, depth: usize, at: &str, out: &mut Vec<Record>) {
    let bad = |reason: String| Record::Bad {
        key: at.to_owned(),
        reason,
    };
    if !record.is_object() {
        out.push(bad(format!(
            "the record is {}, not an object",
            json_kind(record)
        )));
        return;
    }
    let source = str_at(record, "/eventSource").or_else(|| str_at(record, "/EventSource"));
    let wrapped = match source {
        Some("aws:sqs") => Some(format!("{at}.body")),
        Some("aws:sns") => Some(format!("{at}.Sns.Message")),
        _ => None,
    };
    if let Some(inner_at) = wrapped {
        let text = record
            .get("body")
            .or_else(|| record.pointer("/Sns/Message"));
        if let Err(reason) = nested(text, depth, &inner_at, out) {
            out.push(bad(reason));
        }
        return;
    }
    out.push(s3_record(record, source, at));
}

fn s3_record(record: &Value, source: Option<&str>, at: &str) -> Record {
    let raw_key = str_at(record, "/s3/object/key");
    let label = raw_key.unwrap_or(at).to_owned();
    if let Some(source) = source.filter(|s| *s != "aws:s3") {
        return Record::Ignored {
            key: label,
            reason: format!("event source {source} is not aws:s3"),
        };
    }
    let Some(event_name) = str_at(record, "/eventName") else {
        return Record::Bad {
            key: label,
            reason: "the record has no eventName".to_owned(),
        };
    };
    if !event_name.starts_with("ObjectCreated:") {
        return Record::Ignored {
            key: label,
            reason: format!("{event_name} is not an ObjectCreated event"),
        };
    }
    let Some(raw_key) = raw_key else {
        return Record::Bad {
            key: label,
            reason: "the record has no s3.object.key".to_owned(),
        };
    };
    let Some(bucket) = str_at(record, "/s3/bucket/name").filter(|b| !b.is_empty()) else {
        return Record::Bad {
            key: label,
            reason: "the record has no s3.bucket.name".to_owned(),
        };
    };
    let key = match decode_s3_key(raw_key) {
        Ok(key) if !key.is_empty() => key,
        Ok(_) => {
            return Record::Bad {
                key: label,
                reason: "the object key is empty".to_owned(),
            };
        }
        Err(e) => {
            return Record::Bad {
                key: label,
                reason: e.to_string(),
            };
        }
    };
    Record::Created(ObjectCreated {
        bucket: bucket.to_owned(),
        key,
        version_id: owned(str_at(record, "/s3/object/versionId")),
        etag: owned(str_at(record, "/s3/object/eTag")).map(unquote),
        sequencer: owned(str_at(record, "/s3/object/sequencer")),
    })
}

fn eventbridge(event: &Value) -> Record {
    let key = str_at(event, "/detail/object/key");
    let label = key.unwrap_or("detail").to_owned();
    let detail_type = str_at(event, "/detail-type").unwrap_or_default();
    if let Some(source) = str_at(event, "/source").filter(|s| *s != "aws.s3") {
        return Record::Ignored {
            key: label,
            reason: format!("event source {source} is not aws.s3"),
        };
    }
    if detail_type != "Object Created" {
        return Record::Ignored {
            key: label,
            reason: format!("detail-type {detail_type:?} is not \"Object Created\""),
        };
    }
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Record::Bad {
            key: label,
            reason: "the event has no detail.object.key".to_owned(),
        };
    };
    let Some(bucket) = str_at(event, "/detail/bucket/name").filter(|b| !b.is_empty()) else {
        return Record::Bad {
            key: label,
            reason: "the event has no detail.bucket.name".to_owned(),
        };
    };
    Record::Created(ObjectCreated {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        version_id: owned(str_at(event, "/detail/object/version-id")),
        etag: owned(str_at(event, "/detail/object/etag")).map(unquote),
        sequencer: owned(str_at(event, "/detail/object/sequencer")),
    })
}

fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// A present, non-blank string.
fn owned(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn unquote(etag: String) -> String {
    etag.trim_matches('"').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3_event(key: Value) -> Value {
        json!({"Records": [{
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b"}, "object": {"key": key, "eTag": "\"abc\"", "sequencer": "01"}}
        }]})
    }

    #[test]
    fn s3_keys_are_decoded_and_etags_unquoted() {
        let records = parse(&s3_event(json!("prompts/a+b%21.txt"))).unwrap();
        assert_eq!(
            records,
            [Record::Created(ObjectCreated {
                bucket: "b".into(),
                key: "prompts/a b!.txt".into(),
                version_id: None,
                etag: Some("abc".into()),
                sequencer: Some("01".into()),
            })]
        );
    }

    #[test]
    fn a_key_of_the_wrong_type_is_a_bad_record() {
        let records = parse(&s3_event(json!(42))).unwrap();
        assert!(
            matches!(&records[..], [Record::Bad { key, reason }] if key == "Records[0]" && reason.contains("no s3.object.key")),
            "{records:?}"
        );
    }

    #[test]
    fn other_event_names_and_sources_are_ignored() {
        let event = json!({"Records": [
            {"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
             "s3": {"bucket": {"name": "b"}, "object": {"key": "prompts/a.txt"}}},
            {"eventSource": "aws:dynamodb", "eventName": "INSERT"}
        ]});
        let records = parse(&event).unwrap();
        assert!(
            matches!(&records[0], Record::Ignored { key, reason } if key == "prompts/a.txt" && reason.contains("ObjectRemoved:Delete"))
        );
        assert!(
            matches!(&records[1], Record::Ignored { reason, .. } if reason.contains("aws:dynamodb"))
        );
    }

    #[test]
    fn sqs_and_sns_wrappers_are_unwrapped() {
        let inner = s3_event(json!("prompts/x.txt")).to_string();
        let sns_envelope = json!({"Type": "Notification", "Message": inner}).to_string();
        let event = json!({"Records": [
            {"eventSource": "aws:sqs", "messageId": "m1", "body": inner},
            {"EventSource": "aws:sns", "Sns": {"Message": inner}},
            {"eventSource": "aws:sqs", "body": sns_envelope},
            {"eventSource": "aws:sqs", "body": "not json"}
        ]});
        let records = parse(&event).unwrap();
        assert_eq!(records.len(), 4, "{records:?}");
        for record in &records[..3] {
            assert!(
                matches!(record, Record::Created(o) if o.key == "prompts/x.txt"),
                "{record:?}"
            );
        }
        assert!(
            matches!(&records[3], Record::Bad { key, reason } if key == "Records[3]" && reason.contains("not JSON"))
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_followed() {
        let mut text = s3_event(json!("prompts/x.txt")).to_string();
        for _ in 0..5 {
            text = json!({"Records": [{"eventSource": "aws:sqs", "body": text}]}).to_string();
        }
        let records = parse(&serde_json::from_str(&text).unwrap()).unwrap();
        assert!(
            matches!(&records[..], [Record::Bad { reason, .. }] if reason.contains("levels deep"))
        );
    }

    #[test]
    fn eventbridge_keys_are_not_decoded() {
        let event = json!({
            "detail-type": "Object Created", "source": "aws.s3",
            "detail": {"bucket": {"name": "b"}, "object": {"key": "prompts/100% sure+.txt", "etag": "e", "version-id": "v"}}
        });
        let records = parse(&event).unwrap();
        assert!(
            matches!(&records[..], [Record::Created(o)] if o.key == "prompts/100% sure+.txt" && o.version_id.as_deref() == Some("v"))
        );
        let deleted = json!({"detail-type": "Object Deleted", "source": "aws.s3", "detail": {}});
        assert!(matches!(
            &parse(&deleted).unwrap()[..],
            [Record::Ignored { .. }]
        ));
    }

    #[test]
    fn shapeless_events_are_invalid() {
        for event in [
            json!([]),
            json!("x"),
            json!(null),
            json!({}),
            json!({"Records": {}}),
            json!({"hello": "world"}),
        ] {
            let err = parse(&event).unwrap_err();
            assert_eq!(err.name(), "InvalidEvent", "{event}");
        }
        assert!(parse(&json!({"Records": []})).unwrap().is_empty());
    }

    #[test]
    fn the_s3_test_event_is_ignored() {
        let event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"});
        assert!(matches!(
            &parse(&event).unwrap()[..],
            [Record::Ignored { .. }]
        ));
    }
}
