//! Running one execution: what every state's code works with.
//!
//! - [`Exec`]: one execution's shared state (history, limits, the TestState hooks),
//!   with history events ([`Exec::emit`]), the context object and the payload limit.
//! - [`Frame`]: one thread of it (the top level, a Parallel branch, a Map iteration):
//!   its variables and where its events chain from.
//! - [`Entered`]: the state being run; [`Step`]: what it decided.
//! - `failure`: [`Failure`] and the forms Step Functions shows it in.
//! - `io`, `jsonpath_io`, `jsonata_io`: a state's input and output (templates, Assign,
//!   InputPath ... OutputPath, Arguments and Output).
//! - `handling`: Retry and Catch.
//! - `test_hooks`: what the TestState API mocks and records.
//!
//! The states themselves are in `crate::states`, one file per state type.

mod failure;
mod handling;
mod io;
mod jsonata_io;
mod jsonpath_io;
mod test_hooks;

pub(crate) use failure::{Failure, error_details, error_output, invalid_path};
pub(crate) use jsonata_io::{NON_NEGATIVE_INTEGER, PERCENTAGE, POSITIVE_INTEGER};
pub(crate) use test_hooks::{MockValue, TestHooks, TestRecord};

use crate::clock::Clock;
use crate::errors;
use crate::history::{EventType, HistoryEvent, advances_cursor, details_key};
use crate::model::State;
use crate::registry::Registry;
use crate::rng::RandomSource;
use crate::timestamp;
use failure::Evaluation;
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};

/// AWS's payload limit (256 KiB of compact JSON) for inputs, results and outputs; its home is the
/// domain crate, which the front doors check execution inputs against too.
pub use imagegen_core::limits::PAYLOAD_LIMIT_BYTES as PAYLOAD_LIMIT;

/// A callback invoked for each history event as it is recorded.
pub type Observer = Arc<dyn Fn(&HistoryEvent) + Send + Sync>;

/// What an engine runs executions with. The [`crate::Engine`] holds one; each
/// [`Exec`] borrows it.
#[derive(Clone)]
pub(crate) struct Services {
    pub registry: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn RandomSource>,
    pub observer: Option<Observer>,
    /// History events (and state transitions) an execution may take.
    pub history_limit: u64,
    /// The account in the ARNs the engine names (`$$.Execution.Id`, `$$.StateMachine.Id`).
    pub account: String,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("registry", &self.registry)
            .field("clock", &self.clock)
            .field("history_limit", &self.history_limit)
            .finish()
    }
}

/// Per-execution shared state.
pub(crate) struct Exec<'e> {
    pub services: &'e Services,
    pub history: Mutex<Vec<HistoryEvent>>,
    /// The id of the last event that advances a thread's cursor.
    pub last_advancing: std::sync::atomic::AtomicU64,
    /// States entered so far (recorded or not).
    pub transitions: std::sync::atomic::AtomicU64,
    pub execution: Value,
    pub state_machine: Value,
    /// Set when the TestState API runs one state: mocks, configuration, and what
    /// it records for the response.
    pub test: Option<TestHooks>,
}

impl<'e> Exec<'e> {
    pub fn new(services: &'e Services, execution: Value, state_machine: Value) -> Self {
        Exec {
            services,
            history: Mutex::new(Vec::new()),
            last_advancing: std::sync::atomic::AtomicU64::new(0),
            transitions: std::sync::atomic::AtomicU64::new(0),
            execution,
            state_machine,
            test: None,
        }
    }
}

/// Per-thread (top level, branch, iteration) state.
#[derive(Debug, Clone)]
pub(crate) struct Frame {
    pub prev: u64,
    pub vars: Map<String, Value>,
    pub record: bool,
    /// Variables the current state assigned (for its exit event).
    pub assigned: Option<Map<String, Value>>,
}

/// Everything a state's handler needs to know about where it runs.
pub(crate) struct Entered<'s> {
    pub state: &'s State,
    pub id: u64,
    /// The `previousEventId` of the `StateEntered` event.
    pub prev: u64,
    pub time: String,
    /// Run by the TestState API, which records no history: causes name no event.
    pub tested: bool,
}

impl Entered<'_> {
    pub fn runtime(&self, msg: impl std::fmt::Display) -> Failure {
        if self.tested {
            Failure::new(errors::RUNTIME, msg.to_string())
        } else {
            Failure::runtime(&self.state.name, self.id, msg)
        }
    }

    /// A JSONata evaluation failure (`States.QueryEvaluationError`) at `location`.
    pub fn query(&self, location: Option<&str>, msg: impl std::fmt::Display) -> Failure {
        self.query_failure(location, msg, false)
    }

    /// A query failure recorded after the state's `StateEntered` event (a Wait's timestamp).
    pub fn query_after_entered(&self, location: &str, msg: impl std::fmt::Display) -> Failure {
        self.query_failure(Some(location), msg, true)
    }

    fn query_failure(
        &self,
        location: Option<&str>,
        msg: impl std::fmt::Display,
        follows_entered: bool,
    ) -> Failure {
        let mut f = self.runtime(msg);
        f.error = errors::QUERY_EVALUATION_ERROR.to_string();
        f.unrecorded = Some(Evaluation {
            location: location.map(str::to_string),
            follows_entered,
        });
        f
    }
}

/// What a state decided: its output and the next state (None = end).
pub(crate) struct Step {
    pub output: Value,
    pub next: Option<String>,
}

impl Exec<'_> {
    pub fn last_advancing_id(&self) -> u64 {
        self.last_advancing
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn last_id(&self) -> u64 {
        self.history.lock().map(|h| h.len() as u64).unwrap_or(0)
    }

    /// Records an event (if the frame records) and returns its id.
    pub fn emit(&self, frame: &mut Frame, t: EventType, details: Value) -> u64 {
        let prev = frame.prev;
        self.emit_after(frame, prev, t, details)
    }

    /// Records an event whose `previousEventId` is `prev`.
    pub fn emit_after(&self, frame: &mut Frame, prev: u64, t: EventType, details: Value) -> u64 {
        if !frame.record {
            return 0;
        }
        // Observers run under the history lock so they see events in id order;
        // they should be quick and must not call back into the engine.
        let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let id = h.len() as u64 + 1;
        let mut map = Map::new();
        let key = details_key(t);
        if !key.is_empty() {
            map.insert(key.to_string(), details);
        }
        let ev = HistoryEvent {
            id,
            previous_event_id: prev,
            timestamp: timestamp::format(self.services.clock.now()),
            event_type: t,
            details: map,
        };
        if let Some(o) = &self.services.observer {
            o(&ev);
        }
        h.push(ev);
        if advances_cursor(t) {
            frame.prev = id;
            self.last_advancing
                .store(id, std::sync::atomic::Ordering::SeqCst);
        }
        id
    }

    /// The context object for a state.
    pub fn context(&self, en: &Entered<'_>, retry_count: Option<u32>) -> Value {
        if !en.state.uses_context {
            return Value::Null;
        }
        if let Some(t) = &self.test {
            return t.context.clone();
        }
        let mut st = Map::new();
        st.insert("Name".into(), Value::String(en.state.name.clone()));
        st.insert("EnteredTime".into(), Value::String(en.time.clone()));
        if let Some(r) = retry_count {
            st.insert("RetryCount".into(), Value::from(r));
        }
        json!({
            "Execution": self.execution,
            "StateMachine": self.state_machine,
            "State": st,
        })
    }

    /// Records TestState inspection data (nothing outside TestState).
    pub fn inspect(&self, key: &str, value: &Value) {
        if let Some(t) = &self.test {
            t.inspect(key, value.clone());
        }
    }

    pub fn check_size(&self, en: &Entered<'_>, v: &Value) -> Result<(), Failure> {
        if v.to_string().len() > PAYLOAD_LIMIT {
            return Err(Failure::new(
                errors::DATA_LIMIT_EXCEEDED,
                format!(
                    "The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit.",
                    en.state.name
                ),
            ));
        }
        Ok(())
    }
}
