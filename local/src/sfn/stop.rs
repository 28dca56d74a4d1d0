//! Ending executions before they end by themselves: `StopExecution`, and the shutdown of the
//! process that runs them (`imagegen serve` on Ctrl-C).
//!
//! A stopped execution is `ABORTED` with an `ExecutionAborted` event, and its end is recorded
//! (journalled, then saved whole: see `ends.rs`) before its runner is told to stop; the runner then
//! saves nothing more, so the record on disk is the stopped one, never a half-written mix.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imagegen_statemachine::{EventType, HistoryEvent};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

use super::api::{self, ApiError};
use super::record::{self, ExecutionRecord, Status};
use super::{SfnService, lock, names};
use crate::error::LocalError;

/// Step Functions' limits on StopExecution's `error` and `cause`.
const MAX_ERROR_CHARS: usize = 256;
const MAX_CAUSE_CHARS: usize = 32_768;

/// What a shutdown did to the executions that were running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shutdown {
    /// Ended by themselves within the grace period.
    pub finished: Vec<String>,
    /// Still running after it: recorded `ABORTED`.
    pub aborted: Vec<String>,
}

type LiveHandles = (
    String,
    Arc<Mutex<ExecutionRecord>>,
    Arc<Notify>,
    watch::Receiver<bool>,
);

impl SfnService {
    pub(super) fn stop_execution(&self, body: &Map<String, Value>) -> Result<Value, ApiError> {
        let arn = api::required(body, "executionArn")?;
        let Some((_, name)) = names::parse_execution_arn(arn) else {
            return Err(ApiError::new("InvalidArn", format!("Invalid Arn: '{arn}'")));
        };
        let error = api::string(body, "error");
        let cause = api::string(body, "cause");
        for (field, value, max) in [
            ("error", error, MAX_ERROR_CHARS),
            ("cause", cause, MAX_CAUSE_CHARS),
        ] {
            if value.is_some_and(|v| v.chars().count() > max) {
                return Err(ApiError::new(
                    "ValidationException",
                    format!(
                        "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
                    ),
                ));
            }
        }
        let live = lock(&self.live)
            .get(name)
            .map(|l| (Arc::clone(&l.record), Arc::clone(&l.stop)));
        let stop_date = match live {
            Some((record, stop)) if lock(&record).execution_arn == arn => self
                .abort(&record, &stop, error, cause)
                .map_err(|e| ApiError::internal(e.to_string()))?,
            _ => {
                let record = self.find(body)?;
                if record.status == Status::Running {
                    return Err(ApiError::new(
                        "ValidationException",
                        format!(
                            "Execution '{arn}' runs in another imagegen process; stop it there."
                        ),
                    ));
                }
                // Stopping an execution that has ended changes nothing.
                record.stop_date.unwrap_or_default()
            }
        };
        Ok(json!({"stopDate": ExecutionRecord::epoch_seconds(&stop_date)}))
    }

    /// Mark a running execution `ABORTED` (with an `ExecutionAborted` event), save it, then wake its
    /// runner to stop. Returns the stop date.
    fn abort(
        &self,
        record: &Mutex<ExecutionRecord>,
        stop: &Notify,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<String, LocalError> {
        let mut r = lock(record);
        if r.status != Status::Running {
            return Ok(r.stop_date.clone().unwrap_or_default());
        }
        // On the clock of the history (the engine's), and after the events recorded so far.
        let clock_now = self
            .machine(&r.state_machine_arn)
            .map_or_else(record::now_rfc3339, |m| {
                record::rfc3339(m.engine.clock().now())
            });
        let now = record::end_after(&r.history, clock_now);
        let last = r.history.last().map_or(0, |e| e.id);
        let mut detail = Map::new();
        if let Some(error) = error {
            detail.insert("error".to_owned(), Value::String(error.to_owned()));
        }
        if let Some(cause) = cause {
            detail.insert("cause".to_owned(), Value::String(cause.to_owned()));
        }
        let mut details = Map::new();
        details.insert(
            imagegen_statemachine::details_key(EventType::ExecutionAborted).to_owned(),
            Value::Object(detail),
        );
        r.history.push(HistoryEvent {
            id: last + 1,
            previous_event_id: last,
            timestamp: now.clone(),
            event_type: EventType::ExecutionAborted,
            details,
        });
        r.status = Status::Aborted;
        r.stop_date = Some(now.clone());
        r.error = error.map(str::to_owned);
        r.cause = cause.map(str::to_owned);
        // Stopped either way: an error says the end is held in memory only (see `ends`).
        let recorded = self.ends.write(&r);
        drop(r);
        stop.notify_one();
        recorded.map(|()| now)
    }

    /// Stop taking new executions, let the running ones end until `grace` resolves (a timer, or a
    /// second Ctrl-C), then stop the rest (`ABORTED`, error `States.Aborted`, `cause`). When this
    /// returns, every execution this process ran has its end recorded on disk, in its record or,
    /// when the disk is full, in the journal ([`SfnService::pending_ends`] says which).
    pub async fn shutdown(&self, grace: impl Future<Output = ()>, cause: &str) -> Shutdown {
        self.accepting
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let running = self.live_handles();
        let all_ended = async {
            for (_, _, _, mut done) in running.iter().cloned() {
                let _ = done.wait_for(|d| *d).await;
            }
        };
        tokio::select! {
            () = all_ended => {}
            () = grace => {}
        }
        let mut report = Shutdown::default();
        let left = self.live_handles();
        for (name, record, stop, _) in &left {
            match self.abort(record, stop, Some("States.Aborted"), Some(cause)) {
                Ok(_) => report.aborted.push(name.clone()),
                Err(e) => {
                    tracing::error!(execution = %name, error = %e, "local Step Functions: could not record the execution as aborted")
                }
            }
        }
        // The runners return as soon as they are woken; wait for them so nothing is mid-write.
        for (_, _, _, mut done) in left {
            let _ = tokio::time::timeout(Duration::from_secs(5), done.wait_for(|d| *d)).await;
        }
        // A last try for ends held back by a full disk; what is still held is `pending_ends`.
        self.ends.retry().await;
        report.finished = running
            .into_iter()
            .map(|(name, ..)| name)
            .filter(|name| !report.aborted.contains(name))
            .collect();
        report
    }

    fn live_handles(&self) -> Vec<LiveHandles> {
        lock(&self.live)
            .iter()
            .map(|(name, l)| {
                (
                    name.clone(),
                    Arc::clone(&l.record),
                    Arc::clone(&l.stop),
                    l.done.clone(),
                )
            })
            .collect()
    }
}
