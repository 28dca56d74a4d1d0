//! What the TestState API mocks and records while one state runs: the interpreter
//! consults these hooks (mocked results, no retries) and leaves its inspection data here.

use super::{Exec, Failure};
use crate::errors;
use crate::model::Retrier;
use crate::retry::{delay, error_matches};
use crate::rng::RandomSource;
use serde_json::{Map, Value, json};
use std::sync::Mutex;

/// What the interpreter consults and records while TestState runs one state.
#[derive(Debug, Default)]
pub(crate) struct TestHooks {
    pub mock: Option<MockValue>,
    /// `stateConfiguration.retrierRetryCount`: retries already made.
    pub retrier_retry_count: u32,
    /// `stateConfiguration.mapIterationFailureCount`.
    pub map_iteration_failure_count: Option<u32>,
    /// The context object of the test.
    pub context: Value,
    pub record: Mutex<TestRecord>,
}

/// A mock, its result parsed.
#[derive(Debug, Clone)]
pub(crate) enum MockValue {
    Result(Value),
    Error(Failure),
}

#[derive(Debug, Default)]
pub(crate) struct TestRecord {
    pub inspection: Map<String, Value>,
    pub error_details: Map<String, Value>,
    /// A retrier would retry: the state is RETRIABLE and no catcher runs.
    pub retriable: bool,
    /// The failure a catcher took.
    pub caught: Option<Failure>,
}

impl TestHooks {
    fn with_record<T>(&self, f: impl FnOnce(&mut TestRecord) -> T) -> T {
        let mut r = self.record.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut r)
    }

    /// Records inspection data (`afterInputPath`, `maxConcurrency`, ...).
    pub fn inspect(&self, key: &str, value: Value) {
        self.with_record(|r| r.inspection.insert(key.to_string(), value));
    }

    /// Records an `errorDetails` member (`retryIndex`, `catchIndex`, ...).
    pub fn error_detail(&self, key: &str, value: Value) {
        self.with_record(|r| r.error_details.insert(key.to_string(), value));
    }

    pub fn set_retriable(&self) {
        self.with_record(|r| r.retriable = true);
    }

    pub fn retriable(&self) -> bool {
        self.with_record(|r| r.retriable)
    }

    pub fn set_caught(&self, f: &Failure) {
        self.with_record(|r| r.caught = Some(f.clone()));
    }

    pub(crate) fn into_record(self) -> TestRecord {
        self.record.into_inner().unwrap_or_else(|p| p.into_inner())
    }
}

impl Exec<'_> {
    /// The mocked result of a Task or Parallel (None: run it).
    pub(crate) fn mocked(&self) -> Option<Result<Value, Failure>> {
        match self.test.as_ref()?.mock.as_ref()? {
            MockValue::Result(v) => Some(Ok(v.clone())),
            MockValue::Error(f) => Some(Err(f.clone())),
        }
    }

    /// The mocked result of a Map: the mocked error when a state inside raised it,
    /// else the result, unless `mapIterationFailureCount` exceeds the tolerated
    /// failures (only checked when the Map tolerates some, as AWS does).
    pub(crate) fn mocked_map(
        &self,
        tolerates: impl Fn(usize, usize) -> Option<bool>,
    ) -> Option<Result<Value, Failure>> {
        let t = self.test.as_ref()?;
        let result = match t.mock.as_ref()? {
            MockValue::Error(f) => return Some(Err(f.clone())),
            MockValue::Result(v) => v,
        };
        let failures = t.map_iteration_failure_count.unwrap_or(0) as usize;
        let total = result.as_array().map_or(0, Vec::len);
        if failures > 0 && tolerates(failures, total) == Some(false) {
            return Some(Err(Failure::new(
                errors::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )));
        }
        Some(Ok(result.clone()))
    }
}

impl TestHooks {
    /// TestState does not retry: it records which retrier matches `error` and, when
    /// it has attempts left after `retrierRetryCount`, the wait before the next one
    /// (the state is then RETRIABLE).
    pub(crate) fn retry(&self, retriers: &[Retrier], error: &str, rng: &dyn RandomSource) {
        let Some(i) = retriers
            .iter()
            .position(|r| error_matches(&r.error_equals, error))
        else {
            return;
        };
        self.error_detail("retryIndex", Value::from(i));
        let r = &retriers[i];
        let done = self.retrier_retry_count;
        if done < r.max_attempts {
            let secs = delay(r, done, rng).as_secs_f64();
            let secs = if secs.fract() == 0.0 {
                Value::from(secs as u64)
            } else {
                json!(secs)
            };
            self.error_detail("retryBackoffIntervalSeconds", secs);
            self.set_retriable();
        }
    }
}
