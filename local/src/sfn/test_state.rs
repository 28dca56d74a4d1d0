//! `TestState`: the engine's [`Engine::test_state`] behind the API's request and response shapes
//! (`aws stepfunctions test-state`). A Task that is not mocked runs against the test engine's
//! registry, as on AWS a tested Task invokes the real function.

use std::sync::PoisonError;

use imagegen_statemachine::{
    Engine, InspectionLevel, Mock, Registry, StateConfiguration, TestStateError, TestStateRequest,
    TestStateResponse,
};
use serde_json::{Map, Value};

use super::SfnService;
use super::api::{self, ApiError};

impl SfnService {
    /// The engine TestState runs with (its registry binds the task resources a tested state may
    /// call); without one, unmocked Tasks fail as their function does not exist.
    pub fn set_test_state_engine(&self, engine: Engine) {
        *self
            .test_engine
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(engine);
    }

    pub(super) async fn test_state(&self, body: &Map<String, Value>) -> Result<Value, ApiError> {
        let request = request(body)?;
        let engine = self
            .test_engine
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| Engine::new(Registry::new()));
        let response = engine.test_state(&request).await.map_err(refusal)?;
        Ok(answer(response))
    }
}

/// An enumerated member (`inspectionLevel`, `fieldValidationMode`), if present.
fn enumerated<T: serde::de::DeserializeOwned>(
    value: Option<&Value>,
    name: &str,
) -> Result<Option<T>, ApiError> {
    value.map_or(Ok(None), |v| {
        serde_json::from_value(v.clone()).map(Some).map_err(|_| {
            ApiError::new(
                "ValidationException",
                format!("1 validation error detected: Value {v} at '{name}' failed to satisfy constraint: Member must satisfy enum value set"),
            )
        })
    })
}

/// The API request as the engine's.
fn request(body: &Map<String, Value>) -> Result<TestStateRequest, ApiError> {
    let text = |name: &str| api::string(body, name).map(str::to_owned);
    let mock_body = body.get("mock").and_then(Value::as_object);
    let mock = match mock_body {
        None => None,
        Some(m) => match (
            m.get("result").and_then(Value::as_str),
            m.get("errorOutput"),
        ) {
            (Some(result), _) => Some(Mock::Result(result.to_owned())),
            (None, Some(Value::Object(e))) => Some(Mock::ErrorOutput {
                error: e
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                cause: e
                    .get("cause")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            }),
            _ => {
                return Err(ApiError::new(
                    "ValidationException",
                    "A mock needs a result or an errorOutput.",
                ));
            }
        },
    };
    let config = body.get("stateConfiguration").and_then(Value::as_object);
    let number = |name: &str| config.and_then(|c| c.get(name)).and_then(Value::as_u64);
    Ok(TestStateRequest {
        definition: api::required(body, "definition")?.to_owned(),
        state_name: text("stateName"),
        input: text("input").unwrap_or_else(|| "{}".to_owned()),
        inspection_level: enumerated(body.get("inspectionLevel"), "inspectionLevel")?
            .unwrap_or(InspectionLevel::Info),
        variables: text("variables"),
        context: text("context"),
        mock,
        field_validation_mode: enumerated(
            mock_body.and_then(|m| m.get("fieldValidationMode")),
            "mock.fieldValidationMode",
        )?
        .unwrap_or_default(),
        state_configuration: StateConfiguration {
            retrier_retry_count: number("retrierRetryCount").unwrap_or(0) as u32,
            map_iteration_failure_count: number("mapIterationFailureCount").map(|n| n as u32),
            error_caused_by_state: config
                .and_then(|c| c.get("errorCausedByState"))
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
        role_arn: text("roleArn"),
    })
}

/// The engine's refusals as the API's errors.
fn refusal(e: TestStateError) -> ApiError {
    let message = e.to_string();
    match e {
        TestStateError::Definition(_) => ApiError::new(
            "InvalidDefinition",
            format!("Invalid State Machine Definition: '{message}'"),
        ),
        TestStateError::Json { field: "input", .. } => ApiError::new(
            "InvalidExecutionInput",
            format!("Invalid State Machine Execution Input: '{message}'"),
        ),
        _ => ApiError::new("ValidationException", message),
    }
}

/// The engine's response on the wire: as it serialises, except that the API sends `variables` as
/// JSON text.
fn answer(response: TestStateResponse) -> Value {
    let mut value = serde_json::to_value(response).unwrap_or(Value::Null);
    if let Some(Value::Object(data)) = value.get_mut("inspectionData")
        && let Some(variables) = data.get_mut("variables")
        && !variables.is_string()
    {
        *variables = Value::String(variables.to_string());
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn api_requests_become_engine_requests() {
        let r = request(&body(json!({
            "definition": "{\"Type\":\"Pass\",\"End\":true}",
            "inspectionLevel": "DEBUG",
            "mock": {"errorOutput": {"error": "E", "cause": "C"}, "fieldValidationMode": "NONE"},
            "stateConfiguration": {"retrierRetryCount": 2, "errorCausedByState": "Inner"}
        })))
        .unwrap();
        assert_eq!(r.input, "{}");
        assert_eq!(r.inspection_level, InspectionLevel::Debug);
        assert_eq!(
            r.mock,
            Some(Mock::ErrorOutput {
                error: "E".into(),
                cause: "C".into()
            })
        );
        assert_eq!(r.state_configuration.retrier_retry_count, 2);
        assert_eq!(
            r.state_configuration.error_caused_by_state.as_deref(),
            Some("Inner")
        );
        let bad = request(&body(
            json!({"definition": "{}", "inspectionLevel": "LOUD"}),
        ));
        assert_eq!(bad.unwrap_err().error_type, "ValidationException");
        assert_eq!(
            request(&body(json!({}))).unwrap_err().error_type,
            "ValidationException"
        );
    }

    #[tokio::test]
    async fn a_pass_state_is_tested_and_variables_go_out_as_text() {
        let engine = Engine::new(Registry::new());
        let r = request(&body(json!({
            "definition": "{\"Type\":\"Pass\",\"Assign\":{\"x\":1},\"Next\":\"B\"}",
            "input": "{\"a\": 1}",
            "inspectionLevel": "DEBUG",
            "variables": "{\"y\": 2}"
        })))
        .unwrap();
        let out = answer(engine.test_state(&r).await.unwrap());
        assert_eq!(out["status"], "SUCCEEDED");
        assert_eq!(out["nextState"], "B");
        assert!(out["inspectionData"]["variables"].is_string(), "{out}");
        let bad = Engine::new(Registry::new())
            .test_state(&request(&body(json!({"definition": "{\"Type\":\"Nope\"}"}))).unwrap())
            .await
            .unwrap_err();
        assert_eq!(refusal(bad).error_type, "InvalidDefinition");
    }
}
