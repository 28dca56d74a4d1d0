//! The front doors under `imagegen serve`, wired as the CDK app wires them on AWS:
//!
//! - the HTTP API: the http-api handler behind the local API Gateway ([`imagegen_local::apigateway`]),
//!   which hands it the proxy event API Gateway would send; the handler reads it with lambda_http,
//!   as on Lambda, and its answer goes back as the proxy response Lambda would return;
//! - the queue: `imagegen-prompts` (with its dead-letter queue) fed to the queue-consumer handler in
//!   batches by the local event source mapping ([`imagegen_local::sqs::mapping`]).
//!
//! Both get the settings the deployed functions get, from the same environment as the other local
//! functions, and talk to the local Step Functions and S3 through the SDK clients.

use std::sync::Arc;

use base64::Engine;
use imagegen_aws::{S3Store, SfnDescriber, SfnStarter};
use imagegen_local::LocalAws;
use imagegen_local::apigateway::RestApi;
use imagegen_local::sqs::mapping::EventSourceMapping;
use imagegen_local::sqs::{QueueSettings, Redrive};
use lambda_http::{Body, Response};
use serde_json::{Map, Value, json};

use crate::error::LocalPipelineError;
use crate::pipeline::LocalPipeline;
use crate::settings::{DEAD_LETTER_QUEUE_NAME, QUEUE_NAME};

/// How long the dead-letter queue keeps a message (SQS's longest: 14 days), so an operator has
/// time to read it.
const DEAD_LETTER_RETENTION_SECONDS: u64 = 14 * 24 * 3600;

/// Make the queue and its dead-letter queue (kept as they are when they exist).
pub fn create_queues(aws: &LocalAws) -> Result<(), LocalPipelineError> {
    aws.sqs().create_queue(
        DEAD_LETTER_QUEUE_NAME,
        QueueSettings {
            retention_seconds: DEAD_LETTER_RETENTION_SECONDS,
            ..QueueSettings::default()
        },
    )?;
    aws.sqs().create_queue(
        QUEUE_NAME,
        QueueSettings {
            redrive: Some(Redrive {
                dead_letter_queue: DEAD_LETTER_QUEUE_NAME.to_owned(),
                max_receive_count: queue_consumer::DEFAULT_MAX_RECEIVE_COUNT,
            }),
            ..QueueSettings::default()
        },
    )?;
    Ok(())
}

/// The HTTP API: its routes, each request handed to the http-api handler.
pub fn rest_api(pipeline: &LocalPipeline) -> Result<RestApi, LocalPipelineError> {
    let config = http_api::Config::from_env(pipeline.function_env())?;
    let sfn = pipeline.sfn_client().clone();
    let ports = http_api::Ports {
        starter: SfnStarter::new(sfn.clone(), config.state_machine_arn.as_str()),
        describer: SfnDescriber::new(sfn),
        store: S3Store::new(pipeline.s3_client().clone()),
    };
    let function = Arc::new((config, ports));
    let routes = http_api::routes::ROUTES.map(|r| (r.method, r.resource));
    Ok(RestApi::new(routes, move |event: Value| {
        let function = Arc::clone(&function);
        async move {
            let request = lambda_http::request::from_str(&event.to_string())
                .map_err(|e| format!("the proxy event could not be read: {e}"))?;
            let (config, ports) = &*function;
            Ok(proxy_response(
                http_api::handle(config, ports, request).await,
            ))
        }
    }))
}

/// The queue's event source mapping to the queue-consumer handler.
pub fn queue_mapping(pipeline: &LocalPipeline) -> Result<EventSourceMapping, LocalPipelineError> {
    let config = queue_consumer::Config::from_env(pipeline.function_env())?;
    let starter = SfnStarter::new(
        pipeline.sfn_client().clone(),
        config.state_machine_arn.clone(),
    );
    let function = Arc::new((config, starter));
    Ok(EventSourceMapping::new(
        QUEUE_NAME,
        queue_consumer::BATCH_SIZE,
        move |event: Value| {
            let function = Arc::clone(&function);
            async move {
                let (config, starter) = &*function;
                let outcomes = queue_consumer::consume_all(config, starter, event)
                    .await
                    .map_err(|e| format!("{}: {e}", e.name()))?;
                // What the function logs on Lambda, where a person running serve sees it.
                for (id, outcome) in &outcomes {
                    if let queue_consumer::Outcome::Failed { reason } = outcome {
                        eprintln!("! sqs message {id}: {reason}");
                    }
                }
                serde_json::to_value(queue_consumer::response(&outcomes)).map_err(|e| e.to_string())
            }
        },
    ))
}

/// The proxy response Lambda returns to API Gateway for `response` (lambda_http's encoding: text
/// bodies as they are, binary ones in base64).
pub fn proxy_response(response: Response<Body>) -> Value {
    let (parts, body) = response.into_parts();
    let mut headers = Map::new();
    let mut multi: Map<String, Value> = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_owned(), json!(value));
        match multi.get_mut(name.as_str()).and_then(Value::as_array_mut) {
            Some(values) => values.push(json!(value)),
            None => {
                multi.insert(name.as_str().to_owned(), json!([value]));
            }
        }
    }
    let (body, base64_encoded) = match body {
        Body::Text(text) => (json!(text), false),
        Body::Binary(bytes) => (
            json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
            true,
        ),
        _ => (Value::Null, false),
    };
    json!({
        "statusCode": parts.status.as_u16(),
        "headers": headers,
        "multiValueHeaders": multi,
        "body": body,
        "isBase64Encoded": base64_encoded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_responses_carry_status_headers_and_body() {
        let mut response = Response::new(Body::Text("{\"a\":1}".into()));
        *response.status_mut() = lambda_http::http::StatusCode::ACCEPTED;
        response
            .headers_mut()
            .insert("location", "http://x/images/1".parse().unwrap());
        let value = proxy_response(response);
        assert_eq!(value["statusCode"], 202);
        assert_eq!(value["headers"]["location"], "http://x/images/1");
        assert_eq!(value["body"], "{\"a\":1}");
        assert_eq!(value["isBase64Encoded"], false);
        let binary = proxy_response(Response::new(Body::Binary(vec![0xff, 0])));
        assert_eq!(binary["body"], "/wA=");
        assert_eq!(binary["isBase64Encoded"], true);
    }
}
