//! SQS: queues kept in `<data-dir>/sqs/<name>.json`, answering the AWS CLI and SDKs in the JSON
//! protocol (`api.rs`: SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage,
//! DeleteMessageBatch, ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl, ListQueues), with
//! visibility timeouts and redrive to a
//! dead-letter queue ([`queue`]), and fed to a function in batches as Lambda's event source mapping
//! does ([`mapping`]).
//!
//! Queues are made by whoever sets up the stand-ins ([`SqsService::create_queue`]), as the CDK app
//! makes them on AWS; clients cannot create or delete them. Every change is written to the queue's
//! file at once (aside, then renamed over it), so messages outlive the process.

mod api;
pub mod mapping;
pub mod queue;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use crate::config::ACCOUNT_ID;
use crate::error::LocalError;
use crate::transport::{LocalRequest, LocalResponse, LocalService};
use queue::{ChangeError, InvalidReceipt, Queue};
pub use queue::{Counts, Message, QueueSettings, Redrive};

/// The most messages one receive returns.
pub const MAX_RECEIVE: usize = 10;
/// The longest long poll (`WaitTimeSeconds`).
pub const MAX_WAIT: Duration = Duration::from_secs(20);
/// How often a long poll looks again for messages whose visibility ran out.
const RECHECK: Duration = Duration::from_millis(250);

/// Why a queue operation was refused: the SQS error code and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsError {
    /// The JSON protocol's error shape (`QueueDoesNotExist`).
    pub code: &'static str,
    /// The query protocol's code (`AWS.SimpleQueueService.NonExistentQueue`), which SQS also sends.
    pub query_code: &'static str,
    pub message: String,
}

/// `ReceiptHandleIsInvalid`, as SQS words it.
fn invalid_receipt(receipt: &str) -> SqsError {
    SqsError {
        code: "ReceiptHandleIsInvalid",
        query_code: "ReceiptHandleIsInvalid",
        message: format!("The input receipt handle \"{receipt}\" is not a valid receipt handle."),
    }
}

impl SqsError {
    fn no_queue(name: &str) -> Self {
        Self {
            code: "QueueDoesNotExist",
            query_code: "AWS.SimpleQueueService.NonExistentQueue",
            message: format!("The specified queue {name} does not exist."),
        }
    }

    /// An error whose legacy query code is its name (the batch errors).
    fn named(code: &'static str, message: String) -> Self {
        Self {
            code,
            query_code: code,
            message,
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self {
            code: "InvalidParameterValue",
            query_code: "InvalidParameterValue",
            message: message.into(),
        }
    }

    fn internal(e: &LocalError) -> Self {
        Self {
            code: "InternalError",
            query_code: "InternalError",
            message: e.to_string(),
        }
    }
}

/// The SQS stand-in of one data directory.
#[derive(Debug)]
pub struct SqsService {
    region: String,
    dir: PathBuf,
    queues: Mutex<BTreeMap<String, Queue>>,
    /// Woken when a message is sent, for long polls.
    arrived: Notify,
}

impl SqsService {
    /// The queues kept in `dir` (created if missing).
    pub fn open(dir: impl Into<PathBuf>, region: impl Into<String>) -> Result<Self, LocalError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(LocalError::io("creating", &dir))?;
        let mut queues = BTreeMap::new();
        let entries = std::fs::read_dir(&dir).map_err(LocalError::io("listing", &dir))?;
        for entry in entries {
            let path = entry.map_err(LocalError::io("listing", &dir))?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(LocalError::io("reading", &path))?;
            let queue: Queue =
                serde_json::from_slice(&bytes).map_err(|e| LocalError::CorruptQueue {
                    path: path.clone(),
                    detail: e.to_string(),
                })?;
            queues.insert(queue.name.clone(), queue);
        }
        Ok(Self {
            region: region.into(),
            dir,
            queues: Mutex::new(queues),
            arrived: Notify::new(),
        })
    }

    /// Remove the drafts of queue files a crash left (a save cut short: the queue's file still
    /// holds its last whole state). Only by the queues' writer while no save is under way (see
    /// [`SqsService::create_queue`]): a reader's call could take a draft from under a save.
    fn remove_drafts(&self) -> Result<(), LocalError> {
        crate::files::remove_drafts(&self.dir)
    }

    /// Make queue `name` with `settings`, or give an existing one these settings (its messages stay).
    pub fn create_queue(&self, name: &str, settings: QueueSettings) -> Result<(), LocalError> {
        if !is_queue_name(name) {
            return Err(LocalError::InvalidQueueName(name.to_owned()));
        }
        let mut queues = self.lock();
        // The writer makes its queues at its start: the moment to clear what a crashed writer
        // left. Under the lock no save of this process is under way.
        self.remove_drafts()?;
        // Made at every start: a queue already there as asked keeps its file untouched.
        if queues.get(name).is_some_and(|q| q.settings == settings) {
            return Ok(());
        }
        let queue = queues
            .entry(name.to_owned())
            .or_insert_with(|| Queue::new(name, settings.clone(), now_ms()));
        queue.settings = settings;
        self.save(queue)
    }

    /// `arn:aws:sqs:{region}:000000000000:{name}`
    pub fn queue_arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{ACCOUNT_ID}:{name}", self.region)
    }

    /// The queue's URL on `endpoint` (`http://127.0.0.1:4566/000000000000/{name}`).
    pub fn queue_url(endpoint: &str, name: &str) -> String {
        format!("{}/{ACCOUNT_ID}/{name}", endpoint.trim_end_matches('/'))
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The queues' names.
    pub fn queue_names(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Send one message.
    pub fn send(&self, name: &str, body: String, delay_seconds: u64) -> Result<Message, SqsError> {
        let sent = self.with_queue(name, |queue| {
            check_body(&body, queue.settings.max_message_bytes)?;
            Ok(queue.send(body, now_ms(), delay_seconds))
        })?;
        self.arrived.notify_waiters();
        Ok(sent)
    }

    /// Send several messages at once (each checked on its own): one result per body, in order.
    pub fn send_all(
        &self,
        name: &str,
        bodies: Vec<(String, u64)>,
    ) -> Result<Vec<Result<Message, SqsError>>, SqsError> {
        let sent = self.with_queue(name, |queue| {
            let now = now_ms();
            Ok(bodies
                .into_iter()
                .map(|(body, delay)| {
                    check_body(&body, queue.settings.max_message_bytes)?;
                    Ok(queue.send(body, now, delay))
                })
                .collect())
        })?;
        self.arrived.notify_waiters();
        Ok(sent)
    }

    /// Receive up to `max` messages, waiting up to `wait` for the first (a long poll). Messages over
    /// the redrive policy's `maxReceiveCount` are moved to the dead-letter queue on the way.
    pub async fn receive(
        &self,
        name: &str,
        max: usize,
        visibility_seconds: Option<u64>,
        wait: Duration,
    ) -> Result<Vec<Message>, SqsError> {
        let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
        loop {
            let arrived = self.arrived.notified();
            let messages = self.receive_now(name, max, visibility_seconds)?;
            let now = tokio::time::Instant::now();
            if !messages.is_empty() || now >= deadline {
                return Ok(messages);
            }
            let pause = RECHECK.min(deadline - now);
            tokio::select! {
                () = arrived => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    fn receive_now(
        &self,
        name: &str,
        max: usize,
        visibility_seconds: Option<u64>,
    ) -> Result<Vec<Message>, SqsError> {
        let mut queues = self.lock();
        let queue = queues
            .get_mut(name)
            .ok_or_else(|| SqsError::no_queue(name))?;
        let now = now_ms();
        let held = queue.messages.len();
        let received = queue.receive(now, max.clamp(1, MAX_RECEIVE), visibility_seconds);
        let redrive = queue.settings.redrive.clone();
        // A long poll passes here every few hundred milliseconds: the file is rewritten only when
        // a message was received, expired or moved to the dead-letter queue.
        if !received.messages.is_empty() || queue.messages.len() != held {
            self.save(queue).map_err(|e| SqsError::internal(&e))?;
        }
        if !received.dead.is_empty() {
            let target = redrive.map(|r| r.dead_letter_queue).unwrap_or_default();
            match queues.get_mut(&target) {
                Some(dead_letters) => {
                    for message in received.dead {
                        tracing::warn!(queue = name, message_id = %message.id, receives = message.receive_count, dead_letter_queue = %target, "local SQS: message moved to the dead-letter queue");
                        dead_letters.adopt(message, now);
                    }
                    self.save(dead_letters)
                        .map_err(|e| SqsError::internal(&e))?;
                }
                None => {
                    tracing::error!(queue = name, dead_letter_queue = %target, "local SQS: the dead-letter queue does not exist; messages over maxReceiveCount were dropped")
                }
            }
        }
        Ok(received.messages)
    }

    /// Delete the message `receipt` names (one received and not visible again since).
    pub fn delete(&self, name: &str, receipt: &str) -> Result<(), SqsError> {
        self.delete_all(name, &[receipt])?.pop().unwrap_or(Ok(()))
    }

    /// Delete the messages `receipts` name, each with its own outcome, and write the queue once.
    pub fn delete_all(
        &self,
        name: &str,
        receipts: &[&str],
    ) -> Result<Vec<Result<(), SqsError>>, SqsError> {
        self.with_queue(name, |queue| {
            Ok(receipts
                .iter()
                .map(|receipt| {
                    queue
                        .delete(receipt)
                        .map(|_| ())
                        .map_err(|InvalidReceipt| invalid_receipt(receipt))
                })
                .collect())
        })
    }

    /// Hide the in-flight message `receipt` names for `seconds` from now (0: visible at once).
    pub fn change_visibility(
        &self,
        name: &str,
        receipt: &str,
        seconds: u64,
    ) -> Result<(), SqsError> {
        self.with_queue(name, |queue| {
            queue
                .change_visibility(receipt, seconds, now_ms())
                .map_err(|e| match e {
                    ChangeError::InvalidReceipt => invalid_receipt(receipt),
                    ChangeError::NotInFlight => SqsError {
                        code: "MessageNotInflight",
                        query_code: "AWS.SimpleQueueService.MessageNotInflight",
                        message: "The message referred to isn't in flight.".to_owned(),
                    },
                })
        })?;
        // A message made visible now may be what a long poll waits for.
        self.arrived.notify_waiters();
        Ok(())
    }

    /// The queue's settings and how many messages are where.
    pub fn describe(&self, name: &str) -> Result<(QueueSettings, Counts, u64), SqsError> {
        let queues = self.lock();
        let queue = queues.get(name).ok_or_else(|| SqsError::no_queue(name))?;
        Ok((
            queue.settings.clone(),
            queue.counts(now_ms()),
            queue.created_ms,
        ))
    }

    fn with_queue<T>(
        &self,
        name: &str,
        change: impl FnOnce(&mut Queue) -> Result<T, SqsError>,
    ) -> Result<T, SqsError> {
        let mut queues = self.lock();
        let queue = queues
            .get_mut(name)
            .ok_or_else(|| SqsError::no_queue(name))?;
        let result = change(queue)?;
        self.save(queue).map_err(|e| SqsError::internal(&e))?;
        Ok(result)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Queue>> {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write the queue's file whole, over the old one.
    fn save(&self, queue: &Queue) -> Result<(), LocalError> {
        let path = self.dir.join(format!("{}.json", queue.name));
        let text = serde_json::to_vec_pretty(queue).map_err(|e| LocalError::CorruptQueue {
            path: path.clone(),
            detail: e.to_string(),
        })?;
        crate::files::replace(&path, &text)
    }
}

impl LocalService for SqsService {
    async fn handle(&self, request: LocalRequest) -> LocalResponse {
        api::handle(self, request).await
    }
}

/// SQS's rule for queue names: 1 to 80 letters, digits, `-` and `_` (`.fifo` at the end for FIFO
/// queues, which are not served here).
pub fn is_queue_name(name: &str) -> bool {
    (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn check_body(body: &str, limit: usize) -> Result<(), SqsError> {
    if body.is_empty() {
        return Err(SqsError {
            code: "MissingParameter",
            query_code: "MissingParameter",
            message: "The request must contain the parameter MessageBody.".to_owned(),
        });
    }
    if body.len() > limit {
        return Err(SqsError::invalid(format!(
            "One or more parameters are invalid. Reason: Message must be shorter than {limit} bytes."
        )));
    }
    // SQS takes #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
    if let Some(c) = body.chars().find(|&c| {
        !matches!(c, '\u{9}' | '\u{a}' | '\u{d}' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
    }) {
        return Err(SqsError::invalid(format!(
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF (found U+{:04X}).",
            u32::from(c)
        )));
    }
    Ok(())
}

/// Now, in milliseconds since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_id;

    fn dir(label: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("imagegen-sqs-{label}-{}", new_id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[tokio::test]
    async fn messages_outlive_the_service() {
        let dir = dir("persist");
        let sqs = SqsService::open(&dir, "us-east-1").unwrap();
        sqs.create_queue("q", QueueSettings::default()).unwrap();
        let sent = sqs.send("q", "hello".into(), 0).unwrap();
        drop(sqs);
        let sqs = SqsService::open(&dir, "us-east-1").unwrap();
        let got = sqs.receive("q", 10, None, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, sent.id);
        assert_eq!(sqs.queue_names(), ["q"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_save_a_crash_cut_short_leaves_the_last_whole_queue_and_no_draft() {
        let dir = dir("torn-save");
        let sqs = SqsService::open(&dir, "us-east-1").unwrap();
        sqs.create_queue("q", QueueSettings::default()).unwrap();
        let sent = sqs.send("q", "hello".into(), 0).unwrap();
        drop(sqs);
        // What a kill -9 during the next save leaves: half a draft beside the whole file.
        let draft = dir.join(".q.json.draft-0123456789abcdef");
        std::fs::write(&draft, b"{\"name\": \"q\", \"mess").unwrap();
        let sqs = SqsService::open(&dir, "us-east-1").unwrap();
        sqs.create_queue("q", QueueSettings::default()).unwrap();
        assert!(!draft.exists(), "the writer's start removes the draft");
        let got = sqs.receive("q", 10, None, Duration::ZERO).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, sent.id);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_long_poll_answers_when_a_message_arrives() {
        let dir = dir("poll");
        let sqs = std::sync::Arc::new(SqsService::open(&dir, "us-east-1").unwrap());
        sqs.create_queue("q", QueueSettings::default()).unwrap();
        let sender = std::sync::Arc::clone(&sqs);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            sender.send("q", "late".into(), 0).unwrap();
        });
        let begun = std::time::Instant::now();
        let got = sqs
            .receive("q", 10, None, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(got.len(), 1);
        assert!(begun.elapsed() < Duration::from_secs(5));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn over_max_receive_count_a_message_moves_to_the_dead_letter_queue() {
        let dir = dir("dlq");
        let sqs = SqsService::open(&dir, "us-east-1").unwrap();
        sqs.create_queue("dlq", QueueSettings::default()).unwrap();
        let settings = QueueSettings {
            redrive: Some(Redrive {
                dead_letter_queue: "dlq".into(),
                max_receive_count: 2,
            }),
            ..QueueSettings::default()
        };
        sqs.create_queue("q", settings).unwrap();
        sqs.send("q", "bad".into(), 0).unwrap();
        for _ in 0..2 {
            // A zero visibility timeout makes it visible again at once.
            let got = sqs.receive("q", 10, Some(0), Duration::ZERO).await.unwrap();
            assert_eq!(got.len(), 1);
        }
        assert!(
            sqs.receive("q", 10, Some(0), Duration::ZERO)
                .await
                .unwrap()
                .is_empty()
        );
        let dead = sqs.receive("dlq", 10, None, Duration::ZERO).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].body, "bad");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn bodies_and_names_sqs_would_refuse() {
        assert!(check_body("", 10).is_err());
        assert!(check_body("12345678901", 10).is_err());
        assert!(check_body("bell\u{7}", 100).is_err());
        assert!(check_body("fine ☕", 100).is_ok());
        assert!(is_queue_name("imagegen-prompts_dlq"));
        assert!(!is_queue_name("a/b") && !is_queue_name("") && !is_queue_name(&"x".repeat(81)));
    }
}
