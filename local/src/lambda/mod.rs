//! A local Lambda service: each function runs as its real `bootstrap` process behind a local
//! Lambda Runtime API, as in a Lambda execution environment (`imagegen rehearse`).
//!
//! - [`LocalFunction`] (`pool.rs`): one function's processes. A process is
//!   started on the first invocation that finds none idle (a cold start), serves one invocation at
//!   a time and is kept warm for the next. At most [`FunctionSpec::max_concurrency`] run at once
//!   (else [`DEFAULT_MAX_CONCURRENCY`]); further invocations wait for a free process instead of
//!   being throttled, and a reserved concurrency of 0 fails every invocation with
//!   `TooManyRequestsException`, as on AWS.
//! - `process.rs`: one process. Its environment is exactly [`FunctionSpec::env`] plus
//!   `AWS_LAMBDA_RUNTIME_API` and `AWS_LAMBDA_LOG_STREAM_NAME`; it runs in its own process group,
//!   so a stop (SIGTERM, SIGKILL after [`SHUTDOWN_GRACE`]) reaches whatever it started.
//! - `runtime_api.rs`: the Runtime API (2018-06-01) of one process on its own loopback port:
//!   `invocation/next`, `invocation/{id}/response`, `invocation/{id}/error`, `init/error`.
//! - `logs.rs`: the processes' stdout and stderr, line by line, into a [`LogSink`] and `tracing`.
//! - `error.rs`: [`InvokeError`], with Lambda's error types: `Sandbox.Timedout` (the process is
//!   killed; the next invocation starts a new one), `Runtime.ExitError` (it exited mid-invocation),
//!   `Runtime.InvalidEntrypoint` (it cannot be started), `Function.ResponseSizeTooLarge`, or the
//!   function's own `errorType`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), imagegen_local::lambda::InvokeError> {
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use imagegen_local::lambda::{FunctionSpec, LocalFunction, LogSink};
//!
//! let function = LocalFunction::new(
//!     FunctionSpec {
//!         name: "validate-prompt".into(),
//!         arn: "arn:aws:lambda:us-east-1:123456789012:function:validate-prompt".into(),
//!         program: "/usr/bin/qemu-aarch64".into(),
//!         args: vec!["-L".into(), "/usr/aarch64-linux-gnu".into(), "/assets/fn/bootstrap".into()],
//!         working_dir: "/assets/fn".into(),
//!         env: BTreeMap::from([("AWS_REGION".into(), "us-east-1".into())]),
//!         timeout: Duration::from_secs(10),
//!         max_concurrency: None,
//!     },
//!     LogSink::File("/data/logs/validate-prompt.log".into()),
//! );
//! let answer = function.invoke(serde_json::json!({"prompt": "a lighthouse"})).await?;
//! function.shutdown().await;
//! # let _ = answer; Ok(()) }
//! ```

mod error;
mod logs;
mod pool;
mod process;
mod runtime_api;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

pub use error::InvokeError;
pub use logs::LogSink;
pub use pool::LocalFunction;

/// Processes per function when the template reserves no concurrency. Lambda's account limit
/// (1000) would let a burst of uploads start a process per upload, each a qemu-emulated arm64
/// binary here; ten keeps a laptop responsive and still runs a burst in parallel.
pub const DEFAULT_MAX_CONCURRENCY: usize = 10;

/// Lambda's limit on a synchronous invocation's response (6 MB, as its error message counts).
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;

/// How long a new process has to ask for its first invocation: Lambda's init phase limit.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a process has after SIGTERM before it is killed (Lambda gives an extension-less
/// runtime no notice at all; a short grace lets a runtime flush its logs).
pub const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// How to run one function's processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    /// `AWS_LAMBDA_FUNCTION_NAME`; names the function in logs and errors.
    pub name: String,
    /// The `Lambda-Runtime-Invoked-Function-Arn` header of every invocation.
    pub arn: String,
    /// The `bootstrap`, or `qemu-aarch64` for an arm64 `bootstrap` on x86_64.
    pub program: PathBuf,
    /// The program's arguments, e.g. `["-L", "/usr/aarch64-linux-gnu", "/path/bootstrap"]` under
    /// qemu.
    pub args: Vec<String>,
    /// The asset directory (Lambda's `/var/task`), the process's working directory.
    pub working_dir: PathBuf,
    /// The whole environment except the two per-process variables the service fills in itself:
    /// `AWS_LAMBDA_RUNTIME_API` (this process's Runtime API address) and
    /// `AWS_LAMBDA_LOG_STREAM_NAME`. The process gets exactly this, nothing inherited from the twin.
    pub env: BTreeMap<String, String>,
    /// The function's timeout, counted from the moment its process takes an invocation.
    pub timeout: Duration,
    /// The reserved concurrency; `None` is [`DEFAULT_MAX_CONCURRENCY`].
    pub max_concurrency: Option<usize>,
}
