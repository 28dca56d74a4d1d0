//! Echoes the `prompt` of its event; rejects events without one.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[derive(serde::Deserialize)]
struct Request {
    prompt: String,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<Request>| async move {
        Ok::<_, Error>(serde_json::json!({ "prompt": event.payload.prompt }))
    }))
    .await
}
