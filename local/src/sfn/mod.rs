//! Step Functions: an in-process endpoint for `aws_sdk_sfn::Client` that runs executions on the local
//! ASL engine ([`imagegen_statemachine`]).
//!
//! The caller registers each state machine with the [`Engine`] (and so the task handlers) that runs it
//! ([`SfnService::register_state_machine`]); the stand-in answers `StartExecution`,
//! `DescribeExecution`, `GetExecutionHistory` and `ListExecutions` as Step Functions does:
//!
//! - `StartExecution` answers at once and runs the execution on a spawned tokio task. A name that
//!   exists is `ExecutionAlreadyExists`, except while that execution runs with the identical input,
//!   when the same ARN is returned (AWS's idempotency for Standard workflows). Bad names are
//!   `InvalidName`, input that is not JSON `InvalidExecutionInput`, an unknown machine
//!   `StateMachineDoesNotExist`.
//! - Executions are kept in `<data-dir>/executions/<name>.json` ([`store`]): status, input, output,
//!   error, cause, start and stop dates and the whole history, written when it starts and ends. A
//!   file left `RUNNING` by a process that ended is reported as `ABORTED`.
//! - [`SfnService::wait`] awaits the end of an execution started in this process; a listener
//!   ([`SfnService::set_listener`]) sees every history event as it is recorded.

pub mod api;
pub mod names;
pub mod record;
pub mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use aws_sdk_sfn::config::{BehaviorVersion, Region};
use imagegen_statemachine::{
    Engine, ExecutionOptions, ExecutionStatus, HistoryEvent, StateMachine,
};
use serde_json::{Map, Value, json};
use tokio::sync::watch;

use crate::config::{ClientOptions, credentials};
use crate::error::LocalError;
use crate::ids::new_id;
use crate::transport::{InProcessClient, LocalRequest, LocalResponse, LocalService};
use api::ApiError;
pub use record::{ExecutionRecord, Status};
pub use store::ExecutionStore;

/// Sees each history event of every execution: (execution name, event).
pub type Listener = Arc<dyn Fn(&str, &HistoryEvent) + Send + Sync>;

struct Machine {
    name: String,
    definition: Arc<StateMachine>,
    engine: Engine,
}

struct Live {
    record: Arc<Mutex<ExecutionRecord>>,
    done: watch::Receiver<bool>,
}

/// The Step Functions stand-in.
pub struct SfnService {
    region: String,
    store: ExecutionStore,
    machines: RwLock<HashMap<String, Arc<Machine>>>,
    live: Arc<Mutex<HashMap<String, Live>>>,
    listener: RwLock<Option<Listener>>,
}

impl std::fmt::Debug for SfnService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let machines: Vec<String> = self
            .machines
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("SfnService")
            .field("region", &self.region)
            .field("store", &self.store)
            .field("machines", &machines)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SfnService {
    /// A stand-in keeping its executions in `store`.
    pub fn new(region: impl Into<String>, store: ExecutionStore) -> Self {
        Self {
            region: region.into(),
            store,
            machines: RwLock::new(HashMap::new()),
            live: Arc::new(Mutex::new(HashMap::new())),
            listener: RwLock::new(None),
        }
    }

    /// Where executions are kept.
    pub fn store(&self) -> &ExecutionStore {
        &self.store
    }

    /// Make `definition` a state machine called `name`, run by `engine` (whose registry binds its task
    /// resources). Replaces a machine of the same name. Returns its ARN.
    pub fn register_state_machine(
        &self,
        name: &str,
        definition: StateMachine,
        engine: Engine,
    ) -> String {
        let arn = self.state_machine_arn(name);
        let machine = Arc::new(Machine {
            name: name.to_owned(),
            definition: Arc::new(definition),
            engine,
        });
        self.machines
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(arn.clone(), machine);
        arn
    }

    /// Call `listener` with every history event from now on.
    pub fn set_listener(&self, listener: impl Fn(&str, &HistoryEvent) + Send + Sync + 'static) {
        *self
            .listener
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(listener));
    }

    /// The ARN of the local state machine `name`.
    pub fn state_machine_arn(&self, name: &str) -> String {
        names::state_machine_arn(&self.region, name)
    }

    /// The ARN of execution `name` of state machine `machine`.
    pub fn execution_arn(&self, machine: &str, name: &str) -> String {
        names::execution_arn(&self.region, machine, name)
    }

    /// An execution by name: the live record while it runs here, else the stored one (a stored
    /// `RUNNING` execution that is not running in this process is reported `ABORTED`).
    pub fn execution(&self, name: &str) -> Result<Option<ExecutionRecord>, LocalError> {
        if let Some(live) = lock(&self.live).get(name) {
            return Ok(Some(lock(&live.record).clone()));
        }
        Ok(self.store.load(name)?.map(settle))
    }

    /// Every execution, newest first.
    pub fn executions(&self) -> Result<Vec<ExecutionRecord>, LocalError> {
        let live: HashMap<String, ExecutionRecord> = lock(&self.live)
            .iter()
            .map(|(name, l)| (name.clone(), lock(&l.record).clone()))
            .collect();
        Ok(self
            .store
            .list()?
            .into_iter()
            .map(|r| match live.get(&r.name) {
                Some(l) => l.clone(),
                None => settle(r),
            })
            .collect())
    }

    /// Wait for execution `name` to end; returns its final record (`None` if there is no such
    /// execution).
    pub async fn wait(&self, name: &str) -> Result<Option<ExecutionRecord>, LocalError> {
        let done = lock(&self.live).get(name).map(|l| l.done.clone());
        if let Some(mut done) = done {
            // An error means the runner is gone, which only happens after it saved the record.
            let _ = done.wait_for(|d| *d).await;
        }
        self.execution(name)
    }

    fn machine(&self, arn: &str) -> Option<Arc<Machine>> {
        self.machines
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(arn)
            .cloned()
    }

    fn start_execution(&self, body: &Map<String, Value>) -> Result<Value, ApiError> {
        let machine_arn = api::required(body, "stateMachineArn")?;
        let machine = self.machine(machine_arn).ok_or_else(|| {
            ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{machine_arn}'"),
            )
        })?;
        let name = match api::string(body, "name") {
            Some(name) => name.to_owned(),
            None => new_id(),
        };
        if let Some(problem) = names::name_problem(&name) {
            return Err(ApiError::new("InvalidName", problem));
        }
        let input_text = api::string(body, "input").unwrap_or("{}").to_owned();
        let input: Value = serde_json::from_str(&input_text).map_err(|e| {
            ApiError::new(
                "InvalidExecutionInput",
                format!("Invalid State Machine Execution Input: '{e}'"),
            )
        })?;
        let arn = self.execution_arn(&machine.name, &name);
        let exists = || {
            ApiError::new(
                "ExecutionAlreadyExists",
                format!("Execution Already Exists: '{arn}'"),
            )
        };
        let mut live = lock(&self.live);
        if let Some(running) = live.get(&name) {
            let running = lock(&running.record);
            return if running.input == input_text && running.state_machine_arn == machine_arn {
                Ok(started(&running))
            } else {
                Err(exists())
            };
        }
        let record = ExecutionRecord {
            name: name.clone(),
            execution_arn: arn.clone(),
            state_machine_arn: machine_arn.to_owned(),
            status: Status::Running,
            input: input_text,
            output: None,
            error: None,
            cause: None,
            start_date: record::now_rfc3339(),
            stop_date: None,
            history: Vec::new(),
        };
        if !self
            .store
            .create(&record)
            .map_err(|e| ApiError::internal(e.to_string()))?
        {
            return Err(exists());
        }
        let answer = started(&record);
        let shared = Arc::new(Mutex::new(record));
        let (tx, rx) = watch::channel(false);
        live.insert(
            name.clone(),
            Live {
                record: Arc::clone(&shared),
                done: rx,
            },
        );
        drop(live);
        tracing::debug!(%arn, "local Step Functions: execution started");
        let listener = self
            .listener
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let runner = Runner {
            machine,
            record: shared,
            listener,
            store: self.store.clone(),
        };
        let live = Arc::clone(&self.live);
        tokio::spawn(async move {
            runner.run(input).await;
            let _ = tx.send(true);
            // Its record is on disk by now.
            lock(&live).remove(&name);
        });
        Ok(answer)
    }

    fn find(&self, body: &Map<String, Value>) -> Result<ExecutionRecord, ApiError> {
        let arn = api::required(body, "executionArn")?;
        let Some((_, name)) = names::parse_execution_arn(arn) else {
            return Err(ApiError::new("InvalidArn", format!("Invalid Arn: '{arn}'")));
        };
        match self.execution(name) {
            Ok(Some(record)) if record.execution_arn == arn => Ok(record),
            Ok(_) => Err(ApiError::new(
                "ExecutionDoesNotExist",
                format!("Execution Does Not Exist: '{arn}'"),
            )),
            Err(e) => Err(ApiError::internal(e.to_string())),
        }
    }

    fn history(&self, body: &Map<String, Value>) -> Result<Value, ApiError> {
        let record = self.find(body)?;
        let (max, offset) = api::page(body, 100)?;
        let reverse = body
            .get("reverseOrder")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let mut events: Vec<&HistoryEvent> = record.history.iter().collect();
        if reverse {
            events.reverse();
        }
        let total = events.len();
        let page: Vec<Value> = events
            .into_iter()
            .skip(offset)
            .take(max)
            .map(api::history_event)
            .collect();
        let mut out = json!({"events": page});
        if let (Some(token), Value::Object(map)) =
            (api::next_token(offset, page_len(&out), total), &mut out)
        {
            map.insert("nextToken".to_owned(), Value::String(token));
        }
        Ok(out)
    }

    fn list(&self, body: &Map<String, Value>) -> Result<Value, ApiError> {
        let machine_arn = api::required(body, "stateMachineArn")?;
        if self.machine(machine_arn).is_none() {
            return Err(ApiError::new(
                "StateMachineDoesNotExist",
                format!("State Machine Does Not Exist: '{machine_arn}'"),
            ));
        }
        let filter = match api::string(body, "statusFilter") {
            None => None,
            Some(s) => Some(Status::from_name(s).ok_or_else(|| {
                ApiError::new("ValidationException", format!("invalid statusFilter {s:?}"))
            })?),
        };
        let (max, offset) = api::page(body, 100)?;
        let all: Vec<ExecutionRecord> = self
            .executions()
            .map_err(|e| ApiError::internal(e.to_string()))?
            .into_iter()
            .filter(|r| r.state_machine_arn == machine_arn)
            .filter(|r| filter.is_none_or(|f| r.status == f))
            .collect();
        let items: Vec<Value> = all
            .iter()
            .skip(offset)
            .take(max)
            .map(api::list_item)
            .collect();
        let taken = items.len();
        let mut out = json!({"executions": items});
        if let (Some(token), Value::Object(map)) =
            (api::next_token(offset, taken, all.len()), &mut out)
        {
            map.insert("nextToken".to_owned(), Value::String(token));
        }
        Ok(out)
    }
}

fn page_len(out: &Value) -> usize {
    out["events"].as_array().map_or(0, Vec::len)
}

fn started(record: &ExecutionRecord) -> Value {
    json!({
        "executionArn": record.execution_arn,
        "startDate": ExecutionRecord::epoch_seconds(&record.start_date),
    })
}

/// A stored execution that claims to run, but not here, ended with its process.
fn settle(mut record: ExecutionRecord) -> ExecutionRecord {
    if record.status == Status::Running {
        record.status = Status::Aborted;
        record.error = Some("States.Aborted".to_owned());
        record.cause = Some(
            "the imagegen process that ran this execution ended before the execution did"
                .to_owned(),
        );
    }
    record
}

/// Runs one execution and keeps its record up to date.
struct Runner {
    machine: Arc<Machine>,
    record: Arc<Mutex<ExecutionRecord>>,
    listener: Option<Listener>,
    store: ExecutionStore,
}

impl Runner {
    async fn run(self, input: Value) {
        let name = lock(&self.record).name.clone();
        let events = Arc::clone(&self.record);
        let listener = self.listener.clone();
        let observed_name = name.clone();
        let engine = self.machine.engine.clone().with_observer(move |event| {
            lock(&events).history.push(event.clone());
            if let Some(listener) = &listener {
                listener(&observed_name, event);
            }
        });
        let definition = Arc::clone(&self.machine.definition);
        let options = ExecutionOptions {
            name: Some(name.clone()),
            state_machine_name: self.machine.name.clone(),
            ..ExecutionOptions::default()
        };
        // A panicking task handler must not leave the execution RUNNING forever.
        let outcome =
            tokio::spawn(async move { engine.execute(&definition, input, options).await }).await;
        let final_record = {
            let mut record = lock(&self.record);
            record.stop_date = Some(record::now_rfc3339());
            match outcome {
                Ok(execution) => {
                    record.status = match execution.status {
                        ExecutionStatus::Succeeded => Status::Succeeded,
                        ExecutionStatus::Failed => Status::Failed,
                        ExecutionStatus::TimedOut => Status::TimedOut,
                    };
                    record.output = execution.output.map(|o| o.to_string());
                    record.error = execution.error;
                    record.cause = execution.cause;
                    record.history = execution.history;
                }
                Err(e) => {
                    record.status = Status::Failed;
                    record.error = Some("States.Runtime".to_owned());
                    record.cause = Some(format!("the execution's task panicked: {e}"));
                }
            }
            record.clone()
        };
        tracing::debug!(arn = %final_record.execution_arn, status = %final_record.status, "local Step Functions: execution ended");
        if let Err(e) = self.store.save(&final_record) {
            tracing::error!(error = %e, "local Step Functions: could not save the execution");
        }
    }
}

impl LocalService for SfnService {
    async fn handle(&self, request: LocalRequest) -> LocalResponse {
        let operation = api::operation(request.header("x-amz-target")).map(str::to_owned);
        let result = api::body(&request.body).and_then(|body| match operation.as_deref() {
            Some("StartExecution") => self.start_execution(&body),
            Some("DescribeExecution") => self.find(&body).map(|r| api::describe(&r)),
            Some("GetExecutionHistory") => self.history(&body),
            Some("ListExecutions") => self.list(&body),
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!(
                    "the local Step Functions answers StartExecution, DescribeExecution, GetExecutionHistory and ListExecutions, not {}",
                    other.unwrap_or("(no X-Amz-Target)")
                ),
            )),
        });
        match result {
            Ok(body) => api::ok(&body),
            Err(e) => {
                tracing::debug!(error_type = e.error_type, message = %e.message, "local Step Functions: refused");
                e.response()
            }
        }
    }
}

/// An `aws_sdk_sfn::Client` answered by `service`, in process.
pub fn sfn_client(service: Arc<SfnService>, options: &ClientOptions) -> aws_sdk_sfn::Client {
    let config = aws_sdk_sfn::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(options.region.clone()))
        .credentials_provider(credentials())
        .retry_config(options.retry.clone())
        .stalled_stream_protection(crate::config::stalled_stream_protection())
        .http_client(InProcessClient::new(service))
        .build();
    aws_sdk_sfn::Client::from_conf(config)
}
