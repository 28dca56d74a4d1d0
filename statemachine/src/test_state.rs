//! The TestState API: runs one state (alone, or `state_name` inside a whole definition)
//! on an input, with its Task, Map or Parallel work mocked if asked, and reports what
//! AWS's `TestState` reports: the status, output or error, the next state and, at the
//! DEBUG and TRACE inspection levels, the data after each step of the state.

use crate::arn;
use crate::engine::Engine;
use crate::exec::{Exec, Failure, Frame, MockValue, Step, TestHooks, TestRecord};
use crate::loader::{LoadError, load_state, load_value};
use crate::model::{State, StateKind, StateMachine};
use crate::states::{LAMBDA_INVOKE, run_state};
use crate::timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How much the response shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InspectionLevel {
    /// Status, output or error, next state.
    #[default]
    Info,
    /// And the inspection data.
    Debug,
    /// As DEBUG (the HTTP details it adds concern HTTP Tasks, which the engine does not run).
    Trace,
}

/// What a mocked Task, Map or Parallel produces instead of running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mock {
    /// Its result, as JSON text.
    Result(String),
    /// A failure with this error and cause.
    ErrorOutput {
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
    },
}

/// How strictly a mocked result is checked against the service's response model (for
/// `arn:aws:states:::lambda:invoke`, the Lambda Invoke response). Fields the model does
/// not have are not checked (AWS accepts them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldValidationMode {
    /// The model's required fields are present, and the fields present have its types.
    #[default]
    Strict,
    /// The fields present have the model's types.
    Present,
    /// No check.
    None,
}

/// `stateConfiguration`: the situation the state is tested in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateConfiguration {
    /// Retries already made by the retrier that matches the error.
    pub retrier_retry_count: u32,
    /// How many of a Map's iterations failed (checked against its tolerated failures).
    pub map_iteration_failure_count: Option<u32>,
    /// The state inside a Map or Parallel that raised the mocked error.
    pub error_caused_by_state: Option<String>,
}

/// A TestState request. JSON arrives as text, as the API takes it.
#[derive(Debug, Clone, Default)]
pub struct TestStateRequest {
    /// One state's definition, or a whole state machine's when `state_name` is set.
    pub definition: String,
    /// The state to test inside `definition`.
    pub state_name: Option<String>,
    /// The state's input (JSON text; shown as written where the state passes it on).
    pub input: String,
    /// How much the response shows.
    pub inspection_level: InspectionLevel,
    /// Variables in scope (a JSON object as text).
    pub variables: Option<String>,
    /// The context object (JSON text), instead of one made up for the test.
    pub context: Option<String>,
    /// The mocked result or error of a Task, Map or Parallel.
    pub mock: Option<Mock>,
    /// How a mocked result is checked.
    pub field_validation_mode: FieldValidationMode,
    /// Retry and Map situation.
    pub state_configuration: StateConfiguration,
    /// The role shown as `$$.Execution.RoleArn` (null without one).
    pub role_arn: Option<String>,
}

/// How the tested state ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TestStateStatus {
    /// It produced an output.
    Succeeded,
    /// It failed.
    Failed,
    /// It failed and a Catch took the error (the output is the catcher's).
    CaughtError,
    /// It failed and a retrier would try again.
    Retriable,
}

/// What TestState answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestStateResponse {
    /// How the state ended.
    pub status: TestStateStatus,
    /// The output (JSON text), when it succeeded or an error was caught.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The error name, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The cause, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The state that would run next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_state: Option<String>,
    /// The data after each step (DEBUG and TRACE): JSON text for the data, numbers
    /// for Map limits, objects for `variables` and `errorDetails`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_data: Option<Map<String, Value>>,
}

/// A request TestState refuses (AWS answers these with a validation error).
#[derive(Debug, thiserror::Error)]
pub enum TestStateError {
    /// The definition is not valid.
    #[error(transparent)]
    Definition(#[from] LoadError),
    /// `state_name` names no state of the definition.
    #[error("the definition has no state named '{0}'")]
    NoSuchState(String),
    /// A JSON text field is not JSON (or not an object where one is needed).
    #[error("the {field} is not valid JSON: {message}")]
    Json {
        /// The field (`input`, `variables`, `context`, `mock result`).
        field: &'static str,
        /// Why.
        message: String,
    },
    /// The mocked result does not fit the service's response.
    #[error("the mocked result does not match the Lambda Invoke response: {0}")]
    Mock(String),
}

/// The state machine name and execution name a test runs under.
const TEST_MACHINE: &str = "TestStateMachine";
/// The name a tested state has in the context object, whatever it is called.
const TEST_STATE_NAME: &str = "StateName";

/// Inspection keys whose values are the state's data, shown as JSON text.
const DATA_STEPS: [&str; 8] = [
    "input",
    "afterInputPath",
    "afterParameters",
    "afterArguments",
    "result",
    "afterResultSelector",
    "afterResultPath",
    "afterItemsPath",
];

/// The request's variables (an object).
fn variables(req: &TestStateRequest) -> Result<Map<String, Value>, TestStateError> {
    match &req.variables {
        None => Ok(Map::new()),
        Some(text) => match parse("variables", text)? {
            Value::Object(m) => Ok(m),
            _ => Err(TestStateError::Json {
                field: "variables",
                message: "they must be a JSON object".to_string(),
            }),
        },
    }
}

/// The request's mock, its result parsed and checked.
fn mock(state: &State, req: &TestStateRequest) -> Result<Option<MockValue>, TestStateError> {
    Ok(match &req.mock {
        None => None,
        Some(Mock::Result(text)) => {
            let v = parse("mock result", text)?;
            check_mock(state, &v, req.field_validation_mode)?;
            Some(MockValue::Result(v))
        }
        Some(Mock::ErrorOutput { error, cause }) => {
            Some(MockValue::Error(Failure::new(error, cause.clone())))
        }
    })
}

fn parse(field: &'static str, text: &str) -> Result<Value, TestStateError> {
    serde_json::from_str(text).map_err(|e| TestStateError::Json {
        field,
        message: e.to_string(),
    })
}

impl Engine {
    /// Tests one state, as the TestState API does.
    pub async fn test_state(
        &self,
        req: &TestStateRequest,
    ) -> Result<TestStateResponse, TestStateError> {
        let definition = parse("definition", &req.definition)?;
        let machine;
        let single;
        let state = match &req.state_name {
            Some(name) => {
                machine = load_value(&definition)?;
                find_state(&machine, name)
                    .ok_or_else(|| TestStateError::NoSuchState(name.clone()))?
            }
            None => {
                single = load_state(TEST_STATE_NAME, &definition)?;
                &single
            }
        };
        let input = parse("input", &req.input)?;
        let variables = variables(req)?;
        let (execution, state_machine, default_context) = self.test_context(state, &input, req);
        let hooks = TestHooks {
            mock: mock(state, req)?,
            retrier_retry_count: req.state_configuration.retrier_retry_count,
            map_iteration_failure_count: req.state_configuration.map_iteration_failure_count,
            context: match &req.context {
                Some(text) => parse("context", text)?,
                None => default_context,
            },
            record: Default::default(),
        };
        hooks.inspect("input", input.clone());
        if !variables.is_empty() {
            hooks.inspect("variables", Value::Object(variables.clone()));
        }
        let mut exec = Exec::new(&self.services, execution, state_machine);
        exec.test = Some(hooks);
        let mut frame = Frame {
            prev: 0,
            vars: variables,
            record: false,
            assigned: None,
        };
        let outcome = run_state(&exec, state, input, &mut frame).await;
        let record = exec.test.map(TestHooks::into_record).unwrap_or_default();
        Ok(response(
            outcome,
            record,
            &Shown::new(req),
            req.inspection_level,
        ))
    }

    /// The execution, state machine and context object a test runs under.
    fn test_context(
        &self,
        state: &State,
        input: &Value,
        req: &TestStateRequest,
    ) -> (Value, Value, Value) {
        let name = self.services.rng.uuid();
        let now = timestamp::format(self.services.clock.now());
        let execution = json!({
            "Id": arn::states_arn(arn::REGION, &self.services.account, "express", &format!("{TEST_MACHINE}:{name}")),
            "Input": input,
            "Name": name,
            "RoleArn": req.role_arn,
            "StartTime": now,
        });
        let state_machine = json!({
            "Id": arn::states_arn(arn::REGION, &self.services.account, "stateMachine", TEST_MACHINE),
            "Name": TEST_MACHINE,
        });
        let mut st = Map::new();
        st.insert("Name".into(), Value::String(TEST_STATE_NAME.into()));
        st.insert("EnteredTime".into(), Value::String(now));
        // The states that retry as a whole count their retries.
        if matches!(
            state.kind,
            StateKind::Task(_) | StateKind::Map(_) | StateKind::Parallel { .. }
        ) {
            st.insert(
                "RetryCount".into(),
                Value::from(req.state_configuration.retrier_retry_count),
            );
        }
        let context = json!({
            "Execution": execution,
            "StateMachine": state_machine,
            "State": st,
        });
        (execution, state_machine, context)
    }
}

/// The state named `name` anywhere in `sm` (inside Parallel branches and Map processors too).
fn find_state<'a>(sm: &'a StateMachine, name: &str) -> Option<&'a State> {
    if let Some(s) = sm.states.get(name) {
        return Some(s);
    }
    sm.states.values().find_map(|s| match &s.kind {
        StateKind::Parallel { branches, .. } => branches.iter().find_map(|b| find_state(b, name)),
        StateKind::Map(m) => find_state(&m.processor, name),
        _ => None,
    })
}

/// The fields of the Lambda Invoke response (with Step Functions' SDK metadata), by
/// JSON type. None is required, so STRICT checks what PRESENT checks.
const INVOKE_RESPONSE: [(&str, &str); 7] = [
    ("ExecutedVersion", "string"),
    ("FunctionError", "string"),
    ("LogResult", "string"),
    ("Payload", "any"),
    ("StatusCode", "number"),
    ("SdkHttpMetadata", "object"),
    ("SdkResponseMetadata", "object"),
];

/// Checks a mocked `lambda:invoke` result against the Invoke response.
fn check_mock(state: &State, v: &Value, mode: FieldValidationMode) -> Result<(), TestStateError> {
    let StateKind::Task(t) = &state.kind else {
        return Ok(());
    };
    if mode == FieldValidationMode::None || t.resource != LAMBDA_INVOKE {
        return Ok(());
    }
    let Value::Object(m) = v else {
        return Err(TestStateError::Mock("it must be a JSON object".into()));
    };
    for (k, x) in m {
        if let Some((_, ty)) = INVOKE_RESPONSE.iter().find(|(name, _)| name == k)
            && *ty != "any"
            && crate::jsonata::json_type(x) != *ty
        {
            return Err(TestStateError::Mock(format!("'{k}' must be a {ty}")));
        }
    }
    Ok(())
}

/// How data is shown: AWS passes the request's input, context and mocked result on as
/// they were written (spacing included) wherever a state passes them, or a part of
/// them, on.
struct Shown {
    written: Vec<(Value, String, Style)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `{"a":1}`.
    Compact,
    /// `{"a": 1}` (Python's `json.dumps`).
    Spaced,
    /// Neither: only the whole value keeps its text.
    Own,
}

impl Shown {
    fn new(req: &TestStateRequest) -> Self {
        let texts = [
            Some(&req.input),
            req.context.as_ref(),
            match &req.mock {
                Some(Mock::Result(text)) => Some(text),
                _ => None,
            },
        ];
        let written: Vec<(Value, String)> = texts
            .into_iter()
            .flatten()
            .filter_map(|t| Some((serde_json::from_str::<Value>(t).ok()?, t.clone())))
            .collect();
        let written = written
            .into_iter()
            .map(|(v, text)| {
                let compact = v.to_string();
                let style = if text == compact {
                    Style::Compact
                } else if text == spaced(&v) {
                    Style::Spaced
                } else {
                    Style::Own
                };
                (v, text, style)
            })
            .collect();
        Shown { written }
    }

    /// `v` as JSON text, as written when it is (part of) the input or the mock.
    fn text(&self, v: &Value) -> String {
        for (whole, text, style) in &self.written {
            if v == whole {
                return text.clone();
            }
            if *style == Style::Spaced && contains(whole, v) {
                return spaced(v);
            }
        }
        v.to_string()
    }
}

fn contains(whole: &Value, part: &Value) -> bool {
    whole == part
        || match whole {
            Value::Array(a) => a.iter().any(|x| contains(x, part)),
            Value::Object(m) => m.values().any(|x| contains(x, part)),
            _ => false,
        }
}

/// JSON with `", "` and `": "` separators.
fn spaced(v: &Value) -> String {
    match v {
        Value::Array(a) => format!("[{}]", a.iter().map(spaced).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, x)| format!("{}: {}", Value::String(k.clone()), spaced(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn response(
    outcome: Result<Step, Failure>,
    record: TestRecord,
    shown: &Shown,
    level: InspectionLevel,
) -> TestStateResponse {
    let mut r = TestStateResponse {
        status: TestStateStatus::Succeeded,
        output: None,
        error: None,
        cause: None,
        next_state: None,
        inspection_data: None,
    };
    match outcome {
        Ok(step) => {
            r.output = Some(shown.text(&step.output));
            r.next_state = step.next;
            if let Some(f) = &record.caught {
                r.status = TestStateStatus::CaughtError;
                r.error = Some(f.error.clone());
                r.cause = f.cause.clone();
            }
        }
        Err(f) => {
            r.status = if record.retriable {
                TestStateStatus::Retriable
            } else {
                TestStateStatus::Failed
            };
            r.error = (!f.error.is_empty()).then_some(f.error);
            r.cause = f.cause.filter(|c| !c.is_empty());
        }
    }
    if level != InspectionLevel::Info {
        let mut data = Map::new();
        for (k, v) in record.inspection {
            let v = if DATA_STEPS.contains(&k.as_str()) {
                Value::String(shown.text(&v))
            } else {
                v
            };
            data.insert(k, v);
        }
        if !record.error_details.is_empty() {
            data.insert("errorDetails".into(), Value::Object(record.error_details));
        }
        r.inspection_data = Some(data);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_input_parts_as_written() {
        let text = r#"{"Values": ["a", "b"], "n": 1}"#;
        let input: Value = serde_json::from_str(text).unwrap();
        let shown = Shown::new(&TestStateRequest {
            input: text.to_string(),
            mock: Some(Mock::Result("[1, 2]".into())),
            ..Default::default()
        });
        assert_eq!(shown.text(&input), text);
        assert_eq!(shown.text(&json!(["a", "b"])), r#"["a", "b"]"#);
        assert_eq!(shown.text(&json!([1, 2])), "[1, 2]");
        assert_eq!(shown.text(&json!({"x": 1})), r#"{"x":1}"#);
    }
}
