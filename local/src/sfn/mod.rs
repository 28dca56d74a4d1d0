//! Step Functions: an in-process endpoint for `aws_sdk_sfn::Client` that runs executions on the local
//! ASL engine ([`imagegen_statemachine`]).
//!
//! The caller registers each state machine with the [`Engine`] (and so the task handlers) that runs it
//! ([`SfnService::register_state_machine`]); the stand-in answers `StartExecution`,
//! `DescribeExecution`, `GetExecutionHistory`, `ListExecutions`, `StopExecution`
//! (`stop.rs`), `ListStateMachines`, `DescribeStateMachine` (`machines.rs`) and `TestState`
//! (`test_state.rs`) as Step Functions does:
//!
//! - `StartExecution` answers at once and runs the execution on a spawned tokio task. A name that
//!   exists is `ExecutionAlreadyExists`, except while that execution runs with the identical input,
//!   when the same ARN is returned (AWS's idempotency for Standard workflows). Bad names are
//!   `InvalidName`, input that is not JSON `InvalidExecutionInput`, an unknown machine
//!   `StateMachineDoesNotExist`.
//! - Executions are kept in `<data-dir>/executions/<name>.json` (a hashed name when that is too
//!   long a file name: [`store`]): status, input, output,
//!   error, cause, start and stop dates and the whole history, written when it starts and ends. A
//!   `RUNNING` record is live while the process that runs it holds its owner lock ([`owner`]), in
//!   this process or another; once that process has ended it is reported `ABORTED`, which is then
//!   true and final.
//! - An end is recorded however full the disk is: written first into space set aside before the
//!   execution started ([`journal`]), then saved; what cannot be saved or delivered yet (the
//!   failure email) is held, answered as it truly is, and retried (`ends.rs`). Nothing reads
//!   `RUNNING` once its end is known.
//! - [`SfnService::wait`] awaits the end of an execution started in this process; a listener
//!   ([`SfnService::set_listener`]) sees every history event as it is recorded.

pub mod api;
mod ends;
pub mod events;
pub mod journal;
mod machines;
pub mod names;
pub mod owner;
pub mod record;
pub mod reserve;
mod stop;
pub mod store;
mod test_state;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use imagegen_core::limits::PAYLOAD_LIMIT_BYTES;
use imagegen_statemachine::{
    Engine, ExecutionOptions, ExecutionStatus, HistoryEvent, StateMachine,
};
use serde_json::{Map, Value, json};
use tokio::sync::{Notify, watch};

use crate::config::ClientOptions;
use crate::error::LocalError;
use crate::eventbridge::StatusChangeRule;
use crate::ids::new_id;
use crate::transport::{InProcessClient, LocalRequest, LocalResponse, LocalService};
use api::ApiError;
use ends::Ends;
pub use ends::{PendingEnd, RETRY_EVERY};
use owner::Owner;
pub use record::{ExecutionRecord, Status};
pub use stop::Shutdown;
pub use store::{ExecutionStore, Listing, Unreadable};

/// Sees each history event of every execution: (execution name, event).
pub type Listener = Arc<dyn Fn(&str, &HistoryEvent) + Send + Sync>;

struct Machine {
    name: String,
    definition: Arc<StateMachine>,
    engine: Engine,
    /// The definition as DescribeStateMachine shows it (placeholders substituted), when known.
    definition_text: Option<String>,
    /// RFC 3339.
    created: String,
}

struct Live {
    record: Arc<Mutex<ExecutionRecord>>,
    done: watch::Receiver<bool>,
    /// Wakes the runner to stop (StopExecution, shutdown); the record is already final then.
    stop: Arc<Notify>,
}

/// The Step Functions stand-in.
pub struct SfnService {
    region: String,
    store: ExecutionStore,
    machines: RwLock<HashMap<String, Arc<Machine>>>,
    live: Arc<Mutex<HashMap<String, Live>>>,
    listener: RwLock<Option<Listener>>,
    /// This process's owner lock, taken when it starts its first execution.
    owner: Mutex<Option<Arc<Owner>>>,
    /// The engine TestState runs states with (its registry binds task resources).
    test_engine: RwLock<Option<Engine>>,
    /// False once shutdown began: no new executions.
    accepting: AtomicBool,
    /// Recording ends and delivering status changes to the local EventBridge rules.
    ends: Arc<Ends>,
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
        let region = region.into();
        Self {
            ends: Arc::new(Ends::new(store.clone(), region.clone())),
            region,
            store,
            machines: RwLock::new(HashMap::new()),
            live: Arc::new(Mutex::new(HashMap::new())),
            listener: RwLock::new(None),
            owner: Mutex::new(None),
            test_engine: RwLock::new(None),
            accepting: AtomicBool::new(true),
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
        self.register(name, definition, engine, None)
    }

    /// Load `text` (a definition with `${...}` placeholders replaced by `substitutions`) and make it
    /// the state machine `name`, run by `engine`; DescribeStateMachine then shows the text. Returns
    /// its ARN.
    pub fn register_state_machine_source(
        &self,
        name: &str,
        text: &str,
        substitutions: &HashMap<String, String>,
        engine: Engine,
    ) -> Result<String, imagegen_statemachine::LoadError> {
        let definition = StateMachine::from_json(text, substitutions)?;
        let shown = substitutions.iter().fold(text.to_owned(), |t, (k, v)| {
            t.replace(&format!("${{{k}}}"), v)
        });
        Ok(self.register(name, definition, engine, Some(shown)))
    }

    fn register(
        &self,
        name: &str,
        definition: StateMachine,
        engine: Engine,
        definition_text: Option<String>,
    ) -> String {
        let arn = self.state_machine_arn(name);
        let machine = Arc::new(Machine {
            name: name.to_owned(),
            definition: Arc::new(definition),
            engine,
            definition_text,
            created: record::now_rfc3339(),
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

    /// Send every execution's status changes to `rule` (which filters them) from now on.
    pub fn add_rule(&self, rule: StatusChangeRule) {
        self.ends
            .rules
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(rule);
    }

    /// Settle the executions left `RUNNING` by processes that have ended, and finish the ends
    /// they journalled. Each record whose end the journal holds gets that end (`FAILED` with its
    /// error, say); any other becomes `ABORTED` (true and final: nothing can run it any more). Each
    /// is saved so, and its status change goes to the rules, as on AWS. An end that was saved but
    /// not delivered (a failure email the disk had no room for) is delivered now. Returns the
    /// records settled.
    pub async fn recover(&self) -> Result<Vec<ExecutionRecord>, LocalError> {
        // The writer's first step: the room for ends is set aside now, while there may be room
        // (StartExecution asks again, and refuses without it).
        if let Err(e) = self.ends.journal() {
            tracing::warn!(error = %e, "local Step Functions: no room set aside for executions' ends yet");
        }
        let running_here: Vec<String> = lock(&self.live).keys().cloned().collect();
        let mut journalled = self.ends.journalled();
        let mut recovered = Vec::new();
        for record in self.store.list()?.records {
            if record.status != Status::Running || running_here.contains(&record.name) {
                continue;
            }
            let settled = match journalled.remove(&record.name) {
                Some(end) => journal::with_end(record, &end),
                None => {
                    let mut settled = self.settle(record, &mut Some(HashMap::new()));
                    if settled.status != Status::Aborted {
                        continue;
                    }
                    settled.stop_date =
                        Some(record::end_after(&settled.history, record::now_rfc3339()));
                    settled
                }
            };
            if let Err(e) = self.ends.write(&settled) {
                tracing::error!(name = %settled.name, error = %e, "local Step Functions: could not record the end of an ended process's execution");
            }
            tracing::info!(name = %settled.name, status = %settled.status, "local Step Functions: execution of an ended process settled");
            self.ends.deliver(&settled).await;
            recovered.push(settled);
        }
        // Ends saved whose status change may not have gone out: deliver them (the email is sent
        // once, whoever asks).
        for (name, end) in journalled {
            if running_here.contains(&name) {
                continue;
            }
            if let Some(stored) = self.store.load(&name)?
                && stored.status != Status::Running
            {
                self.ends.deliver(&journal::with_end(stored, &end)).await;
            }
        }
        self.ends.retry().await;
        Ok(recovered)
    }

    /// The ends not yet both saved and delivered (the disk was full), which this process keeps
    /// retrying every [`RETRY_EVERY`] and the next one finishes from the journal.
    pub fn pending_ends(&self) -> Vec<PendingEnd> {
        self.ends.pending()
    }

    /// Try once more, now, to save and deliver the ends held back by a full disk; returns what is
    /// still pending.
    pub async fn retry_pending(&self) -> Vec<PendingEnd> {
        self.ends.retry().await;
        self.ends.pending()
    }

    /// The ARN of the local state machine `name`.
    pub fn state_machine_arn(&self, name: &str) -> String {
        names::state_machine_arn(&self.region, name)
    }

    /// The ARN of execution `name` of state machine `machine`.
    pub fn execution_arn(&self, machine: &str, name: &str) -> String {
        names::execution_arn(&self.region, machine, name)
    }

    /// An execution by name: the live record while it runs here, else its end held here while
    /// it cannot be saved, else the stored one, settled (a `RUNNING` one takes its journalled
    /// end, or reads `ABORTED` once its process is gone).
    pub fn execution(&self, name: &str) -> Result<Option<ExecutionRecord>, LocalError> {
        if let Some(live) = lock(&self.live).get(name) {
            return Ok(Some(lock(&live.record).clone()));
        }
        if let Some(end) = self.ends.unsaved(name) {
            return Ok(Some(end));
        }
        Ok(self.store.load(name)?.map(|r| self.settle(r, &mut None)))
    }

    /// Every execution, newest first (live records for those running here), and the files in the
    /// executions directory that are not execution records.
    pub fn executions(&self) -> Result<Listing, LocalError> {
        let mut live: HashMap<String, ExecutionRecord> = self.ends.all_unsaved();
        live.extend(
            lock(&self.live)
                .iter()
                .map(|(name, l)| (name.clone(), lock(&l.record).clone())),
        );
        let mut listing = self.store.list()?;
        let mut journalled = None;
        listing.records = listing
            .records
            .into_iter()
            .map(|r| match live.remove(&r.name) {
                Some(l) => l,
                None => self.settle(r, &mut journalled),
            })
            .collect();
        // Those whose file cannot be read now (a full disk left it so) are known here all the same.
        for (name, record) in live {
            if let Ok(path) = self.store.path_of(&name) {
                listing.unreadable.retain(|u| u.path != path);
            }
            listing.records.push(record);
        }
        store::newest_first(&mut listing.records);
        Ok(listing)
    }

    /// A stored record as it is now: a `RUNNING` one whose end the journal holds (its process
    /// could not save it) has that end; otherwise it stays `RUNNING` while its owner lives (in
    /// this process or another), and once the owner is gone it can never end, so it is `ABORTED`.
    /// `journalled` caches the journal's ends across the records of one listing (`None`: not read
    /// yet).
    fn settle(
        &self,
        record: ExecutionRecord,
        journalled: &mut Option<HashMap<String, ExecutionRecord>>,
    ) -> ExecutionRecord {
        if record.status != Status::Running {
            return record;
        }
        if let Some(end) = journalled
            .get_or_insert_with(|| self.ends.journalled())
            .get(&record.name)
        {
            let end = end.clone();
            return journal::with_end(record, &end);
        }
        let dir = self.store.dir();
        if record
            .owner
            .as_deref()
            .is_some_and(|id| owner::is_alive(dir, id))
        {
            return record;
        }
        // The owner may have saved the end and exited between our read and the lock check.
        match self.store.load(&record.name) {
            Ok(Some(fresh)) if fresh.status != Status::Running => fresh,
            _ => aborted_with_its_process(record),
        }
    }

    /// This process's owner lock, taken on first use.
    fn owner(&self) -> Result<Arc<Owner>, LocalError> {
        let mut owner = lock(&self.owner);
        if let Some(owner) = owner.as_ref() {
            return Ok(Arc::clone(owner));
        }
        let taken = Arc::new(Owner::acquire(self.store.dir())?);
        *owner = Some(Arc::clone(&taken));
        Ok(taken)
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
        if !self.accepting.load(Ordering::SeqCst) {
            return Err(ApiError {
                status: 503,
                error_type: "ServiceUnavailable",
                message: "the local Step Functions is shutting down".to_owned(),
            });
        }
        let input_text = api::string(body, "input").unwrap_or("{}").to_owned();
        if input_text.len() > PAYLOAD_LIMIT_BYTES {
            return Err(ApiError::new(
                "InvalidExecutionInput",
                format!(
                    "Invalid State Machine Execution Input: the input is {} bytes; the limit is {PAYLOAD_LIMIT_BYTES}",
                    input_text.len()
                ),
            ));
        }
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
        let owner = self
            .owner()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        // No execution starts without the room to record its end.
        self.ends.journal().map_err(|e| ApiError {
            status: 503,
            error_type: "ServiceUnavailable",
            message: format!(
                "the local Step Functions starts no execution without room to record its end: {e}"
            ),
        })?;
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
            // On the engine's clock, as the history and the stop date are.
            start_date: record::rfc3339(machine.engine.clock().now()),
            stop_date: None,
            history: Vec::new(),
            owner: Some(owner.id().to_owned()),
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
        let stop = Arc::new(Notify::new());
        live.insert(
            name.clone(),
            Live {
                record: Arc::clone(&shared),
                done: rx,
                stop: Arc::clone(&stop),
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
            ends: Arc::clone(&self.ends),
            stop,
            region: self.region.clone(),
            _owner: owner,
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
        let listing = self
            .executions()
            .map_err(|e| ApiError::internal(e.to_string()))?;
        for bad in &listing.unreadable {
            tracing::warn!(path = %bad.path.display(), reason = %bad.reason, "local Step Functions: not an execution record");
        }
        let all: Vec<ExecutionRecord> = listing
            .records
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

/// A stored `RUNNING` record whose process has ended, as it truly is: `ABORTED`.
fn aborted_with_its_process(mut record: ExecutionRecord) -> ExecutionRecord {
    record.status = Status::Aborted;
    record.error = Some("States.Aborted".to_owned());
    record.cause = Some(
        "the imagegen process that ran this execution ended before the execution did".to_owned(),
    );
    record
}

/// Runs one execution and keeps its record up to date.
struct Runner {
    machine: Arc<Machine>,
    record: Arc<Mutex<ExecutionRecord>>,
    listener: Option<Listener>,
    ends: Arc<Ends>,
    /// Notified when the execution was stopped (its record is final and saved by the stopper).
    stop: Arc<Notify>,
    region: String,
    /// Keeps the owner lock held until this execution's end is saved.
    _owner: Arc<Owner>,
}

impl Runner {
    async fn run(self, input: Value) {
        let name = lock(&self.record).name.clone();
        let events = Arc::clone(&self.record);
        let listener = self.listener.clone();
        let observed_name = name.clone();
        let engine = self.machine.engine.clone().with_observer(move |event| {
            let mut record = lock(&events);
            // A stopped execution's history ends with its ExecutionAborted event.
            if record.status != Status::Running {
                return;
            }
            record.history.push(event.clone());
            drop(record);
            if let Some(listener) = &listener {
                listener(&observed_name, event);
            }
        });
        let definition = Arc::clone(&self.machine.definition);
        // The context object names what the API answers: the same Region, account and role.
        let options = ExecutionOptions {
            name: Some(name.clone()),
            state_machine_name: self.machine.name.clone(),
            region: self.region.clone(),
            role_arn: machines::local_role_arn(),
        };
        // A panicking task handler must not leave the execution RUNNING forever.
        let task = tokio::spawn(async move { engine.execute(&definition, input, options).await });
        let abort = task.abort_handle();
        let outcome = tokio::select! {
            outcome = task => Some(outcome),
            () = self.stop.notified() => {
                abort.abort();
                None
            }
        };
        let ended = self.finish(outcome);
        // A stopped execution's record was saved by its stopper; its status change goes out as
        // any end's.
        self.ends.deliver(&ended).await;
    }

    /// Record the end (unless a stop came first) and return the final record.
    ///
    /// Saved under the record's lock, so a StopExecution racing with the end either comes first
    /// (and this sees it stopped) or finds it ended.
    fn finish(
        &self,
        outcome: Option<Result<imagegen_statemachine::Execution, tokio::task::JoinError>>,
    ) -> ExecutionRecord {
        let mut record = lock(&self.record);
        let Some(outcome) = outcome.filter(|_| record.status == Status::Running) else {
            return record.clone();
        };
        match outcome {
            Ok(execution) => {
                // Its end is its last event, on the engine's clock like the rest of the history.
                let now = record::rfc3339(self.machine.engine.clock().now());
                record.stop_date = Some(record::end_after(&execution.history, now));
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
                let now = record::rfc3339(self.machine.engine.clock().now());
                record.stop_date = Some(record::end_after(&record.history, now));
                record.status = Status::Failed;
                record.error = Some("States.Runtime".to_owned());
                record.cause = Some(format!("the execution's task panicked: {e}"));
            }
        }
        tracing::debug!(arn = %record.execution_arn, status = %record.status, "local Step Functions: execution ended");
        // Held and retried when it cannot be saved; this process answers it meanwhile.
        let _ = self.ends.write(&record);
        record.clone()
    }
}

impl LocalService for SfnService {
    async fn handle(&self, request: LocalRequest) -> LocalResponse {
        let operation = api::operation(request.header("x-amz-target")).map(str::to_owned);
        let body = match api::body(&request.body) {
            Ok(body) => body,
            Err(e) => return e.response(),
        };
        let result = match operation.as_deref() {
            Some("StartExecution") => self.start_execution(&body),
            Some("DescribeExecution") => self.find(&body).map(|r| api::describe(&r)),
            Some("GetExecutionHistory") => self.history(&body),
            Some("ListExecutions") => self.list(&body),
            Some("StopExecution") => self.stop_execution(&body),
            Some("ListStateMachines") => self.list_state_machines(&body),
            Some("DescribeStateMachine") => self.describe_state_machine(&body),
            Some("TestState") => self.test_state(&body).await,
            other => Err(ApiError::new(
                "UnknownOperationException",
                format!(
                    "the local Step Functions answers StartExecution, DescribeExecution, \
                     GetExecutionHistory, ListExecutions, StopExecution, ListStateMachines, \
                     DescribeStateMachine and TestState, not {}",
                    other.unwrap_or("(no X-Amz-Target)")
                ),
            )),
        };
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
    aws_sdk_sfn::Client::new(&crate::config::sdk_config(
        options,
        InProcessClient::new(service),
    ))
}
