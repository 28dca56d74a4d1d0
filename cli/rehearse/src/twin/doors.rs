//! The front doors the template wires to functions: the REST API's routes (API Gateway invokes
//! the function synchronously as `apigateway.amazonaws.com`, admitted by the function's resource
//! policy for the route's `execute-api` ARN) and the queue mappings (Lambda's poller, with the
//! function's role, hands it batches; without `ReportBatchItemFailures` the function's answer is
//! not read, and only its failure returns the batch). A mapping's batching window and maximum
//! concurrency are kept: they decide how a burst reaches the function.

use std::sync::Arc;
use std::time::Duration;

use imagegen_local::LocalAws;
use imagegen_local::apigateway::RestApi;
use imagegen_local::sqs::mapping::EventSourceMapping;
use serde_json::{Value, json};

use super::TwinError;
use super::invoke::Invoker;
use crate::plan::Plan;

/// The REST API of the plan's routes, if it has any. The twin serves one API, integrated with one
/// function, as the template has it; another shape is refused rather than half served.
pub(super) fn rest_api(
    plan: &Plan,
    invoker: &Arc<Invoker>,
    region: &str,
    account: &str,
) -> Result<Option<RestApi>, TwinError> {
    let Some(first) = plan.routes.first() else {
        return Ok(None);
    };
    if let Some(other) = plan
        .routes
        .iter()
        .find(|r| r.function_arn != first.function_arn || r.api_id != first.api_id)
    {
        return Err(TwinError::resource(
            &other.api_id,
            format!(
                "{} {} is integrated with {}, and {} {} with {}: the rehearsal serves one API \
                 integrated with one function",
                first.method,
                first.path,
                first.function_arn,
                other.method,
                other.path,
                other.function_arn
            ),
        ));
    }
    let routes: Vec<(String, String)> = plan
        .routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    let function = first.function_arn.clone();
    // The ARN API Gateway invokes with: the stage, the method and the resource path.
    let source = format!(
        "arn:aws:execute-api:{region}:{account}:{}/{}",
        first.api_id, first.stage
    );
    let invoker = Arc::clone(invoker);
    Ok(Some(RestApi::new(
        routes.iter().map(|(m, p)| (m.as_str(), p.as_str())),
        move |event: Value| {
            let invoker = Arc::clone(&invoker);
            let function = function.clone();
            let method = event
                .get("httpMethod")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let resource = event
                .get("resource")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let source = format!("{source}/{method}{resource}");
            async move {
                invoker
                    .invoke_as_service("apigateway.amazonaws.com", &source, &function, event)
                    .await
                    .map_err(|e| e.to_string())
            }
        },
    )))
}

/// How many batches Lambda hands a function at once from a standard queue when the mapping sets
/// no `MaximumConcurrency`: it starts with five (Lambda developer guide, "Scaling behavior for
/// standard queues"); its scaling up from there, within the function's concurrency, is not
/// reproduced.
const INITIAL_CONCURRENT_BATCHES: u64 = 5;

/// One poller per enabled queue mapping.
pub(super) fn start_mappings(
    aws: &LocalAws,
    plan: &Plan,
    invoker: &Arc<Invoker>,
) -> Vec<tokio::task::JoinHandle<()>> {
    plan.mappings
        .iter()
        .filter(|m| m.enabled)
        .filter_map(|m| {
            let queue = plan.queues.iter().find(|q| q.arn == m.queue_arn)?;
            let invoker = Arc::clone(invoker);
            let function = m.function.clone();
            let reports = m.report_batch_item_failures;
            let mapping = EventSourceMapping::new(
                queue.name.clone(),
                usize::try_from(m.batch_size).unwrap_or(usize::MAX),
                move |event: Value| {
                    let invoker = Arc::clone(&invoker);
                    let function = function.clone();
                    async move {
                        let answer = invoker
                            .invoke(&function, event)
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(if reports { answer } else { json!({}) })
                    }
                },
            )
            .with_batching_window(Duration::from_secs(m.batching_window_seconds))
            .with_concurrency(
                usize::try_from(m.maximum_concurrency.unwrap_or(INITIAL_CONCURRENT_BATCHES))
                    .unwrap_or(usize::MAX),
            );
            let sqs = Arc::clone(aws.sqs());
            let name = queue.name.clone();
            Some(tokio::spawn(async move {
                mapping
                    .run(sqs, |batch| {
                        if !batch.returned.is_empty() {
                            eprintln!(
                                "! sqs {name}: {} of {} message(s) came back{}",
                                batch.returned.len(),
                                batch.delivered,
                                batch
                                    .error
                                    .as_deref()
                                    .map(|e| format!(" ({e})"))
                                    .unwrap_or_default()
                            );
                        }
                    })
                    .await;
            }))
        })
        .collect()
}
