//! What the endpoint's hook decides for a request on an encrypted topic or queue: the operation
//! first, then what the service asks of KMS for the caller, by the key policy and the caller's
//! policies.

use imagegen_local::server::{Authorize, Caller, Denied, DeniedBy, Params, RequestFacts};
use serde_json::json;

use super::*;
use crate::template::{StackOptions, Template};

const ACCOUNT: &str = imagegen_statemachine::ACCOUNT_ID;

/// Two keys (one delegating to the account, one naming a single role), queues and topics
/// encrypted with them or with the AWS managed key, and a role for each case.
fn template() -> Template {
    let root = json!({"Fn::Join": ["", ["arn:aws:iam::", {"Ref": "AWS::AccountId"}, ":root"]]});
    let key_arn = |key: &str| json!({"Fn::GetAtt": [key, "Arn"]});
    let via = |service: &str| json!({"StringEquals": {"kms:ViaService": format!("{service}.us-east-1.amazonaws.com")}});
    let role = |name: &str, statements: serde_json::Value| {
        json!({"Type": "AWS::IAM::Role", "Properties": {"RoleName": name, "Policies": [{
            "PolicyName": "inline", "PolicyDocument": {"Statement": statements}
        }]}})
    };
    Template::from_value(json!({"Resources": {
        "Delegating": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*", "Principal": {"AWS": root}}
        ]}}},
        // Allows one role by name and does not delegate: the others' grants do not count.
        "Closed": {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": [
            {"Effect": "Allow", "Action": "kms:*", "Resource": "*",
             "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:role/keeper")}}
        ]}}},
        "Prompts": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": "prompts", "KmsMasterKeyId": key_arn("Delegating")}},
        "Sealed": {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": "sealed", "KmsMasterKeyId": key_arn("Closed")}},
        "Results": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": "results", "KmsMasterKeyId": key_arn("Delegating")}},
        "Managed": {"Type": "AWS::SNS::Topic", "Properties": {
            "TopicName": "managed", "KmsMasterKeyId": "alias/aws/sns"}},
        "Sender": role("sender", json!([
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sns:Publish"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*",
             "Condition": via("sqs")}
        ])),
        "Bare": role("bare", json!([
            {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn("Delegating")},
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}
        ])),
        "Publisher": role("publisher", json!([
            {"Effect": "Allow", "Action": "sns:Publish", "Resource": {"Ref": "Results"}},
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
             "Resource": key_arn("Delegating"), "Condition": via("sns")}
        ])),
        "Denied": role("denied", json!([
            {"Effect": "Allow", "Action": ["sqs:*", "kms:*"], "Resource": "*"},
            {"Sid": "NoDecrypting", "Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}
        ])),
        "Keeper": role("keeper", json!([
            {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
        ]))
    }}))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn enforcer() -> Enforcer {
    let t = template();
    let stack = Stack::new(&t, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    Enforcer::new(
        Authorizer::from_stack(&stack).unwrap_or_else(|e| panic!("{e}")),
        &stack,
    )
}

/// A function's session of `role`, as its key's caller is named.
fn caller(role: &str) -> Caller {
    Caller::new(format!(
        "arn:aws:sts::{ACCOUNT}:assumed-role/{role}/function-of-{role}"
    ))
}

fn sqs(operation: &str, queue: &str) -> RequestFacts {
    RequestFacts {
        service: "sqs".into(),
        operation: operation.into(),
        params: Params::Json(json!({
            "QueueUrl": format!("https://127.0.0.1:4566/{ACCOUNT}/{queue}")
        })),
        secure_transport: true,
        region: None,
    }
}

fn publish(topic: &str) -> RequestFacts {
    RequestFacts {
        service: "sns".into(),
        operation: "Publish".into(),
        params: Params::Query(vec![
            ("Action".into(), "Publish".into()),
            (
                "TopicArn".into(),
                format!("arn:aws:sns:us-east-1:{ACCOUNT}:{topic}"),
            ),
        ]),
        secure_transport: true,
        region: None,
    }
}

/// The refusal, by KMS, naming `action` on the key and saying why.
fn kms_refused(result: Result<(), Denied>, action: &str, because: &str) {
    let denied = result.expect_err(action);
    assert_eq!(denied.by, DeniedBy::Kms, "{}", denied.message);
    assert!(
        denied
            .message
            .contains(&format!("is not authorized to perform: {action} on resource: arn:aws:kms:us-east-1:{ACCOUNT}:key/")),
        "{}",
        denied.message
    );
    assert!(denied.message.contains(because), "{}", denied.message);
}

#[test]
fn sending_to_and_receiving_from_an_encrypted_queue_needs_the_key() {
    let e = enforcer();
    assert_eq!(
        e.authorize(&caller("sender"), &sqs("SendMessage", "prompts")),
        Ok(())
    );
    assert_eq!(
        e.authorize(&caller("sender"), &sqs("SendMessageBatch", "prompts")),
        Ok(())
    );
    assert_eq!(
        e.authorize(&caller("sender"), &sqs("ReceiveMessage", "prompts")),
        Ok(())
    );
    // Decrypt alone reads but does not send.
    assert_eq!(
        e.authorize(&caller("bare"), &sqs("ReceiveMessage", "prompts")),
        Ok(())
    );
    kms_refused(
        e.authorize(&caller("bare"), &sqs("SendMessage", "prompts")),
        "kms:GenerateDataKey",
        "because no identity-based policy allows the kms:GenerateDataKey action",
    );
    // Deleting a message does not touch its body: no key needed.
    assert_eq!(
        e.authorize(&caller("bare"), &sqs("DeleteMessage", "prompts")),
        Ok(())
    );
}

#[test]
fn a_key_policy_that_does_not_delegate_refuses_the_callers_own_grant() {
    let e = enforcer();
    kms_refused(
        e.authorize(&caller("sender"), &sqs("SendMessage", "sealed")),
        "kms:GenerateDataKey",
        "because no resource-based policy allows the kms:GenerateDataKey action",
    );
    // The role the key policy names needs no grant of its own.
    assert_eq!(
        e.authorize(&caller("keeper"), &sqs("SendMessage", "sealed")),
        Ok(())
    );
}

#[test]
fn an_explicit_deny_of_a_kms_action_refuses() {
    kms_refused(
        enforcer().authorize(&caller("denied"), &sqs("ReceiveMessage", "prompts")),
        "kms:Decrypt",
        "with an explicit deny in an identity-based policy (Denied (statement NoDecrypting))",
    );
}

#[test]
fn publishing_to_an_encrypted_topic_needs_the_key_through_sns() {
    let e = enforcer();
    assert_eq!(
        e.authorize(&caller("publisher"), &publish("results")),
        Ok(())
    );
    kms_refused(
        e.authorize(&caller("bare"), &publish("results")),
        "kms:GenerateDataKey",
        "no identity-based policy allows",
    );
    // The AWS managed key's policy allows every caller of the account through SNS.
    assert_eq!(e.authorize(&caller("bare"), &publish("managed")), Ok(()));
    // The sender's grant holds through SQS only (kms:ViaService).
    kms_refused(
        e.authorize(&caller("sender"), &publish("results")),
        "kms:GenerateDataKey",
        "no identity-based policy allows",
    );
}

#[test]
fn a_denial_names_the_callers_session_as_aws_does() {
    let denied = enforcer()
        .authorize(&caller("bare"), &sqs("SendMessage", "prompts"))
        .unwrap_err();
    assert!(
        denied.message.starts_with(&format!(
            "User: arn:aws:sts::{ACCOUNT}:assumed-role/bare/function-of-bare is not authorized \
             to perform: kms:GenerateDataKey on resource: arn:aws:kms:us-east-1:{ACCOUNT}:key/"
        )),
        "{}",
        denied.message
    );
    assert!(
        denied
            .message
            .ends_with(" because no identity-based policy allows the kms:GenerateDataKey action"),
        "{}",
        denied.message
    );
}

#[test]
fn the_operation_is_refused_before_its_key_is_asked() {
    let denied = enforcer()
        .authorize(&caller("publisher"), &sqs("SendMessage", "prompts"))
        .unwrap_err();
    assert_eq!(denied.by, DeniedBy::Service);
    assert!(
        denied
            .message
            .contains("is not authorized to perform: sqs:SendMessage"),
        "{}",
        denied.message
    );
}
