//! The public entry point: an [`Engine`] runs a [`StateMachine`] on an input
//! and returns an [`Execution`] with its status, output and history.

use crate::clock::{Clock, TokioClock};
use crate::errors;
use crate::history::{EventType, HistoryEvent, details_key};
use crate::model::StateMachine;
use crate::registry::{ACCOUNT, REGION, Registry};
use crate::rng::{RandomSource, SeededRng};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};

/// AWS's payload limit (256 KiB of compact JSON) for inputs, results and outputs.
pub const PAYLOAD_LIMIT: usize = 256 * 1024;

/// AWS's limit on history events per execution; also bounds state transitions
/// (so a runaway loop ends even where no events are recorded).
pub const DEFAULT_HISTORY_LIMIT: u64 = 25_000;

/// A callback invoked for each history event as it is recorded.
pub type Observer = Arc<dyn Fn(&HistoryEvent) + Send + Sync>;

/// Runs state machines. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine {
    pub(crate) registry: Arc<Registry>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn RandomSource>,
    pub(crate) observer: Option<Observer>,
    pub(crate) history_limit: u64,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("registry", &self.registry)
            .field("clock", &self.clock)
            .field("history_limit", &self.history_limit)
            .finish()
    }
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    /// Reached a Succeed state or an End.
    Succeeded,
    /// Failed with an error.
    Failed,
    /// Exceeded the machine's TimeoutSeconds.
    TimedOut,
}

/// Per-execution options.
#[derive(Debug, Clone)]
pub struct ExecutionOptions {
    /// The execution name (a UUID when None).
    pub name: Option<String>,
    /// The state machine's name (for `$$.StateMachine` and ARNs).
    pub state_machine_name: String,
    /// The role ARN shown in `$$.Execution.RoleArn`.
    pub role_arn: String,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            name: None,
            state_machine_name: "StateMachine".into(),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/StepFunctionsRole"),
        }
    }
}

/// The result of an execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Execution {
    /// The execution ARN.
    #[serde(rename = "executionArn")]
    pub execution_arn: String,
    /// Final status.
    pub status: ExecutionStatus,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name, when it failed.
    pub error: Option<String>,
    /// The cause, when it failed and one was given.
    pub cause: Option<String>,
    /// Every history event in order.
    pub history: Vec<HistoryEvent>,
}

impl Execution {
    /// The event types in order.
    pub fn event_types(&self) -> Vec<EventType> {
        self.history.iter().map(|e| e.event_type).collect()
    }
}

/// A failure inside an execution: an error name and an optional cause.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    pub error: String,
    pub cause: Option<String>,
    /// Set for a JSONata evaluation failure until the failing state records its
    /// `EvaluationFailed` event.
    pub unrecorded: Option<Evaluation>,
}

/// Where a JSONata evaluation failed, for its `EvaluationFailed` event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Evaluation {
    /// The field (`Output/result`); none when no expression was at fault.
    pub location: Option<String>,
    /// The event follows the state's `StateEntered` (a Wait whose timestamp is
    /// wrong); otherwise it takes that event's `previousEventId`, as AWS records it.
    pub follows_entered: bool,
}

impl Failure {
    pub fn new(error: &str, cause: impl Into<String>) -> Self {
        Failure {
            error: error.to_string(),
            cause: Some(cause.into()),
            unrecorded: None,
        }
    }
    pub fn runtime(state: &str, entered_id: u64, msg: impl std::fmt::Display) -> Self {
        Failure::new(
            errors::RUNTIME,
            format!(
                "An error occurred while executing the state '{state}' (entered at the event id #{entered_id}). {msg}"
            ),
        )
    }
    pub fn is_runtime(&self) -> bool {
        self.error == errors::RUNTIME
    }
}

/// Per-execution shared state.
pub(crate) struct Exec<'e> {
    pub engine: &'e Engine,
    pub history: Mutex<Vec<HistoryEvent>>,
    /// The id of the last event that advances a thread's cursor.
    pub last_advancing: std::sync::atomic::AtomicU64,
    /// States entered so far (recorded or not).
    pub transitions: std::sync::atomic::AtomicU64,
    pub execution: Value,
    pub state_machine: Value,
    /// Set when the TestState API runs one state: mocks, configuration, and what
    /// it records for the response.
    pub test: Option<crate::test_state::TestHooks>,
}

impl<'e> Exec<'e> {
    pub fn new(engine: &'e Engine, execution: Value, state_machine: Value) -> Self {
        Exec {
            engine,
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

impl Engine {
    /// An engine resolving tasks through `registry`, with real time and a
    /// randomly seeded RNG.
    pub fn new(registry: Registry) -> Self {
        Engine {
            registry: Arc::new(registry),
            clock: Arc::new(TokioClock::new()),
            rng: Arc::new(SeededRng::from_entropy()),
            observer: None,
            history_limit: DEFAULT_HISTORY_LIMIT,
        }
    }

    /// Uses `clock` for time (Wait, Retry, timeouts, timestamps).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Uses `rng` for jitter, `States.MathRandom` and `States.UUID`.
    pub fn with_rng(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.rng = rng;
        self
    }

    /// Calls `observer` with every history event as it is recorded, in id order.
    /// It runs inline, so keep it quick (print, or send to a channel).
    pub fn with_observer(
        mut self,
        observer: impl Fn(&HistoryEvent) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Sends every history event to `tx` (events are dropped if it is full or closed).
    pub fn with_event_channel(self, tx: tokio::sync::mpsc::UnboundedSender<HistoryEvent>) -> Self {
        self.with_observer(move |e| {
            let _ = tx.send(e.clone());
        })
    }

    /// Changes the history / transition limit (default 25,000).
    pub fn with_history_limit(mut self, events: u64) -> Self {
        self.history_limit = events;
        self
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Runs `sm` on `input` to completion.
    pub async fn execute(
        &self,
        sm: &StateMachine,
        input: Value,
        opts: ExecutionOptions,
    ) -> Execution {
        let name = opts.name.clone().unwrap_or_else(|| self.rng.uuid());
        let sm_arn = format!(
            "arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{}",
            opts.state_machine_name
        );
        let exec_arn = format!(
            "arn:aws:states:{REGION}:{ACCOUNT}:execution:{}:{name}",
            opts.state_machine_name
        );
        let start = timestamp::format(self.clock.now());
        let exec = Exec::new(
            self,
            json!({
                "Id": exec_arn,
                "Input": input,
                "StartTime": start,
                "Name": name,
                "RoleArn": opts.role_arn,
                "RedriveCount": 0,
            }),
            json!({"Id": sm_arn, "Name": opts.state_machine_name}),
        );
        let mut frame = Frame {
            prev: 0,
            vars: Map::new(),
            record: true,
            assigned: None,
        };
        let input_text = input.to_string();
        exec.emit(
            &mut frame,
            EventType::ExecutionStarted,
            json!({"input": input_text, "inputDetails": {"truncated": false}, "roleArn": opts.role_arn}),
        );
        frame.prev = 0;
        let result = if input_text.len() > PAYLOAD_LIMIT {
            Err(Some(Failure::new(
                errors::DATA_LIMIT_EXCEEDED,
                "The execution input exceeds the maximum number of bytes service limit.",
            )))
        } else {
            match sm.timeout_seconds {
                Some(t) => {
                    let run = exec.run_machine(sm, input, &mut frame);
                    let timer = self.clock.sleep(std::time::Duration::from_secs(t));
                    tokio::select! {
                        biased;
                        r = run => r.map_err(Some),
                        _ = timer => Err(None),
                    }
                }
                None => exec.run_machine(sm, input, &mut frame).await.map_err(Some),
            }
        };
        let mut frame = Frame {
            prev: exec.last_id(),
            vars: Map::new(),
            record: true,
            assigned: None,
        };
        let (status, output, error, cause) = match result {
            Ok(out) => {
                exec.emit(
                    &mut frame,
                    EventType::ExecutionSucceeded,
                    json!({"output": out.to_string(), "outputDetails": {"truncated": false}}),
                );
                (ExecutionStatus::Succeeded, Some(out), None, None)
            }
            Err(Some(f)) => {
                let mut d = Map::new();
                let error = (!f.error.is_empty()).then(|| f.error.clone());
                if let Some(e) = &error {
                    d.insert("error".into(), Value::String(e.clone()));
                }
                let cause = f.cause.filter(|c| !c.is_empty());
                if let Some(c) = &cause {
                    d.insert("cause".into(), Value::String(c.clone()));
                }
                exec.emit(&mut frame, EventType::ExecutionFailed, Value::Object(d));
                (ExecutionStatus::Failed, None, error, cause)
            }
            Err(None) => {
                exec.emit(&mut frame, EventType::ExecutionTimedOut, json!({}));
                (
                    ExecutionStatus::TimedOut,
                    None,
                    Some(errors::TIMEOUT.to_string()),
                    None,
                )
            }
        };
        let history = exec.history.lock().map(|h| h.clone()).unwrap_or_default();
        Execution {
            execution_arn: exec_arn,
            status,
            output,
            error,
            cause,
            history,
        }
    }
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
            timestamp: timestamp::format(self.engine.clock.now()),
            event_type: t,
            details: map,
        };
        if let Some(o) = &self.engine.observer {
            o(&ev);
        }
        h.push(ev);
        if crate::history::advances_cursor(t) {
            frame.prev = id;
            self.last_advancing
                .store(id, std::sync::atomic::Ordering::SeqCst);
        }
        id
    }
}
