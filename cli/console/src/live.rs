//! What the console's open pages hear while executions run: one broadcast of (a) every history
//! event, as the local Step Functions records it (its listener), and (b) each execution's end,
//! once its final record is saved (a status-change rule, like EventBridge's on AWS). Every open
//! page subscribes; a page that falls behind re-reads the record instead of missing events.

use imagegen_local::eventbridge::StatusChangeRule;
use imagegen_local::sfn::Status;
use imagegen_statemachine::HistoryEvent;
use serde_json::Value;
use tokio::sync::broadcast;

/// How many events a slow page may fall behind before it re-reads instead.
const BACKLOG: usize = 1024;

/// One thing that happened.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    History {
        execution: String,
        event: HistoryEvent,
    },
    /// The execution ended with `status`, and its final record is saved.
    Ended { execution: String, status: String },
}

impl LiveEvent {
    pub fn execution(&self) -> &str {
        match self {
            Self::History { execution, .. } | Self::Ended { execution, .. } => execution,
        }
    }
}

/// The broadcast (cheap to clone: every clone sends to the same subscribers).
#[derive(Debug, Clone)]
pub struct LiveBus(broadcast::Sender<LiveEvent>);

impl Default for LiveBus {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveBus {
    pub fn new() -> Self {
        Self(broadcast::channel(BACKLOG).0)
    }

    /// Hear everything from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.0.subscribe()
    }

    /// A history event of `execution` (nobody listening is fine).
    pub fn history(&self, execution: &str, event: &HistoryEvent) {
        let _ = self.0.send(LiveEvent::History {
            execution: execution.to_owned(),
            event: event.clone(),
        });
    }

    /// The rule that tells the bus when an execution of `state_machine_arn` has ended.
    pub fn ended_rule(&self, state_machine_arn: &str) -> StatusChangeRule {
        let sender = self.0.clone();
        let ended = [
            Status::Succeeded,
            Status::Failed,
            Status::TimedOut,
            Status::Aborted,
        ]
        .map(Status::as_str);
        StatusChangeRule::new(state_machine_arn, &ended, move |event: Value| {
            let text = |field: &str| {
                event
                    .pointer(&format!("/detail/{field}"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let _ = sender.send(LiveEvent::Ended {
                execution: text("name"),
                status: text("status"),
            });
            std::future::ready(Ok(()))
        })
    }
}
