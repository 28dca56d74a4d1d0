//! The pinned cloud assembly (`tests/fixtures/cdk.out`, see its README): it loads, every intrinsic
//! in it resolves, the inventory is the expected one, and GenerateImage's role is authorised as
//! the template says.

use imagegen_rehearse::operations::{Operation, Through, missing_key_needs};
use imagegen_rehearse::{
    Assembly, Authorizer, Inventory, Principal, Rehearsal, Stack, StackChoice, Template,
};
use serde_json::Value;
use std::path::PathBuf;

const ACCOUNT: &str = imagegen_statemachine::ACCOUNT_ID;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cdk.out")
}

fn assembly() -> Assembly {
    Assembly::load(&fixture(), &StackChoice::ThePipeline).unwrap_or_else(|e| panic!("{e}"))
}

fn stack(template: &Template, assembly: &Assembly, overrides: &[&str]) -> Stack<'static> {
    let mut options = assembly.stack_options();
    options.parameters = overrides
        .iter()
        .map(|o| o.parse().unwrap_or_else(|e| panic!("{e}")))
        .collect();
    // The template outlives the test; leaking it keeps the helper simple.
    let template: &'static Template = Box::leak(Box::new(template.clone()));
    Stack::new(template, options).unwrap_or_else(|e| panic!("{e}"))
}

/// The logical id of the one resource of `kind` whose id starts with `prefix` (CDK logical ids end
/// in a hash that changes with the construct path).
fn id(stack: &Stack<'_>, kind: &str, prefix: &str) -> String {
    let ids: Vec<String> = stack
        .template()
        .resources_of(kind)
        .filter(|r| r.logical_id.starts_with(prefix))
        .map(|r| r.logical_id.to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{kind} {prefix}*: {ids:?}");
    ids[0].clone()
}

fn text(stack: &Stack<'_>, value: Value) -> String {
    stack
        .resolve(&value)
        .unwrap_or_else(|e| panic!("{e}"))
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// No intrinsic is left in a resolved value.
fn assert_resolved(place: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                assert!(
                    k != "Ref" && !k.starts_with("Fn::"),
                    "{place}: {k} left unresolved"
                );
                assert_resolved(place, v);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| assert_resolved(place, v)),
        _ => {}
    }
}

#[test]
fn the_assembly_loads_the_pipeline_stack() {
    let a = assembly();
    assert_eq!(a.stack().stack_name, "Imagegen");
    assert_eq!(a.stack().region.as_deref(), Some("us-east-1"));
    assert_eq!(a.stack_options().region, "us-east-1");
    assert!(
        a.assets().len() >= 10,
        "nine functions, the CDK's handler, the definition"
    );
}

#[test]
fn every_intrinsic_of_the_template_resolves() {
    let a = assembly();
    for overrides in [
        &[][..],
        &["Email=me@example.com", "AlarmEmail=ops@example.com"][..],
    ] {
        let s = stack(a.template(), &a, overrides);
        for r in s.created() {
            let properties = s.properties(r.logical_id).unwrap_or_else(|e| panic!("{e}"));
            assert_resolved(r.logical_id, &Value::Object(properties));
        }
        let outputs = s.outputs().unwrap_or_else(|e| panic!("{e}"));
        let bucket = outputs
            .iter()
            .find(|(k, _)| k == "BucketName")
            .map(|(_, v)| v.clone());
        let store = id(&s, "AWS::S3::Bucket", "StoreBucket");
        assert_eq!(bucket, s.physical_name(&store).ok());
        let api = outputs
            .iter()
            .find(|(k, _)| k == "ApiUrl")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        assert!(
            api.starts_with("https://")
                && api.ends_with(".execute-api.us-east-1.amazonaws.com/prod/"),
            "{api}"
        );
        let queue = outputs
            .iter()
            .find(|(k, _)| k == "PromptQueueUrl")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        assert!(
            queue.starts_with(&format!(
                "https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/Imagegen-PromptsQueue"
            )),
            "{queue}"
        );
    }
}

#[test]
fn the_definition_and_its_substitutions_resolve() {
    let a = assembly();
    let s = stack(a.template(), &a, &[]);
    let machine = id(&s, "AWS::StepFunctions::StateMachine", "Pipeline");
    let definition = a.definition(&s, &machine).unwrap_or_else(|e| panic!("{e}"));
    let parsed: Value = serde_json::from_str(&definition).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(parsed["StartAt"], "ReceiveInput");
    let props = s.properties(&machine).unwrap_or_else(|e| panic!("{e}"));
    let subs = props["DefinitionSubstitutions"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(subs.len(), 5);
    let generate = id(&s, "AWS::Lambda::Function", "GenerateImageFunction");
    let generate_arn = text(&s, serde_json::json!({"Fn::GetAtt": [generate, "Arn"]}));
    assert_eq!(
        subs["GenerateImageFunctionArn"],
        Value::String(generate_arn)
    );
    for name in subs.keys() {
        assert!(
            definition.contains(&format!("${{{name}}}")),
            "{name} is used by the definition"
        );
    }
    let code = a
        .function_code(&s, &generate)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(code.path.starts_with(fixture()) && code.path.to_string_lossy().ends_with(".zip"));
}

#[test]
fn the_inventory_lists_what_is_and_is_not_rehearsed() {
    let a = assembly();
    let s = stack(a.template(), &a, &[]);
    let inventory = Inventory::take(&s).unwrap_or_else(|e| panic!("{e}"));
    let count = |kind: &str, pick: &dyn Fn(&Rehearsal) -> bool| {
        inventory
            .entries
            .iter()
            .filter(|e| e.kind == kind && pick(&e.rehearsal))
            .count()
    };
    let rehearsed = |r: &Rehearsal| *r == Rehearsal::Rehearsed;
    let not_rehearsed = |r: &Rehearsal| matches!(r, Rehearsal::NotRehearsed(_));
    for (kind, n) in [
        ("AWS::S3::Bucket", 2),
        ("AWS::S3::BucketPolicy", 2),
        ("Custom::S3BucketNotifications", 1),
        ("AWS::SNS::Topic", 2),
        ("AWS::SNS::TopicPolicy", 2),
        ("AWS::SQS::Queue", 3),
        ("AWS::SQS::QueuePolicy", 3),
        ("AWS::KMS::Key", 4),
        ("AWS::DynamoDB::Table", 1),
        ("AWS::StepFunctions::StateMachine", 1),
        // Nine pipeline functions; the CDK's notifications handler is not rehearsed.
        ("AWS::Lambda::Function", 9),
        ("AWS::Lambda::EventSourceMapping", 1),
        ("AWS::Lambda::EventInvokeConfig", 1),
        ("AWS::Events::Rule", 1),
        ("AWS::ApiGateway::RestApi", 1),
        ("AWS::ApiGateway::Method", 2),
        ("AWS::ApiGateway::Stage", 1),
    ] {
        assert_eq!(count(kind, &rehearsed), n, "{kind}");
    }
    for (kind, n) in [
        ("AWS::Logs::LogGroup", 11),
        ("AWS::CloudWatch::Alarm", 8),
        ("AWS::Budgets::Budget", 1),
        ("AWS::Budgets::BudgetsAction", 1),
        ("AWS::ApiGateway::Account", 1),
        ("AWS::CDK::Metadata", 1),
        ("AWS::Lambda::Function", 1),
    ] {
        assert_eq!(count(kind, &not_rehearsed), n, "{kind}");
    }
    let not_rehearsed_kinds: std::collections::BTreeSet<&str> =
        inventory.not_rehearsed().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        not_rehearsed_kinds.into_iter().collect::<Vec<_>>(),
        [
            "AWS::ApiGateway::Account",
            "AWS::Budgets::Budget",
            "AWS::Budgets::BudgetsAction",
            "AWS::CDK::Metadata",
            "AWS::CloudWatch::Alarm",
            "AWS::Lambda::Function",
            "AWS::Logs::LogGroup"
        ]
    );
    // Without an email the subscriptions are not created.
    assert_eq!(inventory.not_created().count(), 2);
    let with_email = stack(a.template(), &a, &["Email=me@example.com"]);
    let inventory = Inventory::take(&with_email).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(inventory.not_created().count(), 0);
}

#[test]
fn a_filter_added_to_the_queue_mapping_stops_the_start() {
    let a = assembly();
    let mut value = a.template().value().clone();
    let s = stack(a.template(), &a, &[]);
    let mapping = id(
        &s,
        "AWS::Lambda::EventSourceMapping",
        "QueueConsumerFunction",
    );
    value["Resources"][&mapping]["Properties"]["FilterCriteria"] = serde_json::json!({"Filters": [{"Pattern": "{\"body\":{\"prompt\":[{\"exists\":true}]}}"}]});
    let template = Template::from_value(value).unwrap_or_else(|e| panic!("{e}"));
    let s = stack(&template, &a, &[]);
    let err = Inventory::take(&s)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        format!(
            "cannot rehearse {mapping} (AWS::Lambda::EventSourceMapping): FilterCriteria changes how it behaves, and the rehearsal does not reproduce it"
        )
    );
}

struct Pipeline {
    stack: Stack<'static>,
    authorizer: Authorizer,
}

fn pipeline() -> Pipeline {
    let a = assembly();
    let stack = stack(a.template(), &a, &[]);
    let authorizer = Authorizer::from_stack(&stack).unwrap_or_else(|e| panic!("{e}"));
    Pipeline { stack, authorizer }
}

impl Pipeline {
    fn role(&self, prefix: &str) -> Principal {
        let role = id(&self.stack, "AWS::IAM::Role", prefix);
        Principal::Role {
            arn: text(
                &self.stack,
                serde_json::json!({"Fn::GetAtt": [role, "Arn"]}),
            ),
            session: None,
        }
    }

    fn bucket(&self) -> String {
        let store = id(&self.stack, "AWS::S3::Bucket", "StoreBucket");
        text(&self.stack, serde_json::json!({"Ref": store}))
    }

    fn allowed(&self, principal: &Principal, op: &Operation, tls: bool) -> bool {
        self.authorizer
            .authorize(principal, &op.requirements(), tls)
            .unwrap_or_else(|e| panic!("{e}"))
            .is_none()
    }
}

fn invoke_model(model_id: &str) -> Operation {
    // GenerateImage's BEDROCK_REGION in the template.
    invoke_model_in("us-west-2", model_id)
}

fn invoke_model_in(region: &str, model_id: &str) -> Operation {
    Operation::InvokeModel {
        region: region.into(),
        account: ACCOUNT.into(),
        model_id: model_id.into(),
    }
}

#[test]
fn generate_image_may_write_images_and_nothing_else() {
    let p = pipeline();
    let generate = p.role("GenerateImageRole");
    let put = |key: &str| Operation::Object {
        operation: "s3:PutObject",
        bucket: p.bucket(),
        key: key.into(),
    };
    assert!(p.allowed(&generate, &put("images/r1/0.png"), true));
    assert!(!p.allowed(&generate, &put("results/r1.json"), true));
    // The bucket policy's TLS-only Deny.
    assert!(!p.allowed(&generate, &put("images/r1/0.png"), false));
}

/// The fixture allows one cross-Region inference profile (`-c allowedModelIds=`) and calls the
/// model in two pools: us-east-1, and that profile (`-c modelPools=`, see its README).
const PROFILE: &str = "us.stability.stable-image-core-v1:1";

#[test]
fn generate_image_may_invoke_its_models_in_its_pools_and_the_allowed_profile_and_nothing_else() {
    let p = pipeline();
    let generate = p.role("GenerateImageRole");
    let core = "stability.stable-image-core-v1:1";
    // The Region pool: the model there, and the allowed profile called from there.
    assert!(p.allowed(&generate, &invoke_model_in("us-east-1", core), true));
    assert!(p.allowed(&generate, &invoke_model_in("us-east-1", PROFILE), true));
    // The profile pool, called from the Bedrock Region, and its model in each destination
    // Region, through it.
    assert!(p.allowed(&generate, &invoke_model(PROFILE), true));
    // No pool calls the model directly in the Bedrock Region: not granted.
    assert!(!p.allowed(&generate, &invoke_model(core), true));
    // Another geography's profile of the same model is not allowed.
    let denial = |model_id: &str| {
        p.authorizer
            .authorize(&generate, &invoke_model(model_id).requirements(), true)
            .unwrap_or_else(|e| panic!("{e}"))
            .map(|d| d.message)
            .unwrap_or_default()
    };
    let eu = "eu.stability.stable-image-core-v1:1";
    assert!(
        denial(eu).contains(&format!(
            "is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-west-2:{ACCOUNT}:inference-profile/{eu}"
        )),
        "{}",
        denial(eu)
    );
    // The model in another Region, called directly rather than through the profile: the grant
    // on every Region's model holds only with the profile's ARN in the request.
    let direct = Operation::InvokeModel {
        region: "us-east-2".into(),
        account: ACCOUNT.into(),
        model_id: "stability.stable-image-core-v1:1".into(),
    };
    assert!(!p.allowed(&generate, &direct, true));
}

#[test]
fn the_wiring_between_services_is_allowed_by_the_template() {
    let p = pipeline();
    let s = &p.stack;
    let arn = |kind: &str, prefix: &str, attribute: &str| {
        let logical = id(s, kind, prefix);
        text(s, serde_json::json!({"Fn::GetAtt": [logical, attribute]}))
    };
    // S3 may invoke StartExecution for the store bucket's notifications.
    let start_function = arn("AWS::Lambda::Function", "StartExecutionFunction", "Arn");
    let s3 = Principal::Service {
        name: "s3.amazonaws.com".into(),
        source_arn: Some(format!("arn:aws:s3:::{}", p.bucket())),
    };
    let invoke = |function: &str| Operation::On {
        operation: "lambda:Invoke",
        arn: function.to_owned(),
    };
    assert!(p.allowed(&s3, &invoke(&start_function), true));
    // EventBridge may invoke the backstop for its rule, not StartExecution.
    let events = Principal::Service {
        name: "events.amazonaws.com".into(),
        source_arn: Some(arn("AWS::Events::Rule", "BackstopRule", "Arn")),
    };
    assert!(p.allowed(
        &events,
        &invoke(&arn(
            "AWS::Lambda::Function",
            "NotifyBackstopFunction",
            "Arn"
        )),
        true
    ));
    assert!(!p.allowed(&events, &invoke(&start_function), true));
    // The state machine's role may invoke GenerateImage; StartExecution may start the machine.
    let machine = text(
        s,
        serde_json::json!({"Ref": id(s, "AWS::StepFunctions::StateMachine", "Pipeline")}),
    );
    assert!(p.allowed(
        &p.role("PipelineRole"),
        &invoke(&arn(
            "AWS::Lambda::Function",
            "GenerateImageFunction",
            "Arn"
        )),
        true
    ));
    let start = Operation::On {
        operation: "states:StartExecution",
        arn: machine,
    };
    assert!(p.allowed(&p.role("StartExecutionRole"), &start, true));
    assert!(!p.allowed(&p.role("GenerateImageRole"), &start, true));
    // GenerateImage cannot list the bucket: a missing key would be 403 for it.
    let list = [missing_key_needs(&p.bucket())];
    let generate = p.role("GenerateImageRole");
    assert!(
        p.authorizer
            .authorize(&generate, &list, true)
            .is_ok_and(|r| r.is_some())
    );
    // The administrator at the AWS CLI may do anything over TLS.
    let admin_put = Operation::Object {
        operation: "s3:PutObject",
        bucket: p.bucket(),
        key: "prompts/a.txt".into(),
    };
    assert!(p.allowed(&Principal::Administrator, &admin_put, true));
    assert!(!p.allowed(&Principal::Administrator, &admin_put, false));
}

#[test]
fn the_queue_consumer_may_read_its_encrypted_queue() {
    let p = pipeline();
    let s = &p.stack;
    let queue_id = id(s, "AWS::SQS::Queue", "PromptsQueue");
    let queue = text(s, serde_json::json!({"Fn::GetAtt": [queue_id, "Arn"]}));
    let key = text(
        s,
        serde_json::json!({"Fn::GetAtt": [id(s, "AWS::KMS::Key", "PromptsKey"), "Arn"]}),
    );
    let consumer = p.role("QueueConsumerRole");
    for operation in [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ] {
        let op = Operation::On {
            operation,
            arn: queue.clone(),
        };
        assert!(p.allowed(&consumer, &op, true), "{operation}");
    }
    let decrypt = Operation::KeyThrough {
        operation: "kms:Decrypt",
        key_arn: key,
        through: Through::Queue(queue),
        region: "us-east-1".into(),
    };
    assert!(p.allowed(&consumer, &decrypt, true));
    assert!(!p.allowed(&p.role("GenerateImageRole"), &decrypt, true));
}

#[test]
fn the_plan_reads_what_the_twin_must_build() {
    let a = assembly();
    let s = stack(a.template(), &a, &[]);
    let inventory = Inventory::take(&s).unwrap_or_else(|e| panic!("{e}"));
    let plan = imagegen_rehearse::Plan::make(&a, &s, &inventory).unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(
        plan.functions.len(),
        9,
        "the CDK's notifications handler is not among them"
    );
    for f in &plan.functions {
        assert_eq!(
            (
                f.handler.as_str(),
                f.runtime.as_str(),
                f.architecture.as_str()
            ),
            ("bootstrap", "provided.al2023", "arm64")
        );
        assert!(
            f.role_arn
                .starts_with(&format!("arn:aws:iam::{ACCOUNT}:role/Imagegen-")),
            "{}",
            f.role_arn
        );
        assert!(f.code.path.starts_with(fixture()));
    }
    let generate = plan
        .functions
        .iter()
        .find(|f| f.logical_id.starts_with("GenerateImageFunction"))
        .unwrap_or_else(|| panic!("no GenerateImage"));
    assert_eq!((generate.timeout_seconds, generate.memory_mb), (180, 256));
    assert_eq!(
        generate
            .environment
            .get("BEDROCK_REGION")
            .map(String::as_str),
        Some("us-west-2")
    );
    assert_eq!(
        plan.function(&generate.arn).map(|f| f.name.clone()),
        Some(generate.name.clone())
    );

    let prompts = plan
        .queues
        .iter()
        .find(|q| q.logical_id.starts_with("PromptsQueue"))
        .unwrap_or_else(|| panic!("no prompt queue"));
    let dead = plan
        .queues
        .iter()
        .find(|q| q.logical_id.starts_with("PromptsDeadLetters"))
        .unwrap_or_else(|| panic!("no dead-letter queue"));
    assert_eq!(prompts.redrive, Some((dead.arn.clone(), 3)));
    assert_eq!(prompts.visibility_timeout_seconds, 180);
    // The queues' key, and the topics', is the authorizer's to know (it decides each use).
    let iam = Authorizer::from_stack(&s).unwrap_or_else(|e| panic!("{e}"));
    let prompts_key = text(
        &s,
        serde_json::json!({"Fn::GetAtt": [id(&s, "AWS::KMS::Key", "PromptsKey"), "Arn"]}),
    );
    assert_eq!(iam.encryption_key(&prompts.arn), Some(prompts_key.as_str()));
    assert_eq!(iam.encryption_key(&dead.arn), Some(prompts_key.as_str()));

    let start = plan
        .functions
        .iter()
        .find(|f| f.logical_id.starts_with("StartExecutionFunction"))
        .map(|f| f.arn.clone())
        .unwrap_or_default();
    let filters: Vec<(Option<&str>, Option<&str>)> = plan
        .notifications
        .iter()
        .map(|n| (n.prefix.as_deref(), n.suffix.as_deref()))
        .collect();
    assert_eq!(
        filters,
        [
            (Some("prompts/"), Some(".txt")),
            (Some("prompts/"), Some(".json"))
        ]
    );
    assert!(plan.notifications.iter().all(|n| n.function_arn == start));

    assert_eq!(plan.mappings.len(), 1);
    let m = &plan.mappings[0];
    assert_eq!(
        (m.queue_arn.as_str(), m.batch_size),
        (prompts.arn.as_str(), 10)
    );
    assert!(m.report_batch_item_failures);

    assert_eq!(plan.rules.len(), 1);
    let machine = text(
        &s,
        serde_json::json!({"Ref": id(&s, "AWS::StepFunctions::StateMachine", "Pipeline")}),
    );
    assert_eq!(
        plan.rules[0].pattern["detail"]["stateMachineArn"],
        serde_json::json!([machine])
    );

    let routes: Vec<(&str, &str, &str, &str)> = plan
        .routes
        .iter()
        .map(|r| {
            (
                r.stage.as_str(),
                r.method.as_str(),
                r.path.as_str(),
                r.authorization.as_str(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            ("prod", "POST", "/generate-image", "AWS_IAM"),
            ("prod", "GET", "/images/{requestId}", "AWS_IAM")
        ]
    );
    assert!(
        plan.routes
            .iter()
            .all(|r| plan.function(&r.function_arn).is_some())
    );
}

#[test]
fn notify_user_may_publish_to_the_encrypted_results_topic() {
    let p = pipeline();
    let s = &p.stack;
    let topic = text(
        s,
        serde_json::json!({"Ref": id(s, "AWS::SNS::Topic", "ResultsTopic")}),
    );
    let key = text(
        s,
        serde_json::json!({"Fn::GetAtt": [id(s, "AWS::KMS::Key", "ResultsKey"), "Arn"]}),
    );
    let notify = p.role("NotifyUserRole");
    let publish = Operation::On {
        operation: "sns:Publish",
        arn: topic.clone(),
    };
    assert!(p.allowed(&notify, &publish, true));
    for operation in ["kms:GenerateDataKey", "kms:Decrypt"] {
        let through_sns = Operation::KeyThrough {
            operation,
            key_arn: key.clone(),
            through: Through::Topic(topic.clone()),
            region: "us-east-1".into(),
        };
        assert!(p.allowed(&notify, &through_sns, true), "{operation}");
        // The grant holds through SNS only (kms:ViaService).
        let through_sqs = Operation::KeyThrough {
            operation,
            key_arn: key.clone(),
            through: Through::Queue(topic.clone()),
            region: "us-east-1".into(),
        };
        assert!(!p.allowed(&notify, &through_sqs, true), "{operation}");
    }
    assert!(!p.allowed(&p.role("GenerateImageRole"), &publish, true));
}

#[test]
fn a_function_process_gets_the_templates_environment_and_lambdas_own() {
    let a = assembly();
    let s = stack(a.template(), &a, &[]);
    let inventory = Inventory::take(&s).unwrap_or_else(|e| panic!("{e}"));
    let plan = imagegen_rehearse::Plan::make(&a, &s, &inventory).unwrap_or_else(|e| panic!("{e}"));
    let generate = plan
        .functions
        .iter()
        .find(|f| f.logical_id.starts_with("GenerateImageFunction"))
        .unwrap_or_else(|| panic!("no GenerateImage"));
    let env = generate.process_environment(&imagegen_rehearse::plan::Launch {
        runtime_api: "127.0.0.1:9001",
        endpoint: "https://127.0.0.1:4566",
        ca_bundle: Some("/tmp/ca.pem"),
        access_key_id: "AKID",
        secret_access_key: "secret",
        session_token: "token",
        region: "us-east-1",
        log_stream: "2026/12/06/[$LATEST]abc",
    });
    let get = |k: &str| env.get(k).map(String::as_str);
    assert_eq!(
        get("BEDROCK_REGION"),
        Some("us-west-2"),
        "the template's variable"
    );
    assert_eq!(get("_HANDLER"), Some("bootstrap"));
    assert_eq!(get("AWS_REGION"), Some("us-east-1"));
    assert_eq!(
        get("AWS_LAMBDA_FUNCTION_NAME"),
        Some(generate.name.as_str())
    );
    assert_eq!(get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), Some("256"));
    assert_eq!(get("AWS_LAMBDA_RUNTIME_API"), Some("127.0.0.1:9001"));
    assert_eq!(get("AWS_ENDPOINT_URL"), Some("https://127.0.0.1:4566"));
    assert_eq!(get("AWS_CA_BUNDLE"), Some("/tmp/ca.pem"));
    assert_eq!(
        (get("AWS_LAMBDA_LOG_FORMAT"), get("AWS_LAMBDA_LOG_LEVEL")),
        (Some("JSON"), Some("INFO"))
    );
    assert!(
        get("AWS_LAMBDA_LOG_GROUP_NAME")
            .is_some_and(|g| g.starts_with("Imagegen-GenerateImageLogGroup")),
        "{env:?}"
    );
    assert_eq!(
        get("AWS_EXECUTION_ENV"),
        None,
        "not set for OS-only runtimes"
    );

    // A template that sets a reserved name would not deploy.
    let mut value = a.template().value().clone();
    value["Resources"][&generate.logical_id]["Properties"]["Environment"]["Variables"]["AWS_REGION"] =
        "eu-west-1".into();
    let template = Template::from_value(value).unwrap_or_else(|e| panic!("{e}"));
    let s = stack(&template, &a, &[]);
    let err = imagegen_rehearse::Plan::make(&a, &s, &inventory)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.ends_with(
            "its environment sets AWS_REGION, which Lambda reserves (the deploy would fail)"
        ),
        "{err}"
    );
}

#[test]
fn the_plan_reads_the_stores_the_machine_and_async_retries() {
    let a = assembly();
    let s = stack(a.template(), &a, &["Email=me@example.com"]);
    let inventory = Inventory::take(&s).unwrap_or_else(|e| panic!("{e}"));
    let plan = imagegen_rehearse::Plan::make(&a, &s, &inventory).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.buckets.len(), 2, "the store and its access logs");
    let results = plan
        .topics
        .iter()
        .find(|t| t.logical_id.starts_with("ResultsTopic"))
        .unwrap_or_else(|| panic!("no results topic"));
    assert_eq!(
        results.subscriptions,
        [("email".to_string(), "me@example.com".to_string())]
    );
    let results_key = text(
        &s,
        serde_json::json!({"Fn::GetAtt": [id(&s, "AWS::KMS::Key", "ResultsKey"), "Arn"]}),
    );
    let iam = Authorizer::from_stack(&s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(iam.encryption_key(&results.arn), Some(results_key.as_str()));
    assert_eq!(plan.tables.len(), 1);
    assert!(!plan.tables[0].key_schema.is_empty());
    assert_eq!(plan.state_machines.len(), 1);
    let machine = &plan.state_machines[0];
    assert_eq!(machine.kind, "STANDARD");
    assert_eq!(machine.substitutions.len(), 5);
    assert!(
        machine
            .substitutions
            .values()
            .all(|arn| plan.function(arn).is_some()),
        "each substitution names a planned function"
    );
    assert!(machine.role_arn.contains(":role/Imagegen-PipelineRole"));
    assert!(machine.definition.contains("${GenerateImageFunctionArn}"));

    assert_eq!(plan.async_invokes.len(), 1);
    let start = &plan.async_invokes[0];
    assert_eq!(
        (
            start.maximum_retry_attempts,
            start.maximum_event_age_seconds
        ),
        (2, 21_600)
    );
    let failed = plan
        .queues
        .iter()
        .find(|q| q.logical_id.starts_with("FailedTriggers"))
        .map(|q| q.arn.clone());
    assert_eq!(start.on_failure, failed);
}

#[test]
fn each_role_can_be_assumed_by_the_service_that_uses_it() {
    let a = assembly();
    let s = stack(a.template(), &a, &[]);
    let inventory = Inventory::take(&s).unwrap_or_else(|e| panic!("{e}"));
    let plan = imagegen_rehearse::Plan::make(&a, &s, &inventory).unwrap_or_else(|e| panic!("{e}"));
    let iam = Authorizer::from_stack(&s).unwrap_or_else(|e| panic!("{e}"));
    let may = |role: &str, service: &str, source: Option<&str>| {
        iam.may_assume(role, service, source)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    for f in &plan.functions {
        assert!(
            may(&f.role_arn, "lambda.amazonaws.com", None),
            "{}",
            f.logical_id
        );
        assert!(
            !may(&f.role_arn, "states.amazonaws.com", None),
            "{}",
            f.logical_id
        );
    }
    let machine = &plan.state_machines[0];
    // The CDK's trust policy for the state machine's role has confused-deputy conditions.
    assert!(may(
        &machine.role_arn,
        "states.amazonaws.com",
        Some(&machine.arn)
    ));
    assert!(!may(&machine.role_arn, "states.amazonaws.com", None));
    let elsewhere = machine.arn.replace(ACCOUNT, "111111111111");
    assert!(!may(
        &machine.role_arn,
        "states.amazonaws.com",
        Some(&elsewhere)
    ));
    assert!(!may(
        &machine.role_arn,
        "lambda.amazonaws.com",
        Some(&machine.arn)
    ));
}

/// The wiring findings of the fixture's template, after `mutate` changed a copy of it.
fn wiring_findings(mutate: impl FnOnce(&mut Value, &Stack<'_>)) -> Vec<String> {
    let a = assembly();
    let mut value = a.template().value().clone();
    {
        let s = stack(a.template(), &a, &[]);
        mutate(&mut value, &s);
    }
    let template = Template::from_value(value).unwrap_or_else(|e| panic!("{e}"));
    let s = stack(&template, &a, &[]);
    let inventory = Inventory::take(&s).unwrap_or_else(|e| panic!("{e}"));
    let plan = imagegen_rehearse::Plan::make(&a, &s, &inventory).unwrap_or_else(|e| panic!("{e}"));
    let iam = Authorizer::from_stack(&s).unwrap_or_else(|e| panic!("{e}"));
    imagegen_rehearse::wiring::check(&plan, &iam, s.region())
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn every_connection_of_todays_template_is_allowed() {
    assert_eq!(wiring_findings(|_, _| {}), Vec::<String>::new());
}

#[test]
fn a_removed_lambda_permission_for_s3_is_found() {
    let findings = wiring_findings(|t, s| {
        let permission = id(
            s,
            "AWS::Lambda::Permission",
            "StoreBucketAllowBucketNotifications",
        );
        t["Resources"]
            .as_object_mut()
            .map(|r| r.remove(&permission));
        let notifications = id(
            s,
            "Custom::S3BucketNotifications",
            "StoreBucketNotifications",
        );
        t["Resources"][&notifications]["DependsOn"] = serde_json::json!([]);
    });
    assert_eq!(
        findings.len(),
        2,
        "both notifications (.txt and .json): {findings:?}"
    );
    assert!(
        findings[0].contains("S3 cannot invoke arn:aws:lambda:us-east-1:")
            && findings[0].ends_with(
                "because no resource-based policy allows the lambda:InvokeFunction action"
            ),
        "{findings:?}"
    );
}

#[test]
fn a_statement_removed_from_the_pipelines_role_is_found() {
    let findings = wiring_findings(|t, s| {
        let policy = id(s, "AWS::IAM::Policy", "PipelineRoleDefaultPolicy");
        let statements = &mut t["Resources"][&policy]["Properties"]["PolicyDocument"]["Statement"];
        let generate = id(s, "AWS::Lambda::Function", "GenerateImageFunction");
        // One statement grants all five functions: take GenerateImage's ARNs out of it.
        for statement in statements.as_array_mut().into_iter().flatten() {
            if let Some(resources) = statement["Resource"].as_array_mut() {
                resources.retain(|r| !r.to_string().contains(&generate));
            }
        }
    });
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(
        findings[0].contains("the state machine cannot invoke ${GenerateImageFunctionArn}"),
        "{findings:?}"
    );
}

#[test]
fn the_queue_consumer_without_its_queue_statements_is_found() {
    let findings = wiring_findings(|t, s| {
        let policy = id(s, "AWS::IAM::Policy", "QueueConsumerRoleDefaultPolicy");
        if let Some(list) =
            t["Resources"][&policy]["Properties"]["PolicyDocument"]["Statement"].as_array_mut()
        {
            list.retain(|st| !st.to_string().contains("sqs:ReceiveMessage"));
        }
    });
    assert!(!findings.is_empty(), "{findings:?}");
    assert!(
        findings
            .iter()
            .all(|f| f.contains("the queue mapping cannot poll")),
        "{findings:?}"
    );
}
