use super::*;
use crate::template::{StackOptions, Template};
use serde_json::json;

fn inventory(resources: Value) -> Result<Inventory, InventoryError> {
    let template = Template::from_value(json!({
        "Parameters": {"Email": {"Type": "String", "Default": ""}},
        "Conditions": {"HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]}},
        "Resources": resources
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let stack = Stack::new(&template, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    Inventory::take(&stack)
}

fn message(resources: Value) -> String {
    inventory(resources)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

#[test]
fn rehearsed_not_rehearsed_and_not_created() {
    let inv = inventory(json!({
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {"Threshold": 1}},
        "Odd": {"Type": "AWS::Foo::Bar"},
        "Sub": {"Type": "AWS::SNS::Subscription", "Condition": "HasEmail",
                "Properties": {"FilterPolicy": {"x": ["y"]}}}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let ids =
        |it: &mut dyn Iterator<Item = &Entry>| it.map(|e| e.logical_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&mut inv.rehearsed()), ["Queue"]);
    assert_eq!(ids(&mut inv.not_rehearsed()), ["Alarm", "Odd"]);
    // Not created, so its unsupported filter policy does not matter.
    assert_eq!(ids(&mut inv.not_created()), ["Sub"]);
    assert_eq!(
        inv.report(),
        [
            "rehearsing 1 resources: 1 AWS::SQS::Queue",
            "not rehearsed: Alarm (AWS::CloudWatch::Alarm): the twin keeps no metrics",
            "not rehearsed: Odd (AWS::Foo::Bar): a type the rehearsal does not know",
            "not created: Sub (AWS::SNS::Subscription): its condition HasEmail is false",
        ]
    );
    assert_eq!(
        inv.entries[1].rehearsal,
        Rehearsal::NotRehearsed("the twin keeps no metrics".into())
    );
    assert_eq!(
        inv.entries[2].rehearsal,
        Rehearsal::NotRehearsed("a type the rehearsal does not know".into())
    );
}

#[test]
fn a_filter_on_an_event_source_mapping_is_refused_by_name() {
    assert_eq!(
        message(
            json!({"Map": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
                "EventSourceArn": "arn:aws:sqs:us-east-1:000000000000:q", "FunctionName": "f",
                "FilterCriteria": {"Filters": [{"Pattern": "{}"}]}
            }}})
        ),
        "cannot rehearse Map (AWS::Lambda::EventSourceMapping): FilterCriteria changes how it behaves, and the rehearsal does not reproduce it"
    );
}

#[test]
fn every_refused_property_is_named_at_once() {
    let m = message(json!({
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"FifoQueue": true}},
        "Method": {"Type": "AWS::ApiGateway::Method", "Properties": {
            "AuthorizationType": "COGNITO_USER_POOLS", "Integration": {"Type": "HTTP_PROXY"}}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "Layers": ["x"]}},
        "Notify": {"Type": "Custom::S3BucketNotifications", "Properties": {
            "NotificationConfiguration": {"QueueConfigurations": []}}},
        "Rule": {"Type": "AWS::Events::Rule", "Properties": {
            "EventBusName": "other", "Targets": [{"Arn": "a", "Id": "t", "InputTransformer": {}}]}},
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"PermissionsBoundary": "arn:aws:iam::0:policy/b"}}
    }));
    for part in [
        "cannot rehearse 9 properties",
        "Queue (AWS::SQS::Queue): FifoQueue changes how it behaves",
        "Method (AWS::ApiGateway::Method): AuthorizationType is COGNITO_USER_POOLS: only NONE and AWS_IAM are rehearsed",
        "Integration.Type is HTTP_PROXY",
        "Fn (AWS::Lambda::Function): Layers changes",
        "Runtime is python3.12",
        "NotificationConfiguration.QueueConfigurations changes",
        "EventBusName is other",
        "Targets[0].InputTransformer changes",
        "Role (AWS::IAM::Role): PermissionsBoundary changes",
    ] {
        assert!(m.contains(part), "{part} not in: {m}");
    }
}

#[test]
fn the_cdks_custom_resource_provider_is_not_rehearsed() {
    let inv = inventory(json!({
        "Handler": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.13", "Code": {"ZipFile": "..."}}},
        "Notifications": {"Type": "Custom::S3BucketNotifications", "Properties": {
            "ServiceToken": {"Fn::GetAtt": ["Handler", "Arn"]},
            "BucketName": "b",
            "NotificationConfiguration": {"LambdaFunctionConfigurations": []}
        }}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(&inv.entries[0].rehearsal, Rehearsal::NotRehearsed(why) if why.contains("custom-resource provider"))
    );
    assert_eq!(inv.entries[1].rehearsal, Rehearsal::Rehearsed);
}

#[test]
fn the_budget_action_is_known_and_not_rehearsed() {
    let inv = inventory(json!({
        "Action": {"Type": "AWS::Budgets::BudgetsAction", "Properties": {"ActionType": "APPLY_IAM_POLICY"}}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        inv.report(),
        [
            "rehearsing 0 resources: ",
            "not rehearsed: Action (AWS::Budgets::BudgetsAction): the twin has no bill, so its budget action never fires",
        ]
    );
}
