use super::*;
use serde_json::json;

const ACCOUNT: &str = imagegen_statemachine::ACCOUNT_ID;

/// A small template with one of each thing the resolver must handle.
pub(crate) fn sample() -> Template {
    Template::from_value(json!({
        "Parameters": {
            "Email": {"Type": "String", "Default": ""},
            "Stage": {"Type": "String", "Default": "prod", "AllowedValues": ["prod", "test"]},
            "Sizes": {"Type": "CommaDelimitedList", "Default": "256, 512"},
            "Required": {"Type": "Number"},
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version"
            }
        },
        "Mappings": {"Models": {"us-east-1": {"Id": "stability.sd3-5-large-v1:0"}}},
        "Conditions": {
            "HasEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Email"}, ""]}]},
            "IsProd": {"Fn::Equals": ["prod", {"Ref": "Stage"}]},
            "ProdWithEmail": {"Fn::And": [{"Condition": "HasEmail"}, {"Condition": "IsProd"}]},
            "ProdOrEmail": {"Fn::Or": [{"Condition": "HasEmail"}, {"Condition": "IsProd"}]}
        },
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "named-${AWS::Region}"}}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "prompts"}},
            "Topic": {"Type": "AWS::SNS::Topic"},
            "Sub": {"Type": "AWS::SNS::Subscription", "Condition": "HasEmail",
                    "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "email", "Endpoint": {"Ref": "Email"}}},
            "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"FunctionName": "generate"}},
            "Role": {"Type": "AWS::IAM::Role"},
            "Key": {"Type": "AWS::KMS::Key"},
            "Table": {"Type": "AWS::DynamoDB::Table"},
            "Machine": {"Type": "AWS::StepFunctions::StateMachine"},
            "Api": {"Type": "AWS::ApiGateway::RestApi"}
        },
        "Outputs": {
            "BucketName": {"Value": {"Ref": "Bucket"}},
            "Subscribed": {"Condition": "HasEmail", "Value": {"Ref": "Sub"}}
        }
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn options(overrides: &[&str]) -> StackOptions {
    let mut options = StackOptions::new("Imagegen");
    options.parameters = overrides
        .iter()
        .map(|o| o.parse().unwrap_or_else(|e| panic!("{e}")))
        .collect();
    options
}

fn stack<'t>(template: &'t Template, overrides: &[&str]) -> Stack<'t> {
    Stack::new(template, options(overrides)).unwrap_or_else(|e| panic!("{e}"))
}

fn resolve(stack: &Stack<'_>, value: Value) -> Result<Value, TemplateError> {
    stack.resolve(&value)
}

fn ok(stack: &Stack<'_>, value: Value) -> Value {
    resolve(stack, value).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_parameter_without_default_or_override_is_named() {
    let t = sample();
    let err = Stack::new(&t, options(&[])).err();
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("parameter Required has no default: pass --parameters Required=VALUE")
    );
}

#[test]
fn pseudo_parameters_are_the_twins_account_and_region() {
    let t = sample();
    let s = stack(&t, &["Required=3"]);
    let v = ok(
        &s,
        json!([
            {"Ref": "AWS::AccountId"}, {"Ref": "AWS::Region"}, {"Ref": "AWS::Partition"},
            {"Ref": "AWS::URLSuffix"}, {"Ref": "AWS::StackName"}
        ]),
    );
    assert_eq!(
        v,
        json!([
            ACCOUNT,
            imagegen_statemachine::REGION,
            "aws",
            "amazonaws.com",
            "Imagegen"
        ])
    );
    let id = ok(&s, json!({"Ref": "AWS::StackId"}));
    assert!(
        id.as_str().is_some_and(|id| id.starts_with(&format!(
            "arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/Imagegen/"
        ))),
        "{id}"
    );
    assert_eq!(
        ok(&s, json!({"Ref": "AWS::StackId"})),
        id,
        "the same every time"
    );
}

#[test]
fn no_value_drops_the_member_it_stands_for() {
    let t = sample();
    let s = stack(&t, &["Required=3"]);
    let v = ok(
        &s,
        json!({
            "A": {"Fn::If": ["HasEmail", "x", {"Ref": "AWS::NoValue"}]},
            "B": [1, {"Fn::If": ["IsProd", {"Ref": "AWS::NoValue"}, 2]}, 3],
            "C": "kept"
        }),
    );
    assert_eq!(v, json!({"B": [1, 3], "C": "kept"}));
}

#[test]
fn parameters_take_defaults_overrides_lists_and_the_bootstrap_version() {
    let t = sample();
    let s = stack(
        &t,
        &[
            "Required=3",
            "Imagegen:Email=me@example.com",
            "Other:Stage=test",
        ],
    );
    assert_eq!(ok(&s, json!({"Ref": "Required"})), json!("3"));
    assert_eq!(ok(&s, json!({"Ref": "Email"})), json!("me@example.com"));
    // An override for another stack of the app is not this stack's.
    assert_eq!(ok(&s, json!({"Ref": "Stage"})), json!("prod"));
    assert_eq!(ok(&s, json!({"Ref": "Sizes"})), json!(["256", "512"]));
    let version = ok(&s, json!({"Ref": "BootstrapVersion"}));
    let version: u32 = version.as_str().and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!(
        version >= 6,
        "the CDK's CheckBootstrapVersion rule asks for 6 or later"
    );
}

#[test]
fn bad_parameters_are_sentences() {
    let t = sample();
    let message = |o: &[&str]| Stack::new(&t, options(o)).err().map(|e| e.to_string());
    assert_eq!(
        message(&["Required=1", "Stage=dev"]).as_deref(),
        Some("parameter Stage is \"dev\", not one of its AllowedValues (prod, test)")
    );
    assert_eq!(
        message(&["Required=1", "Nope=1"]).as_deref(),
        Some("--parameters Nope: the template has no parameter Nope")
    );
    assert!("no-equals-sign".parse::<ParameterOverride>().is_err());
    assert!("=value".parse::<ParameterOverride>().is_err());
    let mut unknown_ssm = sample().value().clone();
    unknown_ssm["Parameters"]["BootstrapVersion"]["Default"] = json!("/my/own/parameter");
    let t2 = Template::from_value(unknown_ssm).unwrap_or_else(|e| panic!("{e}"));
    let err = Stack::new(&t2, options(&["Required=1"])).err();
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some(
            "parameter BootstrapVersion reads the SSM parameter /my/own/parameter, which the twin does not hold: pass --parameters BootstrapVersion=VALUE"
        )
    );
    assert!(Stack::new(&t2, options(&["Required=1", "BootstrapVersion=6"])).is_ok());
}

#[test]
fn conditions_equals_not_and_or_and_condition() {
    let t = sample();
    let without = stack(&t, &["Required=1", "Stage=test"]);
    let with = stack(&t, &["Required=1", "Email=a@b.c"]);
    let all = |s: &Stack<'_>| {
        ["HasEmail", "IsProd", "ProdWithEmail", "ProdOrEmail"]
            .map(|c| s.condition(c).unwrap_or_else(|e| panic!("{e}")))
    };
    assert_eq!(all(&without), [false, false, false, false]);
    assert_eq!(all(&with), [true, true, true, true]);
    let prod_only = stack(&t, &["Required=1"]);
    assert_eq!(all(&prod_only), [false, true, false, true]);
    assert!(prod_only.condition("Nope").is_err());
}

#[test]
fn a_circular_condition_is_an_error() {
    let t = Template::from_value(json!({
        "Conditions": {"A": {"Condition": "B"}, "B": {"Fn::Not": [{"Condition": "A"}]}},
        "Resources": {}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let err = Stack::new(&t, StackOptions::new("S"))
        .err()
        .map(|e| e.to_string());
    assert!(
        err.as_deref()
            .is_some_and(|e| e.contains("refers to itself")),
        "{err:?}"
    );
}

#[test]
fn fn_if_resolves_only_the_branch_taken() {
    let t = sample();
    let s = stack(&t, &["Required=1"]);
    // Sub is not created without an email; the branch naming it is not resolved.
    let v = ok(&s, json!({"Fn::If": ["HasEmail", {"Ref": "Sub"}, "none"]}));
    assert_eq!(v, json!("none"));
    let err = resolve(&s, json!({"Ref": "Sub"}))
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("Sub is not created (its condition HasEmail is false), yet something refers to it")
    );
    assert!(!s.is_created("Sub"));
    assert!(s.is_created("Bucket"));
}

#[test]
fn ref_and_get_att_per_resource_type() {
    let t = sample();
    let s = stack(&t, &["Required=1"]);
    let bucket = ok(&s, json!({"Ref": "Bucket"}));
    let bucket = bucket.as_str().unwrap_or_default().to_owned();
    assert!(bucket.starts_with("imagegen-bucket-"), "{bucket}");
    assert_eq!(
        bucket,
        bucket.to_ascii_lowercase(),
        "bucket names are lower case"
    );
    assert_eq!(
        ok(&s, json!({"Fn::GetAtt": ["Bucket", "Arn"]})),
        json!(format!("arn:aws:s3:::{bucket}"))
    );
    assert_eq!(
        ok(&s, json!({"Ref": "Named"})),
        json!("named-us-east-1"),
        "an explicit name is kept"
    );
    assert_eq!(
        ok(&s, json!({"Ref": "Queue"})),
        json!(format!(
            "https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/prompts"
        ))
    );
    assert_eq!(
        ok(&s, json!({"Fn::GetAtt": ["Queue", "Arn"]})),
        json!(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:prompts"))
    );
    assert_eq!(
        ok(&s, json!({"Fn::GetAtt": "Queue.QueueName"})),
        json!("prompts")
    );
    let topic = ok(&s, json!({"Ref": "Topic"}));
    assert!(
        topic.as_str().is_some_and(
            |t| t.starts_with(&format!("arn:aws:sns:us-east-1:{ACCOUNT}:Imagegen-Topic-"))
        ),
        "{topic}"
    );
    assert_eq!(ok(&s, json!({"Ref": "Fn"})), json!("generate"));
    assert_eq!(
        ok(&s, json!({"Fn::GetAtt": ["Fn", "Arn"]})),
        json!(format!(
            "arn:aws:lambda:us-east-1:{ACCOUNT}:function:generate"
        ))
    );
    let role = ok(&s, json!({"Fn::GetAtt": ["Role", "Arn"]}));
    assert!(
        role.as_str()
            .is_some_and(|r| r.starts_with(&format!("arn:aws:iam::{ACCOUNT}:role/Imagegen-Role-")))
    );
    let key_id = ok(&s, json!({"Ref": "Key"}));
    assert_eq!(
        ok(&s, json!({"Fn::GetAtt": ["Key", "Arn"]})),
        json!(format!(
            "arn:aws:kms:us-east-1:{ACCOUNT}:key/{}",
            key_id.as_str().unwrap_or_default()
        ))
    );
    let table = ok(&s, json!({"Fn::GetAtt": ["Table", "Arn"]}));
    assert!(
        table
            .as_str()
            .is_some_and(|t| t.contains(":table/Imagegen-Table-"))
    );
    let machine = ok(&s, json!({"Ref": "Machine"}));
    let name = ok(&s, json!({"Fn::GetAtt": ["Machine", "Name"]}));
    assert_eq!(
        machine,
        json!(format!(
            "arn:aws:states:us-east-1:{ACCOUNT}:stateMachine:{}",
            name.as_str().unwrap_or_default()
        ))
    );
    let api = ok(&s, json!({"Ref": "Api"}));
    assert_eq!(api.as_str().map(str::len), Some(10));
    assert_eq!(
        resolve(&s, json!({"Fn::GetAtt": ["Bucket", "Nope"]}))
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some("Fn::GetAtt Bucket.Nope: a AWS::S3::Bucket has no attribute Nope the rehearsal knows")
    );
    assert!(resolve(&s, json!({"Ref": "Missing"})).is_err());
}

#[test]
fn a_queue_url_names_the_twins_endpoint_when_given() {
    let t = sample();
    let mut o = options(&["Required=1"]);
    o.endpoint = Some("http://127.0.0.1:4566/".into());
    let s = Stack::new(&t, o).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        ok(&s, json!({"Ref": "Queue"})),
        json!(format!("http://127.0.0.1:4566/{ACCOUNT}/prompts"))
    );
}

#[test]
fn generated_names_are_stable_and_fit_the_services_limits() {
    let t = Template::from_value(json!({"Resources": {
        "AVeryLongLogicalIdForAFunctionThatGoesOnAndOnAndOnForeverAndEver": {"Type": "AWS::Lambda::Function"},
        "AnotherVeryLongLogicalIdForABucketThatGoesOnAndOnAndOnForeverAndEver": {"Type": "AWS::S3::Bucket"}
    }}))
    .unwrap_or_else(|e| panic!("{e}"));
    let a = Stack::new(&t, StackOptions::new("AStackWithALongishName"))
        .unwrap_or_else(|e| panic!("{e}"));
    let b = Stack::new(&t, StackOptions::new("AStackWithALongishName"))
        .unwrap_or_else(|e| panic!("{e}"));
    for (id, max) in [
        (
            "AVeryLongLogicalIdForAFunctionThatGoesOnAndOnAndOnForeverAndEver",
            64,
        ),
        (
            "AnotherVeryLongLogicalIdForABucketThatGoesOnAndOnAndOnForeverAndEver",
            63,
        ),
    ] {
        let name = a.physical_name(id).unwrap_or_else(|e| panic!("{e}"));
        assert!(name.len() <= max, "{name}");
        assert!(
            name.starts_with("AStack") || name.starts_with("astack"),
            "{name}"
        );
        assert_eq!(Some(name), b.physical_name(id).ok());
    }
}

#[test]
fn join_select_split() {
    let t = sample();
    let s = stack(&t, &["Required=1"]);
    assert_eq!(
        ok(
            &s,
            json!({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "Named"}, "/*"]]})
        ),
        json!("arn:aws:s3:::named-us-east-1/*")
    );
    assert_eq!(
        ok(&s, json!({"Fn::Join": [",", {"Ref": "Sizes"}]})),
        json!("256,512")
    );
    assert_eq!(
        ok(&s, json!({"Fn::Select": [1, {"Ref": "Sizes"}]})),
        json!("512")
    );
    assert_eq!(ok(&s, json!({"Fn::Select": ["0", ["a", "b"]]})), json!("a"));
    assert_eq!(
        ok(
            &s,
            json!({"Fn::Select": [5, {"Fn::Split": [":", {"Fn::GetAtt": ["Fn", "Arn"]}]}]})
        ),
        json!("function")
    );
    assert_eq!(
        ok(&s, json!({"Fn::Split": ["|", "a|b||c"]})),
        json!(["a", "b", "", "c"])
    );
    assert!(resolve(&s, json!({"Fn::Select": [2, ["a"]]})).is_err());
    assert!(resolve(&s, json!({"Fn::Join": [",", "not a list"]})).is_err());
    assert!(resolve(&s, json!({"Fn::Split": ["", "x"]})).is_err());
}

#[test]
fn sub_both_forms_and_literals() {
    let t = sample();
    let s = stack(&t, &["Required=1"]);
    assert_eq!(
        ok(
            &s,
            json!({"Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${Queue.QueueName}"})
        ),
        json!(format!("arn:aws:sqs:us-east-1:{ACCOUNT}:prompts"))
    );
    assert_eq!(
        ok(
            &s,
            json!({"Fn::Sub": ["${Name}-${Stage}-${!Literal}", {"Name": {"Ref": "Fn"}}]})
        ),
        json!("generate-prod-${Literal}")
    );
    assert_eq!(
        ok(&s, json!({"Fn::Sub": "no variables"})),
        json!("no variables")
    );
    assert!(resolve(&s, json!({"Fn::Sub": "${Unclosed"})).is_err());
    assert!(resolve(&s, json!({"Fn::Sub": "${Nope}"})).is_err());
}

#[test]
fn find_in_map() {
    let t = sample();
    let s = stack(&t, &["Required=1"]);
    assert_eq!(
        ok(
            &s,
            json!({"Fn::FindInMap": ["Models", {"Ref": "AWS::Region"}, "Id"]})
        ),
        json!("stability.sd3-5-large-v1:0")
    );
    assert!(resolve(&s, json!({"Fn::FindInMap": ["Models", "eu-west-1", "Id"]})).is_err());
}

#[test]
fn get_azs_and_import_value_are_refused_with_a_sentence() {
    let t = sample();
    let s = stack(&t, &["Required=1"]);
    assert_eq!(
        resolve(&s, json!({"Fn::GetAZs": ""}))
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some("Fn::GetAZs cannot be rehearsed: the twin has no Availability Zones")
    );
    assert_eq!(
        resolve(&s, json!({"Fn::ImportValue": "Shared-Vpc"}))
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some(
            "Fn::ImportValue cannot be rehearsed: it reads another stack's export, and the rehearsal runs one stack"
        )
    );
    assert_eq!(
        resolve(&s, json!({"Fn::Base64": "x"}))
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some("Fn::Base64 is not an intrinsic function the rehearsal resolves")
    );
}

#[test]
fn properties_and_outputs_resolve_and_errors_name_the_place() {
    let t = sample();
    let s = stack(&t, &["Required=1", "Email=a@b.c"]);
    let props = s.properties("Sub").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(props.get("Endpoint"), Some(&json!("a@b.c")));
    let outputs = s.outputs().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outputs.len(), 2);
    let without = stack(&t, &["Required=1"]);
    assert_eq!(
        without.outputs().map(|o| o.len()).ok(),
        Some(1),
        "a conditional output is left out"
    );

    let mut broken = sample().value().clone();
    broken["Resources"]["Bucket"]["Properties"] = json!({"Tags": [{"Fn::GetAZs": ""}]});
    let broken = Template::from_value(broken).unwrap_or_else(|e| panic!("{e}"));
    let s = stack(&broken, &["Required=1"]);
    assert_eq!(
        s.properties("Bucket")
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some(
            "in Resources.Bucket.Properties: Fn::GetAZs cannot be rehearsed: the twin has no Availability Zones"
        )
    );
}

#[test]
fn not_a_template() {
    assert!(Template::from_json("{}").is_err());
    assert!(Template::from_json("not json").is_err());
}

#[test]
fn explicit_names_may_name_each_other_and_a_cycle_does_not_hang() {
    let t = Template::from_value(json!({"Resources": {
        "Dlq": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${Queue.QueueName}-dlq"}}},
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Fn::Sub": "${AWS::StackName}-prompts"}}},
        "A": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::GetAtt": ["B", "TopicName"]}}},
        "B": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::GetAtt": ["A", "TopicName"]}}}
    }}))
    .unwrap_or_else(|e| panic!("{e}"));
    let s = Stack::new(&t, StackOptions::new("S")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.physical_name("Queue").ok().as_deref(), Some("S-prompts"));
    assert_eq!(
        s.physical_name("Dlq").ok().as_deref(),
        Some("S-prompts-dlq")
    );
    assert!(s.physical_name("A").is_ok() && s.physical_name("B").is_ok());
}

#[test]
fn allowed_pattern_lengths_and_numbers_are_checked_as_cloudformation_does() {
    let t = Template::from_value(json!({
        "Parameters": {
            "Email": {"Type": "String", "Default": "", "AllowedPattern": "^$|^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$",
                      "ConstraintDescription": "must be an email address, or empty"},
            "Code": {"Type": "String", "Default": "ab", "AllowedPattern": "[a-z]+", "MaxLength": 3},
            "Count": {"Type": "Number", "Default": 2, "MinValue": 1, "MaxValue": 5}
        },
        "Resources": {}
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    let message = |o: &[&str]| Stack::new(&t, options(o)).err().map(|e| e.to_string());
    assert_eq!(message(&[]), None);
    assert_eq!(message(&["Email=me@example.com"]), None);
    assert_eq!(
        message(&["Email=not an address"]).as_deref(),
        Some("parameter Email is \"not an address\": must be an email address, or empty")
    );
    assert_eq!(
        message(&["Code=ab1"]).as_deref(),
        Some("parameter Code is \"ab1\": it does not match its AllowedPattern [a-z]+"),
        "the whole value must match"
    );
    assert!(message(&["Code=abcd"]).is_some_and(|m| m.contains("MaxLength")));
    assert!(message(&["Count=9"]).is_some_and(|m| m.contains("MaxValue")));
    assert!(message(&["Count=two"]).is_some_and(|m| m.ends_with("it is not a number")));
}
