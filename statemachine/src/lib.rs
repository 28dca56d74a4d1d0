//! A local Amazon States Language engine: JSONPath and JSONata state machines (one
//! query language per state), and the TestState API ([`Engine::test_state`]).
//!
//! Load a definition with [`load_str`] (or [`StateMachine::from_json`]), bind
//! task resources in a [`Registry`], and run it with [`Engine::execute`]:
//!
//! ```
//! use imagegen_statemachine::{Engine, ExecutionOptions, Registry, TaskError, load_str};
//! use serde_json::json;
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let def = r#"{"StartAt":"Hello","States":{"Hello":{
//!     "Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:hello","End":true}}}"#;
//! let sm = load_str(def, &Default::default()).unwrap();
//! let mut registry = Registry::new();
//! registry.register("hello", |input: serde_json::Value| async move {
//!     if input.get("fail").is_some() {
//!         return Err(TaskError::lambda("HelloError", "asked to fail"));
//!     }
//!     Ok(json!({"greeting": "hi"}))
//! });
//! let engine = Engine::new(registry).with_observer(|e| eprintln!("{} {}", e.id, e.event_type));
//! let exec = engine.execute(&sm, json!({}), ExecutionOptions::default()).await;
//! assert_eq!(exec.output, Some(json!({"greeting": "hi"})));
//! # });
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

// The public API is what this file re-exports, plus four modules: the loaded
// definition (`model`) and the languages its fields are written in (`jsonpath`,
// `jsonata`, `intrinsics`). README.md lists it, with the module map.

pub mod intrinsics;
pub mod jsonata;
pub mod jsonpath;
pub mod model;

// Loading: JSON text -> `model::StateMachine`.
mod loader;

// Running: `engine` (executions) and `test_state` (TestState) call `states`, one file
// per state type, which run on `exec`, the execution's shared runtime.
mod engine;
mod exec;
mod states;
mod test_state;

// What the runtime is built on.
mod arn;
mod clock;
mod errors;
mod history;
mod json;
mod payload;
mod registry;
mod retry;
mod rng;
mod scope;
mod timestamp;

pub use arn::{
    ACCOUNT_ID, REGION, execution_arn, lambda_arn, lambda_name, role_arn, state_machine_arn,
};
pub use clock::{BoxFuture, Clock, TokioClock, VirtualClock};
pub use engine::{Engine, Execution, ExecutionOptions, ExecutionStatus};
pub use history::{EventType, HistoryEvent, details_key};
pub use loader::{LoadError, load_str, load_value};
pub use model::StateMachine;
pub use registry::{Registry, TaskError, TaskHandler};
pub use rng::{FixedRng, RandomSource, SeededRng};
pub use scope::Scope;
pub use test_state::{
    FieldValidationMode, InspectionLevel, Mock, StateConfiguration, TestStateError,
    TestStateRequest, TestStateResponse, TestStateStatus,
};
