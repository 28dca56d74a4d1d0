//! The backstop end to end through the real S3, SNS and Step Functions adapters, each client
//! answered by `aws-smithy-mocks`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::operation::delete_object::DeleteObjectOutput;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput;
use aws_sdk_sfn::types::ExecutionStatus;
use aws_sdk_sns::operation::publish::{PublishInput, PublishOutput};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use aws_smithy_runtime_api::http::{Response as HttpResponse, StatusCode};
use aws_smithy_types::body::SdkBody;
use imagegen_aws::{S3Store, SfnDescriber, SnsNotifier};
use notify_backstop::{Config, Outcome, handle};
use serde_json::{Value, json};

const ARN: &str = "arn:aws:states:us-east-1:111122223333:execution:Pipeline:run-7";

struct Services {
    claimed: Arc<Mutex<HashSet<String>>>,
    published: Arc<Mutex<Vec<PublishInput>>>,
    put: Rule,
    delete: Rule,
    publish: Rule,
    describe: Rule,
}

impl Services {
    fn new() -> Self {
        let claimed: Arc<Mutex<HashSet<String>>> = Arc::default();
        let published: Arc<Mutex<Vec<PublishInput>>> = Arc::default();
        let held = Arc::clone(&claimed);
        let put = mock!(aws_sdk_s3::Client::put_object).then_compute_response(move |req| {
            let key = req.key().unwrap_or_default().to_owned();
            if req.if_none_match() == Some("*") && !held.lock().unwrap().insert(key) {
                return MockResponse::Http(HttpResponse::new(
                    StatusCode::try_from(412).unwrap(),
                    SdkBody::from("<Error><Code>PreconditionFailed</Code></Error>"),
                ));
            }
            MockResponse::Output(PutObjectOutput::builder().build())
        });
        let delete = mock!(aws_sdk_s3::Client::delete_object)
            .then_output(|| DeleteObjectOutput::builder().build());
        let log = Arc::clone(&published);
        let publish = mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
            log.lock().unwrap().push(req.clone());
            PublishOutput::builder().message_id("msg-9").build()
        });
        let describe = mock!(aws_sdk_sfn::Client::describe_execution).then_output(|| {
            DescribeExecutionOutput::builder()
                .execution_arn(ARN)
                .state_machine_arn("arn:aws:states:us-east-1:111122223333:stateMachine:Pipeline")
                .status(ExecutionStatus::Failed)
                .start_date(aws_smithy_types::DateTime::from_secs(0))
                .input(json!({"prompt": "a lighthouse at dusk", "pad": "x"}).to_string())
                .build()
                .unwrap()
        });
        Self {
            claimed,
            published,
            put,
            delete,
            publish,
            describe,
        }
    }

    async fn run(&self, event: Value) -> Outcome {
        let config = Config {
            topic_arn: "arn:aws:sns:us-east-1:111122223333:results".into(),
            bucket: "store".into(),
        };
        let store = S3Store::new(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&self.put, &self.delete]
        ));
        let notifier = SnsNotifier::new(
            mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&self.publish]),
            config.topic_arn.clone(),
        );
        let describer = SfnDescriber::new(mock_client!(
            aws_sdk_sfn,
            RuleMode::MatchAny,
            [&self.describe]
        ));
        handle(&config, &store, &notifier, &describer, event)
            .await
            .unwrap()
    }

    fn bodies(&self) -> Vec<String> {
        self.published
            .lock()
            .unwrap()
            .iter()
            .map(|p| p.message().unwrap_or_default().to_owned())
            .collect()
    }
}

fn status_change(status: &str, detail: Value) -> Value {
    let mut detail_object = json!({
        "executionArn": ARN, "name": "run-7", "status": status,
        "stateMachineArn": "arn:aws:states:us-east-1:111122223333:stateMachine:Pipeline",
        "startDate": 1_700_000_000_000u64, "stopDate": 1_700_000_001_000u64
    });
    for (k, v) in detail.as_object().unwrap() {
        detail_object[k] = v.clone();
    }
    json!({"version": "0", "id": "e1", "detail-type": "Step Functions Execution Status Change",
           "source": "aws.states", "account": "111122223333", "region": "us-east-1",
           "resources": [ARN], "detail": detail_object})
}

#[tokio::test]
async fn a_data_limit_failure_gets_one_email_with_the_prompt_from_describe_execution() {
    let services = Services::new();
    let event = status_change(
        "FAILED",
        json!({"input": null, "inputDetails": {"included": false},
               "error": "States.DataLimitExceeded",
               "cause": "The state/task 'ReceiveInput' returned a result with a size exceeding the maximum number of bytes service limit."}),
    );
    let outcome = services.run(event.clone()).await;
    assert_eq!(
        outcome,
        Outcome::Sent {
            execution_name: "run-7".into(),
            message_id: "msg-9".into()
        }
    );
    assert_eq!(services.describe.num_calls(), 1);
    let bodies = services.bodies();
    assert_eq!(bodies.len(), 1);
    assert!(
        bodies[0].contains("too large for the pipeline"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0].contains("Prompt: a lighthouse at dusk"),
        "{}",
        bodies[0]
    );
    assert!(
        bodies[0].contains("Error: States.DataLimitExceeded"),
        "{}",
        bodies[0]
    );
    assert!(
        services
            .claimed
            .lock()
            .unwrap()
            .contains("notifications/run-7.json")
    );

    // EventBridge delivers at least once: the second delivery sends nothing.
    let again = services.run(event).await;
    assert_eq!(
        again,
        Outcome::AlreadySent {
            execution_name: "run-7".into()
        }
    );
    assert_eq!(services.bodies().len(), 1);
}

#[tokio::test]
async fn a_run_that_emailed_already_gets_nothing_more() {
    let services = Services::new();
    services
        .claimed
        .lock()
        .unwrap()
        .insert("notifications/run-7.json".into());
    let event = status_change(
        "FAILED",
        json!({"input": "{\"prompt\":\"a cat\"}", "error": "PromptRejected", "cause": "x"}),
    );
    assert!(matches!(
        services.run(event).await,
        Outcome::AlreadySent { .. }
    ));
    assert!(services.bodies().is_empty());
    assert_eq!(
        services.describe.num_calls(),
        0,
        "the event had all it needed"
    );
}

#[tokio::test]
async fn timed_out_and_aborted_runs_say_so() {
    for (status, words, error) in [
        (
            "TIMED_OUT",
            "took longer than the pipeline allows",
            "ExecutionTimedOut",
        ),
        (
            "ABORTED",
            "The run was stopped before it finished",
            "ExecutionAborted",
        ),
    ] {
        let services = Services::new();
        let event = status_change(status, json!({"input": "{\"prompt\":\"a cat\"}"}));
        assert!(
            matches!(services.run(event).await, Outcome::Sent { .. }),
            "{status}"
        );
        let body = &services.bodies()[0];
        assert!(body.contains(words), "{status}: {body}");
        assert!(body.contains("Prompt: a cat"), "{status}: {body}");
        assert!(
            body.contains(&format!("Error: {error}")),
            "{status}: {body}"
        );
        assert!(!body.contains('{'), "no debug output: {body}");
    }
}

#[tokio::test]
async fn other_statuses_are_ignored() {
    let services = Services::new();
    let outcome = services
        .run(status_change("SUCCEEDED", json!({"input": "{}"})))
        .await;
    assert!(matches!(outcome, Outcome::Ignored { .. }), "{outcome:?}");
    assert!(services.bodies().is_empty());
}
