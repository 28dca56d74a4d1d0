use super::*;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system's temp dir, removed when dropped.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "imagegen-rehearse-assembly-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("{e}"));
        Self(path)
    }

    fn write(&self, name: &str, value: &serde_json::Value) {
        std::fs::write(self.0.join(name), value.to_string()).unwrap_or_else(|e| panic!("{e}"));
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stack_artifact(template: &str) -> serde_json::Value {
    json!({
        "type": "aws:cloudformation:stack",
        "environment": "aws://unknown-account/eu-west-1",
        "properties": {"templateFile": template},
        "dependencies": []
    })
}

fn machine_template() -> serde_json::Value {
    json!({"Resources": {
        "Machine": {"Type": "AWS::StepFunctions::StateMachine",
                    "Properties": {"DefinitionString": "{\"StartAt\":\"A\"}"}},
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Key": "abc.zip"}}}
    }})
}

fn message(result: Result<Assembly, AssemblyError>) -> String {
    result.err().map(|e| e.to_string()).unwrap_or_default()
}

#[test]
fn a_missing_assembly_says_to_synth() {
    let dir = Dir::new();
    let missing = dir.0.join("cdk.out");
    assert_eq!(
        message(Assembly::load(&missing, &StackChoice::ThePipeline)),
        format!(
            "no cloud assembly at {}: run `cdk synth` first (cdk/scripts/synth.sh)",
            missing.display()
        )
    );
}

#[test]
fn another_apps_assembly_has_no_state_machine() {
    let dir = Dir::new();
    dir.write(
        "manifest.json",
        &json!({"artifacts": {"Web": stack_artifact("Web.template.json")}}),
    );
    dir.write(
        "Web.template.json",
        &json!({"Resources": {"Site": {"Type": "AWS::S3::Bucket"}}}),
    );
    let m = message(Assembly::load(&dir.0, &StackChoice::ThePipeline));
    assert!(
        m.contains("has no stack with a state machine, so it is another app's (stacks: Web)"),
        "{m}"
    );
    let m = message(Assembly::load(&dir.0, &StackChoice::Named("Web".into())));
    assert_eq!(
        m,
        "stack Web has no state machine, so it is not this app's pipeline: choose another with --stack"
    );
    let m = message(Assembly::load(&dir.0, &StackChoice::Named("Nope".into())));
    assert!(m.contains("has no stack named Nope (it has: Web)"), "{m}");
}

#[test]
fn the_pipeline_stack_is_chosen_among_several_and_assets_are_found() {
    let dir = Dir::new();
    let mut pipeline = stack_artifact("Pipe.template.json");
    pipeline["dependencies"] = json!(["Pipe.assets"]);
    dir.write(
        "manifest.json",
        &json!({"artifacts": {
            "Pipe.assets": {"type": "cdk:asset-manifest", "properties": {"file": "Pipe.assets.json"}},
            "Pipe": pipeline,
            "Access": stack_artifact("Access.template.json"),
            "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}
        }}),
    );
    dir.write("Pipe.template.json", &machine_template());
    dir.write(
        "Access.template.json",
        &json!({"Resources": {"Policy": {"Type": "AWS::IAM::ManagedPolicy"}}}),
    );
    dir.write(
        "Pipe.assets.json",
        &json!({"version": "55.0.0", "files": {"abc": {
            "displayName": "Fn/Code",
            "source": {"path": "asset.abc", "packaging": "zip"},
            "destinations": {"d": {"bucketName": "b", "objectKey": "abc.zip"}}
        }}}),
    );
    let assembly =
        Assembly::load(&dir.0, &StackChoice::ThePipeline).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(assembly.stack().stack_name, "Pipe");
    assert_eq!(assembly.stack().region.as_deref(), Some("eu-west-1"));
    let options = assembly.stack_options();
    assert_eq!(options.region, "eu-west-1");
    let stack = Stack::new(assembly.template(), options).unwrap_or_else(|e| panic!("{e}"));
    let code = assembly
        .function_code(&stack, "Fn")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(code.path, dir.0.join("asset.abc"));
    assert_eq!(code.packaging, Packaging::ZipDirectory);
    assert_eq!(
        assembly.definition(&stack, "Machine").ok().as_deref(),
        Some("{\"StartAt\":\"A\"}")
    );
    assert_eq!(
        assembly
            .asset("zzz.zip", "X.Code.S3Key")
            .err()
            .map(|e| e.to_string())
            .as_deref(),
        Some(
            "X.Code.S3Key names the asset zzz.zip, which the assembly's asset manifest does not stage"
        )
    );
}

#[test]
fn two_pipelines_need_a_choice() {
    let dir = Dir::new();
    dir.write(
        "manifest.json",
        &json!({"artifacts": {"A": stack_artifact("A.json"), "B": stack_artifact("B.json")}}),
    );
    dir.write("A.json", &machine_template());
    dir.write("B.json", &machine_template());
    let m = message(Assembly::load(&dir.0, &StackChoice::ThePipeline));
    assert!(
        m.ends_with("has several stacks with a state machine (A, B): choose one with --stack"),
        "{m}"
    );
    let b =
        Assembly::load(&dir.0, &StackChoice::Named("B".into())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.stack().id, "B");
}

#[test]
fn a_broken_manifest_or_template_is_a_sentence() {
    let dir = Dir::new();
    std::fs::write(dir.0.join("manifest.json"), "not json").unwrap_or_else(|e| panic!("{e}"));
    let m = message(Assembly::load(&dir.0, &StackChoice::ThePipeline));
    assert!(
        m.contains("is not a cloud assembly manifest: it is not JSON"),
        "{m}"
    );
    dir.write(
        "manifest.json",
        &json!({"artifacts": {"A": stack_artifact("A.json")}}),
    );
    dir.write("A.json", &json!({"AWSTemplateFormatVersion": "2010-09-09"}));
    let m = message(Assembly::load(&dir.0, &StackChoice::ThePipeline));
    assert!(
        m.ends_with("the template is not a CloudFormation template: it has no Resources object"),
        "{m}"
    );
}
