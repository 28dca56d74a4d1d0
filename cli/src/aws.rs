//! `imagegen aws post` and `imagegen aws get`: the deployed HTTP API called through
//! [`imagegen_deployed_client::api`], its answers printed (as JSON, for people and scripts alike)
//! and the exit code saying how the request went. (`imagegen aws start` is
//! [`crate::commands::aws_start`].)

use std::io::Write;
use std::time::Duration;

use imagegen_deployed_client::DeployedClientError;
use imagegen_deployed_client::api::{Answer, Api, status_url};
use serde_json::Value;

use crate::args::{AwsGetArgs, AwsPostArgs};
use crate::error::CliError;
use crate::input;

/// POST the prompt; with `--wait`, then ask for the status until it ends or the time is up.
/// Exit code: 0 when accepted (and, when waited for, not failed), 1 otherwise.
pub async fn post(
    api: &Api,
    args: &AwsPostArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let body = input::build(&args.run)?.to_string();
    let mut headers = Vec::new();
    if let Some(key) = &args.idempotency_key {
        headers.push(("idempotency-key", key.as_str()));
    }
    let answer = api
        .send(
            "POST",
            &api.url(http_api::routes::GENERATE_IMAGE.resource),
            &headers,
            body.into_bytes(),
        )
        .await?;
    print(&answer, out);
    if !answer.is_success() {
        return Ok(1);
    }
    let Some(total) = args.wait else {
        return Ok(0);
    };
    let Some(url) = answer.body["statusUrl"].as_str() else {
        return Err(DeployedClientError::aws("HTTP API", "the answer has no statusUrl").into());
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(total);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        // One request waits at most as long as the API allows.
        let wait = left.as_secs().min(http_api::status::MAX_WAIT_SECONDS);
        let status = api
            .send("GET", &status_url(api, url, Some(wait)), &[], Vec::new())
            .await?;
        if !status.is_success() || status.body["status"] != "running" || wait == 0 {
            print(&status, out);
            return Ok(exit_code(&status));
        }
    }
}

/// GET a request's status. Exit code: 0 when it is running or succeeded, 1 when it failed or the
/// API refused.
pub async fn get(
    api: &Api,
    args: &AwsGetArgs,
    out: &mut (dyn Write + Send),
) -> Result<u8, CliError> {
    let answer = api
        .send(
            "GET",
            &status_url(api, &args.request, args.wait),
            &[],
            Vec::new(),
        )
        .await?;
    print(&answer, out);
    Ok(exit_code(&answer))
}

fn exit_code(answer: &Answer) -> u8 {
    if answer.is_success() && answer.body["status"] != "failed" {
        0
    } else {
        1
    }
}

fn print(answer: &Answer, out: &mut (dyn Write + Send)) {
    let text = match &answer.body {
        Value::String(text) => text.clone(),
        body => serde_json::to_string_pretty(body).unwrap_or_default(),
    };
    if !answer.is_success() {
        writeln!(out, "HTTP {}", answer.status).ok();
    }
    writeln!(out, "{text}").ok();
}
