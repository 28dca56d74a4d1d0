//! S3 event notifications under `serve`: what the CDK app wires on AWS (bucket notifications for
//! `ObjectCreated:*` with the prompt prefix and each prompt-file suffix, to the start-execution
//! function), done locally. S3 filters by prefix and suffix (case-sensitive) before it delivers;
//! start-execution applies its own rule again.
//!
//! Delivery is at least once, as on AWS, also across Ctrl-C, `kill -9` and power cuts: a matching
//! object's notification is recorded in the data directory ([`imagegen_local::notifications`])
//! before the upload is answered, delivered on a task of its own, and its record removed only
//! once start-execution has taken it (started the execution, found it already started, or skipped
//! it). A delivery that fails, or that a stop cuts short, stays recorded; the next `serve` on the
//! directory delivers it ([`BucketNotifications::deliver_pending`]). A notification delivered
//! twice names the same execution (the name comes from the recorded sequencer), so the second
//! delivery is "already started".

use std::sync::Arc;
use std::time::Duration;

use imagegen_core::keys::PromptFormat;
use imagegen_local::notifications::{Deliveries, Pending, S3Notification};
use imagegen_local::server::{ObjectCreated, OnObjectCreated};

use crate::error::LocalPipelineError;
use crate::pipeline::LocalPipeline;

/// Whether the bucket's notification configuration matches `key`: under `prefix`, ending in
/// `.txt` or `.json` exactly (S3's suffix filter compares case-sensitively).
pub fn matches(prefix: &str, key: &str) -> bool {
    key.starts_with(prefix)
        && PromptFormat::ALL
            .iter()
            .any(|f| key.ends_with(&format!(".{}", f.extension())))
}

/// What became of a notification handed to start-execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Start-execution took it (started, already started, or skipped): its record is removed.
    Taken,
    /// It could not be delivered now: its record stays for the next start.
    Left,
}

/// What [`BucketNotifications::deliver_pending`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PendingReport {
    pub taken: usize,
    pub left: usize,
    /// Records that are not a notification (kept, never delivered).
    pub torn: usize,
}

/// The bucket's notifications to the start-execution handler, and the deliveries under way.
#[derive(Debug)]
pub struct BucketNotifications {
    pipeline: Arc<LocalPipeline>,
    deliveries: Arc<Deliveries>,
}

impl BucketNotifications {
    pub fn new(pipeline: Arc<LocalPipeline>) -> Arc<Self> {
        Arc::new(Self {
            pipeline,
            deliveries: Arc::default(),
        })
    }

    /// The hook the S3 route awaits before it answers an upload: a matching object's notification
    /// is recorded (on disk before the hook returns), then delivered on a task of its own.
    pub fn hook(self: &Arc<Self>) -> OnObjectCreated {
        let this = Arc::clone(self);
        Arc::new(move |created: ObjectCreated| {
            let this = Arc::clone(&this);
            Box::pin(async move {
                let pipeline = &this.pipeline;
                if created.bucket != pipeline.bucket()
                    || !matches(pipeline.prompt_prefix(), &created.key)
                {
                    return Ok(());
                }
                let notification =
                    S3Notification::new(&created.bucket, &created.key, created.created_by);
                let delivering = Arc::clone(&this);
                this.deliveries
                    .record_then_deliver(
                        pipeline.aws().notifications(),
                        notification,
                        move |pending| async move {
                            delivering.deliver(pending).await;
                        },
                    )
                    .await
            })
        })
    }

    /// Deliver every notification a previous process recorded and did not see taken (oldest
    /// first), before new uploads are taken. Run after the executions it left running are
    /// settled, so a re-delivered one is found ended ("already started"), not started again.
    pub async fn deliver_pending(&self) -> Result<PendingReport, LocalPipelineError> {
        let store = self.pipeline.aws().notifications();
        store.remove_drafts()?;
        let list = store.pending()?;
        let mut report = PendingReport {
            torn: list.torn.len(),
            ..PendingReport::default()
        };
        for path in &list.torn {
            eprintln!(
                "! {}: not an S3 notification (cut short or written by another program); kept, \
                 not delivered",
                imagegen_core::display::escape_controls(&path.display().to_string())
            );
        }
        for pending in list.pending {
            match self.deliver(pending).await {
                Delivery::Taken => report.taken += 1,
                Delivery::Left => report.left += 1,
            }
        }
        Ok(report)
    }

    /// Wait up to `timeout` for the deliveries under way to end; returns how many are still under
    /// way (their notifications stay recorded and are delivered at the next start).
    pub async fn settle(&self, timeout: Duration) -> usize {
        self.deliveries.settle(timeout).await
    }

    /// Hand one recorded notification to start-execution; its record is removed once taken.
    async fn deliver(&self, pending: Pending) -> Delivery {
        let recorded = &pending.notification;
        let shown = format!(
            "s3://{}/{}",
            recorded.bucket,
            imagegen_core::display::escape_controls(&recorded.key)
        );
        let delivery = self.start(&shown, recorded).await;
        if delivery == Delivery::Taken
            && let Err(e) = self.pipeline.aws().notifications().delivered(&pending.id)
        {
            // Still recorded: the next start delivers it again, and finds it already started.
            eprintln!("! {shown}: delivered, but its record could not be removed: {e}");
        }
        delivery
    }

    async fn start(&self, shown: &str, recorded: &S3Notification) -> Delivery {
        let left = "it stays recorded and is delivered again at the next start";
        let event = match self.pipeline.notification(recorded).await {
            Ok(Some(event)) => event,
            Ok(None) => {
                println!("  {shown}: deleted before its notification was delivered; not started");
                return Delivery::Taken;
            }
            Err(e) => {
                eprintln!("! {shown}: the S3 notification could not be made ({e}); {left}");
                return Delivery::Left;
            }
        };
        match self.pipeline.deliver(event).await {
            Ok(summary) => {
                let event_name = recorded.created_by.event_name();
                for started in &summary.started {
                    println!("  {shown} ({event_name}) -> {}", started.execution_name);
                }
                for duplicate in &summary.duplicates {
                    println!("  {shown}: already started as {}", duplicate.execution_name);
                }
                for skipped in &summary.skipped {
                    println!("  {shown}: not started: {}", skipped.reason);
                }
                Delivery::Taken
            }
            Err(e) => {
                eprintln!("! {shown}: start-execution failed: {e}; {left}");
                Delivery::Left
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notification_filter_is_the_cdk_apps() {
        assert!(matches("prompts/", "prompts/a.txt"));
        assert!(matches("prompts/", "prompts/deep/a b.json"));
        assert!(!matches("prompts/", "images/a.txt"));
        assert!(!matches("prompts/", "prompts/a.TXT"));
        assert!(!matches("prompts/", "prompts/a.png"));
    }
}
