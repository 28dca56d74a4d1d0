//! A state-machine definition for the local pipeline, checked before anything starts: the deployed
//! one (embedded), or a user's own (`--definition FILE`: one edited in Workflow Studio, the JSONata
//! twin `statemachine/image-pipeline.jsonata.asl.json`, ...).
//!
//! A definition runs here when it loads as AWS would load it (JSON, valid ASL in JSONPath, JSONata
//! or both) with the deployed definition's `${...}` placeholders filled with the local functions'
//! ARNs, and when every Task it names calls one of those functions: the local engine has no other
//! resource, so a Task naming anything else would fail every execution at that state.

use std::path::Path;

use imagegen_statemachine::lambda_arn;
use imagegen_statemachine::model::{StateKind, Template};
use imagegen_statemachine::{LoadError, StateMachine};
use serde_json::Value;

use crate::error::LocalPipelineError;
use crate::handlers::substitutions;
use crate::settings::FUNCTIONS;

/// The Lambda Invoke integration, whose `FunctionName` argument names the function.
const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// Why a definition cannot run the local pipeline. Each reads after "the definition FILE ...".
#[derive(Debug, thiserror::Error)]
pub enum DefinitionError {
    #[error("cannot be read: {0}")]
    Unreadable(#[source] std::io::Error),
    #[error("is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    #[error(
        "uses the placeholder ${{{key}}} (at {location}), which the local pipeline does not fill; \
         it fills {}",
        placeholders()
    )]
    Placeholder { key: String, location: String },
    /// Where (`state 'X', field 'Y'`) and what is wrong, as the loader says it.
    #[error("is not a valid state machine: {0}")]
    Invalid(String),
    #[error(
        "calls {resource} in state '{state}', but that is not one of the pipeline's functions: \
         name them with the placeholders {}, as statemachine/image-pipeline.asl.json does",
        placeholders()
    )]
    UnknownResource { state: String, resource: String },
}

impl From<LoadError> for DefinitionError {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Json(e) => Self::NotJson(e),
            LoadError::Substitution { key, location } => Self::Placeholder { key, location },
            LoadError::Invalid {
                state,
                field,
                message,
            } => {
                let state = state.map(|s| format!("state '{s}', ")).unwrap_or_default();
                Self::Invalid(format!("{state}field '{field}': {message}"))
            }
        }
    }
}

/// `${ValidatePromptFunctionArn}, ...`: what a definition may name its Tasks' functions with.
fn placeholders() -> String {
    FUNCTIONS
        .iter()
        .map(|(placeholder, _)| format!("${{{placeholder}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Check that `text` runs the local pipeline in `region` (see the module docs).
pub fn check(text: &str, region: &str) -> Result<(), DefinitionError> {
    let subs = substitutions(region);
    let machine = StateMachine::from_json(text, &subs)?;
    let functions: Vec<&String> = subs.values().collect();
    check_tasks(&machine, &functions)
}

/// Read `--definition`'s file and check it; errors name the file.
pub fn read(path: &Path) -> Result<String, LocalPipelineError> {
    let named = |problem| LocalPipelineError::DefinitionFile {
        path: path.to_path_buf(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| named(DefinitionError::Unreadable(e)))?;
    // Parsed here first so that text that is not JSON is told so before anything else.
    serde_json::from_str::<Value>(&text).map_err(|e| named(DefinitionError::NotJson(e)))?;
    check(&text, imagegen_local::config::DEFAULT_REGION).map_err(named)?;
    Ok(text)
}

/// Every Task of `machine` (Parallel branches and Map processors included) calls one of
/// `functions` (local Lambda ARNs).
fn check_tasks(machine: &StateMachine, functions: &[&String]) -> Result<(), DefinitionError> {
    // In name order, so that the first problem reported does not depend on hashing.
    let mut names: Vec<&String> = machine.states.keys().collect();
    names.sort();
    for name in names {
        let state = &machine.states[name];
        match &state.kind {
            StateKind::Task(task) => {
                let called = match task.resource.as_str() {
                    LAMBDA_INVOKE => function_name_argument(task.io.parameters.as_ref()),
                    resource => Some(resource),
                };
                // A FunctionName computed at run time cannot be checked here.
                if let Some(resource) = called
                    && !calls_one_of(resource, functions)
                {
                    return Err(DefinitionError::UnknownResource {
                        state: name.clone(),
                        resource: resource.to_owned(),
                    });
                }
            }
            StateKind::Parallel { branches, .. } => {
                for branch in branches {
                    check_tasks(branch, functions)?;
                }
            }
            StateKind::Map(map) => check_tasks(&map.processor, functions)?,
            _ => {}
        }
    }
    Ok(())
}

/// `lambda:invoke`'s `FunctionName`, when the definition writes it literally (in arguments that
/// are all constant, or among evaluated ones).
fn function_name_argument(arguments: Option<&Template>) -> Option<&str> {
    match arguments? {
        Template::Literal(Value::Object(members)) => members.get("FunctionName")?.as_str(),
        Template::Object(members) => members.iter().find_map(|(key, value)| match value {
            Template::Literal(Value::String(name)) if key == "FunctionName" => Some(name.as_str()),
            _ => None,
        }),
        _ => None,
    }
}

/// Whether the engine's registry resolves `resource` to one of `functions`: the ARN itself, or the
/// ARN without a version or alias qualifier (see `Registry::resolve`).
fn calls_one_of(resource: &str, functions: &[&String]) -> bool {
    let unqualified = lambda_arn(resource);
    functions
        .iter()
        .any(|f| f.as_str() == resource || **f == unqualified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REGION: &str = "us-east-1";

    fn task(resource: &str, extra: Value) -> String {
        let mut state = json!({"Type": "Task", "Resource": resource, "End": true});
        if let (Some(s), Some(e)) = (state.as_object_mut(), extra.as_object()) {
            s.extend(e.clone());
        }
        json!({"StartAt": "Call", "States": {"Call": state}}).to_string()
    }

    #[test]
    fn the_deployed_definition_and_its_jsonata_twin_run_here() {
        check(crate::pipeline::DEFINITION, REGION).unwrap();
        check(
            include_str!("../../../statemachine/image-pipeline.jsonata.asl.json"),
            REGION,
        )
        .unwrap();
    }

    #[test]
    fn tasks_may_call_the_pipeline_functions_only() {
        check(&task("${NotifyUserFunctionArn}", json!({})), REGION).unwrap();
        let local =
            format!("arn:aws:lambda:{REGION}:000000000000:function:imagegen-notify-user:$LATEST");
        check(&task(&local, json!({})), REGION).unwrap();
        let invoke =
            json!({"Parameters": {"FunctionName": "${NotifyUserFunctionArn}", "Payload.$": "$"}});
        check(&task(LAMBDA_INVOKE, invoke), REGION).unwrap();
        // A FunctionName chosen at run time is left to the run.
        let dynamic = json!({"Parameters": {"FunctionName.$": "$.f"}});
        check(&task(LAMBDA_INVOKE, dynamic), REGION).unwrap();

        // What Workflow Studio exports: the deployed functions' own ARNs.
        let deployed = "arn:aws:lambda:eu-west-1:123456789012:function:Imagegen-NotifyUser-AbC";
        let err = check(&task(deployed, json!({})), REGION).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!(
                "calls {deployed} in state 'Call', but that is not one of the pipeline's functions"
            )),
            "{text}"
        );
        assert!(text.contains("${NotifyUserFunctionArn}"), "{text}");
        let invoke = json!({"Arguments": {"FunctionName": deployed}, "QueryLanguage": "JSONata"});
        let result = check(&task(LAMBDA_INVOKE, invoke), REGION);
        assert!(
            matches!(result, Err(DefinitionError::UnknownResource { .. })),
            "{result:?}"
        );
        let invoke = json!({"Parameters": {"FunctionName": deployed, "Payload.$": "$"}});
        let result = check(&task(LAMBDA_INVOKE, invoke), REGION);
        assert!(
            matches!(result, Err(DefinitionError::UnknownResource { .. })),
            "{result:?}"
        );
        let sns = "arn:aws:states:::sns:publish";
        assert!(matches!(
            check(&task(sns, json!({})), REGION),
            Err(DefinitionError::UnknownResource { resource, .. }) if resource == sns
        ));
    }

    #[test]
    fn tasks_inside_parallel_and_map_are_checked() {
        let inner = json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:x", "End": true}}});
        let parallel = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [inner], "End": true}}});
        let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": inner, "End": true}}});
        for definition in [parallel, map] {
            assert!(matches!(
                check(&definition.to_string(), REGION),
                Err(DefinitionError::UnknownResource { state, .. }) if state == "T"
            ));
        }
    }

    #[test]
    fn a_placeholder_the_pipeline_does_not_fill_is_named_with_those_it_does() {
        let err = check(&task("${MyFunctionArn}", json!({})), REGION).unwrap_err();
        assert_eq!(
            err.to_string(),
            "uses the placeholder ${MyFunctionArn} (at /States/Call/Resource), which the local \
             pipeline does not fill; it fills ${ValidatePromptFunctionArn}, \
             ${ReserveModelSlotFunctionArn}, ${GenerateImageFunctionArn}, \
             ${GenerateThumbnailsFunctionArn}, ${NotifyUserFunctionArn}"
        );
    }

    #[test]
    fn invalid_asl_says_where() {
        let err = check(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#,
            REGION,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "is not a valid state machine: state 'A', field 'Next': no state named 'B'"
        );
    }
}
