//! Lambda's event source mapping for an SQS queue, locally: long-poll the queue for batches, hand
//! each batch to the function as the SQS event Lambda would send, then delete the messages the
//! function did not report (`ReportBatchItemFailures`). The reported ones come back after their
//! visibility timeout, and past the redrive policy's `maxReceiveCount` go to the dead-letter queue.
//! A function error, or a response naming a message that was not in the batch, leaves the whole
//! batch to come back, as Lambda does.
//!
//! Two of the mapping's settings change how a burst reaches the function, so they are kept too:
//! the batching window (`MaximumBatchingWindowInSeconds`: a batch is gathered until it is full or
//! the window has passed since its first message) and the maximum concurrency
//! (`ScalingConfig.MaximumConcurrency`: at most that many batches with the function at once).

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Message, SqsError, SqsService};
use crate::config::ACCOUNT_ID;

type Function =
    Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, String>> + Send>> + Send + Sync>;

/// How long one poll waits for messages.
pub const POLL_WAIT: Duration = Duration::from_secs(1);

/// A queue's messages, in batches, to a function.
#[derive(Clone)]
pub struct EventSourceMapping {
    queue: String,
    batch_size: usize,
    window: Duration,
    concurrency: usize,
    function: Function,
}

/// Lambda's largest batch for a standard queue (more than 10 needs a batching window).
pub const MAX_BATCH_SIZE: usize = 10_000;

impl fmt::Debug for EventSourceMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventSourceMapping")
            .field("queue", &self.queue)
            .field("batch_size", &self.batch_size)
            .field("window", &self.window)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

/// What became of one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub delivered: usize,
    pub deleted: usize,
    /// The ids of the messages left to come back.
    pub returned: Vec<String>,
    /// Why the whole batch came back, if it did.
    pub error: Option<String>,
}

impl EventSourceMapping {
    /// `function` takes the SQS event and answers the function's JSON result (or its error).
    /// No batching window and one batch at a time, until told otherwise.
    pub fn new<F, Fut>(queue: impl Into<String>, batch_size: usize, function: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, String>> + Send + 'static,
    {
        Self {
            queue: queue.into(),
            batch_size: batch_size.clamp(1, MAX_BATCH_SIZE),
            window: Duration::ZERO,
            concurrency: 1,
            function: Arc::new(move |event| Box::pin(function(event))),
        }
    }

    /// Gather each batch for up to `window` after its first message, until it is full.
    #[must_use]
    pub fn with_batching_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// At most `concurrency` batches with the function at once (at least one).
    #[must_use]
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The messages of one batch: the first ones within `wait`, then more (at most ten per
    /// receive, as SQS gives them) until the batch is full or the batching window has passed.
    async fn gather(&self, sqs: &SqsService, wait: Duration) -> Result<Vec<Message>, SqsError> {
        let wanted = |have: usize| (self.batch_size - have).min(super::MAX_RECEIVE);
        let mut messages = sqs.receive(&self.queue, wanted(0), None, wait).await?;
        if messages.is_empty() {
            return Ok(messages);
        }
        let closes = tokio::time::Instant::now() + self.window;
        while messages.len() < self.batch_size {
            let left = closes.saturating_duration_since(tokio::time::Instant::now());
            let more = sqs
                .receive(&self.queue, wanted(messages.len()), None, left)
                .await?;
            if more.is_empty() {
                break;
            }
            messages.extend(more);
        }
        Ok(messages)
    }

    /// One poll: `None` when no message came within `wait`.
    pub async fn poll(&self, sqs: &SqsService, wait: Duration) -> Result<Option<Batch>, SqsError> {
        let messages = self.gather(sqs, wait).await?;
        if messages.is_empty() {
            return Ok(None);
        }
        let event = event(sqs, &self.queue, &messages);
        let ids: BTreeSet<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        let mut batch = Batch {
            delivered: messages.len(),
            ..Batch::default()
        };
        let reported = match (self.function)(event).await {
            Ok(result) => reported_failures(&result, &ids),
            Err(e) => Err(format!("the function failed: {e}")),
        };
        let failed = match reported {
            Ok(failed) => failed,
            Err(why) => {
                batch.returned = ids.iter().map(|id| (*id).to_owned()).collect();
                batch.error = Some(why);
                return Ok(Some(batch));
            }
        };
        let mut done = Vec::new();
        for message in &messages {
            if failed.contains(message.id.as_str()) {
                batch.returned.push(message.id.clone());
            } else if let Some(receipt) = &message.receipt {
                done.push(receipt.as_str());
            }
        }
        for deleted in sqs.delete_all(&self.queue, &done)? {
            deleted?;
            batch.deleted += 1;
        }
        Ok(Some(batch))
    }

    /// Poll until the task is dropped or aborted, with as many pollers as the concurrency allows
    /// (each has one batch with the function at a time); each batch's outcome goes to `report`.
    pub async fn run(&self, sqs: Arc<SqsService>, report: impl Fn(&Batch)) {
        let poller = || async {
            loop {
                match self.poll(&sqs, POLL_WAIT).await {
                    Ok(Some(batch)) => report(&batch),
                    Ok(None) => {}
                    Err(e) => {
                        tracing::error!(queue = %self.queue, error = %e.message, "local event source mapping: the queue could not be read");
                        tokio::time::sleep(POLL_WAIT).await;
                    }
                }
            }
        };
        futures::future::join_all((0..self.concurrency).map(|_| poller())).await;
    }
}

/// The ids the function's response reports as failed (`{"batchItemFailures": [{"itemIdentifier"}]}`);
/// `Err` when it names something that was not in the batch.
fn reported_failures<'a>(
    result: &Value,
    ids: &BTreeSet<&'a str>,
) -> Result<BTreeSet<&'a str>, String> {
    let Some(items) = result.get("batchItemFailures").and_then(Value::as_array) else {
        return Ok(BTreeSet::new());
    };
    let mut failed = BTreeSet::new();
    for item in items {
        let id = item
            .get("itemIdentifier")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match ids.get(id) {
            Some(id) => {
                failed.insert(*id);
            }
            None => {
                return Err(format!(
                    "the function reported {id:?}, which was not in the batch"
                ));
            }
        }
    }
    Ok(failed)
}

/// The SQS event Lambda sends for `messages` of `queue`.
pub fn event(sqs: &SqsService, queue: &str, messages: &[Message]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "messageId": m.id,
                "receiptHandle": m.receipt,
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": m.receive_count.to_string(),
                    "SentTimestamp": m.sent_ms.to_string(),
                    "SenderId": ACCOUNT_ID,
                    "ApproximateFirstReceiveTimestamp": m.first_receive_ms.unwrap_or(m.sent_ms).to_string(),
                },
                "messageAttributes": {},
                "md5OfBody": m.md5,
                "eventSource": "aws:sqs",
                "eventSourceARN": sqs.queue_arn(queue),
                "awsRegion": sqs.region(),
            })
        })
        .collect();
    json!({"Records": records})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqs::QueueSettings;

    fn sqs(label: &str) -> (SqsService, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("imagegen-esm-{label}-{}", crate::ids::new_id()));
        let sqs = SqsService::open(&dir, "us-east-1").unwrap();
        sqs.create_queue("q", QueueSettings::default()).unwrap();
        (sqs, dir)
    }

    #[tokio::test]
    async fn reported_messages_stay_and_the_others_are_deleted() {
        let (sqs, dir) = sqs("partial");
        for body in ["good", "bad", "good too"] {
            sqs.send("q", body.into(), 0).unwrap();
        }
        let mapping = EventSourceMapping::new("q", 10, |event: Value| async move {
            let failures: Vec<Value> = event["Records"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["body"] == "bad")
                .map(|r| json!({"itemIdentifier": r["messageId"]}))
                .collect();
            assert!(
                event["Records"][0]["eventSourceARN"]
                    .as_str()
                    .unwrap()
                    .ends_with(":q")
            );
            Ok(json!({"batchItemFailures": failures}))
        });
        let batch = mapping.poll(&sqs, Duration::ZERO).await.unwrap().unwrap();
        assert_eq!(
            (batch.delivered, batch.deleted, batch.returned.len()),
            (3, 2, 1)
        );
        let (_, counts, _) = sqs.describe("q").unwrap();
        assert_eq!((counts.visible, counts.in_flight), (0, 1));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn an_error_or_a_stranger_in_the_response_returns_the_whole_batch() {
        let (sqs, dir) = sqs("whole");
        sqs.send("q", "one".into(), 0).unwrap();
        let failing = EventSourceMapping::new("q", 10, |_| async { Err("boom".to_owned()) });
        let batch = failing.poll(&sqs, Duration::ZERO).await.unwrap().unwrap();
        assert_eq!((batch.deleted, batch.returned.len()), (0, 1));
        assert!(batch.error.unwrap().contains("boom"));

        sqs.send("q", "two".into(), 0).unwrap();
        let confused = EventSourceMapping::new("q", 10, |_| async {
            Ok(json!({"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]}))
        });
        let batch = confused.poll(&sqs, Duration::ZERO).await.unwrap().unwrap();
        assert_eq!((batch.deleted, batch.returned.len()), (0, 1));
        assert!(confused.poll(&sqs, Duration::ZERO).await.unwrap().is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(start_paused = true)]
    async fn a_batching_window_gathers_what_arrives_within_it() {
        let (sqs, dir) = sqs("window");
        let sqs = Arc::new(sqs);
        let sizes = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&sizes);
        let mapping = EventSourceMapping::new("q", 10, move |event: Value| {
            seen.lock()
                .unwrap()
                .push(event["Records"].as_array().unwrap().len());
            async { Ok(json!({})) }
        });
        // One message now, two more a second later: a 5 s window takes all three in one batch,
        // none takes the first alone.
        for (window, expected) in [(Duration::from_secs(5), 3), (Duration::ZERO, 1)] {
            sqs.send("q", "first".into(), 0).unwrap();
            let later = Arc::clone(&sqs);
            let sender = tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(1)).await;
                for body in ["second", "third"] {
                    later.send("q", body.into(), 0).unwrap();
                }
            });
            let windowed = mapping.clone().with_batching_window(window);
            let batch = windowed.poll(&sqs, POLL_WAIT).await.unwrap().unwrap();
            assert_eq!(batch.delivered, expected, "window {window:?}");
            sender.await.unwrap();
            // Whatever is left is taken before the next round.
            while mapping.poll(&sqs, Duration::ZERO).await.unwrap().is_some() {}
        }
        assert_eq!(sizes.lock().unwrap()[..2], [3, 1]);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_batches_at_once_than_the_maximum_concurrency() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        for concurrency in [1, 2, 3] {
            let (sqs, dir) = sqs("concurrency");
            for n in 0..6 {
                sqs.send("q", format!("m{n}"), 0).unwrap();
            }
            let now = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let (n, m) = (Arc::clone(&now), Arc::clone(&most));
            let mapping = EventSourceMapping::new("q", 1, move |_| {
                let (now, most) = (Arc::clone(&n), Arc::clone(&m));
                async move {
                    most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok(json!({}))
                }
            })
            .with_concurrency(concurrency);
            let sqs = Arc::new(sqs);
            let _ = tokio::time::timeout(
                Duration::from_secs(30),
                mapping.run(Arc::clone(&sqs), |_| {}),
            )
            .await;
            assert_eq!(most.load(Ordering::SeqCst), concurrency);
            let (_, counts, _) = sqs.describe("q").unwrap();
            assert_eq!((counts.visible, counts.in_flight), (0, 0));
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
