//! S3 event notifications not yet delivered: `<data-dir>/notifications/`, one file per event.
//!
//! S3 keeps an event notification durably before it answers the upload and delivers it at least
//! once. The twin does the same: the server records the event here (synced to disk) before the
//! upload is answered, the event is delivered, and its file is removed only once the receiver has
//! taken it (started an execution, found it already started, or skipped it). A process that dies in
//! between leaves the file, and the next start delivers it again; the receiver's idempotent names
//! absorb the duplicate.
//!
//! One file per event, written aside and linked into place, so a crash never leaves half a
//! record under a record's name; a record that cannot be read all the same (another program wrote
//! it, or a file system without ordered writes lost its bytes) is reported as torn and kept for
//! inspection, never delivered and never deleted.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::LocalError;
use crate::files;
use crate::ids::new_id;
use crate::server::{CreatedBy, NotRecorded};
use tokio::sync::Notify;

/// The ending of a record's file name.
const RECORD_SUFFIX: &str = ".json";

/// One S3 event notification, as recorded when its object was created. What names the upload for
/// the receiver (the sequencer) is fixed here, so a re-delivery is the same event, not a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Notification {
    pub bucket: String,
    /// Decoded.
    pub key: String,
    pub created_by: CreatedBy,
    /// S3's per-PUT ordering token (hex), given when the object was created.
    pub sequencer: String,
    /// RFC 3339: when the object was created.
    pub event_time: String,
}

/// Why the object of a notification could not be read back.
pub type HeadError = aws_sdk_s3::error::SdkError<
    aws_sdk_s3::operation::head_object::HeadObjectError,
    aws_smithy_runtime_api::client::orchestrator::HttpResponse,
>;

impl S3Notification {
    /// A notification for an object just created in `bucket`, to be recorded before the upload is
    /// answered: its sequencer and time are fixed now, so every delivery of it is the same event.
    pub fn new(bucket: &str, key: &str, created_by: CreatedBy) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            created_by,
            sequencer: crate::s3::event::sequencer(),
            event_time: crate::sfn::record::now_rfc3339(),
        }
    }

    /// The S3 event for this notification (the object's size and ETag read back with HeadObject
    /// through `s3`); `None` when the object is gone (deleted before its notification was
    /// delivered); otherwise HeadObject's error.
    pub async fn event(
        &self,
        s3: &aws_sdk_s3::Client,
        region: &str,
    ) -> Result<Option<serde_json::Value>, HeadError> {
        let head = match s3
            .head_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
        {
            Ok(head) => head,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => return Ok(None),
            Err(e) => return Err(e),
        };
        let etag = head
            .e_tag()
            .unwrap_or_default()
            .trim_matches('"')
            .to_owned();
        Ok(Some(crate::s3::event::object_created(
            &crate::s3::event::Upload {
                region,
                bucket: &self.bucket,
                key: &self.key,
                size: u64::try_from(head.content_length().unwrap_or_default()).unwrap_or_default(),
                etag: &etag,
                sequencer: &self.sequencer,
                event_time: &self.event_time,
                created_by: self.created_by,
            },
        )))
    }
}

/// A recorded notification, named by its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The record's file name: what [`PendingNotifications::delivered`] takes.
    pub id: String,
    pub notification: S3Notification,
}

/// What the directory holds: the notifications to deliver, oldest first, and unreadable records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingList {
    pub pending: Vec<Pending>,
    /// Records that are not a notification (see the module docs); they stay where they are.
    pub torn: Vec<PathBuf>,
}

/// The notifications of one data directory that await delivery.
#[derive(Debug, Clone)]
pub struct PendingNotifications {
    dir: PathBuf,
}

impl PendingNotifications {
    /// The records in `dir` (created when missing).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, LocalError> {
        let dir = dir.into();
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).map_err(LocalError::io("creating", &dir))?;
            files::sync_parent(&dir)?;
        }
        Ok(Self { dir })
    }

    /// Remove the drafts a crash left behind: they were never linked, so no upload they belong to
    /// was answered. Only for the directory's writer, before it records anything: a reader's call
    /// could take a draft from under a writer's record.
    pub fn remove_drafts(&self) -> Result<(), LocalError> {
        files::remove_drafts(&self.dir)
    }

    /// The directory records are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keep `notification` until it is delivered; on return it is on disk.
    pub fn record(&self, notification: &S3Notification) -> Result<Pending, LocalError> {
        let bytes = serde_json::to_vec(notification).map_err(|e| LocalError::Io {
            action: "writing",
            path: self.dir.clone(),
            source: std::io::Error::other(e),
        })?;
        // Named by sequencer first, so the listing's order is the order objects were created.
        let id = format!(
            "{}-{}{RECORD_SUFFIX}",
            sanitize(&notification.sequencer),
            new_id()
        );
        files::create_new_synced(&self.dir.join(&id), &bytes)?;
        Ok(Pending {
            id,
            notification: notification.clone(),
        })
    }

    /// The receiver has taken the notification `id`: it is not delivered again.
    pub fn delivered(&self, id: &str) -> Result<(), LocalError> {
        if id.contains(['/', '\\']) || !id.ends_with(RECORD_SUFFIX) {
            return Ok(());
        }
        files::remove_synced(&self.dir.join(id))
    }

    /// Every notification not yet delivered, oldest first.
    pub fn pending(&self) -> Result<PendingList, LocalError> {
        let mut names: Vec<String> = entries(&self.dir)?
            .into_iter()
            .filter(|n| !n.starts_with('.') && n.ends_with(RECORD_SUFFIX))
            .collect();
        names.sort();
        let mut list = PendingList::default();
        for name in names {
            let path = self.dir.join(&name);
            let bytes = match std::fs::read(&path) {
                Ok(bytes) => bytes,
                // Delivered (and removed) meanwhile.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(LocalError::io("reading", &path)(e)),
            };
            match serde_json::from_slice(&bytes) {
                Ok(notification) => list.pending.push(Pending {
                    id: name,
                    notification,
                }),
                Err(_) => list.torn.push(path),
            }
        }
        Ok(list)
    }
}

/// The names in `dir`.
fn entries(dir: &Path) -> Result<Vec<String>, LocalError> {
    let listing = std::fs::read_dir(dir).map_err(LocalError::io("listing", dir))?;
    let mut names = Vec::new();
    for entry in listing {
        let entry = entry.map_err(LocalError::io("listing", dir))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// A sequencer as part of a file name: hex digits as they are, anything else dropped.
fn sanitize(sequencer: &str) -> String {
    sequencer
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(32)
        .collect()
}

/// The deliveries under way of one process: each notification is recorded before the upload is
/// answered, then delivered on a task of its own, counted until its delivery ends, so a stop can
/// wait for them a moment ([`Deliveries::settle`]) and leave the rest recorded for the next start.
/// `imagegen serve` and `imagegen rehearse` deliver differently (to start-execution, or to the
/// functions the template names); what they share is this.
#[derive(Debug, Default)]
pub struct Deliveries {
    in_flight: AtomicUsize,
    settled: Notify,
}

impl Deliveries {
    /// Record `notification` in `store` (synced to disk, off the async workers), then run
    /// `deliver` with its record on a task of its own. Returns once the record is kept: what the
    /// S3 route awaits before it answers the upload.
    pub async fn record_then_deliver<F, Fut>(
        self: &Arc<Self>,
        store: &PendingNotifications,
        notification: S3Notification,
        deliver: F,
    ) -> Result<(), NotRecorded>
    where
        F: FnOnce(Pending) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let store = store.clone();
        let pending = tokio::task::spawn_blocking(move || store.record(&notification))
            .await
            .map_err(|e| NotRecorded(e.to_string()))?
            .map_err(|e| NotRecorded(e.to_string()))?;
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        let this = Arc::clone(self);
        tokio::spawn(async move {
            deliver(pending).await;
            if this.in_flight.fetch_sub(1, Ordering::SeqCst) == 1 {
                this.settled.notify_waiters();
            }
        });
        Ok(())
    }

    /// Wait up to `timeout` for the deliveries under way to end; returns how many are still under
    /// way (their notifications stay recorded and are delivered at the next start).
    pub async fn settle(&self, timeout: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Registered before the count is read, so an end in between is not missed.
            let settled = self.settled.notified();
            if self.in_flight.load(Ordering::SeqCst) == 0
                || tokio::time::timeout_at(deadline, settled).await.is_err()
            {
                return self.in_flight.load(Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        std::env::temp_dir()
            .join(format!("imagegen-notifications-{}", new_id()))
            .join("notifications")
    }

    fn notification(key: &str, sequencer: &str) -> S3Notification {
        S3Notification {
            bucket: "b".into(),
            key: key.into(),
            created_by: CreatedBy::Put,
            sequencer: sequencer.into(),
            event_time: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn keys(list: &PendingList) -> Vec<&str> {
        list.pending
            .iter()
            .map(|p| p.notification.key.as_str())
            .collect()
    }

    #[test]
    fn pending_survives_a_reopen_and_delivered_is_not_delivered_again() {
        let dir = scratch();
        let store = PendingNotifications::open(&dir).unwrap();
        let first = store
            .record(&notification("prompts/a.txt", "0001"))
            .unwrap();
        store
            .record(&notification("prompts/b.txt", "0002"))
            .unwrap();

        // A process that stopped here: the next one finds both, in the order they were created.
        let reopened = PendingNotifications::open(&dir).unwrap();
        let list = reopened.pending().unwrap();
        assert_eq!(keys(&list), ["prompts/a.txt", "prompts/b.txt"]);
        assert_eq!(list.pending[0], first);
        assert!(list.torn.is_empty());

        reopened.delivered(&first.id).unwrap();
        // Delivered twice (a re-delivery raced the first) is fine.
        reopened.delivered(&first.id).unwrap();
        let again = PendingNotifications::open(&dir).unwrap().pending().unwrap();
        assert_eq!(keys(&again), ["prompts/b.txt"]);
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_torn_record_is_reported_and_kept_and_a_crashed_draft_is_removed() {
        let dir = scratch();
        let store = PendingNotifications::open(&dir).unwrap();
        store
            .record(&notification("prompts/a.txt", "0001"))
            .unwrap();
        let whole = store
            .record(&notification("prompts/b.txt", "0002"))
            .unwrap();
        // A record cut short, and a draft a crash left before it was linked.
        let bytes = std::fs::read(dir.join(&whole.id)).unwrap();
        let torn = dir.join("0003-torn.json");
        std::fs::write(&torn, &bytes[..bytes.len() / 2]).unwrap();
        let draft = dir.join(format!(".0004-x.json.draft-{}", new_id()));
        std::fs::write(&draft, &bytes[..3]).unwrap();

        let store = PendingNotifications::open(&dir).unwrap();
        assert!(
            draft.exists(),
            "opening takes no draft: a writer may be linking it"
        );
        store.remove_drafts().unwrap();
        let list = store.pending().unwrap();
        assert_eq!(keys(&list), ["prompts/a.txt", "prompts/b.txt"]);
        assert_eq!(list.torn, std::slice::from_ref(&torn));
        assert!(torn.exists(), "a torn record is kept for inspection");
        assert!(!draft.exists(), "a crashed draft is removed");
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn records_are_named_by_sequencer_and_ids_outside_the_directory_are_ignored() {
        let dir = scratch();
        let store = PendingNotifications::open(&dir).unwrap();
        let p = store.record(&notification("k", "00AB/../x")).unwrap();
        assert!(p.id.starts_with("00ABx-"), "{}", p.id);
        std::fs::write(dir.parent().unwrap().join("outside.json"), b"{}").unwrap();
        store.delivered("../outside.json").unwrap();
        assert!(dir.parent().unwrap().join("outside.json").exists());
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}
