//! Authorisation of each operation the pipeline uses: allowed, denied by absence, denied
//! explicitly, and the condition keys that decide.

use super::*;
use crate::operations::{Operation, Through, missing_key_needs};
use crate::template::{StackOptions, Template};
use serde_json::json;

const ACCOUNT: &str = imagegen_statemachine::ACCOUNT_ID;

/// A bucket with a TLS-only policy, a topic, a KMS-encrypted queue, a table, a state machine, two
/// functions and their roles: the pipeline's shapes in small.
fn template() -> Template {
    Template::from_value(json!({"Resources": {
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "store"}},
        "BucketPolicy": {"Type": "AWS::S3::BucketPolicy", "Properties": {
            "Bucket": {"Ref": "Bucket"},
            "PolicyDocument": {"Statement": [{
                "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}]
            }, {
                "Sid": "NoThumbnailDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
                "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/thumbnails/*"]]}
            }]}
        }},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "results"}},
        "TopicPolicy": {"Type": "AWS::SNS::TopicPolicy", "Properties": {
            "Topics": [{"Ref": "Topic"}],
            "PolicyDocument": {"Statement": [{
                "Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": {"Ref": "Topic"},
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }]}
        }},
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [{
            "Effect": "Allow", "Action": "kms:*", "Resource": "*",
            "Principal": {"AWS": {"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]}}
        }]}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "prompts", "KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}},
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "slots"}},
        "Machine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"StateMachineName": "pipeline"}},
        "Generate": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "generate"}},
        "Start": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "start"}},
        "S3CanInvokeStart": {"Type": "AWS::Lambda::Permission", "Properties": {
            "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Start", "Arn"]},
            "Principal": "s3.amazonaws.com", "SourceAccount": {"Ref": "AWS::AccountId"},
            "SourceArn": {"Fn::GetAtt": ["Bucket", "Arn"]}
        }},
        "GenerateRole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "generate-role", "Policies": [{
            "PolicyName": "inline",
            "PolicyDocument": {"Statement": [{
                "Sid": "InvokeConfiguredModels", "Effect": "Allow", "Action": "bedrock:InvokeModel",
                "Resource": "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1"
            }]}
        }]}},
        "GenerateRolePolicy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "default", "Roles": [{"Ref": "GenerateRole"}],
            "PolicyDocument": {"Statement": [
                {"Sid": "WriteImages", "Effect": "Allow", "Action": "s3:PutObject",
                 "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/images/*"]]}},
                {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                 "Resource": [{"Fn::GetAtt": ["Bucket", "Arn"]}, {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket", "Arn"]}, "/*"]]}]},
                {"Effect": "Allow", "Action": ["dynamodb:UpdateItem", "dynamodb:GetItem"], "Resource": {"Fn::GetAtt": ["Table", "Arn"]}},
                {"Effect": "Deny", "Action": "dynamodb:*", "Resource": "*",
                 "Condition": {"StringLike": {"aws:PrincipalArn": "*:role/nobody*"}}}
            ]}
        }},
        "StartRole": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "start-role",
            "ManagedPolicyArns": [{"Ref": "StartPolicy"}, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]
        }},
        "StartPolicy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": ["states:StartExecution", "states:List*"], "Resource": {"Ref": "Machine"}},
            {"Effect": "Allow", "NotAction": ["sqs:Delete*", "sqs:Purge*"], "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}},
            {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": {"Fn::GetAtt": ["Key", "Arn"]},
             "Condition": {"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}}},
            {"Effect": "Allow", "Action": "sns:Publish", "NotResource": {"Fn::Join": ["", [{"Ref": "Topic"}, "-other"]]}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::store/prompts/*",
             "Condition": {"NumericLessThan": {"s3:max-keys": "10"}, "ArnEqualsIfExists": {"aws:SourceArn": "arn:aws:s3:::store"}}}
        ]}}}
    }}))
    .unwrap_or_else(|e| panic!("{e}"))
}

struct World {
    authorizer: Authorizer,
}

fn world() -> World {
    let t = template();
    let stack = Stack::new(&t, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    World {
        authorizer: Authorizer::from_stack(&stack).unwrap_or_else(|e| panic!("{e}")),
    }
}

/// The role's session as Lambda opens it for a function named after the role.
fn role(name: &str) -> Principal {
    Principal::function_role(
        &format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        &format!("{name}-fn"),
    )
}

impl World {
    fn check(&self, principal: &Principal, op: &Operation, tls: bool) -> Option<Denial> {
        self.authorizer
            .authorize(principal, &op.requirements(), tls)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn decision(&self, principal: &Principal, op: &Operation, tls: bool) -> Decision {
        match self.check(principal, op, tls) {
            None => Decision::Allowed {
                by: Source {
                    kind: PolicyKind::Identity,
                    logical_id: String::new(),
                    sid: None,
                    policy_arn: None,
                },
            },
            Some(denial) => denial.decision,
        }
    }
}

fn object(operation: &'static str, key: &str) -> Operation {
    Operation::Object {
        operation,
        bucket: "store".into(),
        key: key.into(),
    }
}

fn on(operation: &'static str, arn: String) -> Operation {
    Operation::On { operation, arn }
}

fn model(id: &str) -> Operation {
    Operation::InvokeModel {
        region: "us-west-2".into(),
        account: ACCOUNT.into(),
        model_id: id.into(),
    }
}

#[test]
fn s3_put_object_allowed_under_the_prefix_denied_elsewhere() {
    let w = world();
    let generate = role("generate-role");
    assert_eq!(
        w.check(&generate, &object("s3:PutObject", "images/r1/0.png"), true),
        None
    );
    let denial = w.check(&generate, &object("s3:PutObject", "results/r1.json"), true);
    assert_eq!(
        denial.as_ref().map(|d| d.message.as_str()),
        Some(format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/generate-role/generate-role-fn is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::store/results/r1.json because no identity-based policy allows the s3:PutObject action"
        ).as_str())
    );
    assert_eq!(denial.map(|d| d.decision), Some(Decision::ImplicitDeny));
}

#[test]
fn the_bucket_policy_denies_plain_http_to_everyone_even_an_administrator() {
    let w = world();
    let op = object("s3:PutObject", "images/r1/0.png");
    let denied = w.decision(&role("generate-role"), &op, false);
    assert!(
        matches!(&denied, Decision::ExplicitDeny { by } if by.logical_id == "BucketPolicy"),
        "{denied:?}"
    );
    assert!(matches!(
        w.decision(&Principal::Administrator, &op, false),
        Decision::ExplicitDeny { .. }
    ));
    assert_eq!(w.check(&Principal::Administrator, &op, true), None);
    let denial = w.check(
        &Principal::Administrator,
        &object("s3:DeleteObject", "thumbnails/a.png"),
        true,
    );
    assert!(
        denial.is_some_and(|d| d.message.ends_with("with an explicit deny in a resource-based policy (BucketPolicy (statement NoThumbnailDeletes))")),
    );
}

#[test]
fn head_object_is_get_object_and_a_missing_key_needs_list_bucket() {
    let w = world();
    let generate = role("generate-role");
    assert_eq!(
        w.check(&generate, &object("s3:HeadObject", "prompts/a.txt"), true),
        None
    );
    // GenerateImage may list the bucket: a missing key is 404; StartExecution may not: 403.
    let list = [missing_key_needs("store")];
    assert!(
        w.authorizer
            .authorize(&generate, &list, true)
            .is_ok_and(|r| r.is_none())
    );
    assert!(
        w.authorizer
            .authorize(&role("start-role"), &list, true)
            .is_ok_and(|r| r.is_some())
    );
}

#[test]
fn bedrock_foundation_model_allowed_inference_profile_denied() {
    let w = world();
    let generate = role("generate-role");
    assert_eq!(
        w.check(&generate, &model("stability.stable-image-core-v1:1"), true),
        None
    );
    let denial = w.check(
        &generate,
        &model("us.stability.stable-image-core-v1:1"),
        true,
    );
    assert_eq!(
        denial.as_ref().map(|d| d.resource.as_str()),
        Some(format!("arn:aws:bedrock:us-west-2:{ACCOUNT}:inference-profile/us.stability.stable-image-core-v1:1").as_str())
    );
    assert!(
        w.check(&generate, &model("stability.sd3-5-large-v1:0"), true)
            .is_some()
    );
}

#[test]
fn dynamodb_allowed_denied_by_absence_and_by_a_condition_on_the_caller() {
    let w = world();
    let table = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/slots");
    assert_eq!(
        w.check(
            &role("generate-role"),
            &on("dynamodb:UpdateItem", table.clone()),
            true
        ),
        None
    );
    assert_eq!(
        w.decision(
            &role("generate-role"),
            &on("dynamodb:PutItem", table.clone()),
            true
        ),
        Decision::ImplicitDeny
    );
    // The Deny's StringLike on aws:PrincipalArn does not match generate-role.
    assert!(
        w.check(&role("generate-role"), &on("dynamodb:GetItem", table), true)
            .is_none()
    );
}

#[test]
fn step_functions_by_a_managed_policy_with_action_wildcards() {
    let w = world();
    let machine = format!("arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:pipeline");
    let start = role("start-role");
    assert_eq!(
        w.check(&start, &on("states:StartExecution", machine.clone()), true),
        None
    );
    assert_eq!(
        w.check(&start, &on("states:ListExecutions", machine.clone()), true),
        None
    );
    let execution = format!("arn:aws:states:us-east-1:{ACCOUNT}:execution:pipeline:r1");
    assert_eq!(
        w.decision(&start, &on("states:DescribeExecution", execution), true),
        Decision::ImplicitDeny
    );
    assert!(
        w.check(
            &role("generate-role"),
            &on("states:StartExecution", machine),
            true
        )
        .is_some()
    );
}

#[test]
fn sqs_with_not_action_and_kms_through_the_key_policy() {
    let w = world();
    let start = role("start-role");
    let queue = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:prompts");
    assert_eq!(
        w.check(&start, &on("sqs:SendMessage", queue.clone()), true),
        None
    );
    assert_eq!(
        w.decision(&start, &on("sqs:DeleteMessage", queue.clone()), true),
        Decision::ImplicitDeny
    );
    let key = w
        .authorizer
        .resources
        .iter()
        .find(|p| p.is_key)
        .map(|p| p.arn.clone())
        .unwrap_or_default();
    let via_sqs = |operation| Operation::KeyThrough {
        operation,
        key_arn: key.clone(),
        through: Through::Queue(queue.clone()),
        region: "us-east-1".into(),
    };
    // The key policy delegates to IAM; start-role's policy allows GenerateDataKey through SQS.
    assert_eq!(w.check(&start, &via_sqs("kms:GenerateDataKey"), true), None);
    assert_eq!(
        w.decision(&start, &via_sqs("kms:Decrypt"), true),
        Decision::ImplicitDeny
    );
    // Not through SQS: kms:ViaService is absent, the StringEquals does not hold.
    let direct = Requirement {
        action: "kms:GenerateDataKey",
        resource: key.clone(),
        context: Vec::new(),
    };
    assert!(
        w.authorizer
            .authorize(&start, &[direct], true)
            .is_ok_and(|r| r.is_some())
    );
    // An administrator is allowed by the delegation too.
    assert_eq!(
        w.check(&Principal::Administrator, &via_sqs("kms:Decrypt"), true),
        None
    );
}

#[test]
fn sns_publish_by_not_resource_and_the_topic_policy_deny() {
    let w = world();
    let topic = format!("arn:aws:sns:us-east-1:{ACCOUNT}:results");
    assert_eq!(
        w.check(&role("start-role"), &on("sns:Publish", topic.clone()), true),
        None
    );
    assert!(matches!(
        w.decision(&role("start-role"), &on("sns:Publish", topic.clone()), false),
        Decision::ExplicitDeny { by } if by.logical_id == "TopicPolicy"
    ));
    assert_eq!(
        w.decision(
            &role("start-role"),
            &on("sns:Publish", format!("{topic}-other")),
            true
        ),
        Decision::ImplicitDeny
    );
}

#[test]
fn lambda_permissions_admit_s3_for_its_bucket_only() {
    let w = world();
    let start = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:start");
    let s3 = |source: &str| Principal::Service {
        name: "s3.amazonaws.com".into(),
        source_arn: Some(source.into()),
    };
    let invoke = on("lambda:Invoke", start.clone());
    assert_eq!(w.check(&s3("arn:aws:s3:::store"), &invoke, true), None);
    assert_eq!(
        w.decision(&s3("arn:aws:s3:::elsewhere"), &invoke, true),
        Decision::ImplicitDeny
    );
    let events = Principal::Service {
        name: "events.amazonaws.com".into(),
        source_arn: None,
    };
    assert_eq!(w.decision(&events, &invoke, true), Decision::ImplicitDeny);
    // No permission for the other function.
    let generate = on(
        "lambda:Invoke",
        format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:generate"),
    );
    assert_eq!(
        w.decision(&s3("arn:aws:s3:::store"), &generate, true),
        Decision::ImplicitDeny
    );
    // The permission names the unqualified ARN; a qualified one needs `ARN:*` (rehearse.md).
    assert_eq!(
        w.decision(
            &s3("arn:aws:s3:::store"),
            &on("lambda:Invoke", format!("{start}:$LATEST")),
            true
        ),
        Decision::ImplicitDeny
    );
    let denial = w.check(&events, &invoke, true).map(|d| d.message);
    assert!(denial.is_some_and(|m| {
        m.ends_with("because no resource-based policy allows the lambda:InvokeFunction action")
    }));
}

#[test]
fn condition_operators_numeric_and_if_exists() {
    let w = world();
    let start = role("start-role");
    let get = |max_keys: Option<f64>, source: Option<&str>| {
        let mut context = Vec::new();
        if let Some(n) = max_keys {
            context.push(("s3:max-keys".to_string(), ContextValue::Number(n)));
        }
        if let Some(s) = source {
            context.push(("aws:SourceArn".to_string(), ContextValue::Text(s.into())));
        }
        let r = Requirement {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::store/prompts/a.txt".into(),
            context,
        };
        w.authorizer
            .authorize(&start, &[r], true)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    };
    assert!(get(Some(5.0), None), "IfExists: an absent key passes");
    assert!(!get(Some(50.0), None), "NumericLessThan fails");
    assert!(!get(None, None), "NumericLessThan on an absent key fails");
    assert!(get(Some(5.0), Some("arn:aws:s3:::store")));
    assert!(!get(Some(5.0), Some("arn:aws:s3:::other")));
}

/// One role with one statement: whether `action` on `resource` with `context` is allowed.
fn one_statement(
    statement: serde_json::Value,
    action: &'static str,
    resource: &str,
    context: &[(&str, ContextValue)],
) -> bool {
    statements(json!([statement]), action, resource, context).is_none()
}

/// One role with these statements: the denial of `action` on `resource`, if any.
fn statements(
    statements: serde_json::Value,
    action: &'static str,
    resource: &str,
    context: &[(&str, ContextValue)],
) -> Option<Denial> {
    let t = Template::from_value(json!({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "r", "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": statements}}]
    }}}}))
    .unwrap_or_else(|e| panic!("{e}"));
    let stack = Stack::new(&t, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    let authorizer = Authorizer::from_stack(&stack).unwrap_or_else(|e| panic!("{e}"));
    let r = Requirement {
        action,
        resource: resource.into(),
        context: context
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    };
    authorizer
        .authorize(&role("r"), &[r], true)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn text(s: &str) -> ContextValue {
    ContextValue::Text(s.into())
}

#[test]
fn actions_match_without_case_and_resources_with_wildcards_and_case() {
    let allow = |action: &str, resource: &str| json!({"Effect": "Allow", "Action": action, "Resource": resource});
    assert!(one_statement(
        allow("S3:putobject", "*"),
        "s3:PutObject",
        "arn:aws:s3:::b/k",
        &[]
    ));
    assert!(one_statement(
        allow("s3:Put*", "arn:aws:s3:::b/*/0.png"),
        "s3:PutObject",
        "arn:aws:s3:::b/images/r/0.png",
        &[]
    ));
    assert!(!one_statement(
        allow("s3:Put*", "arn:aws:s3:::b/*/0.png"),
        "s3:PutObject",
        "arn:aws:s3:::b/images/r/1.png",
        &[]
    ));
    assert!(one_statement(
        allow("s3:GetObject", "arn:aws:s3:::b/?.txt"),
        "s3:GetObject",
        "arn:aws:s3:::b/a.txt",
        &[]
    ));
    assert!(!one_statement(
        allow("s3:GetObject", "arn:aws:s3:::B/*"),
        "s3:GetObject",
        "arn:aws:s3:::b/a.txt",
        &[]
    ));
    assert!(!one_statement(
        allow("s3:GetObject", "arn:aws:s3:::b/*"),
        "s3:GetObjectTagging",
        "arn:aws:s3:::b/a.txt",
        &[]
    ));
}

#[test]
fn condition_values_are_or_keys_and_operators_and() {
    let statement = json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*", "Condition": {
        "StringEquals": {"aws:SourceAccount": ["111111111111", "000000000000"], "aws:PrincipalTag/team": "img"},
        "ArnLike": {"aws:SourceArn": "arn:aws:sns:*:000000000000:*"}
    }});
    let q = "arn:aws:sqs:us-east-1:000000000000:q";
    let all = [
        ("aws:SourceAccount", text("000000000000")),
        ("aws:PrincipalTag/team", text("img")),
        (
            "aws:SourceArn",
            text("arn:aws:sns:us-east-1:000000000000:t"),
        ),
    ];
    assert!(one_statement(statement.clone(), "sqs:SendMessage", q, &all));
    assert!(
        !one_statement(statement.clone(), "sqs:SendMessage", q, &all[..2]),
        "a key absent"
    );
    let mut wrong = all.clone();
    wrong[1].1 = text("other");
    assert!(
        !one_statement(statement, "sqs:SendMessage", q, &wrong),
        "one key of the block fails"
    );
}

#[test]
fn set_operators_and_null() {
    let any = json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": {
        "ForAnyValue:StringLike": {"dynamodb:Attributes": ["slot*"]}
    }});
    let t = "arn:aws:dynamodb:us-east-1:000000000000:table/t";
    let attributes = |a: &[&str]| {
        [(
            "dynamodb:Attributes",
            ContextValue::List(a.iter().map(|s| (*s).to_owned()).collect()),
        )]
    };
    assert!(one_statement(
        any.clone(),
        "dynamodb:GetItem",
        t,
        &attributes(&["id", "slotCount"])
    ));
    assert!(!one_statement(
        any,
        "dynamodb:GetItem",
        t,
        &attributes(&["id"])
    ));
    let all = json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": {
        "ForAllValues:StringEquals": {"dynamodb:Attributes": ["id", "slots"]}
    }});
    assert!(one_statement(
        all.clone(),
        "dynamodb:GetItem",
        t,
        &attributes(&["id"])
    ));
    assert!(!one_statement(
        all,
        "dynamodb:GetItem",
        t,
        &attributes(&["id", "secret"])
    ));
    let null = json!({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*", "Condition": {
        "Null": {"aws:SourceArn": "true"}
    }});
    assert!(one_statement(null.clone(), "dynamodb:GetItem", t, &[]));
    assert!(!one_statement(
        null,
        "dynamodb:GetItem",
        t,
        &[("aws:SourceArn", text("arn:aws:s3:::b"))]
    ));
}

#[test]
fn condition_key_names_are_matched_without_case() {
    // IAM: "Condition key names are not case-sensitive" (IAM JSON policy elements: Condition).
    let statement = json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {
        "Bool": {"aws:securetransport": "true"}
    }});
    assert!(one_statement(
        statement,
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        &[]
    ));
}

#[test]
fn an_identity_deny_beats_an_allow_and_names_its_statement() {
    let both = json!([
        {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        {"Sid": "NoDeletes", "Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*",
         "Condition": {"StringLike": {"aws:PrincipalArn": "*:role/r"}}}
    ]);
    let t = "arn:aws:dynamodb:us-east-1:000000000000:table/t";
    assert!(statements(both.clone(), "dynamodb:UpdateItem", t, &[]).is_none());
    let denial = statements(both, "dynamodb:DeleteItem", t, &[]);
    assert_eq!(
        denial.map(|d| d.message),
        Some(format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/r/r-fn is not authorized to perform: dynamodb:DeleteItem on resource: {t} with an explicit deny in an identity-based policy (R (statement NoDeletes))"
        ))
    );
}

/// A same-account managed policy that denies is named by its ARN, path included, as AWS names it:
/// how GenerateImage tells the budget action's Deny from any other.
#[test]
fn a_managed_policys_deny_names_the_policy_by_its_arn() {
    let t = Template::from_value(json!({"Resources": {
        "R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "r", "Policies": [{
            "PolicyName": "p", "PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}
            ]}
        }]}},
        "Spent": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "ManagedPolicyName": "spent", "Path": "/imagegen-budget-spent/", "Roles": [{"Ref": "R"}],
            "PolicyDocument": {"Statement": [
                {"Sid": "MonthlyBudgetSpent", "Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*"}
            ]}
        }}
    }}))
    .unwrap_or_else(|e| panic!("{e}"));
    let stack = Stack::new(&t, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    let authorizer = Authorizer::from_stack(&stack).unwrap_or_else(|e| panic!("{e}"));
    let model = "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1";
    let r = Requirement {
        action: "bedrock:InvokeModel",
        resource: model.into(),
        context: Vec::new(),
    };
    let denial = authorizer
        .authorize(&role("r"), &[r], true)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        denial.map(|d| d.message),
        Some(format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/r/r-fn is not authorized to perform: bedrock:InvokeModel on resource: {model} with an explicit deny in an identity-based policy: arn:aws:iam::{ACCOUNT}:policy/imagegen-budget-spent/spent"
        ))
    );
}

#[test]
fn kms_encryption_context_and_execute_api_routes() {
    let queue = "arn:aws:sqs:us-east-1:000000000000:prompts";
    let decrypt_for_prompts = json!({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {
        "StringEquals": {"kms:EncryptionContext:aws:sqs:arn": queue}
    }});
    let via = |queue_arn: &str| Operation::KeyThrough {
        operation: "kms:Decrypt",
        key_arn: "arn:aws:kms:us-east-1:000000000000:key/k".into(),
        through: Through::Queue(queue_arn.to_owned()),
        region: "us-east-1".into(),
    };
    let allowed = |op: Operation| {
        let r = op.requirements();
        let context: Vec<(&str, ContextValue)> = r[0]
            .context
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        one_statement(
            decrypt_for_prompts.clone(),
            r[0].action,
            &r[0].resource,
            &context,
        )
    };
    assert!(allowed(via(queue)));
    assert!(!allowed(via("arn:aws:sqs:us-east-1:000000000000:other")));

    let routes = json!({"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": [
        "arn:aws:execute-api:us-east-1:000000000000:api/prod/POST/generate-image",
        "arn:aws:execute-api:us-east-1:000000000000:api/prod/GET/images/*"
    ]});
    let route = |method: &str, path: &str| {
        crate::operations::api_route_arn("us-east-1", ACCOUNT, "api", "prod", method, path)
    };
    assert!(one_statement(
        routes.clone(),
        "execute-api:Invoke",
        &route("GET", "/images/r1"),
        &[]
    ));
    assert!(one_statement(
        routes.clone(),
        "execute-api:Invoke",
        &route("POST", "/generate-image"),
        &[]
    ));
    assert!(!one_statement(
        routes,
        "execute-api:Invoke",
        &route("DELETE", "/images/r1"),
        &[]
    ));
}

#[test]
fn aws_star_in_a_resource_policy_reaches_services_too() {
    let t = Template::from_value(json!({"Resources": {
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}},
        "P": {"Type": "AWS::SQS::QueuePolicy", "Properties": {"Queues": [{"Ref": "Q"}], "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"}, "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Q", "Arn"]}},
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sqs:*", "Resource": {"Fn::GetAtt": ["Q", "Arn"]},
             "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        ]}}}
    }}))
    .unwrap_or_else(|e| panic!("{e}"));
    let stack = Stack::new(&t, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    let authorizer = Authorizer::from_stack(&stack).unwrap_or_else(|e| panic!("{e}"));
    let events = Principal::Service {
        name: "events.amazonaws.com".into(),
        source_arn: None,
    };
    let send = on(
        "sqs:SendMessage",
        format!("arn:aws:sqs:us-east-1:{ACCOUNT}:q"),
    )
    .requirements();
    let decide = |tls| {
        authorizer
            .authorize(&events, &send, tls)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(decide(true), None);
    assert!(matches!(
        decide(false).map(|d| d.decision),
        Some(Decision::ExplicitDeny { .. })
    ));
}
