//! Values of allowed properties that the rehearsal still cannot reproduce (an authorizer other
//! than IAM, an integration other than Lambda proxy, a rule on another bus, ...).

use super::text;
use serde_json::{Map, Value};

type Found = (String, Option<String>);

fn refused(property: &str, why: impl Into<String>) -> Found {
    (property.to_owned(), Some(why.into()))
}

/// The keys of an object property outside `allowed`, each as `Property.Key`.
fn keys_outside(properties: &Map<String, Value>, property: &str, allowed: &[&str]) -> Vec<Found> {
    properties
        .get(property)
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| !allowed.contains(&k.as_str()))
        .map(|k| (format!("{property}.{k}"), None))
        .collect()
}

pub(super) fn check(kind: &str, p: &Map<String, Value>) -> Vec<Found> {
    let mut found = Vec::new();
    match kind {
        "AWS::Lambda::Function" => {
            if let Some(runtime) = text(p.get("Runtime"))
                && !runtime.starts_with("provided.")
            {
                found.push(refused(
                    "Runtime",
                    format!(
                        "is {runtime}: only custom runtimes (a bootstrap binary) are rehearsed"
                    ),
                ));
            }
        }
        "AWS::ApiGateway::Method" => {
            if let Some(auth) = text(p.get("AuthorizationType"))
                && !matches!(auth, "NONE" | "AWS_IAM")
            {
                found.push(refused(
                    "AuthorizationType",
                    format!("is {auth}: only NONE and AWS_IAM are rehearsed"),
                ));
            }
            let integration = p.get("Integration").and_then(|i| i.get("Type"));
            if let Some(t) = text(integration)
                && t != "AWS_PROXY"
            {
                found.push(refused(
                    "Integration.Type",
                    format!("is {t}: only Lambda proxy integrations (AWS_PROXY) are rehearsed"),
                ));
            }
        }
        "Custom::S3BucketNotifications" => {
            found.extend(keys_outside(
                p,
                "NotificationConfiguration",
                &["LambdaFunctionConfigurations"],
            ));
        }
        "AWS::Lambda::EventInvokeConfig" => {
            found.extend(keys_outside(p, "DestinationConfig", &["OnFailure"]));
        }
        "AWS::Events::Rule" => {
            if let Some(bus) = text(p.get("EventBusName"))
                && bus != "default"
            {
                found.push(refused(
                    "EventBusName",
                    format!("is {bus}: only the default event bus is rehearsed"),
                ));
            }
            for (i, target) in p
                .get("Targets")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                for key in target.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !matches!(
                        key.as_str(),
                        "Arn" | "Id" | "Input" | "InputPath" | "RetryPolicy" | "RoleArn"
                    ) {
                        found.push((format!("Targets[{i}].{key}"), None));
                    }
                }
            }
        }
        "AWS::KMS::Key" => {
            if let Some(spec) = text(p.get("KeySpec"))
                && spec != "SYMMETRIC_DEFAULT"
            {
                found.push(refused(
                    "KeySpec",
                    format!("is {spec}: only symmetric keys are rehearsed"),
                ));
            }
        }
        _ => {}
    }
    found
}
