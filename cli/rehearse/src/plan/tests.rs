use super::*;
use crate::template::{StackOptions, Template};
use serde_json::json;

fn with<T>(resources: Value, f: impl FnOnce(&Stack<'_>) -> T) -> T {
    let t = Template::from_value(json!({"Resources": resources})).unwrap_or_else(|e| panic!("{e}"));
    let stack = Stack::new(&t, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    f(&stack)
}

#[test]
fn queues_take_sqs_defaults_and_their_redrive_policy() {
    let queues = with(
        json!({
            "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dlq"}},
            "Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q", "VisibilityTimeout": "180",
                  "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3}}}
        }),
        |s| queues::read(s).unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(queues[0].visibility_timeout_seconds, 30);
    assert_eq!(queues[0].retention_seconds, 345_600);
    assert_eq!(queues[1].visibility_timeout_seconds, 180);
    assert_eq!(queues[1].redrive, Some((queues[0].arn.clone(), 3)));
}

#[test]
fn notifications_mappings_and_rules() {
    let (notifications, mappings, rules) = with(
        json!({
            "N": {"Type": "Custom::S3BucketNotifications", "Properties": {"BucketName": "b",
                  "NotificationConfiguration": {"LambdaFunctionConfigurations": [{
                      "Events": ["s3:ObjectCreated:*"], "LambdaFunctionArn": "arn:f",
                      "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".txt"}, {"Name": "prefix", "Value": "prompts/"}]}}
                  }]}}},
            "M": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {"EventSourceArn": "arn:q", "FunctionName": "f",
                  "FunctionResponseTypes": ["ReportBatchItemFailures"], "ScalingConfig": {"MaximumConcurrency": 5}}},
            "R": {"Type": "AWS::Events::Rule", "Properties": {"EventPattern": {"source": ["aws.states"]},
                  "Targets": [{"Arn": "arn:f", "Id": "T", "RetryPolicy": {"MaximumRetryAttempts": 4}}]}}
        }),
        |s| {
            (
                events::notifications(s).unwrap_or_else(|e| panic!("{e}")),
                events::mappings(s).unwrap_or_else(|e| panic!("{e}")),
                events::rules(s).unwrap_or_else(|e| panic!("{e}")),
            )
        },
    );
    assert_eq!(
        notifications,
        [BucketNotification {
            bucket: "b".into(),
            events: vec!["s3:ObjectCreated:*".into()],
            prefix: Some("prompts/".into()),
            suffix: Some(".txt".into()),
            function_arn: "arn:f".into(),
        }]
    );
    assert_eq!(
        (mappings[0].batch_size, mappings[0].batching_window_seconds),
        (10, 0)
    );
    assert!(mappings[0].report_batch_item_failures && mappings[0].enabled);
    assert_eq!(mappings[0].maximum_concurrency, Some(5));
    assert!(rules[0].enabled);
    assert_eq!(rules[0].targets[0].maximum_retry_attempts, Some(4));
    assert_eq!(rules[0].pattern, json!({"source": ["aws.states"]}));
}

#[test]
fn routes_walk_resources_to_the_root() {
    let routes = with(
        json!({
            "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}},
            "Images": {"Type": "AWS::ApiGateway::Resource", "Properties": {"RestApiId": {"Ref": "Api"},
                       "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]}, "PathPart": "images"}},
            "Id": {"Type": "AWS::ApiGateway::Resource", "Properties": {"RestApiId": {"Ref": "Api"},
                   "ParentId": {"Ref": "Images"}, "PathPart": "{requestId}"}},
            "Get": {"Type": "AWS::ApiGateway::Method", "Properties": {"RestApiId": {"Ref": "Api"}, "ResourceId": {"Ref": "Id"},
                    "HttpMethod": "GET", "AuthorizationType": "AWS_IAM",
                    "Integration": {"Type": "AWS_PROXY", "Uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:000000000000:function:api/invocations"}}},
            "Deployment": {"Type": "AWS::ApiGateway::Deployment", "Properties": {"RestApiId": {"Ref": "Api"}}},
            "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Api"},
                      "DeploymentId": {"Ref": "Deployment"}, "StageName": "prod"}}
        }),
        |s| api::routes(s).unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(routes.len(), 1);
    let r = &routes[0];
    assert_eq!(
        (r.stage.as_str(), r.method.as_str(), r.path.as_str()),
        ("prod", "GET", "/images/{requestId}")
    );
    assert_eq!(r.authorization, "AWS_IAM");
    assert_eq!(
        r.function_arn,
        "arn:aws:lambda:us-east-1:000000000000:function:api"
    );
}
