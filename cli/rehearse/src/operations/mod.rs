//! Which permission each operation the pipeline uses needs: the IAM action(s), the resource ARN(s)
//! and the condition keys, as the Service Authorization Reference lists them
//! (`/work/shared/design/rehearse.md` has the sources). The facts live in [`TABLE`]; an
//! [`Operation`] names its row and carries the resource it acts on.

mod bedrock;

pub use bedrock::{InferenceProfile, foundation_model_arn, profile_destinations};

/// A condition-key value of a request.
#[derive(Debug, Clone, PartialEq)]
pub enum ContextValue {
    Text(String),
    Bool(bool),
    Number(f64),
    List(Vec<String>),
}

/// One permission a request needs: all of an operation's requirements must be allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub action: &'static str,
    pub resource: String,
    /// Condition keys this operation sets (`s3:prefix`, `kms:ViaService`, ...), on top of the
    /// request-wide ones (`aws:SecureTransport`, `aws:SourceArn`).
    pub context: Vec<(String, ContextValue)>,
}

/// One row of the Service Authorization Reference as the rehearsal uses it.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// `s3:GetObject` as the API names the operation (`GetObject`), with its service prefix.
    pub operation: &'static str,
    /// The actions it needs, each on the resource below.
    pub actions: &'static [&'static str],
    /// The resource type, as the reference names it.
    pub resource: &'static str,
    /// The condition keys the rehearsal sets for it.
    pub condition_keys: &'static [&'static str],
}

/// The operations the pipeline, its functions and the person at the AWS CLI use.
pub const TABLE: &[Row] = &[
    // HeadObject is authorised as s3:GetObject; without s3:ListBucket on the bucket, a GetObject
    // or HeadObject of a missing key is 403 AccessDenied, not 404 (see `missing_key_needs`).
    row("s3:GetObject", &["s3:GetObject"], "object", &[]),
    row("s3:HeadObject", &["s3:GetObject"], "object", &[]),
    row("s3:PutObject", &["s3:PutObject"], "object", &[]),
    row("s3:DeleteObject", &["s3:DeleteObject"], "object", &[]),
    // A multipart upload's steps are authorised as the PutObject they make up.
    row("s3:CreateMultipartUpload", &["s3:PutObject"], "object", &[]),
    row("s3:UploadPart", &["s3:PutObject"], "object", &[]),
    row(
        "s3:CompleteMultipartUpload",
        &["s3:PutObject"],
        "object",
        &[],
    ),
    row(
        "s3:AbortMultipartUpload",
        &["s3:AbortMultipartUpload"],
        "object",
        &[],
    ),
    // The first action on the source object, the second on the destination (`Operation::Copy`).
    row(
        "s3:CopyObject",
        &["s3:GetObject", "s3:PutObject"],
        "object",
        &[],
    ),
    row(
        "s3:ListObjectsV2",
        &["s3:ListBucket"],
        "bucket",
        &["s3:prefix"],
    ),
    row(
        "s3:ListObjects",
        &["s3:ListBucket"],
        "bucket",
        &["s3:prefix"],
    ),
    row("sns:Publish", &["sns:Publish"], "topic", &[]),
    row("sqs:SendMessage", &["sqs:SendMessage"], "queue", &[]),
    row("sqs:SendMessageBatch", &["sqs:SendMessage"], "queue", &[]),
    row("sqs:ReceiveMessage", &["sqs:ReceiveMessage"], "queue", &[]),
    row("sqs:DeleteMessage", &["sqs:DeleteMessage"], "queue", &[]),
    row(
        "sqs:DeleteMessageBatch",
        &["sqs:DeleteMessage"],
        "queue",
        &[],
    ),
    row(
        "sqs:ChangeMessageVisibility",
        &["sqs:ChangeMessageVisibility"],
        "queue",
        &[],
    ),
    row(
        "sqs:GetQueueAttributes",
        &["sqs:GetQueueAttributes"],
        "queue",
        &[],
    ),
    row("sqs:GetQueueUrl", &["sqs:GetQueueUrl"], "queue", &[]),
    row("dynamodb:GetItem", &["dynamodb:GetItem"], "table", &[]),
    row("dynamodb:PutItem", &["dynamodb:PutItem"], "table", &[]),
    row(
        "dynamodb:UpdateItem",
        &["dynamodb:UpdateItem"],
        "table",
        &[],
    ),
    row(
        "dynamodb:DeleteItem",
        &["dynamodb:DeleteItem"],
        "table",
        &[],
    ),
    row(
        "states:StartExecution",
        &["states:StartExecution"],
        "stateMachine",
        &[],
    ),
    row(
        "states:ListExecutions",
        &["states:ListExecutions"],
        "stateMachine",
        &[],
    ),
    row(
        "states:DescribeExecution",
        &["states:DescribeExecution"],
        "execution",
        &[],
    ),
    row(
        "states:GetExecutionHistory",
        &["states:GetExecutionHistory"],
        "execution",
        &[],
    ),
    row(
        "states:StopExecution",
        &["states:StopExecution"],
        "execution",
        &[],
    ),
    // Task tokens: the CDK's grantTaskResponse grants these on the state machine.
    row(
        "states:SendTaskSuccess",
        &["states:SendTaskSuccess"],
        "stateMachine",
        &[],
    ),
    row(
        "states:SendTaskFailure",
        &["states:SendTaskFailure"],
        "stateMachine",
        &[],
    ),
    row(
        "states:SendTaskHeartbeat",
        &["states:SendTaskHeartbeat"],
        "stateMachine",
        &[],
    ),
    row("lambda:Invoke", &["lambda:InvokeFunction"], "function", &[]),
    // A foundation model by id: its ARN has no account. An inference profile: the profile's ARN
    // and the foundation model in every Region it routes to (Bedrock user guide, "Prerequisites
    // for inference profiles").
    row(
        "bedrock:InvokeModel",
        &["bedrock:InvokeModel"],
        "foundation-model or inference-profile",
        &[],
    ),
    // A KMS-encrypted queue or topic: its senders need GenerateDataKey (and Decrypt for SNS), its
    // readers Decrypt, each through the service (kms:ViaService) for its encryption context.
    row(
        "kms:GenerateDataKey",
        &["kms:GenerateDataKey"],
        "key",
        KMS_KEYS,
    ),
    row("kms:Decrypt", &["kms:Decrypt"], "key", KMS_KEYS),
    row(
        "execute-api:Invoke",
        &["execute-api:Invoke"],
        "execute-api-general",
        &[],
    ),
];

/// What an operation on a topic or queue encrypted with a KMS key of the account needs of the
/// key: the service calls KMS with the caller's credentials (`kms:ViaService`), so the caller's
/// policies and the key policy must allow each action (see [`Operation::key_use`]).
///
/// - SNS ("Managing Amazon SNS encryption keys and costs"): publishers to an encrypted topic need
///   `kms:GenerateDataKey*` and `kms:Decrypt`; SNS calls `GenerateDataKey`.
/// - SQS ("Amazon SQS Key management", and the Service Authorization Reference's dependent
///   actions): a producer needs `kms:GenerateDataKey` and `kms:Decrypt`, a consumer `kms:Decrypt`.
///
/// SQS reuses a data key for `KmsDataKeyReusePeriodSeconds` per caller, so AWS may let a
/// revoked caller on for that long; the rehearsal asks KMS every time.
pub const KEY_USE: &[(&str, &[&str])] = &[
    ("sns:Publish", &["kms:GenerateDataKey", "kms:Decrypt"]),
    ("sqs:SendMessage", &["kms:GenerateDataKey", "kms:Decrypt"]),
    (
        "sqs:SendMessageBatch",
        &["kms:GenerateDataKey", "kms:Decrypt"],
    ),
    ("sqs:ReceiveMessage", &["kms:Decrypt"]),
];

const KMS_KEYS: &[&str] = &[
    "kms:ViaService",
    "kms:EncryptionContext:aws:sqs:arn",
    "kms:EncryptionContext:aws:sns:topicArn",
];

const fn row(
    operation: &'static str,
    actions: &'static [&'static str],
    resource: &'static str,
    condition_keys: &'static [&'static str],
) -> Row {
    Row {
        operation,
        actions,
        resource,
        condition_keys,
    }
}

/// The row of `operation` (`s3:HeadObject`).
pub fn row_of(operation: &str) -> Option<&'static Row> {
    TABLE.iter().find(|r| r.operation == operation)
}

/// An operation on one resource: the row it takes its actions from, and the resource's ARN(s).
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// `s3:GetObject`, `s3:HeadObject`, `s3:PutObject`, `s3:DeleteObject`.
    Object {
        operation: &'static str,
        bucket: String,
        key: String,
    },
    /// `s3:ListObjectsV2` with its prefix (the `s3:prefix` condition key).
    ListObjects { bucket: String, prefix: String },
    /// `s3:CopyObject`: its row's first action on the source, the second on the destination.
    Copy {
        source_bucket: String,
        source_key: String,
        bucket: String,
        key: String,
    },
    /// An operation on the resource with this ARN (topic, queue, table, state machine, execution,
    /// function, API route): `sns:Publish`, `dynamodb:UpdateItem`, `lambda:Invoke`, ...
    On {
        operation: &'static str,
        arn: String,
    },
    /// `bedrock:InvokeModel` with a model id as the caller gives it (a foundation model's, or a
    /// system-defined inference profile's such as `us.stability.stable-image-core-v1:1`), in
    /// Bedrock's Region.
    InvokeModel {
        region: String,
        account: String,
        model_id: String,
    },
    /// `kms:GenerateDataKey` / `kms:Decrypt` on a key, through the SQS queue or SNS topic it
    /// encrypts (`kms:ViaService` and that service's encryption context).
    KeyThrough {
        operation: &'static str,
        key_arn: String,
        through: Through,
        region: String,
    },
}

/// The service a KMS request comes through, and its resource's ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Through {
    /// A queue: encryption context `aws:sqs:arn`.
    Queue(String),
    /// A topic: encryption context `aws:sns:topicArn`.
    Topic(String),
}

impl Operation {
    /// The row this operation takes its actions from.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Object { operation, .. }
            | Self::On { operation, .. }
            | Self::KeyThrough { operation, .. } => operation,
            Self::ListObjects { .. } => "s3:ListObjectsV2",
            Self::Copy { .. } => "s3:CopyObject",
            Self::InvokeModel { .. } => "bedrock:InvokeModel",
        }
    }

    /// What this operation needs of `key_arn`, the key that encrypts its topic or queue, in
    /// `region` ([`KEY_USE`]); nothing for an operation that does not touch messages.
    pub fn key_use(&self, key_arn: &str, region: &str) -> Vec<Operation> {
        let Self::On { operation, arn } = self else {
            return Vec::new();
        };
        let Some((_, actions)) = KEY_USE.iter().find(|(name, _)| name == operation) else {
            return Vec::new();
        };
        let through = if operation.starts_with("sns:") {
            Through::Topic(arn.clone())
        } else {
            Through::Queue(arn.clone())
        };
        actions
            .iter()
            .map(|action| Self::KeyThrough {
                operation: action,
                key_arn: key_arn.to_owned(),
                through: through.clone(),
                region: region.to_owned(),
            })
            .collect()
    }

    /// Every permission the operation needs; all must be allowed. An operation missing from
    /// [`TABLE`] needs nothing the rehearsal knows, which a test forbids for every variant.
    pub fn requirements(&self) -> Vec<Requirement> {
        let actions = row_of(self.name()).map_or(&[][..], |r| r.actions);
        let each = |resource: String, context: Vec<(String, ContextValue)>| {
            actions
                .iter()
                .map(|action| Requirement {
                    action,
                    resource: resource.clone(),
                    context: context.clone(),
                })
                .collect::<Vec<_>>()
        };
        match self {
            Self::Object { bucket, key, .. } => each(object_arn(bucket, key), Vec::new()),
            Self::ListObjects { bucket, prefix } => each(
                bucket_arn(bucket),
                vec![("s3:prefix".into(), ContextValue::Text(prefix.clone()))],
            ),
            Self::On { arn, .. } => each(arn.clone(), Vec::new()),
            Self::Copy {
                source_bucket,
                source_key,
                bucket,
                key,
            } => {
                let source = object_arn(source_bucket, source_key);
                let destination = object_arn(bucket, key);
                actions
                    .iter()
                    .enumerate()
                    .map(|(i, action)| Requirement {
                        action,
                        resource: if i == 0 { &source } else { &destination }.clone(),
                        context: Vec::new(),
                    })
                    .collect()
            }
            Self::InvokeModel {
                region,
                account,
                model_id,
            } => {
                let (arns, profile) = bedrock::model_arns(region, account, model_id);
                let context: Vec<_> = profile
                    .map(|arn| {
                        (
                            "bedrock:InferenceProfileArn".into(),
                            ContextValue::Text(arn),
                        )
                    })
                    .into_iter()
                    .collect();
                arns.into_iter()
                    .flat_map(|arn| each(arn, context.clone()))
                    .collect()
            }
            Self::KeyThrough {
                key_arn,
                through,
                region,
                ..
            } => {
                let (service, context_key, arn) = match through {
                    Through::Queue(arn) => ("sqs", "kms:EncryptionContext:aws:sqs:arn", arn),
                    Through::Topic(arn) => ("sns", "kms:EncryptionContext:aws:sns:topicArn", arn),
                };
                each(
                    key_arn.clone(),
                    vec![
                        (
                            "kms:ViaService".into(),
                            ContextValue::Text(format!("{service}.{region}.amazonaws.com")),
                        ),
                        (context_key.into(), ContextValue::Text(arn.clone())),
                    ],
                )
            }
        }
    }
}

/// `arn:aws:s3:::BUCKET`
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// `arn:aws:s3:::BUCKET/KEY`
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// What answering a GetObject or HeadObject of a missing key needs: with `s3:ListBucket` on the
/// bucket S3 says 404 NoSuchKey, without it 403 AccessDenied (so the caller cannot learn which
/// keys exist).
pub fn missing_key_needs(bucket: &str) -> Requirement {
    Requirement {
        action: "s3:ListBucket",
        resource: bucket_arn(bucket),
        context: Vec::new(),
    }
}

/// `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH` (PATH without its leading `/`).
pub fn api_route_arn(
    region: &str,
    account: &str,
    api: &str,
    stage: &str,
    method: &str,
    path: &str,
) -> String {
    format!(
        "arn:aws:execute-api:{region}:{account}:{api}/{stage}/{method}/{}",
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests;
