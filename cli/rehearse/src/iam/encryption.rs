//! Which KMS key encrypts each topic and queue of the stack: its `KmsMasterKeyId`, as the ARN of
//! the key whose key policy decides. The property takes a key ARN (what `Fn::GetAtt [Key, Arn]`
//! gives), a key id (`Ref` of a key), an alias name or an alias ARN (CloudFormation's
//! `AWS::SNS::Topic` and `AWS::SQS::Queue` reference).

use std::collections::BTreeMap;

use serde_json::Value;

use super::IamError;
use crate::template::Stack;

/// The encrypting key's ARN by the topic's or queue's ARN.
pub(super) fn keys(stack: &Stack<'_>) -> Result<BTreeMap<String, String>, IamError> {
    let mut keys = BTreeMap::new();
    for r in stack.created() {
        let arn_attribute = match r.kind {
            "AWS::SNS::Topic" => "TopicArn",
            "AWS::SQS::Queue" => "Arn",
            _ => continue,
        };
        let properties = stack.properties(r.logical_id)?;
        let Some(id) = properties.get("KmsMasterKeyId").and_then(Value::as_str) else {
            continue;
        };
        if let Some(key) = key_arn(stack, id)? {
            let arn = stack.attribute(r.logical_id, arn_attribute)?;
            keys.insert(arn.as_str().unwrap_or_default().to_owned(), key);
        }
    }
    Ok(keys)
}

/// The key a `KmsMasterKeyId` names. `None` for the service's AWS managed key (`alias/aws/sns`,
/// `alias/aws/sqs`): its key policy, which nobody can edit, allows every principal of the account
/// that may use the service, so it adds nothing to authorise.
fn key_arn(stack: &Stack<'_>, id: &str) -> Result<Option<String>, IamError> {
    let alias = id
        .strip_prefix("alias/")
        .map(|_| id)
        .or_else(|| id.split_once(":alias/").map(|(_, name)| name));
    let Some(alias) = alias.map(|name| name.trim_start_matches("alias/")) else {
        return Ok(Some(if id.starts_with("arn:") {
            id.to_owned()
        } else {
            format!(
                "arn:aws:kms:{}:{}:key/{id}",
                stack.region(),
                stack.account()
            )
        }));
    };
    if alias.starts_with("aws/") {
        return Ok(None);
    }
    // An alias of the stack's own key is that key; any other stays the alias's ARN, whose key
    // policy the template does not hold (the caller's identity policies alone decide).
    for r in stack.created().filter(|r| r.kind == "AWS::KMS::Alias") {
        let p = stack.properties(r.logical_id)?;
        let name = p
            .get("AliasName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if name.trim_start_matches("alias/") == alias
            && let Some(target) = p.get("TargetKeyId").and_then(Value::as_str)
            && !target.contains("alias/")
        {
            return key_arn(stack, target);
        }
    }
    Ok(Some(format!(
        "arn:aws:kms:{}:{}:alias/{alias}",
        stack.region(),
        stack.account()
    )))
}
