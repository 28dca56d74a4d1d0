//! An execution's end, recorded and delivered however full the disk is.
//!
//! Every end (a run's own, a stop, a shutdown's abort, a crash settled at the next start) goes
//! through [`Ends::write`] and then [`Ends::deliver`]:
//!
//! 1. the end is written into the journal's space set aside beforehand ([`super::journal`]);
//! 2. the record is saved; on a full disk the reserve ([`super::reserve`]) is given back and the
//!    save tried again;
//! 3. the status change goes to the rules (the backstop sends the failure email); a rule that
//!    fails gets the reserve's room and one more try;
//! 4. once saved and delivered, the journal marks the end done.
//!
//! What still fails is held here and retried every [`RETRY_EVERY`] until it succeeds, and this
//! process answers the held end (never the stale `RUNNING` on disk); what is left when the process
//! ends is in the journal for the next one. Nothing is guessed: [`Ends::pending`] says what is not
//! yet saved or delivered, for the commands to tell their user.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::events;
use super::journal::{self, EndJournal, JOURNAL_BYTES};
use super::lock;
use super::record::ExecutionRecord;
use super::reserve::{RESERVE_BYTES, Reserve};
use super::store::ExecutionStore;
use crate::error::LocalError;
use crate::eventbridge::StatusChangeRule;

/// How often ends that could not be saved or delivered are tried again.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);

pub(super) type Rules = Arc<RwLock<Vec<StatusChangeRule>>>;

/// An end not yet both saved and delivered.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEnd {
    /// The end as it truly is.
    pub record: ExecutionRecord,
    /// Whether the record on disk holds it.
    pub saved: bool,
    /// Whether every rule took its status change (the failure email is out).
    pub delivered: bool,
    /// Whether the journal holds it, so that the next process finishes it if this one cannot.
    pub journalled: bool,
    /// The last error that held it back, in words.
    pub reason: String,
}

/// The ends of one executions directory.
#[derive(Debug)]
pub(super) struct Ends {
    store: ExecutionStore,
    pub(super) rules: Rules,
    region: String,
    journal: Mutex<Option<Arc<EndJournal>>>,
    reserve: Reserve,
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    unsaved: HashMap<String, ExecutionRecord>,
    /// The end and the rules (by index) that have not taken it.
    undelivered: HashMap<String, (ExecutionRecord, Vec<usize>)>,
    /// Ends written to the memory only (the journal was full or missing).
    unjournalled: Vec<String>,
    /// The last error that held each back.
    reasons: HashMap<String, String>,
    retrying: bool,
}

impl Ends {
    pub(super) fn new(store: ExecutionStore, region: String) -> Self {
        let reserve = Reserve::new(store.dir(), RESERVE_BYTES);
        Self {
            store,
            rules: Arc::new(RwLock::new(Vec::new())),
            region,
            journal: Mutex::new(None),
            reserve,
            pending: Mutex::new(Pending::default()),
        }
    }

    /// The journal, opened (and its space set aside) on first use, with the reserve. A process
    /// that starts executions needs it; one that only reads never opens it.
    pub(super) fn journal(&self) -> Result<Arc<EndJournal>, LocalError> {
        let mut journal = lock(&self.journal);
        if let Some(journal) = journal.as_ref() {
            return Ok(Arc::clone(journal));
        }
        let opened = Arc::new(EndJournal::open(self.store.dir(), JOURNAL_BYTES)?);
        *journal = Some(Arc::clone(&opened));
        drop(journal);
        if !self.reserve.make() {
            tracing::warn!(dir = %self.store.dir().display(), "no room for the reserve kept for executions' ends and emails");
        }
        Ok(opened)
    }

    /// The ends the journal holds that are not done, by name.
    pub(super) fn journalled(&self) -> HashMap<String, ExecutionRecord> {
        match lock(&self.journal).as_ref() {
            Some(journal) => journal.open_ends(),
            None => journal::read_open_ends(self.store.dir()),
        }
    }

    /// The end of `name` held here because it could not be saved.
    pub(super) fn unsaved(&self, name: &str) -> Option<ExecutionRecord> {
        lock(&self.pending).unsaved.get(name).cloned()
    }

    /// Every end held here because it could not be saved.
    pub(super) fn all_unsaved(&self) -> HashMap<String, ExecutionRecord> {
        lock(&self.pending).unsaved.clone()
    }

    /// Record `record`'s end: journal, then save. `Ok` once it is on disk in one of the two (a
    /// save that failed is held and retried); an error when it is in neither, only in memory.
    pub(super) fn write(self: &Arc<Self>, record: &ExecutionRecord) -> Result<(), LocalError> {
        let journalled = match self.journal().and_then(|j| j.end(record)) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(execution = %record.name, error = %e, "local Step Functions: could not journal the execution's end");
                false
            }
        };
        match self.save(record) {
            Ok(()) => {
                lock(&self.pending).unsaved.remove(&record.name);
                Ok(())
            }
            Err(e) => {
                tracing::error!(execution = %record.name, error = %e, "local Step Functions: could not save the execution's end; it is kept and saved again once there is room");
                self.hold(|pending| {
                    pending.unsaved.insert(record.name.clone(), record.clone());
                    pending.reasons.insert(record.name.clone(), e.to_string());
                    if !journalled {
                        pending.unjournalled.push(record.name.clone());
                    }
                });
                if journalled { Ok(()) } else { Err(e) }
            }
        }
    }

    /// Hand `record`'s status change to every rule that matches it, and wait for them; what fails
    /// is held and retried.
    pub(super) async fn deliver(self: &Arc<Self>, record: &ExecutionRecord) {
        let count = self.rules.read().map_or(0, |r| r.len());
        let (failed, why) = self.deliver_to(record, (0..count).collect()).await;
        if failed.is_empty() {
            self.done_if_finished(&record.name);
        } else {
            self.hold(|pending| {
                pending
                    .undelivered
                    .insert(record.name.clone(), (record.clone(), failed));
                pending.reasons.insert(record.name.clone(), why);
            });
        }
    }

    /// Deliver to the rules numbered `which`; returns those that failed even after the reserve
    /// was given back for them, and the last failure's reason.
    async fn deliver_to(
        &self,
        record: &ExecutionRecord,
        which: Vec<usize>,
    ) -> (Vec<usize>, String) {
        let (mut failed, mut why) = self.try_deliver(record, which).await;
        if !failed.is_empty() && self.reserve.release() {
            (failed, why) = self.try_deliver(record, failed).await;
        }
        (failed, why)
    }

    async fn try_deliver(
        &self,
        record: &ExecutionRecord,
        which: Vec<usize>,
    ) -> (Vec<usize>, String) {
        let rules: Vec<StatusChangeRule> = self
            .rules
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let event = events::status_change(record, &self.region);
        let (mut failed, mut last) = (Vec::new(), String::new());
        for i in which {
            let Some(rule) = rules.get(i) else { continue };
            if let Err(why) = rule.deliver(&event).await {
                tracing::error!(execution = %record.name, error = %why, "local EventBridge: the rule's target failed; it gets the status change again");
                failed.push(i);
                last = why;
            }
        }
        (failed, last)
    }

    /// Save `record`, with the reserve's room when the disk is full.
    fn save(&self, record: &ExecutionRecord) -> Result<(), LocalError> {
        self.with_reserve(|| self.store.save(record))
    }

    /// `write`, once more with the reserve's room when the first try finds the disk full.
    fn with_reserve(&self, write: impl Fn() -> Result<(), LocalError>) -> Result<(), LocalError> {
        match write() {
            Err(e) if is_disk_full(&e) && self.reserve.release() => write(),
            written => written,
        }
    }

    /// Once `name`'s end is saved and delivered, the journal needs it no more.
    fn done_if_finished(&self, name: &str) {
        let mut pending = lock(&self.pending);
        if pending.unsaved.contains_key(name) || pending.undelivered.contains_key(name) {
            return;
        }
        pending.unjournalled.retain(|n| n != name);
        pending.reasons.remove(name);
        drop(pending);
        if let Some(journal) = lock(&self.journal).as_ref()
            && let Err(e) = journal.done(name)
        {
            // The end is read again at the next start and found saved and delivered: no harm.
            tracing::warn!(execution = %name, error = %e, "local Step Functions: could not mark the end done in the journal");
        }
    }

    /// Keep something for later, and make sure a retry is coming.
    fn hold(self: &Arc<Self>, add: impl FnOnce(&mut Pending)) {
        let mut pending = lock(&self.pending);
        add(&mut pending);
        if pending.retrying {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        pending.retrying = true;
        drop(pending);
        let ends = Arc::clone(self);
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(RETRY_EVERY).await;
                ends.retry().await;
                let mut pending = lock(&ends.pending);
                if pending.unsaved.is_empty() && pending.undelivered.is_empty() {
                    pending.retrying = false;
                    break;
                }
            }
            // Nothing waits any more: set the room aside again for the next full disk.
            ends.reserve.make();
        });
    }

    /// Try once more to save and deliver what is held.
    pub(super) async fn retry(&self) {
        let unsaved: Vec<ExecutionRecord> = lock(&self.pending).unsaved.values().cloned().collect();
        for record in unsaved {
            match self.save(&record) {
                Ok(()) => {
                    tracing::info!(execution = %record.name, "local Step Functions: the execution's end is saved now");
                    lock(&self.pending).unsaved.remove(&record.name);
                    self.done_if_finished(&record.name);
                }
                Err(e) => {
                    lock(&self.pending)
                        .reasons
                        .insert(record.name.clone(), e.to_string());
                }
            }
        }
        let undelivered: Vec<(ExecutionRecord, Vec<usize>)> =
            lock(&self.pending).undelivered.values().cloned().collect();
        for (record, rules) in undelivered {
            let (failed, why) = self.deliver_to(&record, rules).await;
            let mut pending = lock(&self.pending);
            if failed.is_empty() {
                pending.undelivered.remove(&record.name);
                drop(pending);
                tracing::info!(execution = %record.name, "local EventBridge: the execution's status change is delivered now");
                self.done_if_finished(&record.name);
            } else if let Some(entry) = pending.undelivered.get_mut(&record.name) {
                entry.1 = failed;
                pending.reasons.insert(record.name.clone(), why);
            }
        }
    }

    /// What is not yet saved or delivered, by name.
    pub(super) fn pending(&self) -> Vec<PendingEnd> {
        let pending = lock(&self.pending);
        let mut names: Vec<&String> = pending
            .unsaved
            .keys()
            .chain(pending.undelivered.keys())
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter_map(|name| {
                let record = pending
                    .unsaved
                    .get(name)
                    .or_else(|| pending.undelivered.get(name).map(|(r, _)| r))?;
                Some(PendingEnd {
                    record: record.clone(),
                    saved: !pending.unsaved.contains_key(name),
                    delivered: !pending.undelivered.contains_key(name),
                    journalled: !pending.unjournalled.contains(name),
                    reason: pending.reasons.get(name).cloned().unwrap_or_default(),
                })
            })
            .collect()
    }
}

/// Whether `error` is the file system running out of space (or of quota).
pub(super) fn is_disk_full(error: &LocalError) -> bool {
    matches!(
        error,
        LocalError::Io { source, .. }
            if matches!(source.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
    )
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::ids::new_id;
    use crate::sfn::record::Status;
    use crate::sfn::{SfnService, names};

    fn record(name: &str, status: Status) -> ExecutionRecord {
        ExecutionRecord {
            name: name.to_owned(),
            execution_arn: names::execution_arn("us-east-1", "pipe", name),
            state_machine_arn: names::state_machine_arn("us-east-1", "pipe"),
            status,
            input: r#"{"prompt":"p"}"#.to_owned(),
            output: None,
            error: None,
            cause: None,
            start_date: "2024-01-01T00:00:00.000Z".to_owned(),
            stop_date: None,
            history: Vec::new(),
            // An owner whose lock nobody holds: its process has ended.
            owner: Some(new_id()),
        }
    }

    fn failed(name: &str) -> ExecutionRecord {
        let mut failed = record(name, Status::Failed);
        failed.error = Some("StorageError".to_owned());
        failed.cause = Some("No space left on device".to_owned());
        failed.stop_date = Some("2024-01-01T00:00:05.000Z".to_owned());
        failed
    }

    /// Issue 21 item 2: a restart turned a run whose end could not be saved into `ABORTED`; its end
    /// was known (`FAILED` with its error). And a saved end whose email the disk had no room for
    /// is delivered at the restart.
    #[tokio::test]
    async fn a_restart_finishes_the_journalled_ends_with_their_true_status() {
        let dir = std::env::temp_dir().join(format!("imagegen-ends-{}", new_id()));
        let store = ExecutionStore::open(&dir).unwrap();
        // "unsaved" ended FAILED and its record still says RUNNING; "undelivered" was saved.
        store.create(&record("unsaved", Status::Running)).unwrap();
        store.create(&failed("undelivered")).unwrap();
        let journal = EndJournal::open(&dir, 64 * 1024).unwrap();
        journal.end(&failed("unsaved")).unwrap();
        journal.end(&failed("undelivered")).unwrap();
        drop(journal);

        // Any process reading the directory sees the end, not RUNNING nor ABORTED.
        let reader = SfnService::new("us-east-1", store.clone());
        let seen = reader.execution("unsaved").unwrap().unwrap();
        assert_eq!(
            (seen.status, seen.error.as_deref()),
            (Status::Failed, Some("StorageError"))
        );
        assert_eq!(
            reader.executions().unwrap().records[0].status,
            Status::Failed
        );

        let sfn = SfnService::new("us-east-1", store.clone());
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let heard = Arc::clone(&delivered);
        sfn.add_rule(StatusChangeRule::new(
            names::state_machine_arn("us-east-1", "pipe"),
            &["FAILED", "ABORTED"],
            move |event| {
                let name = event["detail"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                heard.lock().unwrap().push(name);
                async { Ok(()) }
            },
        ));
        let recovered = sfn.recover().await.unwrap();
        assert_eq!(recovered.len(), 1);
        let saved = store.load("unsaved").unwrap().unwrap();
        assert_eq!(saved.status, Status::Failed);
        assert_eq!(saved.error.as_deref(), Some("StorageError"));
        assert_eq!(saved.input, r#"{"prompt":"p"}"#);
        let mut heard = delivered.lock().unwrap().clone();
        heard.sort();
        assert_eq!(heard, ["undelivered", "unsaved"]);
        assert!(journal::read_open_ends(&dir).is_empty());
        assert!(sfn.pending_ends().is_empty());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A save refused for want of space gets the reserve's room and succeeds at once.
    #[test]
    fn a_full_disk_save_uses_the_reserve() {
        let dir = std::env::temp_dir().join(format!("imagegen-ends-{}", new_id()));
        let store = ExecutionStore::open(&dir).unwrap();
        let ends = Ends::new(store, "us-east-1".to_owned());
        assert!(ends.reserve.make());
        let full =
            LocalError::io("writing", &dir)(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(is_disk_full(&full));
        assert!(!is_disk_full(&LocalError::io("writing", &dir)(
            std::io::Error::from(std::io::ErrorKind::PermissionDenied)
        )));
        // The store cannot be made to run out of space here; the rule it follows can: the first
        // failure for want of space gives the reserve back, and only the first.
        let calls = AtomicUsize::new(0);
        let attempt = || {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                Err(LocalError::io("writing", &dir)(std::io::Error::from(
                    std::io::ErrorKind::StorageFull,
                )))
            } else {
                Ok(())
            }
        };
        assert!(ends.with_reserve(attempt).is_ok());
        assert!(!ends.reserve.held());
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
