//! S3's event notifications as the template configures them (`Custom::S3BucketNotifications`:
//! the bucket, the events, the key's prefix and suffix, the target function).
//!
//! As under `imagegen serve`, delivery is at least once across Ctrl-C and crashes: a matching
//! object's notification is recorded in the data directory before the upload is answered, and its
//! record is removed once the Lambda service has done with it (the function ran, or every attempt
//! failed or was refused and was logged, as on AWS). What a stop cuts short is delivered at the
//! next start ([`Notifications::deliver_pending`]). S3 invokes the function asynchronously, as
//! `s3.amazonaws.com` for the bucket: the function's resource policy must admit it.

use std::sync::Arc;
use std::time::Duration;

use imagegen_local::LocalAws;
use imagegen_local::notifications::{Deliveries, Pending, S3Notification};
use imagegen_local::server::{CreatedBy, ObjectCreated, OnObjectCreated};

use super::invoke::Invoker;
use crate::plan::{BucketNotification, Plan};

/// The configured notifications of the stack's buckets, and the deliveries under way.
#[derive(Debug)]
pub struct Notifications {
    aws: LocalAws,
    configured: Vec<BucketNotification>,
    invoker: Arc<Invoker>,
    deliveries: Arc<Deliveries>,
}

/// Whether a configuration takes an object of `bucket` and `key` created by `created_by`: S3
/// compares the prefix and suffix case-sensitively, and `s3:ObjectCreated:*` takes every way.
pub fn matches(
    config: &BucketNotification,
    bucket: &str,
    key: &str,
    created_by: CreatedBy,
) -> bool {
    let event = format!("s3:{}", created_by.event_name());
    config.bucket == bucket
        && config
            .events
            .iter()
            .any(|e| e == "s3:ObjectCreated:*" || *e == event)
        && config.prefix.as_deref().is_none_or(|p| key.starts_with(p))
        && config.suffix.as_deref().is_none_or(|s| key.ends_with(s))
}

impl Notifications {
    pub fn new(aws: LocalAws, plan: &Plan, invoker: Arc<Invoker>) -> Arc<Self> {
        Arc::new(Self {
            aws,
            configured: plan.notifications.clone(),
            invoker,
            deliveries: Arc::default(),
        })
    }

    /// The functions the configured notifications invoke for an object of `bucket` and `key`
    /// created by `created_by` (none: S3 sends no notification for it).
    pub fn targets(&self, bucket: &str, key: &str, created_by: CreatedBy) -> Vec<String> {
        self.configured
            .iter()
            .filter(|c| matches(c, bucket, key, created_by))
            .map(|c| c.function_arn.clone())
            .collect()
    }

    /// The hook the S3 route awaits before it answers an upload.
    pub fn hook(self: &Arc<Self>) -> OnObjectCreated {
        let this = Arc::clone(self);
        Arc::new(move |created: ObjectCreated| {
            let this = Arc::clone(&this);
            Box::pin(async move {
                if this
                    .targets(&created.bucket, &created.key, created.created_by)
                    .is_empty()
                {
                    return Ok(());
                }
                let notification =
                    S3Notification::new(&created.bucket, &created.key, created.created_by);
                let delivering = Arc::clone(&this);
                this.deliveries
                    .record_then_deliver(
                        this.aws.notifications(),
                        notification,
                        move |pending| async move {
                            delivering.deliver(pending).await;
                        },
                    )
                    .await
            })
        })
    }

    /// Deliver what an earlier process recorded and did not finish; returns how many.
    pub async fn deliver_pending(&self) -> Result<usize, imagegen_local::LocalError> {
        let store = self.aws.notifications();
        store.remove_drafts()?;
        let list = store.pending()?;
        let count = list.pending.len();
        for pending in list.pending {
            self.deliver(pending).await;
        }
        Ok(count)
    }

    /// Wait up to `timeout` for the deliveries under way; returns how many are still going (they
    /// stay recorded for the next start).
    pub async fn settle(&self, timeout: Duration) -> usize {
        self.deliveries.settle(timeout).await
    }

    async fn deliver(&self, pending: Pending) {
        let recorded = &pending.notification;
        let shown = format!("s3://{}/{}", recorded.bucket, recorded.key);
        let event = match recorded
            .event(&self.aws.s3_client(), &self.aws.options().region)
            .await
        {
            Ok(Some(event)) => event,
            Ok(None) => {
                println!("  {shown}: deleted before its notification was delivered");
                self.done(&pending, &shown);
                return;
            }
            Err(e) => {
                eprintln!(
                    "! {shown}: the S3 notification could not be made ({}); it stays recorded",
                    imagegen_aws::error_text(&e)
                );
                return;
            }
        };
        let source = format!("arn:aws:s3:::{}", recorded.bucket);
        let what = format!("the notification of {shown}");
        for function in self.targets(&recorded.bucket, &recorded.key, recorded.created_by) {
            self.invoker
                .invoke_event("s3.amazonaws.com", &source, &what, &function, event.clone())
                .await;
        }
        self.done(&pending, &shown);
    }

    fn done(&self, pending: &Pending, shown: &str) {
        if let Err(e) = self.aws.notifications().delivered(&pending.id) {
            eprintln!("! {shown}: delivered, but its record could not be removed: {e}");
        }
    }
}
