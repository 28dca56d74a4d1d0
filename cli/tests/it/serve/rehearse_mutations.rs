//! The deployed behaviour of a template that is wrong, rehearsed: each test edits a copy of the
//! fixture's template as a refactor or a hand edit might, rehearses it (`--native`), and shows
//! what the deployed stack would do: the failure email naming the action and resource IAM
//! refused, the variable a function misses, an upload that starts nothing.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::RUN;
use super::harness::{Aws, Served, TempDir, aws_cli, eventually, messages};
use super::rehearse::{ca_bundle, ended, fixture, output, rehearse};

const TEMPLATE: &str = "Imagegen.template.json";

/// A copy of the fixture's assembly in `dir`, its template changed by `change`.
fn mutated(dir: &Path, change: impl FnOnce(&mut Value)) -> PathBuf {
    let copy = dir.join("cdk.out");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(fixture()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    let path = copy.join(TEMPLATE);
    let mut template: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut template);
    std::fs::write(&path, serde_json::to_string_pretty(&template).unwrap()).unwrap();
    copy
}

/// The resource whose logical id starts with `prefix`.
fn resource<'t>(template: &'t mut Value, prefix: &str) -> &'t mut Value {
    let resources = template["Resources"].as_object_mut().unwrap();
    let id = resources
        .keys()
        .find(|k| k.starts_with(prefix))
        .unwrap_or_else(|| panic!("no resource {prefix}*"))
        .clone();
    resources.get_mut(&id).unwrap()
}

struct Rehearsal {
    served: Served,
    aws: Aws,
    machine: String,
    bucket: String,
}

fn start(dir: &TempDir, assembly: &Path) -> Option<Rehearsal> {
    let cli = aws_cli()?;
    let built = Path::new(env!("CARGO_BIN_EXE_imagegen")).parent().unwrap();
    let served = rehearse(
        &dir.path().join("data"),
        assembly,
        &["--native", built.to_str().unwrap()],
    );
    let aws = Aws::new(cli, &served.endpoint).with_ca_bundle(&ca_bundle(&served));
    Some(Rehearsal {
        machine: output(&served, "StateMachineArn"),
        bucket: output(&served, "BucketName"),
        served,
        aws,
    })
}

impl Rehearsal {
    fn start_execution(&self, input: &str) {
        self.aws.ok(&[
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            &self.machine,
            "--input",
            input,
        ]);
    }

    fn upload(&self, dir: &TempDir, name: &str, text: &str) {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let to = format!("s3://{}/prompts/{name}", self.bucket);
        self.aws.ok(&["s3", "cp", file.to_str().unwrap(), &to]);
    }

    /// The one email, once sent.
    fn email(&self) -> String {
        eventually(RUN, "the email", || {
            let mail = messages(&self.served.data);
            (mail.len() == 1).then(|| {
                let m = &mail[0];
                format!("{}\n{}", m.subject.clone().unwrap_or_default(), m.body)
            })
        })
    }
}

#[test]
fn a_grant_removed_from_generate_image_s_role_fails_the_run_naming_the_action_and_the_key() {
    let dir = TempDir::new("rehearse-grant");
    let assembly = mutated(dir.path(), |t| {
        let policy = resource(t, "GenerateImageRoleDefaultPolicy");
        let statements = policy["Properties"]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
        statements.retain(|s| s["Sid"] != "WriteImages");
    });
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    r.start_execution(r#"{"prompt":"a lighthouse at dusk"}"#);
    ended(&r.aws, &r.machine, "FAILED", 1);
    let email = r.email();
    assert!(email.contains("s3:PutObject"), "{email}");
    assert!(email.contains("/images/"), "{email}");
}

/// The cross-Region inference profile the fixture allows (its README says how it was synthesized).
const PROFILE: &str = "us.stability.stable-image-core-v1:1";

/// The input of an execution that asks for the profile.
fn through_the_profile() -> String {
    json!({"prompt": "a lighthouse at dusk", "model": PROFILE}).to_string()
}

#[test]
fn an_inference_profile_with_the_policy_before_the_fix_is_refused_as_aws_refuses_it() {
    let dir = TempDir::new("rehearse-profile");
    // GenerateImage's grants as they were before the CDK granted profiles: the foundation model
    // in the Bedrock Region only.
    let assembly = mutated(dir.path(), |t| {
        let policy = resource(t, "GenerateImageRoleDefaultPolicy");
        let statements = policy["Properties"]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
        let before = statements.len();
        statements.retain(|s| {
            s["Sid"] != "InvokeConfiguredProfiles" && s["Sid"] != "InvokeModelsThroughProfiles"
        });
        assert_eq!(
            statements.len(),
            before - 2,
            "the fixture grants the profile"
        );
    });
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    r.start_execution(&through_the_profile());
    ended(&r.aws, &r.machine, "FAILED", 1);
    let email = r.email();
    assert!(email.contains("bedrock:InvokeModel"), "{email}");
    assert!(
        email.contains(&format!("inference-profile/{PROFILE}")),
        "{email}"
    );
}

#[test]
fn an_inference_profile_the_cdk_allows_succeeds() {
    let dir = TempDir::new("rehearse-profile-allowed");
    let assembly = mutated(dir.path(), |_| {});
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    r.start_execution(&through_the_profile());
    ended(&r.aws, &r.machine, "SUCCEEDED", 1);
    let email = r.email();
    assert!(!email.contains("AccessDenied"), "{email}");
}

#[test]
fn a_variable_removed_from_a_function_ends_in_the_email_naming_it() {
    let dir = TempDir::new("rehearse-variable");
    let assembly = mutated(dir.path(), |t| {
        let function = resource(t, "ValidatePromptFunction");
        let vars = function["Properties"]["Environment"]["Variables"]
            .as_object_mut()
            .unwrap();
        assert!(vars.remove("OUTPUT_BUCKET").is_some());
    });
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    r.start_execution(r#"{"prompt":"a lighthouse at dusk"}"#);
    ended(&r.aws, &r.machine, "FAILED", 1);
    let email = r.email();
    assert!(email.contains("OUTPUT_BUCKET"), "{email}");
}

#[test]
fn a_notification_suffix_changed_lets_an_upload_start_nothing() {
    let dir = TempDir::new("rehearse-suffix");
    let assembly = mutated(dir.path(), |t| {
        let notifications = t["Resources"]
            .as_object_mut()
            .unwrap()
            .values_mut()
            .find(|r| r["Type"] == "Custom::S3BucketNotifications")
            .unwrap();
        let rules = notifications
            .pointer_mut("/Properties/NotificationConfiguration/LambdaFunctionConfigurations/0/Filter/Key/FilterRules")
            .unwrap()
            .as_array_mut()
            .unwrap();
        for rule in rules.iter_mut().filter(|r| r["Name"] == "suffix") {
            rule["Value"] = json!(".text");
        }
    });
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    r.upload(&dir, "first.txt", "a lighthouse at dusk");
    // The .json configuration is untouched: its upload starts the one execution there is.
    r.upload(&dir, "second.json", r#"{"prompt":"a cat"}"#);
    let all = ended(&r.aws, &r.machine, "SUCCEEDED", 1);
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(messages(&r.served.data).len() <= 1);
}

#[test]
fn s3_s_lambda_permission_removed_starts_nothing_and_logs_the_refused_delivery() {
    let dir = TempDir::new("rehearse-permission");
    let assembly = mutated(dir.path(), |t| {
        let resources = t["Resources"].as_object_mut().unwrap();
        let id = resources
            .keys()
            .find(|k| k.starts_with("StoreBucketAllowBucketNotificationsTo"))
            .unwrap()
            .clone();
        resources.remove(&id);
        for (_, r) in resources.iter_mut() {
            if let Some(depends) = r.get_mut("DependsOn").and_then(Value::as_array_mut) {
                depends.retain(|d| d != &json!(id));
            }
        }
    });
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    assert!(
        r.served.printed().contains("would fail when deployed"),
        "{}",
        r.served.printed()
    );
    r.upload(&dir, "prompt.txt", "a lighthouse at dusk");
    eventually(RUN, "the refused delivery in the log", || {
        let stderr = r.served.stderr.lock().unwrap().join("\n");
        stderr
            .contains("s3.amazonaws.com could not invoke")
            .then_some(())
    });
    let listed = r.aws.json(&[
        "stepfunctions",
        "list-executions",
        "--state-machine-arn",
        &r.machine,
    ]);
    assert_eq!(listed["executions"], json!([]), "{listed:#?}");
}

#[test]
fn a_bucket_policy_deny_on_images_fails_the_run_with_access_denied_in_the_email() {
    let dir = TempDir::new("rehearse-deny");
    let assembly = mutated(dir.path(), |t| {
        let policy = resource(t, "StoreBucketPolicy");
        let statements = policy["Properties"]["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
        statements.push(json!({
            "Sid": "NoImages",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:PutObject",
            "Resource": {"Fn::Join": ["", [{"Fn::GetAtt": ["StoreBucket4FBDE984", "Arn"]}, "/images/*"]]}
        }));
    });
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    r.start_execution(r#"{"prompt":"a lighthouse at dusk"}"#);
    ended(&r.aws, &r.machine, "FAILED", 1);
    let email = r.email();
    assert!(
        email.contains("AccessDenied") || email.contains("explicit deny"),
        "{email}"
    );
    assert!(email.contains("/images/"), "{email}");
}

#[test]
fn the_budget_actions_deny_on_generate_image_s_role_ends_in_the_budget_spent_email() {
    let dir = TempDir::new("rehearse-budget");
    let assembly = mutated(dir.path(), |t| {
        let resources = t["Resources"].as_object_mut().unwrap();
        let role = resources
            .iter()
            .find(|(id, r)| id.starts_with("GenerateImageRole") && r["Type"] == "AWS::IAM::Role")
            .map(|(id, _)| id.clone())
            .unwrap();
        // What AWS Budgets does at 100% of the budget: the stack's Deny (under the path the Bedrock
        // adapter knows, BUDGET_SPENT_POLICY_PATH) attached to GenerateImage's role.
        resources.insert(
            "CostGuardsBudgetSpentPolicy".into(),
            json!({"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                "Path": "/imagegen-budget-spent/",
                "Roles": [{"Ref": role}],
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Sid": "MonthlyBudgetSpent", "Effect": "Deny", "Action": "bedrock:InvokeModel", "Resource": "*"}
                ]}
            }}),
        );
    });
    let Some(r) = start(&dir, &assembly) else {
        return;
    };
    r.start_execution(r#"{"prompt":"a lighthouse at dusk"}"#);
    ended(&r.aws, &r.machine, "FAILED", 1);
    let email = r.email();
    assert!(email.contains("(BudgetSpent)"), "{email}");
    assert!(
        email.contains("The monthly budget for image generation is spent"),
        "{email}"
    );
    // The denial's role and account stay in the logs.
    assert!(!email.contains("assumed-role"), "{email}");
}
