//! The stack's policies, gathered by what they are attached to. AWS-managed policies a role names
//! in `ManagedPolicyArns` (`arn:aws:iam::aws:policy/...`) are not in the template, so they grant
//! nothing here; the README says so.

use super::statement::Statement;
use super::{Authorizer, IamError, PolicyKind, ResourcePolicy, Source};
use crate::template::Stack;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn source(kind: PolicyKind, logical_id: &str) -> Source {
    Source {
        kind,
        logical_id: logical_id.into(),
        sid: None,
        policy_arn: None,
    }
}

/// The statements of a policy document (`Statement` is an object or a list).
fn statements(
    document: Option<&Value>,
    source: &Source,
    identity: bool,
) -> Result<Vec<Statement>, IamError> {
    let list = match document.and_then(|d| d.get("Statement")) {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        _ => Vec::new(),
    };
    list.iter()
        .map(|s| Statement::compile(source.clone(), s, identity))
        .collect()
}

/// A trust policy names no `Resource` (the role is the resource); the matcher needs one.
fn trust_document(document: Option<&Value>) -> Option<Value> {
    let mut document = document?.clone();
    match document.get_mut("Statement") {
        Some(Value::Array(items)) => items.iter_mut().for_each(resource_star),
        Some(one) => resource_star(one),
        None => {}
    }
    Some(document)
}

fn resource_star(statement: &mut Value) {
    if let Some(s) = statement.as_object_mut()
        && !s.contains_key("Resource")
        && !s.contains_key("NotResource")
    {
        s.insert("Resource".into(), Value::String("*".into()));
    }
}

fn texts(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn text(stack: &Stack<'_>, logical_id: &str, attribute: &str) -> Result<String, IamError> {
    Ok(stack
        .attribute(logical_id, attribute)?
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

pub(super) fn collect(stack: &Stack<'_>) -> Result<Authorizer, IamError> {
    let account = stack.account().to_owned();
    // Role name -> ARN, and each role's identity statements.
    let mut role_arns = BTreeMap::new();
    let mut identity: BTreeMap<String, Vec<Statement>> = BTreeMap::new();
    let mut managed_arns: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut trust: BTreeMap<String, Vec<Statement>> = BTreeMap::new();
    for r in stack.created().filter(|r| r.kind == "AWS::IAM::Role") {
        let arn = text(stack, r.logical_id, "Arn")?;
        let name = stack.physical_name(r.logical_id)?;
        let p = stack.properties(r.logical_id)?;
        let mut own = Vec::new();
        for policy in p
            .get("Policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            own.extend(statements(
                policy.get("PolicyDocument"),
                &source(PolicyKind::Identity, r.logical_id),
                true,
            )?);
        }
        trust.insert(
            arn.clone(),
            statements(
                trust_document(p.get("AssumeRolePolicyDocument")).as_ref(),
                &source(PolicyKind::Resource, r.logical_id),
                false,
            )?,
        );
        managed_arns.insert(arn.clone(), texts(p.get("ManagedPolicyArns")));
        identity.insert(arn.clone(), own);
        role_arns.insert(name, arn);
    }
    let attach =
        |roles: &[String], list: &[Statement], identity: &mut BTreeMap<String, Vec<Statement>>| {
            for role in roles {
                // `Roles` holds role names (a Ref); an ARN is accepted too.
                let arn = role_arns.get(role).cloned().unwrap_or_else(|| role.clone());
                identity
                    .entry(arn)
                    .or_default()
                    .extend(list.iter().cloned());
            }
        };
    for r in stack.created() {
        let managed = match r.kind {
            "AWS::IAM::Policy" => false,
            "AWS::IAM::ManagedPolicy" => true,
            _ => continue,
        };
        let p = stack.properties(r.logical_id)?;
        let policy_arn = if managed {
            Some(text(stack, r.logical_id, "PolicyArn")?)
        } else {
            None
        };
        let list = statements(
            p.get("PolicyDocument"),
            &Source {
                policy_arn: policy_arn.clone(),
                ..source(PolicyKind::Identity, r.logical_id)
            },
            true,
        )?;
        attach(&texts(p.get("Roles")), &list, &mut identity);
        if let Some(policy_arn) = policy_arn {
            let holders: Vec<String> = managed_arns
                .iter()
                .filter(|(_, arns)| arns.contains(&policy_arn))
                .map(|(role, _)| role.clone())
                .collect();
            attach(&holders, &list, &mut identity);
        }
    }
    Ok(Authorizer {
        account: account.clone(),
        identity,
        trust,
        resources: resource_policies(stack)?,
        encryption: super::encryption::keys(stack)?,
        administrator: statements(
            Some(&json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})),
            &source(PolicyKind::Identity, "Administrator"),
            true,
        )?,
    })
}

fn resource_policies(stack: &Stack<'_>) -> Result<Vec<ResourcePolicy>, IamError> {
    let mut by_arn: BTreeMap<String, ResourcePolicy> = BTreeMap::new();
    let mut add = |arn: String, is_bucket: bool, is_key: bool, list: Vec<Statement>| {
        by_arn
            .entry(arn.clone())
            .or_insert_with(|| ResourcePolicy {
                arn,
                is_bucket,
                is_key,
                statements: Vec::new(),
            })
            .statements
            .extend(list);
    };
    let queue_urls = queue_arns_by_url(stack)?;
    for r in stack.created() {
        let id = r.logical_id;
        let src = source(PolicyKind::Resource, id);
        match r.kind {
            "AWS::S3::BucketPolicy" => {
                let p = stack.properties(id)?;
                let bucket = p.get("Bucket").and_then(Value::as_str).unwrap_or_default();
                let list = statements(p.get("PolicyDocument"), &src, false)?;
                add(format!("arn:aws:s3:::{bucket}"), true, false, list);
            }
            "AWS::SNS::TopicPolicy" => {
                let p = stack.properties(id)?;
                for topic in texts(p.get("Topics")) {
                    let list = statements(p.get("PolicyDocument"), &src, false)?;
                    add(topic, false, false, list);
                }
            }
            "AWS::SQS::QueuePolicy" => {
                let p = stack.properties(id)?;
                for url in texts(p.get("Queues")) {
                    let arn = queue_urls.get(&url).cloned().unwrap_or(url);
                    let list = statements(p.get("PolicyDocument"), &src, false)?;
                    add(arn, false, false, list);
                }
            }
            "AWS::KMS::Key" => {
                let p = stack.properties(id)?;
                let list = statements(p.get("KeyPolicy"), &src, false)?;
                add(text(stack, id, "Arn")?, false, true, list);
            }
            "AWS::Lambda::Permission" => {
                let p = stack.properties(id)?;
                let function = function_arn(stack, p.get("FunctionName"));
                let statement = permission_statement(&p, &function);
                add(
                    function,
                    false,
                    false,
                    vec![Statement::compile(src, &statement, false)?],
                );
            }
            _ => {}
        }
    }
    Ok(by_arn.into_values().collect())
}

fn queue_arns_by_url(stack: &Stack<'_>) -> Result<BTreeMap<String, String>, IamError> {
    let mut map = BTreeMap::new();
    for q in stack.created().filter(|r| r.kind == "AWS::SQS::Queue") {
        map.insert(
            text(stack, q.logical_id, "QueueUrl")?,
            text(stack, q.logical_id, "Arn")?,
        );
    }
    Ok(map)
}

/// A permission's `FunctionName` (a name, an ARN or a partial ARN) as the function's ARN.
fn function_arn(stack: &Stack<'_>, name: Option<&Value>) -> String {
    let name = name.and_then(Value::as_str).unwrap_or_default();
    if name.starts_with("arn:") {
        return name.to_owned();
    }
    format!(
        "arn:aws:lambda:{}:{}:function:{name}",
        stack.region(),
        stack.account()
    )
}

/// An `AWS::Lambda::Permission` as the statement Lambda adds to the function's resource policy:
/// `SourceArn` becomes `ArnLike aws:SourceArn`, `SourceAccount` `StringEquals aws:SourceAccount`.
fn permission_statement(p: &serde_json::Map<String, Value>, function: &str) -> Value {
    let principal = p
        .get("Principal")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let principal = if principal == "*" {
        json!("*")
    } else if principal.ends_with(".amazonaws.com") {
        json!({"Service": principal})
    } else {
        json!({"AWS": principal})
    };
    let mut condition = serde_json::Map::new();
    if let Some(arn) = p.get("SourceArn") {
        condition.insert("ArnLike".into(), json!({"aws:SourceArn": arn}));
    }
    if let Some(account) = p.get("SourceAccount") {
        condition.insert("StringEquals".into(), json!({"aws:SourceAccount": account}));
    }
    let mut statement = json!({
        "Effect": "Allow",
        "Principal": principal,
        "Action": p.get("Action").cloned().unwrap_or(Value::Null),
        "Resource": function,
    });
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    statement
}
