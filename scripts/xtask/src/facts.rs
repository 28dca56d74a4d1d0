//! The facts the CDK app needs from the Rust side, in one JSON file (`cdk/lib/facts.json`) that the
//! CDK reads instead of keeping its own copies: defaults and accepted ranges of the functions'
//! settings, the inference-profile geographies, the environment variable names, the S3 prefixes
//! and prompt-file extensions, the model-slot table's key, the budget-spent Deny policy's IAM path,
//! the error names, the example console
//! input, the HTTP API's routes and the queue consumer's batch size and redrive count. `cargo xtask facts` writes it; the xtask's
//! test (`scripts/xtask/tests/it/generated.rs`) fails when the file and the code disagree.

use generate_thumbnails::thumbnail::ThumbnailFormat;
use imagegen_aws::BUDGET_SPENT_POLICY_PATH;
use imagegen_aws::dynamodb::PARTITION_KEY;
use imagegen_core::ErrorName;
use imagegen_core::config::vars;
use imagegen_core::keys::{self, PromptFormat};
use imagegen_core::model::{DEFAULT_MODEL_ID, PROFILE_GEOGRAPHIES};
use imagegen_core::types::CONSOLE_INPUT_EXAMPLE;
use serde_json::{Value, json};

/// Where the facts file lives, relative to the repository root.
pub const FACTS_FILE: &str = "cdk/lib/facts.json";

/// The facts file's text: pretty JSON and a final newline.
pub fn facts_text() -> String {
    let mut text = serde_json::to_string_pretty(&facts()).unwrap_or_default();
    text.push('\n');
    text
}

/// The facts, as the CDK reads them.
pub fn facts() -> Value {
    let thumbnails = generate_thumbnails::Config::default();
    let presign = imagegen_core::presign::PRESIGN_EXPIRY_SECONDS_RANGE;
    let prompt_file = imagegen_core::request::MAX_PROMPT_FILE_BYTES_RANGE;
    let quality = generate_thumbnails::thumbnail::QUALITY_RANGE;
    let quota = reserve_model_slot::QUOTA_RPM_RANGE;
    let max_wait = reserve_model_slot::MAX_SLOT_WAIT_MINUTES_RANGE;
    json!({
        "comment": "Generated from the Rust code by `cargo xtask facts`; do not edit by hand.",
        "defaultModelId": DEFAULT_MODEL_ID,
        "profileGeographies": PROFILE_GEOGRAPHIES
            .map(|g| json!({"prefix": g.prefix, "callerRegions": g.caller_regions})),
        "regionNamePattern": imagegen_core::pools::REGION_NAME_PATTERN,
        "consoleInputExample": CONSOLE_INPUT_EXAMPLE,
        "envVars": vars::ALL,
        "errorNames": ErrorName::ALL.map(ErrorName::as_str),
        "prefixes": {
            "prompts": keys::PROMPT_PREFIX,
            "images": keys::IMAGES_PREFIX,
            "thumbnails": keys::THUMBNAILS_PREFIX,
            "results": keys::RESULTS_PREFIX,
            "notifications": keys::NOTIFICATIONS_PREFIX,
        },
        "promptExtensions": PromptFormat::ALL.map(|f| format!(".{}", f.extension())),
        "modelSlotTable": {
            "partitionKey": PARTITION_KEY,
        },
        "budgetSpentPolicyPath": BUDGET_SPENT_POLICY_PATH,
        "api": {
            "routes": http_api::routes::ROUTES.map(|r| json!({"method": r.method, "resource": r.resource})),
            "maxWaitSeconds": http_api::status::MAX_WAIT_SECONDS,
        },
        "queue": {
            "batchSize": queue_consumer::BATCH_SIZE,
            "maxReceiveCount": {
                "default": queue_consumer::DEFAULT_MAX_RECEIVE_COUNT,
                "min": queue_consumer::MAX_RECEIVE_COUNT_RANGE.start(),
                "max": queue_consumer::MAX_RECEIVE_COUNT_RANGE.end(),
            },
        },
        "settings": {
            "thumbnailSizes": {
                "default": thumbnails.spec.sizes,
                "max": generate_thumbnails::thumbnail::MAX_THUMBNAIL_SIZE,
            },
            "thumbnailFormat": {
                "default": thumbnails.spec.formats.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
                "choices": ThumbnailFormat::ALL.map(|f| f.to_string()),
            },
            "thumbnailQuality": {
                "default": thumbnails.spec.quality.jpeg,
                "min": quality.start(),
                "max": quality.end(),
                // The formats a quality can be given for (`FORMAT:QUALITY`); a bare number is JPEG's.
                "lossy": ThumbnailFormat::ALL
                    .into_iter()
                    .filter(|&f| thumbnails.spec.quality.of(f).is_some())
                    .map(|f| f.to_string())
                    .collect::<Vec<_>>(),
            },
            "presignExpirySeconds": {
                "default": imagegen_core::presign::DEFAULT_PRESIGN_EXPIRY_SECONDS,
                "min": presign.start(),
                "max": presign.end(),
            },
            "maxPromptFileBytes": {
                "default": imagegen_core::request::DEFAULT_MAX_PROMPT_FILE_BYTES,
                "min": prompt_file.start(),
                "max": prompt_file.end(),
            },
            "modelQuotaRpm": {
                "default": reserve_model_slot::DEFAULT_QUOTA_RPM,
                "min": quota.start(),
                "max": quota.end(),
            },
            "maxSlotWaitMinutes": {
                "default": reserve_model_slot::DEFAULT_MAX_SLOT_WAIT_MINUTES,
                "min": max_wait.start(),
                "max": max_wait.end(),
            },
        },
    })
}
