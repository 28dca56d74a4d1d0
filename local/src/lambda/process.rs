//! One function process (a Lambda execution environment): started, given invocations one at a
//! time through its own Runtime API, and stopped.

use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, watch};
use tokio::time::{Instant, sleep_until};

use super::logs::{LogSink, ProcessLog};
use super::runtime_api::{Offer, Outcome, RuntimeApi};
use super::{FunctionSpec, INIT_TIMEOUT, InvokeError, MAX_RESPONSE_BYTES, SHUTDOWN_GRACE};

/// A started process and the Runtime API it talks to.
#[derive(Debug)]
pub(super) struct Sandbox {
    child: Child,
    api: RuntimeApi,
    init_errors: watch::Receiver<Option<InvokeError>>,
    /// False once the process has exited, timed out or failed to initialise: never reuse it.
    reusable: bool,
}

impl Sandbox {
    /// Start `spec`'s program with its own Runtime API (a cold start). `request_id` is the
    /// invocation that needs it, named in the error if the program cannot be started.
    pub async fn start(
        spec: &FunctionSpec,
        sink: &LogSink,
        request_id: &str,
    ) -> Result<Self, InvokeError> {
        let api = RuntimeApi::start(&spec.arn).await.map_err(|e| {
            InvokeError::service(format!(
                "Could not open a Runtime API port for function {}: {e}.",
                spec.name
            ))
        })?;
        let stream = log_stream_name();
        let log = ProcessLog::open(sink, &spec.name, &stream)
            .await
            .map_err(|e| {
                InvokeError::service(format!(
                    "Could not open the log of function {} ({sink:?}): {e}.",
                    spec.name
                ))
            })?;
        let mut command = Command::new(&spec.program);
        command
            .args(&spec.args)
            .current_dir(&spec.working_dir)
            // Exactly the function's environment: nothing of the twin's (its credentials, PATH,
            // RUST_LOG) leaks into a process that must behave as it would on AWS.
            .env_clear()
            .envs(&spec.env)
            .env("AWS_LAMBDA_RUNTIME_API", api.address().to_string())
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &stream)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: a Ctrl-C in the terminal reaches the twin only, which then
            // stops each function as Lambda does, and a stop reaches whatever the process started.
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command.spawn().map_err(|e| {
            InvokeError::invalid_entrypoint(
                request_id,
                &format!(
                    "cannot start {} (in {}) for function {}: {e}",
                    spec.program.display(),
                    spec.working_dir.display(),
                    spec.name
                ),
            )
        })?;
        if let Some(stdout) = child.stdout.take() {
            log.pump(stdout);
        }
        if let Some(stderr) = child.stderr.take() {
            log.pump(stderr);
        }
        tracing::debug!(function = %spec.name, pid = ?child.id(), %stream, "function process started");
        let init_errors = api.init_errors();
        Ok(Self {
            child,
            api,
            init_errors,
            reusable: true,
        })
    }

    /// Whether the process may take another invocation (it has not failed, and still runs).
    pub fn reusable(&mut self) -> bool {
        self.reusable && matches!(self.child.try_wait(), Ok(None))
    }

    /// Run one invocation: `payload` is handed to the process's next `GET invocation/next`.
    /// The process has [`INIT_TIMEOUT`] to ask for it (its init phase, on a cold start), then
    /// `timeout` from that moment, as Lambda's deadline counts. `closing` ends the wait early.
    pub async fn invoke(
        &mut self,
        request_id: &str,
        payload: Bytes,
        timeout: Duration,
        closing: &mut watch::Receiver<bool>,
        function: &str,
    ) -> Result<Bytes, InvokeError> {
        let (taken_tx, mut taken) = oneshot::channel();
        let (outcome_tx, mut outcome) = oneshot::channel();
        let offer = Offer {
            request_id: request_id.to_owned(),
            payload,
            timeout,
            taken: taken_tx,
            outcome: outcome_tx,
        };
        if self.api.offer(offer).is_err() {
            self.reusable = false;
            return Err(InvokeError::service(format!(
                "Function {function}'s process was offered two invocations at once."
            )));
        }
        let mut deadline = Instant::now() + INIT_TIMEOUT;
        let mut limit = INIT_TIMEOUT;
        let mut is_taken = false;
        loop {
            tokio::select! {
                // An answer posted just before the process exits is still the answer.
                biased;
                answered = &mut outcome, if is_taken => {
                    return match answered {
                        Ok(Outcome::Response(body)) => Ok(body),
                        Ok(Outcome::Error(error)) => Err(error),
                        Ok(Outcome::TooLarge) => Err(InvokeError::response_too_large(MAX_RESPONSE_BYTES)),
                        Err(_) => Err(self.fail(InvokeError::service(format!(
                            "Function {function}'s Runtime API stopped."
                        )))),
                    };
                }
                handed = &mut taken, if !is_taken => match handed {
                    Ok(at) => {
                        deadline = at;
                        limit = timeout;
                        is_taken = true;
                    }
                    Err(_) => return Err(self.fail(InvokeError::service(format!(
                        "Function {function}'s Runtime API stopped."
                    )))),
                },
                Some(error) = init_failed(&mut self.init_errors) => {
                    self.kill().await;
                    return Err(self.fail(error));
                }
                status = self.child.wait() => {
                    let error = match status {
                        Ok(status) => InvokeError::exited(request_id, status),
                        Err(e) => InvokeError::service(format!(
                            "Could not wait for function {function}'s process: {e}."
                        )),
                    };
                    return Err(self.fail(error));
                }
                () = sleep_until(deadline) => {
                    self.kill().await;
                    return Err(self.fail(InvokeError::timed_out(request_id, limit)));
                }
                true = until_closing(closing) => {
                    return Err(self.fail(InvokeError::shutting_down(function)));
                }
            }
        }
    }

    fn fail(&mut self, error: InvokeError) -> InvokeError {
        self.reusable = false;
        error
    }

    /// Stop the process: SIGTERM to its group, SIGKILL after [`SHUTDOWN_GRACE`].
    pub async fn stop(mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            return;
        }
        if let Some(group) = self.group() {
            let _ = killpg(group, Signal::SIGTERM);
            if tokio::time::timeout(SHUTDOWN_GRACE, self.child.wait())
                .await
                .is_ok()
            {
                // The leader is gone; what it started gets no longer than it did.
                let _ = killpg(group, Signal::SIGKILL);
                return;
            }
        }
        self.kill().await;
    }

    /// SIGKILL to the whole group (what Lambda does at a timeout), then reap the process.
    async fn kill(&mut self) {
        if let Some(group) = self.group() {
            let _ = killpg(group, Signal::SIGKILL);
        }
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// The process group (the process's pid), known until the process is reaped. Linux reuses
    /// no pid that is still a group's id, so signalling the group just after reaping the leader
    /// reaches only what it left behind.
    fn group(&self) -> Option<Pid> {
        let pid = i32::try_from(self.child.id()?).ok()?;
        Some(Pid::from_raw(pid))
    }
}

/// True once the service begins to close (false if it is gone). The `watch::Ref` is dropped
/// here, not held across the caller's awaits: it is not `Send`, and callers spawn `invoke`.
async fn until_closing(closing: &mut watch::Receiver<bool>) -> bool {
    closing.wait_for(|c| *c).await.is_ok()
}

/// The error the process reported to `init/error`, once it has.
async fn init_failed(errors: &mut watch::Receiver<Option<InvokeError>>) -> Option<InvokeError> {
    errors
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|error| error.clone())
}

/// `2026/12/06/[$LATEST]` and 32 hex digits, the shape of Lambda's log stream names.
fn log_stream_name() -> String {
    let day = chrono::Utc::now().format("%Y/%m/%d");
    let hex: String = crate::ids::new_id().chars().filter(|c| *c != '-').collect();
    format!("{day}/[$LATEST]{hex}")
}
