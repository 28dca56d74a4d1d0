//! Building the HTTP responses (status, headers, body). Every body is JSON; every refusal has a
//! `message` sentence, as API Gateway's own refusals do (`{"message": "Missing Authentication
//! Token"}`), so a client reads all of them the same way. The bodies' shapes are in
//! [`crate::bodies`].

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

/// `status` with `body` as JSON.
pub fn json(status: StatusCode, body: &impl Serialize) -> Response<Body> {
    let text = serde_json::to_string(body).unwrap_or_else(|e| {
        json!({"message": format!("The answer could not be written as JSON: {e}")}).to_string()
    });
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `status` with `{"message": text}`.
pub fn message(status: StatusCode, text: impl Into<String>) -> Response<Body> {
    json(status, &json!({"message": text.into()}))
}

/// API Gateway's answer for a route it does not have, or a request it could not authenticate.
pub fn no_such_route() -> Response<Body> {
    with_header(
        message(StatusCode::FORBIDDEN, "Missing Authentication Token"),
        "x-amzn-errortype",
        "MissingAuthenticationTokenException",
    )
}

/// Add a header (values that are not valid header text are left out).
pub fn with_header(
    mut response: Response<Body>,
    name: &'static str,
    value: &str,
) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
    response
}
