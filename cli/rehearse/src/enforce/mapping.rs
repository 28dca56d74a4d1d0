//! A request as the endpoint read it ([`RequestFacts`]) to the [`Operation`] whose row in
//! [`crate::operations::TABLE`] says what it needs. The row is found by `SERVICE:OPERATION` (the
//! SigV4 service names of the services served here are their IAM prefixes too), and its resource
//! type says which request parameter names the resource; a request the table has no row for, or
//! whose resource cannot be read, is [`Mapped::Unknown`].

use imagegen_local::server::{Params, RequestFacts, S3Facts};
use serde_json::Value;

use crate::operations::{Operation, row_of};

/// What a request is, for authorisation.
#[derive(Debug, Clone, PartialEq)]
pub enum Mapped {
    Known(Operation),
    /// Not in the table, or its resource is not in the request: `why` says which.
    Unknown {
        why: String,
    },
}

/// Where the request's resources are: the stack's Region and account.
#[derive(Debug, Clone)]
pub struct Place {
    pub region: String,
    pub account: String,
}

/// The operation `facts` describe.
pub fn operation_of(facts: &RequestFacts, place: &Place) -> Mapped {
    let name = format!("{}:{}", facts.service, facts.operation);
    let Some(row) = row_of(&name) else {
        return Mapped::Unknown {
            why: format!("the rehearsal does not know the operation {name}"),
        };
    };
    let operation = match (&facts.params, row.resource) {
        (Params::S3(s3), _) => s3_operation(row.operation, s3),
        (Params::Json(body), "stateMachine") => {
            text(body, "stateMachineArn").map(|arn| on(row.operation, arn))
        }
        (Params::Json(body), "execution") => {
            text(body, "executionArn").map(|arn| on(row.operation, arn))
        }
        (Params::Json(body), "table") => text(body, "TableName").map(|name| {
            on(
                row.operation,
                format!(
                    "arn:aws:dynamodb:{}:{}:table/{name}",
                    place.region, place.account
                ),
            )
        }),
        (Params::Json(body), "queue") => queue_arn(body, place).map(|arn| on(row.operation, arn)),
        (Params::Query(fields), "topic") => fields
            .iter()
            .find(|(k, _)| k == "TopicArn" || k == "TargetArn")
            .map(|(_, arn)| on(row.operation, arn.clone())),
        // Bedrock is called in its own Region (the client's), whose model ARNs the policy names.
        (Params::Model { model_id }, _) => Some(Operation::InvokeModel {
            region: facts.region.clone().unwrap_or_else(|| place.region.clone()),
            account: place.account.clone(),
            model_id: model_id.clone(),
        }),
        _ => None,
    };
    match operation {
        Some(operation) => Mapped::Known(operation),
        None => Mapped::Unknown {
            why: format!(
                "the rehearsal cannot tell which {} {name} acts on",
                row.resource
            ),
        },
    }
}

fn on(operation: &'static str, arn: String) -> Operation {
    Operation::On { operation, arn }
}

fn text(body: &Value, field: &str) -> Option<String> {
    body.get(field)?.as_str().map(str::to_owned)
}

fn s3_operation(operation: &'static str, s3: &S3Facts) -> Option<Operation> {
    let bucket = s3.bucket.clone()?;
    match operation {
        "s3:ListObjectsV2" | "s3:ListObjects" => Some(Operation::ListObjects {
            bucket,
            prefix: s3.prefix.clone().unwrap_or_default(),
        }),
        "s3:CopyObject" => {
            let (source_bucket, source_key) = s3.copy_source.clone()?;
            Some(Operation::Copy {
                source_bucket,
                source_key,
                bucket,
                key: s3.key.clone()?,
            })
        }
        _ => Some(Operation::Object {
            operation,
            bucket,
            key: s3.key.clone()?,
        }),
    }
}

/// A queue's ARN from its URL (`http://HOST/ACCOUNT/NAME`, as the twin and AWS give it), or from
/// `GetQueueUrl`'s name (and owner).
fn queue_arn(body: &Value, place: &Place) -> Option<String> {
    let (account, name) = match text(body, "QueueUrl") {
        Some(url) => {
            let mut parts = url.trim_end_matches('/').rsplit('/');
            let name = parts.next()?.to_owned();
            (parts.next()?.to_owned(), name)
        }
        None => (
            text(body, "QueueOwnerAWSAccountId").unwrap_or_else(|| place.account.clone()),
            text(body, "QueueName")?,
        ),
    };
    Some(format!("arn:aws:sqs:{}:{account}:{name}", place.region))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn place() -> Place {
        Place {
            region: "us-east-1".into(),
            account: "000000000000".into(),
        }
    }

    fn facts(service: &str, operation: &str, params: Params) -> RequestFacts {
        RequestFacts {
            service: service.into(),
            operation: operation.into(),
            params,
            secure_transport: false,
            region: None,
        }
    }

    fn s3(operation: &str, key: Option<&str>) -> RequestFacts {
        facts(
            "s3",
            operation,
            Params::S3(S3Facts {
                bucket: Some("b".into()),
                key: key.map(str::to_owned),
                copy_source: Some(("b".into(), "prompts/p.txt".into())),
                prefix: Some("images/".into()),
                object_exists: None,
            }),
        )
    }

    fn known(facts: &RequestFacts) -> Operation {
        match operation_of(facts, &place()) {
            Mapped::Known(op) => op,
            Mapped::Unknown { why } => panic!("{why}"),
        }
    }

    #[test]
    fn s3_object_operations_name_their_object() {
        for op in [
            "GetObject",
            "HeadObject",
            "PutObject",
            "DeleteObject",
            "CreateMultipartUpload",
            "UploadPart",
            "CompleteMultipartUpload",
            "AbortMultipartUpload",
        ] {
            let operation = known(&s3(op, Some("images/0.png")));
            let Operation::Object {
                operation: name,
                bucket,
                key,
            } = operation
            else {
                panic!("{op}: {operation:?}")
            };
            assert_eq!(
                (name, bucket.as_str(), key.as_str()),
                (format!("s3:{op}").as_str(), "b", "images/0.png")
            );
        }
    }

    #[test]
    fn s3_listing_and_copy() {
        assert_eq!(
            known(&s3("ListObjectsV2", None)),
            Operation::ListObjects {
                bucket: "b".into(),
                prefix: "images/".into()
            }
        );
        assert_eq!(
            known(&s3("CopyObject", Some("images/0.png"))),
            Operation::Copy {
                source_bucket: "b".into(),
                source_key: "prompts/p.txt".into(),
                bucket: "b".into(),
                key: "images/0.png".into()
            }
        );
        assert!(matches!(
            operation_of(&s3("GetObject", None), &place()),
            Mapped::Unknown { .. }
        ));
    }

    #[test]
    fn step_functions_by_machine_or_execution() {
        let machine = "arn:aws:states:us-east-1:000000000000:stateMachine:m";
        let execution = "arn:aws:states:us-east-1:000000000000:execution:m:e";
        for op in ["StartExecution", "ListExecutions"] {
            let body = Params::Json(json!({"stateMachineArn": machine}));
            assert_eq!(
                known(&facts("states", op, body)),
                Operation::On {
                    operation: row_of(&format!("states:{op}")).unwrap().operation,
                    arn: machine.into()
                }
            );
        }
        for op in ["DescribeExecution", "StopExecution", "GetExecutionHistory"] {
            let body = Params::Json(json!({"executionArn": execution}));
            let Operation::On { arn, .. } = known(&facts("states", op, body)) else {
                panic!("{op}")
            };
            assert_eq!(arn, execution);
        }
    }

    #[test]
    fn sns_sqs_dynamodb_and_bedrock() {
        let topic = "arn:aws:sns:us-east-1:000000000000:t";
        let publish = facts(
            "sns",
            "Publish",
            Params::Query(vec![
                ("Action".into(), "Publish".into()),
                ("TopicArn".into(), topic.into()),
            ]),
        );
        assert_eq!(
            known(&publish),
            Operation::On {
                operation: "sns:Publish",
                arn: topic.into()
            }
        );
        let url = json!({"QueueUrl": "http://127.0.0.1:4566/000000000000/jobs"});
        for op in ["SendMessage", "ReceiveMessage", "DeleteMessage"] {
            let Operation::On { operation, arn } =
                known(&facts("sqs", op, Params::Json(url.clone())))
            else {
                panic!("{op}")
            };
            assert_eq!(operation, format!("sqs:{op}"));
            assert_eq!(arn, "arn:aws:sqs:us-east-1:000000000000:jobs");
        }
        for op in ["UpdateItem", "GetItem", "PutItem"] {
            let Operation::On { arn, .. } = known(&facts(
                "dynamodb",
                op,
                Params::Json(json!({"TableName": "slots"})),
            )) else {
                panic!("{op}")
            };
            assert_eq!(arn, "arn:aws:dynamodb:us-east-1:000000000000:table/slots");
        }
        let invoke = facts(
            "bedrock",
            "InvokeModel",
            Params::Model {
                model_id: "stability.stable-image-core-v1:1".into(),
            },
        );
        assert_eq!(
            known(&invoke),
            Operation::InvokeModel {
                region: "us-east-1".into(),
                account: "000000000000".into(),
                model_id: "stability.stable-image-core-v1:1".into()
            }
        );
    }

    #[test]
    fn what_the_table_does_not_know_is_unknown() {
        let Mapped::Unknown { why } = operation_of(
            &facts("sqs", "PurgeQueue", Params::Json(json!({}))),
            &place(),
        ) else {
            panic!()
        };
        assert_eq!(
            why,
            "the rehearsal does not know the operation sqs:PurgeQueue"
        );
        let Mapped::Unknown { why } =
            operation_of(&facts("sns", "Publish", Params::Query(vec![])), &place())
        else {
            panic!()
        };
        assert!(why.contains("which topic"), "{why}");
    }
}
