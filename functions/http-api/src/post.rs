//! `POST /generate-image`: hold the request to ValidatePrompt's rules, then start the pipeline.
//!
//! The execution's name is made from what identifies the request and from whose it is
//! ([`owner::execution_name`]): with an `Idempotency-Key`, the caller ([`caller::principal`]) and
//! the key, so a retried POST computes the same name, and Step Functions starts nothing new for it
//! (`ExecutionAlreadyExists`, or the same ARN while the first runs); the retry is answered as the
//! first was, once the existing execution's input shows it is the same request. Without a key, API
//! Gateway's id of the request, unique per request. Keys are the caller's own: another caller's same
//! key names another execution, and a 409 names none.

use imagegen_core::limits;
use imagegen_core::ports::{ExecutionDescriber, ExecutionStarter, StartOutcome};
use imagegen_core::request::{self, Accepted, Refused};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use crate::bodies::{self, Started};
use crate::config::Config;
use crate::failure::Failure;
use crate::responses::{self, with_header};
use crate::{caller, ids, owner, routes};

/// The header that makes a retried POST start nothing new.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The longest `Idempotency-Key` taken.
pub const MAX_KEY_CHARS: usize = 255;
/// The header on an answer that repeats an earlier one (the key had been used).
pub const REPLAYED: &str = "idempotent-replayed";

/// Answer a POST from `caller`.
pub async fn generate<St: ExecutionStarter, D: ExecutionDescriber>(
    config: &Config,
    starter: &St,
    describer: &D,
    caller: &str,
    request: &Request,
) -> Response<Body> {
    let key = idempotency_key(request);
    let checked = request::check(request.body().as_ref(), &config.rules);
    let accepted = match (key, checked) {
        (_, Err(Refused::TooLarge { size, limit })) => {
            return responses::message(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("The request is {size} bytes; this API takes at most {limit} bytes."),
            );
        }
        (Ok(key), Ok(accepted)) => (key, accepted),
        (key, checked) => {
            let mut problems: Vec<String> = key.err().into_iter().collect();
            if let Err(Refused::Rejected(rejections)) = checked {
                problems.extend(rejections.0);
            }
            return refused(problems);
        }
    };
    let (key, accepted) = accepted;
    let identity = match (&key, caller::request_id(request)) {
        (Some(key), _) => vec![caller.to_owned(), key.clone()],
        (None, Some(id)) => vec!["request".to_owned(), id],
        (None, None) => {
            return refused(vec![
                "the request has no API Gateway request id (requestContext.requestId); send an Idempotency-Key".to_owned(),
            ]);
        }
    };
    let parts: Vec<&str> = identity.iter().map(String::as_str).collect();
    let name = owner::execution_name(caller, &parts);
    let input = accepted.input.to_string();
    if let Err(e) = limits::check_execution_input(&input) {
        return responses::message(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{}.", capitalised(&e.to_string())),
        );
    }
    let arn = config.state_machine_arn.execution(&name);
    let request_id = ids::request_id(&name);
    let started = || Started {
        status_url: format!(
            "{}{}",
            caller::base_url(request),
            routes::status_path(&request_id)
        ),
        request_id: request_id.clone(),
        execution_name: name.clone(),
        model: accepted.model_id.clone(),
        warnings: accepted.warnings.clone(),
    };
    match starter.start(&name, &input).await {
        Ok(StartOutcome::Started { execution_arn }) => {
            tracing::info!(%execution_arn, %caller, "execution started");
            accepted_answer(&started(), false)
        }
        Ok(StartOutcome::AlreadyExists) => {
            replay(describer, &arn, &accepted, key.as_deref(), started())
                .await
                .unwrap_or_else(|failure| failure.answer(request))
        }
        Err(detail) => Failure::NotStarted {
            detail,
            keyed: key.is_some(),
        }
        .answer(request),
    }
}

/// An execution of this name exists: the same request again (answered as before), or the key's
/// reuse for another request: refused without naming the execution. The key is all the caller
/// needs to find their own request, and a 409 that named one was how another caller's leaked when
/// keys were shared by a role.
async fn replay<D: ExecutionDescriber>(
    describer: &D,
    arn: &str,
    accepted: &Accepted,
    key: Option<&str>,
    answer: Started,
) -> Result<Response<Body>, Failure> {
    let existing = describer
        .describe(arn)
        .await
        .map_err(|e| Failure::ReplayUnchecked(e.to_string()))?;
    let same = existing
        .input
        .as_deref()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .is_some_and(|input| input == accepted.input);
    if same {
        tracing::info!(execution_name = %answer.execution_name, "a repeated request; nothing new started");
        return Ok(accepted_answer(&answer, true));
    }
    tracing::info!(execution_name = %answer.execution_name, "an Idempotency-Key reused for another request");
    Ok(responses::message(
        StatusCode::CONFLICT,
        format!(
            "The Idempotency-Key {:?} was used for another request; use a new key for a new request.",
            key.unwrap_or_default(),
        ),
    ))
}

fn accepted_answer(started: &Started, replayed: bool) -> Response<Body> {
    let response = with_header(
        responses::json(StatusCode::ACCEPTED, started),
        "location",
        &started.status_url,
    );
    if replayed {
        with_header(response, REPLAYED, "true")
    } else {
        response
    }
}

fn refused(problems: Vec<String>) -> Response<Body> {
    let count = problems.len();
    responses::json(
        StatusCode::BAD_REQUEST,
        &bodies::Refused {
            message: format!(
                "The request was not accepted: {count} problem{}.",
                if count == 1 { "" } else { "s" }
            ),
            problems,
        },
    )
}

/// The `Idempotency-Key` header: absent, or 1 to [`MAX_KEY_CHARS`] visible ASCII characters.
fn idempotency_key(request: &Request) -> Result<Option<String>, String> {
    let Some(value) = request.headers().get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    let visible = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !visible {
        return Err(format!(
            "the Idempotency-Key header must be 1 to {MAX_KEY_CHARS} visible ASCII characters"
        ));
    }
    Ok(Some(key.to_owned()))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
