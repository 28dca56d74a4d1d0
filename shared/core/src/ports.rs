//! The edges of the domain: what handlers need from the outside world. The `imagegen-aws` crate
//! (`shared/aws`) implements each over the official AWS SDK client; local mode points those same
//! clients somewhere else.

use std::future::Future;
use std::time::{Duration, SystemTime};

/// Why an object could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("s3://{bucket}/{key} does not exist")]
    NotFound { bucket: String, key: String },
    #[error("s3://{bucket}/{key} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        bucket: String,
        key: String,
        size: u64,
        limit: u64,
    },
    /// `why` is the service's own words, which name the action refused (`... is not authorized to
    /// perform: s3:PutObject on resource: ...`).
    #[error("access to s3://{bucket}/{key} was denied: {why}")]
    AccessDenied {
        bucket: String,
        key: String,
        why: String,
    },
    /// A create-only write ([`ObjectStore::put_new`]) found an object under the key already.
    #[error("s3://{bucket}/{key} already exists")]
    AlreadyExists { bucket: String, key: String },
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// This error as the pipeline names it, `doing` saying what failed (`storing images/1.png`): a
    /// refusal is [`crate::PipelineError::AccessDenied`] (final), anything else a
    /// [`crate::PipelineError::StorageError`] (which the definition retries).
    pub fn into_pipeline(self, doing: &str) -> crate::PipelineError {
        match self {
            denied @ Self::AccessDenied { .. } => {
                crate::PipelineError::AccessDenied(format!("{doing} failed: {denied}"))
            }
            other => crate::PipelineError::StorageError(format!("{doing} failed: {other}")),
        }
    }
}

/// An object store (S3).
pub trait ObjectStore: Send + Sync {
    /// Read an object whole, refusing (before reading the body) one larger than `max_bytes`.
    fn get(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Write an object.
    fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Write an object only if none exists under `key` (S3's conditional write, `If-None-Match: *`,
    /// checked by the store itself, so two writers cannot both succeed); otherwise
    /// [`StoreError::AlreadyExists`] and the existing object is left as it was.
    fn put_new(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Delete an object (nothing to delete is not an error).
    fn delete(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A presigned GET URL valid for `expires_in`.
    fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires_in: Duration,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// Why an InvokeModel call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// 429 / ThrottlingException / ServiceQuotaExceeded.
    #[error("throttled: {0}")]
    Throttled(String),
    /// The request was refused (ValidationException); may be a content filter.
    #[error("request refused: {0}")]
    Refused(String),
    /// 5xx, not ready, model timeout, network trouble.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The call was denied by the budget's Deny policy (AWS Budgets attached it when the month's
    /// budget was spent); the text is the service's message, for the logs.
    #[error("denied by the budget-spent policy: {0}")]
    BudgetSpent(String),
    /// The model is past its end of life on Bedrock, or no longer available to this account (a
    /// legacy model it has not used lately); the text is the service's message. Waiting does not
    /// bring it back.
    #[error("retired: {0}")]
    Retired(String),
    /// Access denied, unknown model, model error: retrying will not help.
    #[error("{0}")]
    Failed(String),
}

/// A Bedrock-style image model.
pub trait ImageModel: Send + Sync {
    /// InvokeModel with a JSON body, as `call` says (which model id, in which Region); returns the
    /// JSON response body.
    fn invoke(
        &self,
        call: &crate::pools::Invocation,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Vec<u8>, InvokeError>> + Send;
}

/// A message to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
    /// String message attributes (for subscription filter policies).
    pub attributes: Vec<(String, String)>,
}

/// A notification channel (SNS).
pub trait Notifier: Send + Sync {
    /// Publish; returns the message id.
    fn publish(&self, message: &Message) -> impl Future<Output = Result<String, String>> + Send;
}

/// What StartExecution did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    Started {
        execution_arn: String,
    },
    /// An execution with this name exists already: the event was handled before.
    AlreadyExists,
}

/// Starts state-machine executions (Step Functions).
pub trait ExecutionStarter: Send + Sync {
    fn start(
        &self,
        name: &str,
        input: &str,
    ) -> impl Future<Output = Result<StartOutcome, String>> + Send;
}

/// What DescribeExecution tells about an execution (the parts the failure email uses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribedExecution {
    /// `RUNNING`, `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, ...
    pub status: String,
    /// The execution input (JSON text), when Step Functions includes it.
    pub input: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Why DescribeExecution told nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescribeError {
    /// No such execution (`ExecutionDoesNotExist`): never started, or past Step Functions' 90 days.
    #[error("execution {0} does not exist")]
    NotFound(String),
    #[error("{0}")]
    Other(String),
}

/// Reads executions (Step Functions DescribeExecution).
pub trait ExecutionDescriber: Send + Sync {
    fn describe(
        &self,
        execution_arn: &str,
    ) -> impl Future<Output = Result<DescribedExecution, DescribeError>> + Send;
}

/// Where handlers read the time. On Lambda it is the system clock; locally it is the engine's clock,
/// so that the times a handler computes agree with the engine's Wait states (which may run on a
/// paused, jumping clock).
pub trait Clock: Send + Sync {
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A request for the next free slot on one schedule (a model in one pool).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRequest {
    /// Whose schedule: the model id, or `MODEL@POOL` ([`crate::pools::Place::schedule_key`]).
    pub schedule: String,
    /// The earliest the slot may be, in milliseconds since the Unix epoch.
    pub not_before_ms: i64,
    /// How far apart slots are, in milliseconds (60,000 / requests per minute).
    pub interval_ms: i64,
    /// The latest slot the request takes, in milliseconds since the Unix epoch: a schedule booked
    /// further ahead is [`SlotError::Full`], and nothing is reserved.
    pub latest_ms: i64,
}

/// Why no slot could be reserved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlotError {
    /// The schedule's next free slot is later than the request's `latest_ms`.
    #[error("the schedule's next free slot is at {next_at_ms} ms since the epoch")]
    Full {
        /// The next free slot, in milliseconds since the Unix epoch.
        next_at_ms: i64,
    },
    /// Reading or writing the schedule failed.
    #[error("{0}")]
    Failed(String),
}

/// A shared schedule of model requests (DynamoDB): each reservation gets its own time, at least
/// `interval_ms` after every other reservation of the same model, not before `not_before_ms` and
/// not after `latest_ms` (else nothing is reserved: a refused request takes no one's slot).
pub trait ModelSlots: Send + Sync {
    /// Reserve the next free slot; returns its time in milliseconds since the Unix epoch.
    fn reserve(&self, request: &SlotRequest)
    -> impl Future<Output = Result<i64, SlotError>> + Send;

    /// Reserve the earliest free slot among several schedules (one model's pools, in the
    /// configured order; ties go to the first): returns which schedule and the slot's time. Only
    /// when every schedule is booked past its `latest_ms` is it [`SlotError::Full`], with the
    /// earliest of their next free slots.
    fn reserve_earliest(
        &self,
        requests: &[SlotRequest],
    ) -> impl Future<Output = Result<(usize, i64), SlotError>> + Send;

    /// Move a schedule's first free slot to `until_ms` unless it is already later: a pool that
    /// throttled or failed is not asked again before then, while the other pools go on.
    fn push_back(
        &self,
        schedule: &str,
        until_ms: i64,
    ) -> impl Future<Output = Result<(), SlotError>> + Send;
}
