//! Physical names and ids, and what `Ref` and `Fn::GetAtt` return for each resource type, as
//! CloudFormation returns them (the "Return values" section of each type's reference page).
//!
//! A resource with an explicit name (`BucketName`, `QueueName`, ...) keeps it; any other gets a
//! name shaped like CloudFormation's `<stack>-<logicalId>-<SUFFIX>`, where the suffix is a hash of
//! the stack and logical id instead of random, so the same template names the same things in
//! every rehearsal.

use super::intrinsics::{PARTITION, URL_SUFFIX, to_text};
use super::{Stack, TemplateError};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The property that names a resource of each type, and the longest name the service takes.
/// Generated names of S3 buckets are lower case, as bucket names must be.
const NAMES: &[(&str, &str, usize)] = &[
    ("AWS::S3::Bucket", "BucketName", 63),
    ("AWS::SQS::Queue", "QueueName", 80),
    ("AWS::SNS::Topic", "TopicName", 256),
    ("AWS::DynamoDB::Table", "TableName", 255),
    ("AWS::StepFunctions::StateMachine", "StateMachineName", 80),
    ("AWS::IAM::Role", "RoleName", 64),
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName", 128),
    ("AWS::IAM::Policy", "PolicyName", 128),
    ("AWS::Lambda::Function", "FunctionName", 64),
    ("AWS::Events::Rule", "Name", 64),
    ("AWS::Logs::LogGroup", "LogGroupName", 512),
    ("AWS::CloudWatch::Alarm", "AlarmName", 255),
    ("AWS::ApiGateway::Stage", "StageName", 128),
];

/// Every resource's generated name (explicit names replace them: [`explicit_names`]).
pub(super) fn generated_names(stack: &Stack<'_>) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for r in stack.template.resources() {
        let max = NAMES
            .iter()
            .find(|(kind, ..)| *kind == r.kind)
            .map_or(128, |(.., max)| *max);
        names.insert(
            r.logical_id.to_owned(),
            generated(stack.name(), r.logical_id, r.kind, max),
        );
    }
    names
}

/// The explicit names of the created resources, resolved against the names known so far. A name
/// may name another resource (`Fn::Sub: ${Other}-dlq`), so the stack resolves them a few times
/// over until they settle; reading names from a map, never resolving one inside another, keeps a
/// circular template from recursing.
pub(super) fn explicit_names(stack: &Stack<'_>) -> Result<BTreeMap<String, String>, TemplateError> {
    let mut names = BTreeMap::new();
    for r in stack.created() {
        if let Some(name) = explicit_name(stack, r.logical_id)? {
            names.insert(r.logical_id.to_owned(), name);
        }
    }
    Ok(names)
}

/// The explicit name of a resource, resolved, if its type has a name property and it is set.
fn explicit_name(stack: &Stack<'_>, logical_id: &str) -> Result<Option<String>, TemplateError> {
    let Some(r) = stack.template.resource(logical_id) else {
        return Ok(None);
    };
    let Some((_, property, _)) = NAMES.iter().find(|(kind, ..)| *kind == r.kind) else {
        return Ok(None);
    };
    let Some(value) = r.properties.get(*property) else {
        return Ok(None);
    };
    let value = stack
        .resolve(value)
        .map_err(|e| e.in_section(format!("Resources.{logical_id}.Properties.{property}")))?;
    Ok(Some(to_text(&value)).filter(|s| !s.is_empty()))
}

/// `<stack>-<logicalId>-<SUFFIX>` cut to `max` characters (the stack and logical id shortened
/// first, as CloudFormation does), lower case for buckets.
fn generated(stack: &str, logical_id: &str, kind: &str, max: usize) -> String {
    let suffix = suffix(&format!("{stack}/{logical_id}"), 12);
    let room = max.saturating_sub(suffix.len() + 2);
    let stack_part: String = stack.chars().take(room / 2).collect();
    let logical_part: String = logical_id
        .chars()
        .take(room.saturating_sub(stack_part.len()))
        .collect();
    let name = format!("{stack_part}-{logical_part}-{suffix}");
    if kind == "AWS::S3::Bucket" {
        name.to_ascii_lowercase()
    } else {
        name
    }
}

/// `len` upper-case letters and digits from a hash of `seed`.
fn suffix(seed: &str, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    Sha256::digest(seed.as_bytes())
        .iter()
        .take(len)
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// A UUID-shaped id from a hash of `seed` (KMS key ids, event source mapping UUIDs).
fn uuid_like(seed: &str) -> String {
    let hex: String = Sha256::digest(seed.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A short lower-case id (API Gateway's REST API, resource and deployment ids).
fn short_id(seed: &str, len: usize) -> String {
    suffix(seed, len).to_ascii_lowercase()
}

/// `AWS::StackId`.
pub(super) fn stack_id(stack: &Stack<'_>) -> String {
    format!(
        "arn:{PARTITION}:cloudformation:{}:{}:stack/{}/{}",
        stack.region(),
        stack.account(),
        stack.name(),
        uuid_like(&format!("stack/{}", stack.name()))
    )
}

/// What a resource is called: its explicit name, else the generated one.
pub(super) fn name_of(stack: &Stack<'_>, logical_id: &str) -> Result<String, TemplateError> {
    Ok(stack
        .names
        .get(logical_id)
        .cloned()
        .unwrap_or_else(|| logical_id.to_owned()))
}

/// The resource, or an error if it is not in the template or not created.
fn created<'t>(stack: &Stack<'t>, logical_id: &str) -> Result<super::Resource<'t>, TemplateError> {
    let r = stack
        .template
        .resource(logical_id)
        .ok_or_else(|| TemplateError::UnknownReference {
            name: logical_id.into(),
        })?;
    if let Some(condition) = r.condition
        && !stack.condition(condition)?
    {
        return Err(TemplateError::NotCreated {
            logical_id: logical_id.into(),
            condition: condition.into(),
        });
    }
    Ok(r)
}

/// `Ref` of a resource.
pub(super) fn reference(stack: &Stack<'_>, logical_id: &str) -> Result<Value, TemplateError> {
    let r = created(stack, logical_id)?;
    let attr = match r.kind {
        "AWS::SQS::Queue" => "QueueUrl",
        "AWS::SNS::Topic" => "TopicArn",
        "AWS::StepFunctions::StateMachine" => "Arn",
        "AWS::IAM::ManagedPolicy" => "PolicyArn",
        "AWS::KMS::Key" => "KeyId",
        "AWS::Lambda::EventSourceMapping" => "Id",
        "AWS::ApiGateway::RestApi" => "RestApiId",
        "AWS::ApiGateway::Resource" => "ResourceId",
        "AWS::ApiGateway::Deployment" => "DeploymentId",
        "AWS::SNS::Subscription" => "SubscriptionArn",
        _ => return Ok(Value::String(name_of(stack, logical_id)?)),
    };
    attribute(stack, logical_id, attr)
}

/// `Fn::GetAtt` of a resource, for the attributes of the types the rehearsal knows.
pub(super) fn attribute(
    stack: &Stack<'_>,
    logical_id: &str,
    attribute: &str,
) -> Result<Value, TemplateError> {
    let r = created(stack, logical_id)?;
    let (region, account) = (stack.region(), stack.account());
    let name = || name_of(stack, logical_id);
    let seed = format!("{}/{logical_id}", stack.name());
    let text = match (r.kind, attribute) {
        ("AWS::S3::Bucket", "Arn") => format!("arn:{PARTITION}:s3:::{}", name()?),
        ("AWS::S3::Bucket", "DomainName") => format!("{}.s3.{URL_SUFFIX}", name()?),
        ("AWS::S3::Bucket", "RegionalDomainName") => {
            format!("{}.s3.{region}.{URL_SUFFIX}", name()?)
        }
        ("AWS::S3::Bucket", "WebsiteURL") => {
            format!("http://{}.s3-website-{region}.{URL_SUFFIX}", name()?)
        }
        ("AWS::SQS::Queue", "Arn") => format!("arn:{PARTITION}:sqs:{region}:{account}:{}", name()?),
        ("AWS::SQS::Queue", "QueueName") => name()?,
        ("AWS::SQS::Queue", "QueueUrl") => match &stack.options().endpoint {
            // The twin's SQS answers GetQueueUrl with this shape.
            Some(endpoint) => format!("{}/{account}/{}", endpoint.trim_end_matches('/'), name()?),
            None => format!("https://sqs.{region}.{URL_SUFFIX}/{account}/{}", name()?),
        },
        ("AWS::SNS::Topic", "TopicArn") => {
            format!("arn:{PARTITION}:sns:{region}:{account}:{}", name()?)
        }
        ("AWS::SNS::Topic", "TopicName") => name()?,
        ("AWS::SNS::Subscription", "SubscriptionArn" | "Arn") => {
            let topic = stack.resolve(r.properties.get("TopicArn").unwrap_or(&Value::Null))?;
            format!("{}:{}", to_text(&topic), uuid_like(&seed))
        }
        ("AWS::DynamoDB::Table", "Arn") => {
            format!(
                "arn:{PARTITION}:dynamodb:{region}:{account}:table/{}",
                name()?
            )
        }
        ("AWS::StepFunctions::StateMachine", "Arn") => {
            format!(
                "arn:{PARTITION}:states:{region}:{account}:stateMachine:{}",
                name()?
            )
        }
        ("AWS::StepFunctions::StateMachine", "Name") => name()?,
        ("AWS::IAM::Role", "Arn") => {
            let path = role_path(stack, r)?;
            format!("arn:{PARTITION}:iam::{account}:role{path}{}", name()?)
        }
        ("AWS::IAM::Role", "RoleId") => format!("AROA{}", suffix(&seed, 17)),
        ("AWS::IAM::ManagedPolicy", "PolicyArn") => {
            let path = role_path(stack, r)?;
            format!("arn:{PARTITION}:iam::{account}:policy{path}{}", name()?)
        }
        ("AWS::Lambda::Function", "Arn") => {
            format!(
                "arn:{PARTITION}:lambda:{region}:{account}:function:{}",
                name()?
            )
        }
        ("AWS::Lambda::EventSourceMapping", "Id") => uuid_like(&seed),
        ("AWS::Lambda::EventSourceMapping", "EventSourceMappingArn") => format!(
            "arn:{PARTITION}:lambda:{region}:{account}:event-source-mapping:{}",
            uuid_like(&seed)
        ),
        ("AWS::Events::Rule", "Arn") => {
            format!("arn:{PARTITION}:events:{region}:{account}:rule/{}", name()?)
        }
        ("AWS::KMS::Key", "KeyId") => uuid_like(&seed),
        ("AWS::KMS::Key", "Arn") => format!(
            "arn:{PARTITION}:kms:{region}:{account}:key/{}",
            uuid_like(&seed)
        ),
        ("AWS::Logs::LogGroup", "Arn") => {
            format!(
                "arn:{PARTITION}:logs:{region}:{account}:log-group:{}:*",
                name()?
            )
        }
        ("AWS::ApiGateway::RestApi", "RestApiId") => short_id(&seed, 10),
        ("AWS::ApiGateway::RestApi", "RootResourceId") => short_id(&format!("{seed}/"), 10),
        ("AWS::ApiGateway::Resource", "ResourceId") => short_id(&seed, 6),
        ("AWS::ApiGateway::Deployment", "DeploymentId") => short_id(&seed, 6),
        ("AWS::CloudWatch::Alarm", "Arn") => {
            format!(
                "arn:{PARTITION}:cloudwatch:{region}:{account}:alarm:{}",
                name()?
            )
        }
        (kind, _) => {
            return Err(TemplateError::UnknownAttribute {
                logical_id: logical_id.into(),
                kind: kind.into(),
                attribute: attribute.into(),
            });
        }
    };
    Ok(Value::String(text))
}

/// An IAM role's or managed policy's `Path` (`/` unless the template says otherwise).
fn role_path(stack: &Stack<'_>, r: super::Resource<'_>) -> Result<String, TemplateError> {
    match r.properties.get("Path") {
        Some(path) => Ok(to_text(&stack.resolve(path)?)),
        None => Ok("/".into()),
    }
}
