//! The handlers' settings in local mode: built in code, overridable with the same environment
//! variables the Lambda functions read.

use std::collections::HashMap;

use imagegen_core::config::{Env, vars};
use imagegen_core::model::{DEFAULT_MODEL_ID, KNOWN_MODELS};

/// The local bucket for prompts, images, thumbnails and manifests.
pub const BUCKET: &str = "imagegen-local";
/// The local SNS topic the emails go to.
pub const TOPIC_NAME: &str = "imagegen-notifications";
/// The local state machine's name.
pub const STATE_MACHINE_NAME: &str = "imagegen-pipeline";
/// The local DynamoDB table of model-slot schedules.
pub const SLOT_TABLE: &str = "imagegen-model-slots";
/// The local queue of prompts (console JSON per message), read by the queue consumer.
pub const QUEUE_NAME: &str = "imagegen-prompts";
/// Where the queue's messages go after `maxReceiveCount` failed deliveries.
pub const DEAD_LETTER_QUEUE_NAME: &str = "imagegen-prompts-dlq";
/// The environment the local handlers see: defaults for local mode (every model the offline model
/// knows may be named), then `overrides` of any variable a function reads ([`vars::ALL`]).
pub fn function_env(
    topic_arn: &str,
    state_machine_arn: &str,
    overrides: &impl Env,
) -> HashMap<String, String> {
    let allowed_models = KNOWN_MODELS
        .iter()
        .map(|m| m.id)
        .collect::<Vec<_>>()
        .join(",");
    let mut env: HashMap<String, String> = [
        (vars::OUTPUT_BUCKET, BUCKET),
        (vars::DEFAULT_MODEL_ID, DEFAULT_MODEL_ID),
        (vars::ALLOWED_MODEL_IDS, &allowed_models),
        (vars::TOPIC_ARN, topic_arn),
        (vars::STATE_MACHINE_ARN, state_machine_arn),
        (vars::MODEL_SLOT_TABLE, SLOT_TABLE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    for name in vars::ALL {
        if let Some(value) = overrides.var(name).filter(|v| !v.trim().is_empty()) {
            env.insert((*name).to_owned(), value);
        }
    }
    env
}

/// The local ARN of a pipeline function (`imagegen-validate-prompt`, ...).
pub fn function_arn(region: &str, function: &str) -> String {
    format!(
        "arn:aws:lambda:{region}:{}:function:{function}",
        imagegen_local::config::ACCOUNT_ID
    )
}

/// The local pipeline's functions (their names in local ARNs).
pub const VALIDATE_PROMPT: &str = "imagegen-validate-prompt";
pub const RESERVE_MODEL_SLOT: &str = "imagegen-reserve-model-slot";
pub const GENERATE_IMAGE: &str = "imagegen-generate-image";
pub const GENERATE_THUMBNAILS: &str = "imagegen-generate-thumbnails";
pub const NOTIFY_USER: &str = "imagegen-notify-user";

/// The definition's `${...}` placeholders and the local functions they name.
pub const FUNCTIONS: [(&str, &str); 5] = [
    ("ValidatePromptFunctionArn", VALIDATE_PROMPT),
    ("ReserveModelSlotFunctionArn", RESERVE_MODEL_SLOT),
    ("GenerateImageFunctionArn", GENERATE_IMAGE),
    ("GenerateThumbnailsFunctionArn", GENERATE_THUMBNAILS),
    ("NotifyUserFunctionArn", NOTIFY_USER),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let env = function_env("arn:t", "arn:sm", &[("BLOCKLIST", "gore"), ("HOME", "/x")]);
        assert_eq!(env["OUTPUT_BUCKET"], BUCKET);
        assert_eq!(env["MODEL_SLOT_TABLE"], SLOT_TABLE);
        assert_eq!(env["BLOCKLIST"], "gore");
        assert!(!env.contains_key("HOME"));
        let env = function_env("arn:t", "arn:sm", &[("OUTPUT_BUCKET", "other")]);
        assert_eq!(env["OUTPUT_BUCKET"], "other");
        assert_eq!(
            function_arn("us-east-1", "f"),
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
    }
}
