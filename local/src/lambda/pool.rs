//! A function's processes: started on demand, reused warm, at most `max_concurrency` at once.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio::sync::{Semaphore, watch};

use super::logs::LogSink;
use super::process::Sandbox;
use super::{DEFAULT_MAX_CONCURRENCY, FunctionSpec, InvokeError};

/// One function of the twin, run as Lambda runs it: each invocation goes to a warm idle process,
/// or to a new one (a cold start) while fewer than the concurrency limit exist; past the limit it
/// waits for a process to become free. Cheap to clone (the clones share the processes).
#[derive(Debug, Clone)]
pub struct LocalFunction {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    spec: FunctionSpec,
    logs: LogSink,
    /// How many invocations (so processes) may run at once.
    capacity: usize,
    /// One permit per running invocation. Waiting here is the twin's queue: Lambda would answer
    /// `TooManyRequestsException` (429) past the limit, and its callers retry; the twin's
    /// callers are local and bursty (a batch of uploads), and waiting gives the same end result
    /// without retry storms in the logs.
    slots: Semaphore,
    /// Processes waiting for their next invocation, the most recently used last.
    idle: Mutex<Vec<Sandbox>>,
    /// Set once [`LocalFunction::shutdown`] begins.
    closing: watch::Sender<bool>,
}

impl LocalFunction {
    /// A function whose processes are described by `spec` and write their output to `logs`.
    /// Nothing starts until the first invocation.
    pub fn new(spec: FunctionSpec, logs: LogSink) -> Self {
        let capacity = spec
            .max_concurrency
            .unwrap_or(DEFAULT_MAX_CONCURRENCY)
            .min(Semaphore::MAX_PERMITS);
        Self {
            inner: Arc::new(Inner {
                spec,
                logs,
                capacity,
                slots: Semaphore::new(capacity),
                idle: Mutex::new(Vec::new()),
                closing: watch::channel(false).0,
            }),
        }
    }

    /// The function's description.
    pub fn spec(&self) -> &FunctionSpec {
        &self.inner.spec
    }

    /// One synchronous invocation (RequestResponse), as the Lambda service runs it: the
    /// function's JSON response, or why there is none.
    pub async fn invoke(
        &self,
        payload: serde_json::Value,
    ) -> Result<serde_json::Value, InvokeError> {
        let inner = &self.inner;
        let name = &inner.spec.name;
        if inner.capacity == 0 {
            return Err(InvokeError::throttled(name));
        }
        let _slot = inner
            .slots
            .acquire()
            .await
            .map_err(|_| InvokeError::shutting_down(name))?;
        let mut closing = inner.closing.subscribe();
        if *closing.borrow() {
            return Err(InvokeError::shutting_down(name));
        }
        let request_id = crate::ids::new_id();
        let mut sandbox = match self.take_idle() {
            Some(warm) => warm,
            None => Sandbox::start(&inner.spec, &inner.logs, &request_id).await?,
        };
        let result = sandbox
            .invoke(
                &request_id,
                Bytes::from(payload.to_string()),
                inner.spec.timeout,
                &mut closing,
                name,
            )
            .await;
        if sandbox.reusable() && !*closing.borrow() {
            lock(&inner.idle).push(sandbox);
        } else {
            sandbox.stop().await;
        }
        let body = result?;
        serde_json::from_slice(&body).map_err(|e| InvokeError::invalid_response(&e))
    }

    /// Stop every process (SIGTERM, then SIGKILL after a short grace): idle ones at once, busy
    /// ones by failing their invocations. Invocations after this fail with `ServiceException`.
    pub async fn shutdown(&self) {
        let inner = &self.inner;
        inner.closing.send_replace(true);
        self.stop_idle().await;
        // Every slot back means no invocation runs; queued ones saw `closing` and gave theirs up.
        let all = u32::try_from(inner.capacity).unwrap_or(u32::MAX);
        if let Ok(slots) = inner.slots.acquire_many(all).await {
            inner.slots.close();
            drop(slots);
        }
        // An invocation that ended while the first sweep ran may have left its process idle.
        self.stop_idle().await;
    }

    async fn stop_idle(&self) {
        let idle = std::mem::take(&mut *lock(&self.inner.idle));
        futures::future::join_all(idle.into_iter().map(Sandbox::stop)).await;
    }

    /// The most recently used idle process that still runs (it may have exited while idle).
    fn take_idle(&self) -> Option<Sandbox> {
        let mut idle = lock(&self.inner.idle);
        while let Some(mut sandbox) = idle.pop() {
            if sandbox.reusable() {
                return Some(sandbox);
            }
            tracing::debug!(function = %self.inner.spec.name, "an idle function process had exited");
        }
        None
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
