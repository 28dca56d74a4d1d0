//! The public entry point: an [`Engine`] runs a [`StateMachine`] on an input
//! and returns an [`Execution`] with its status, output and history.

use crate::arn;
use crate::clock::{Clock, TokioClock};
use crate::errors;
use crate::exec::{Exec, Failure, Frame, PAYLOAD_LIMIT, Services};
use crate::history::{EventType, HistoryEvent};
use crate::model::StateMachine;
use crate::registry::Registry;
use crate::rng::{RandomSource, SeededRng};
use crate::states::run_machine;
use crate::timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::sync::Arc;

/// AWS's limit on history events per execution; also bounds state transitions
/// (so a runaway loop ends even where no events are recorded).
pub const DEFAULT_HISTORY_LIMIT: u64 = 25_000;

/// Why an execution stopped short of succeeding.
enum Halt {
    /// A state failed and nothing caught it (or the input was too large).
    Failed(Failure),
    /// The machine's `TimeoutSeconds` ran out.
    TimedOut,
}

/// Runs state machines. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Engine {
    pub(crate) services: Services,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("registry", &self.services.registry)
            .field("clock", &self.services.clock)
            .field("history_limit", &self.services.history_limit)
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
    /// The Region in the execution's and state machine's ARNs (the account is the engine's).
    pub region: String,
    /// The role ARN shown in `$$.Execution.RoleArn`.
    pub role_arn: String,
}

impl Default for ExecutionOptions {
    fn default() -> Self {
        ExecutionOptions {
            name: None,
            state_machine_name: "StateMachine".into(),
            region: arn::REGION.into(),
            role_arn: arn::role_arn("StepFunctionsRole"),
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

impl Engine {
    /// An engine resolving tasks through `registry`, with real time and a
    /// randomly seeded RNG.
    pub fn new(registry: Registry) -> Self {
        Engine {
            services: Services {
                registry: Arc::new(registry),
                clock: Arc::new(TokioClock::new()),
                rng: Arc::new(SeededRng::from_entropy()),
                observer: None,
                history_limit: DEFAULT_HISTORY_LIMIT,
                account: arn::ACCOUNT_ID.to_owned(),
            },
        }
    }

    /// Uses `clock` for time (Wait, Retry, timeouts, timestamps).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.services.clock = clock;
        self
    }

    /// The clock the engine keeps time with (its history's timestamps are on it).
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.services.clock
    }

    /// Uses `rng` for jitter, `States.MathRandom` and `States.UUID`.
    pub fn with_rng(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.services.rng = rng;
        self
    }

    /// Calls `observer` with every history event as it is recorded, in id order.
    /// It runs inline, so keep it quick (print, or send to a channel).
    pub fn with_observer(
        mut self,
        observer: impl Fn(&HistoryEvent) + Send + Sync + 'static,
    ) -> Self {
        self.services.observer = Some(Arc::new(observer));
        self
    }

    /// Sends every history event to `tx` (events are dropped if it is full or closed).
    pub fn with_event_channel(self, tx: tokio::sync::mpsc::UnboundedSender<HistoryEvent>) -> Self {
        self.with_observer(move |e| {
            let _ = tx.send(e.clone());
        })
    }

    /// Names `account` in the ARNs of executions and state machines instead of the offline twin's
    /// [`ACCOUNT_ID`](crate::ACCOUNT_ID) (the conformance corpus was recorded under its own).
    pub fn with_account(mut self, account: impl Into<String>) -> Self {
        self.services.account = account.into();
        self
    }

    /// Changes the history / transition limit (default 25,000).
    pub fn with_history_limit(mut self, events: u64) -> Self {
        self.services.history_limit = events;
        self
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.services.registry
    }

    /// Runs `sm` on `input` to completion.
    pub async fn execute(
        &self,
        sm: &StateMachine,
        input: Value,
        opts: ExecutionOptions,
    ) -> Execution {
        let name = opts
            .name
            .clone()
            .unwrap_or_else(|| self.services.rng.uuid());
        let account = &self.services.account;
        let sm_arn = arn::states_arn(
            &opts.region,
            account,
            "stateMachine",
            &opts.state_machine_name,
        );
        let exec_arn = arn::states_arn(
            &opts.region,
            account,
            "execution",
            &format!("{}:{name}", opts.state_machine_name),
        );
        let start = timestamp::format(self.services.clock.now());
        let exec = Exec::new(
            &self.services,
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
        let result: Result<Value, Halt> = if input_text.len() > PAYLOAD_LIMIT {
            Err(Halt::Failed(Failure::new(
                errors::DATA_LIMIT_EXCEEDED,
                "The execution input exceeds the maximum number of bytes service limit.",
            )))
        } else {
            match sm.timeout_seconds {
                Some(t) => {
                    let run = run_machine(&exec, sm, input, &mut frame);
                    let timer = self.services.clock.sleep(std::time::Duration::from_secs(t));
                    tokio::select! {
                        biased;
                        r = run => r.map_err(Halt::Failed),
                        _ = timer => Err(Halt::TimedOut),
                    }
                }
                None => run_machine(&exec, sm, input, &mut frame)
                    .await
                    .map_err(Halt::Failed),
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
            Err(Halt::Failed(f)) => {
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
            Err(Halt::TimedOut) => {
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
