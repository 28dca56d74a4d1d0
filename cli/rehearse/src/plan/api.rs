//! The REST API's routes: each method's full path (its resource's `PathPart`s up to the API's
//! root), authorization type and Lambda proxy target, on each stage that deploys the API.

use super::{PlanError, attribute, text};
use crate::template::Stack;
use serde_json::Value;
use std::collections::BTreeMap;

/// One method of the API on one stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub api_id: String,
    pub stage: String,
    /// `POST`, `GET`, `ANY`.
    pub method: String,
    /// `/images/{requestId}`
    pub path: String,
    /// `NONE` or `AWS_IAM`.
    pub authorization: String,
    /// The function the proxy integration invokes (from its `Uri`).
    pub function_arn: String,
}

pub(super) fn routes(stack: &Stack<'_>) -> Result<Vec<Route>, PlanError> {
    // Resource id -> (parent id, path part).
    let mut resources = BTreeMap::new();
    let mut roots = BTreeMap::new();
    for r in stack.created() {
        match r.kind {
            "AWS::ApiGateway::RestApi" => {
                let api = attribute(stack, r.logical_id, "RestApiId")?;
                roots.insert(attribute(stack, r.logical_id, "RootResourceId")?, api);
            }
            "AWS::ApiGateway::Resource" => {
                let p = stack.properties(r.logical_id)?;
                resources.insert(
                    attribute(stack, r.logical_id, "ResourceId")?,
                    (
                        text(&p, "ParentId").unwrap_or_default(),
                        text(&p, "PathPart").unwrap_or_default(),
                    ),
                );
            }
            _ => {}
        }
    }
    let mut stages: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in stack
        .created()
        .filter(|r| r.kind == "AWS::ApiGateway::Stage")
    {
        let p = stack.properties(r.logical_id)?;
        if let (Some(api), Some(stage)) = (text(&p, "RestApiId"), text(&p, "StageName")) {
            stages.entry(api).or_default().push(stage);
        }
    }
    let mut out = Vec::new();
    for r in stack
        .created()
        .filter(|r| r.kind == "AWS::ApiGateway::Method")
    {
        let id = r.logical_id;
        let p = stack.properties(id)?;
        let api = text(&p, "RestApiId").unwrap_or_default();
        let resource = text(&p, "ResourceId").unwrap_or_default();
        let path = path_of(&resource, &resources, &roots).ok_or_else(|| PlanError::Resource {
            logical_id: id.into(),
            why: "its ResourceId does not lead to its API's root resource".into(),
        })?;
        let uri = p
            .get("Integration")
            .and_then(|i| i.get("Uri"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        // arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations
        let function_arn = uri
            .split_once("/functions/")
            .map(|(_, rest)| rest.trim_end_matches("/invocations").to_owned())
            .unwrap_or_default();
        for stage in stages.get(&api).into_iter().flatten() {
            out.push(Route {
                api_id: api.clone(),
                stage: stage.clone(),
                method: text(&p, "HttpMethod").unwrap_or_default(),
                path: path.clone(),
                authorization: text(&p, "AuthorizationType").unwrap_or_else(|| "NONE".into()),
                function_arn: function_arn.clone(),
            });
        }
    }
    Ok(out)
}

/// `/a/{b}` for a resource id, walking parents to the root (at most 64 levels: a cycle is not a
/// path).
fn path_of(
    resource: &str,
    resources: &BTreeMap<String, (String, String)>,
    roots: &BTreeMap<String, String>,
) -> Option<String> {
    let mut parts = Vec::new();
    let mut current = resource.to_owned();
    for _ in 0..64 {
        if roots.contains_key(&current) {
            parts.reverse();
            return Some(format!("/{}", parts.join("/")));
        }
        let (parent, part) = resources.get(&current)?;
        parts.push(part.clone());
        current.clone_from(parent);
    }
    None
}
