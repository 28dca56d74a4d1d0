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
//!     "Type":"Task","Resource":"arn:aws:lambda:us-east-1:111111111111:function:hello","End":true}}}"#;
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

pub mod clock;
pub mod engine;
mod errors;
mod exec;
pub mod history;
pub mod intrinsics;
mod json;
pub mod jsonata;
pub mod jsonpath;
pub mod loader;
pub mod model;
pub mod payload;
pub mod registry;
pub mod retry;
pub mod rng;
pub mod scope;
mod states;
pub mod test_state;
pub mod timestamp;

pub use clock::{BoxFuture, Clock, TokioClock, VirtualClock};
pub use engine::{Engine, Execution, ExecutionOptions, ExecutionStatus};
pub use exec::{Observer, PAYLOAD_LIMIT};
pub use history::{EventType, HistoryEvent};
pub use loader::{LoadError, load_state, load_str, load_value};
pub use model::StateMachine;
pub use registry::{Registry, TaskError, TaskHandler, lambda_arn};
pub use rng::{FixedRng, RandomSource, SeededRng};
pub use test_state::{
    FieldValidationMode, InspectionLevel, Mock, StateConfiguration, TestStateError,
    TestStateRequest, TestStateResponse, TestStateStatus,
};

impl StateMachine {
    /// Loads a definition from JSON text with `${Name}` substitutions.
    pub fn from_json(
        text: &str,
        substitutions: &std::collections::HashMap<String, String>,
    ) -> Result<Self, LoadError> {
        load_str(text, substitutions)
    }
}
