//! The JSON face of the SQS stand-in (awsJson1_0, as current SDKs and the AWS CLI speak it):
//! `POST /` with `X-Amz-Target: AmazonSQS.<Operation>`, JSON in and out. Errors carry the JSON
//! shape name in `__type` and, as SQS sends for clients of its older query protocol, the legacy
//! code in `x-amzn-query-error`.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::{MAX_RECEIVE, MAX_WAIT, Message, SqsError, SqsService};
use crate::config::ACCOUNT_ID;
use crate::ids::new_id;
use crate::transport::{LocalRequest, LocalResponse};

const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const TARGET_PREFIX: &str = "AmazonSQS.";
/// The most entries a batch takes.
const MAX_BATCH: usize = 10;

pub async fn handle(sqs: &SqsService, request: LocalRequest) -> LocalResponse {
    let operation = request
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .map(str::to_owned);
    let body = match parse(&request.body) {
        Ok(body) => body,
        Err(e) => return error(&e),
    };
    let endpoint = format!(
        "http://{}",
        request.header("host").unwrap_or("localhost:4566")
    );
    let result = match operation.as_deref() {
        Some("SendMessage") => send_message(sqs, &body),
        Some("SendMessageBatch") => send_message_batch(sqs, &body),
        Some("ReceiveMessage") => receive_message(sqs, &body).await,
        Some("DeleteMessage") => delete_message(sqs, &body),
        Some("DeleteMessageBatch") => delete_message_batch(sqs, &body),
        Some("ChangeMessageVisibility") => change_message_visibility(sqs, &body),
        Some("GetQueueAttributes") => get_queue_attributes(sqs, &body),
        Some("GetQueueUrl") => get_queue_url(sqs, &body, &endpoint),
        Some("ListQueues") => Ok(list_queues(sqs, &body, &endpoint)),
        other => Err(SqsError {
            code: "UnsupportedOperation",
            query_code: "AWS.SimpleQueueService.UnsupportedOperation",
            message: format!(
                "The local SQS answers SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage, \
                 DeleteMessageBatch, ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl and \
                 ListQueues, not {} (its queues are made by imagegen, as the CDK app makes them on \
                 AWS).",
                other.unwrap_or("(no X-Amz-Target)")
            ),
        }),
    };
    match result {
        Ok(body) => LocalResponse::new(200, CONTENT_TYPE, body.to_string())
            .with_header("x-amzn-requestid", new_id()),
        Err(e) => {
            tracing::debug!(code = e.code, message = %e.message, "local SQS: refused");
            error(&e)
        }
    }
}

fn error(e: &SqsError) -> LocalResponse {
    let status = if e.code == "InternalError" { 500 } else { 400 };
    LocalResponse::new(
        status,
        CONTENT_TYPE,
        json!({"__type": format!("com.amazonaws.sqs#{}", e.code), "message": e.message})
            .to_string(),
    )
    .with_header("x-amzn-query-error", format!("{};Sender", e.query_code))
    .with_header("x-amzn-requestid", new_id())
}

type Body = Map<String, Value>;

fn parse(bytes: &[u8]) -> Result<Body, SqsError> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(SqsError {
            code: "SerializationException",
            query_code: "SerializationException",
            message: "The request body is not a JSON object.".to_owned(),
        }),
    }
}

fn missing(name: &str) -> SqsError {
    SqsError {
        code: "MissingParameter",
        query_code: "MissingParameter",
        message: format!("The request must contain the parameter {name}."),
    }
}

fn string<'a>(body: &'a Body, name: &str) -> Result<&'a str, SqsError> {
    body.get(name)
        .and_then(Value::as_str)
        .ok_or_else(|| missing(name))
}

fn number(
    body: &Body,
    name: &str,
    range: std::ops::RangeInclusive<u64>,
) -> Result<Option<u64>, SqsError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => match value.as_u64() {
            Some(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(SqsError::invalid(format!(
                "Value {value} for parameter {name} is invalid. Reason: must be between {} and {}.",
                range.start(),
                range.end()
            ))),
        },
    }
}

/// The queue a `QueueUrl` names: its last path segment, on any host.
fn queue_name(body: &Body) -> Result<String, SqsError> {
    let url = string(body, "QueueUrl")?;
    let name = url
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if !super::is_queue_name(name) {
        return Err(SqsError::no_queue(url));
    }
    Ok(name.to_owned())
}

/// What this stand-in does not keep: attributes on messages, FIFO parameters.
fn refuse_unsupported(entry: &Body) -> Result<(), SqsError> {
    for name in [
        "MessageAttributes",
        "MessageSystemAttributes",
        "MessageGroupId",
        "MessageDeduplicationId",
    ] {
        if entry
            .get(name)
            .is_some_and(|v| !v.is_null() && v != &json!({}))
        {
            return Err(SqsError::invalid(format!(
                "The local SQS does not keep {name}; send the message without it."
            )));
        }
    }
    Ok(())
}

fn send_message(sqs: &SqsService, body: &Body) -> Result<Value, SqsError> {
    let name = queue_name(body)?;
    refuse_unsupported(body)?;
    let text = string(body, "MessageBody")?.to_owned();
    let delay = number(body, "DelaySeconds", 0..=900)?.unwrap_or(0);
    let sent = sqs.send(&name, text, delay)?;
    Ok(json!({"MessageId": sent.id, "MD5OfMessageBody": sent.md5}))
}

fn send_message_batch(sqs: &SqsService, body: &Body) -> Result<Value, SqsError> {
    let name = queue_name(body)?;
    let entries = batch_entries(body, "SendMessageBatchRequestEntry")?;
    let mut items = Vec::with_capacity(entries.len());
    let mut total = 0;
    for (id, entry) in entries {
        refuse_unsupported(entry)?;
        let text = string(entry, "MessageBody")?.to_owned();
        total += text.len();
        let delay = number(entry, "DelaySeconds", 0..=900)?.unwrap_or(0);
        items.push((id.to_owned(), text, delay));
    }
    let limit = sqs.describe(&name)?.0.max_message_bytes;
    if total > limit {
        return Err(SqsError::named(
            "BatchRequestTooLong",
            format!(
                "Batch requests cannot be longer than {limit} bytes. You have sent {total} bytes."
            ),
        ));
    }
    let ids: Vec<String> = items.iter().map(|(id, _, _)| id.clone()).collect();
    let results = sqs.send_all(&name, items.into_iter().map(|(_, t, d)| (t, d)).collect())?;
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for (id, result) in ids.into_iter().zip(results) {
        match result {
            Ok(sent) => successful
                .push(json!({"Id": id, "MessageId": sent.id, "MD5OfMessageBody": sent.md5})),
            Err(e) => failed.push(failed_entry(&id, &e)),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failed}))
}

/// A batch request's entries, each with its `Id`, checked as SQS checks them: 1 to 10 entries, ids
/// of letters, digits, `-` and `_` (at most 80), none twice. `entry` names the entry type in the
/// message for an empty batch.
fn batch_entries<'a>(body: &'a Body, entry: &str) -> Result<Vec<(&'a str, &'a Body)>, SqsError> {
    let entries = body
        .get("Entries")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("Entries"))?;
    if entries.is_empty() {
        return Err(SqsError::named(
            "EmptyBatchRequest",
            format!("There should be at least one {entry} in the request."),
        ));
    }
    if entries.len() > MAX_BATCH {
        return Err(SqsError::named(
            "TooManyEntriesInBatchRequest",
            format!(
                "Maximum number of entries per request are {MAX_BATCH}. You have sent {}.",
                entries.len()
            ),
        ));
    }
    let mut ids = BTreeSet::new();
    let mut checked = Vec::with_capacity(entries.len());
    for entry in entries {
        let entry = entry.as_object().ok_or_else(|| missing("Entries.member"))?;
        let id = string(entry, "Id")?;
        if id.is_empty()
            || id.len() > 80
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(SqsError::named(
                "InvalidBatchEntryId",
                format!(
                    "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long; got {id:?}."
                ),
            ));
        }
        if !ids.insert(id) {
            return Err(SqsError::named(
                "BatchEntryIdsNotDistinct",
                format!("Id {id} repeated."),
            ));
        }
        checked.push((id, entry));
    }
    Ok(checked)
}

/// A batch entry that failed: the shape of `Failed` in every batch answer.
fn failed_entry(id: &str, e: &SqsError) -> Value {
    json!({"Id": id, "SenderFault": true, "Code": e.code, "Message": e.message})
}

async fn receive_message(sqs: &SqsService, body: &Body) -> Result<Value, SqsError> {
    let name = queue_name(body)?;
    let max = number(body, "MaxNumberOfMessages", 1..=MAX_RECEIVE as u64)?.unwrap_or(1) as usize;
    let visibility = number(
        body,
        "VisibilityTimeout",
        0..=super::queue::MAX_VISIBILITY_TIMEOUT_SECONDS,
    )?;
    let wait = number(body, "WaitTimeSeconds", 0..=MAX_WAIT.as_secs())?.unwrap_or(0);
    let messages = sqs
        .receive(&name, max, visibility, Duration::from_secs(wait))
        .await?;
    let wanted = attribute_names(body);
    let messages: Vec<Value> = messages.iter().map(|m| message_json(m, &wanted)).collect();
    Ok(json!({"Messages": messages}))
}

/// The system attributes asked for (`AttributeNames` or `MessageSystemAttributeNames`).
fn attribute_names(body: &Body) -> Vec<String> {
    ["AttributeNames", "MessageSystemAttributeNames"]
        .iter()
        .filter_map(|n| body.get(*n).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn message_json(message: &Message, wanted: &[String]) -> Value {
    let all = [
        ("SenderId", ACCOUNT_ID.to_owned()),
        ("SentTimestamp", message.sent_ms.to_string()),
        ("ApproximateReceiveCount", message.receive_count.to_string()),
        (
            "ApproximateFirstReceiveTimestamp",
            message
                .first_receive_ms
                .unwrap_or(message.sent_ms)
                .to_string(),
        ),
    ];
    let attributes: Map<String, Value> = all
        .into_iter()
        .filter(|(n, _)| wanted.iter().any(|w| w == "All" || w == n))
        .map(|(n, v)| (n.to_owned(), Value::String(v)))
        .collect();
    let mut out = json!({
        "MessageId": message.id,
        "ReceiptHandle": message.receipt,
        "MD5OfBody": message.md5,
        "Body": message.body,
    });
    if !attributes.is_empty() {
        out["Attributes"] = Value::Object(attributes);
    }
    out
}

fn delete_message(sqs: &SqsService, body: &Body) -> Result<Value, SqsError> {
    let name = queue_name(body)?;
    sqs.delete(&name, string(body, "ReceiptHandle")?)?;
    Ok(json!({}))
}

fn delete_message_batch(sqs: &SqsService, body: &Body) -> Result<Value, SqsError> {
    let name = queue_name(body)?;
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    let (mut ids, mut receipts) = (Vec::new(), Vec::new());
    for (id, entry) in batch_entries(body, "DeleteMessageBatchRequestEntry")? {
        match string(entry, "ReceiptHandle") {
            Ok(receipt) => {
                ids.push(id);
                receipts.push(receipt);
            }
            Err(e) => failed.push(failed_entry(id, &e)),
        }
    }
    for (id, deleted) in ids.into_iter().zip(sqs.delete_all(&name, &receipts)?) {
        match deleted {
            Ok(()) => successful.push(json!({"Id": id})),
            Err(e) => failed.push(failed_entry(id, &e)),
        }
    }
    Ok(json!({"Successful": successful, "Failed": failed}))
}

fn change_message_visibility(sqs: &SqsService, body: &Body) -> Result<Value, SqsError> {
    let name = queue_name(body)?;
    let receipt = string(body, "ReceiptHandle")?;
    let seconds = number(
        body,
        "VisibilityTimeout",
        0..=super::queue::MAX_VISIBILITY_TIMEOUT_SECONDS,
    )?
    .ok_or_else(|| missing("VisibilityTimeout"))?;
    sqs.change_visibility(&name, receipt, seconds)?;
    Ok(json!({}))
}

fn get_queue_attributes(sqs: &SqsService, body: &Body) -> Result<Value, SqsError> {
    let name = queue_name(body)?;
    let (settings, counts, created_ms) = sqs.describe(&name)?;
    let wanted = attribute_names(body);
    let redrive = settings.redrive.as_ref().map(|r| {
        json!({"deadLetterTargetArn": sqs.queue_arn(&r.dead_letter_queue), "maxReceiveCount": r.max_receive_count})
            .to_string()
    });
    let created = (created_ms / 1000).to_string();
    let all = [
        ("QueueArn", Some(sqs.queue_arn(&name))),
        (
            "ApproximateNumberOfMessages",
            Some(counts.visible.to_string()),
        ),
        (
            "ApproximateNumberOfMessagesNotVisible",
            Some(counts.in_flight.to_string()),
        ),
        (
            "ApproximateNumberOfMessagesDelayed",
            Some(counts.delayed.to_string()),
        ),
        (
            "VisibilityTimeout",
            Some(settings.visibility_timeout_seconds.to_string()),
        ),
        (
            "MaximumMessageSize",
            Some(settings.max_message_bytes.to_string()),
        ),
        (
            "MessageRetentionPeriod",
            Some(settings.retention_seconds.to_string()),
        ),
        ("DelaySeconds", Some("0".to_owned())),
        ("ReceiveMessageWaitTimeSeconds", Some("0".to_owned())),
        ("CreatedTimestamp", Some(created.clone())),
        ("LastModifiedTimestamp", Some(created)),
        ("SqsManagedSseEnabled", Some("true".to_owned())),
        ("RedrivePolicy", redrive),
    ];
    let attributes: Map<String, Value> = all
        .into_iter()
        .filter(|(n, _)| wanted.iter().any(|w| w == "All" || w == n))
        .filter_map(|(n, v)| Some((n.to_owned(), Value::String(v?))))
        .collect();
    Ok(json!({"Attributes": attributes}))
}

fn get_queue_url(sqs: &SqsService, body: &Body, endpoint: &str) -> Result<Value, SqsError> {
    let name = string(body, "QueueName")?;
    if !sqs.queue_names().iter().any(|n| n == name) {
        return Err(SqsError::no_queue(name));
    }
    Ok(json!({"QueueUrl": SqsService::queue_url(endpoint, name)}))
}

fn list_queues(sqs: &SqsService, body: &Body, endpoint: &str) -> Value {
    let prefix = body
        .get("QueueNamePrefix")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let urls: Vec<String> = sqs
        .queue_names()
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .map(|n| SqsService::queue_url(endpoint, &n))
        .collect();
    json!({"QueueUrls": urls})
}
