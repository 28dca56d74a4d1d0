//! A function process's environment: exactly the template's variables, plus what Lambda itself
//! sets (Lambda developer guide, "Defined runtime environment variables"; listed in
//! `shared/design/rehearse.md`), plus the twin's endpoint and CA bundle, so `main.rs` wiring, SDK
//! configuration and environment handling run as on Lambda.

use super::Function;
use std::collections::BTreeMap;

/// The names Lambda reserves: a template cannot set them (the deploy would fail), so the plan
/// refuses a function that does.
pub const RESERVED: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// What the twin gives a process beyond the template: where its Runtime API and endpoint are,
/// and the credentials that belong to its role.
#[derive(Debug, Clone)]
pub struct Launch<'a> {
    /// `host:port` of the local Lambda Runtime API.
    pub runtime_api: &'a str,
    /// `AWS_ENDPOINT_URL`: the twin's endpoint.
    pub endpoint: &'a str,
    /// `AWS_CA_BUNDLE`: the twin's locally generated CA, when it speaks HTTPS.
    pub ca_bundle: Option<&'a str>,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: &'a str,
    /// The Region the function runs in (the stack's).
    pub region: &'a str,
    /// Names this process's log stream (`YYYY/MM/DD/[$LATEST]<id>` on Lambda).
    pub log_stream: &'a str,
}

impl Function {
    /// The process's whole environment: the template's variables, then Lambda's own.
    pub fn process_environment(&self, launch: &Launch<'_>) -> BTreeMap<String, String> {
        let mut env = self.environment.clone();
        let mut set = |k: &str, v: &str| {
            env.insert(k.to_owned(), v.to_owned());
        };
        set("_HANDLER", &self.handler);
        set("AWS_REGION", launch.region);
        set("AWS_DEFAULT_REGION", launch.region);
        // Not defined for OS-only runtimes (provided.*), which is all the rehearsal runs.
        if !self.runtime.starts_with("provided") {
            set("AWS_EXECUTION_ENV", &format!("AWS_Lambda_{}", self.runtime));
        }
        set("AWS_LAMBDA_FUNCTION_NAME", &self.name);
        set(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            &self.memory_mb.to_string(),
        );
        set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST");
        set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand");
        let log_group = self
            .log_group
            .clone()
            .unwrap_or_else(|| format!("/aws/lambda/{}", self.name));
        set("AWS_LAMBDA_LOG_GROUP_NAME", &log_group);
        set("AWS_LAMBDA_LOG_STREAM_NAME", launch.log_stream);
        set("AWS_ACCESS_KEY_ID", launch.access_key_id);
        set("AWS_SECRET_ACCESS_KEY", launch.secret_access_key);
        set("AWS_SESSION_TOKEN", launch.session_token);
        set("AWS_LAMBDA_RUNTIME_API", launch.runtime_api);
        set("LAMBDA_TASK_ROOT", "/var/task");
        set("LAMBDA_RUNTIME_DIR", "/var/runtime");
        if !self.environment.contains_key("TZ") {
            set("TZ", ":UTC");
        }
        // Advanced logging controls: set when the function has a LoggingConfig.
        if let Some(format) = &self.log_format {
            set("AWS_LAMBDA_LOG_FORMAT", format);
        }
        if let Some(level) = &self.log_level {
            set("AWS_LAMBDA_LOG_LEVEL", level);
        }
        set("AWS_ENDPOINT_URL", launch.endpoint);
        if let Some(bundle) = launch.ca_bundle {
            set("AWS_CA_BUNDLE", bundle);
        }
        env
    }
}
