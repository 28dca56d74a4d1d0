//! API Gateway, locally: a REST API whose methods use IAM authorization and Lambda proxy
//! integrations, as the CDK app deploys it.
//!
//! The router has checked the request's signature (SigV4, service `execute-api`) with the local
//! credentials, as IAM authorization does. Here a request on one of the API's routes becomes the
//! proxy event API Gateway sends the function ([`proxy_event`]: the resource, path parameters,
//! query string, headers, the caller's identity, a request id), and the function's proxy response
//! (`statusCode`, `headers`, `body`) becomes the HTTP answer. A route the API does not have is
//! refused as API Gateway refuses it (403 `Missing Authentication Token`), and a function that
//! fails or answers something that is not a proxy response is a 502, as there.
//!
//! The local API is served at the endpoint's root, with no stage in its URLs; the event says so
//! with the stage `$default`, the name for a stage that is not in the path.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value, json};

use crate::config::ACCOUNT_ID;
use crate::ids::new_id;
use crate::server::Protocol;
use crate::server::sigv4;
use crate::transport::{LocalRequest, LocalResponse, LocalService};

/// The SigV4 service name of API Gateway APIs.
pub const SERVICE: &str = "execute-api";
/// The stage of a local API (not in its URLs).
pub const STAGE: &str = "$default";
/// The IAM user the local access key stands for.
pub const LOCAL_USER_ARN: &str = "arn:aws:iam::000000000000:user/imagegen-local";

type Function =
    Arc<dyn Fn(Value) -> Pin<Box<dyn Future<Output = Result<Value, String>> + Send>> + Send + Sync>;

/// One method on one resource (`{name}` in a resource is a path parameter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub resource: String,
}

/// A REST API: its routes, all integrated with one function.
#[derive(Clone)]
pub struct RestApi {
    routes: Vec<Route>,
    function: Function,
}

impl fmt::Debug for RestApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestApi")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl RestApi {
    /// `routes` as (method, resource); `function` takes a proxy event and answers the function's
    /// proxy response (or its error).
    pub fn new<'a, F, Fut>(
        routes: impl IntoIterator<Item = (&'a str, &'a str)>,
        function: F,
    ) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, String>> + Send + 'static,
    {
        Self {
            routes: routes
                .into_iter()
                .map(|(method, resource)| Route {
                    method: method.to_owned(),
                    resource: resource.to_owned(),
                })
                .collect(),
            function: Arc::new(move |event| Box::pin(function(event))),
        }
    }

    /// The path prefixes of the routes (up to the first parameter), for the router to claim.
    pub fn path_prefixes(&self) -> Vec<String> {
        let mut prefixes: Vec<String> = self
            .routes
            .iter()
            .map(|r| match r.resource.find('{') {
                Some(at) => r.resource[..at].to_owned(),
                None => r.resource.clone(),
            })
            .collect();
        prefixes.sort();
        prefixes.dedup();
        prefixes
    }

    /// The route for `method` and `path`, with its path parameters (decoded).
    pub fn route(&self, method: &str, path: &str) -> Option<(&Route, BTreeMap<String, String>)> {
        self.routes
            .iter()
            .filter(|r| r.method == method)
            .find_map(|r| parameters(&r.resource, path).map(|p| (r, p)))
    }
}

impl LocalService for RestApi {
    async fn handle(&self, request: LocalRequest) -> LocalResponse {
        let Some((route, parameters)) = self.route(&request.method, &request.path) else {
            return Protocol::Rest.error(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            );
        };
        let event = proxy_event(&request, route, &parameters);
        match (self.function)(event).await {
            Ok(answer) => response_of(&answer).unwrap_or_else(|why| {
                tracing::error!(%why, "local API Gateway: the function's answer is not a proxy response");
                internal_error()
            }),
            Err(e) => {
                tracing::error!(error = %e, "local API Gateway: the function failed");
                internal_error()
            }
        }
    }
}

fn internal_error() -> LocalResponse {
    Protocol::Rest.error(502, "InternalServerErrorException", "Internal server error")
}

/// `path`'s parameters if it fits the resource template (`{name}` matches one non-empty segment).
fn parameters(template: &str, path: &str) -> Option<BTreeMap<String, String>> {
    let wanted: Vec<&str> = template.split('/').collect();
    let given: Vec<&str> = path.split('/').collect();
    if wanted.len() != given.len() {
        return None;
    }
    let mut found = BTreeMap::new();
    for (w, g) in wanted.iter().zip(&given) {
        match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name) if !g.is_empty() => {
                found.insert(
                    name.to_owned(),
                    percent_decode_str(g).decode_utf8_lossy().into_owned(),
                );
            }
            Some(_) => return None,
            None if w == g => {}
            None => return None,
        }
    }
    Some(found)
}

/// The proxy event API Gateway sends for `request` on `route` (the REST API's, payload 1.0).
pub fn proxy_event(
    request: &LocalRequest,
    route: &Route,
    parameters: &BTreeMap<String, String>,
) -> Value {
    let mut headers = Map::new();
    let mut multi_headers: Map<String, Value> = Map::new();
    for (name, value) in &request.headers {
        headers.insert(name.clone(), json!(value));
        push(&mut multi_headers, name, value);
    }
    // Where the client's connection ended: API Gateway says https; the local endpoint is http.
    headers.insert("x-forwarded-proto".to_owned(), json!("http"));
    multi_headers.insert("x-forwarded-proto".to_owned(), json!(["http"]));
    let mut query = Map::new();
    let mut multi_query: Map<String, Value> = Map::new();
    for (name, value) in sigv4::query_pairs(request.query.as_deref().unwrap_or("")) {
        push(&mut multi_query, &name, &value);
        query.insert(name, json!(value));
    }
    let (body, base64_encoded) = match std::str::from_utf8(&request.body) {
        _ if request.body.is_empty() => (Value::Null, false),
        Ok(text) => (json!(text), false),
        Err(_) => (
            json!(base64::engine::general_purpose::STANDARD.encode(&request.body)),
            true,
        ),
    };
    let nullable = |map: Map<String, Value>| {
        if map.is_empty() {
            Value::Null
        } else {
            Value::Object(map)
        }
    };
    let host = request.header("host").unwrap_or("localhost");
    json!({
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": nullable(query),
        "multiValueQueryStringParameters": nullable(multi_query),
        "pathParameters": nullable(parameters.iter().map(|(k, v)| (k.clone(), json!(v))).collect()),
        "stageVariables": null,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "path": request.path,
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainName": host,
            "requestId": new_id(),
            "requestTimeEpoch": crate::sqs::now_ms(),
            "identity": identity(request),
            "apiId": "local",
        },
        "body": body,
        "isBase64Encoded": base64_encoded,
    })
}

fn push(map: &mut Map<String, Value>, name: &str, value: &str) {
    match map.get_mut(name).and_then(Value::as_array_mut) {
        Some(values) => values.push(json!(value)),
        None => {
            map.insert(name.to_owned(), json!([value]));
        }
    }
}

/// The caller as IAM authorization tells it: the signing access key and who it belongs to.
fn identity(request: &LocalRequest) -> Value {
    let signed = sigv4::Request {
        method: &request.method,
        path: &request.path,
        query: request.query.as_deref(),
        headers: &request.headers,
        payload_hash: "",
    };
    let access_key = sigv4::read(&signed).ok().map(|s| s.scope.access_key);
    json!({
        "accountId": ACCOUNT_ID,
        "caller": access_key,
        "accessKey": access_key,
        "userArn": access_key.as_ref().map(|_| LOCAL_USER_ARN),
        "user": access_key,
        "sourceIp": "127.0.0.1",
        "userAgent": request.header("user-agent"),
    })
}

/// The HTTP answer for a function's proxy response.
fn response_of(answer: &Value) -> Result<LocalResponse, String> {
    let status = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .filter(|s| (100..=599).contains(s))
        .ok_or("no statusCode")?;
    let text = answer.get("body").and_then(Value::as_str).unwrap_or("");
    let body = if answer.get("isBase64Encoded") == Some(&Value::Bool(true)) {
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("the body is not base64: {e}"))?
    } else {
        text.as_bytes().to_vec()
    };
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some(map) = answer.get("headers").and_then(Value::as_object) {
        for (name, value) in map {
            headers.push((name.clone(), value.as_str().unwrap_or_default().to_owned()));
        }
    }
    if let Some(map) = answer.get("multiValueHeaders").and_then(Value::as_object) {
        for (name, values) in map {
            for value in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !headers
                    .iter()
                    .any(|(n, v)| n.eq_ignore_ascii_case(name) && v == value)
                {
                    headers.push((name.clone(), value.to_owned()));
                }
            }
        }
    }
    let content_type = headers
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|i| headers.remove(i).1)
        .unwrap_or_else(|| "application/json".to_owned());
    let mut response =
        LocalResponse::new(status, &content_type, body).with_header("x-amzn-requestid", new_id());
    for (name, value) in headers {
        if !name.eq_ignore_ascii_case("content-length") {
            response = response.with_header_named(name, value);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> RestApi {
        RestApi::new(
            [("POST", "/generate-image"), ("GET", "/images/{requestId}")],
            |event: Value| async move {
                Ok(json!({
                    "statusCode": 200,
                    "headers": {"content-type": "application/json", "x-seen": event["pathParameters"]["requestId"]},
                    "body": event.to_string(),
                }))
            },
        )
    }

    fn request(method: &str, path: &str, query: Option<&str>) -> LocalRequest {
        LocalRequest {
            method: method.into(),
            path: path.into(),
            query: query.map(str::to_owned),
            headers: vec![
                ("host".into(), "127.0.0.1:4566".into()),
                (
                    "authorization".into(),
                    "AWS4-HMAC-SHA256 Credential=IMAGEGENLOCALKEY/20261201/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00".into(),
                ),
                ("x-amz-date".into(), "20261201T120000Z".into()),
            ],
            body: b"{\"prompt\":\"x\"}".to_vec(),
        }
    }

    #[test]
    fn routes_match_whole_segments_and_claim_their_prefixes() {
        let api = api();
        assert!(api.route("POST", "/generate-image").is_some());
        assert!(api.route("GET", "/generate-image").is_none());
        let (_, params) = api.route("GET", "/images/a%20b").unwrap();
        assert_eq!(params["requestId"], "a b");
        assert!(api.route("GET", "/images/").is_none());
        assert!(api.route("GET", "/images/a/b").is_none());
        assert_eq!(api.path_prefixes(), ["/generate-image", "/images/"]);
    }

    #[tokio::test]
    async fn the_function_gets_a_proxy_event_and_its_answer_is_the_response() {
        let api = api();
        let response = api
            .handle(request("GET", "/images/r-1", Some("wait=20&x=1&x=2")))
            .await;
        assert_eq!(response.status, 200);
        let seen = response
            .headers
            .iter()
            .find(|(n, _)| n == "x-seen")
            .map(|(_, v)| v.as_str());
        assert_eq!(seen, Some("r-1"));
        let event: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(event["resource"], "/images/{requestId}");
        assert_eq!(
            event["requestContext"]["resourcePath"],
            "/images/{requestId}"
        );
        assert_eq!(event["requestContext"]["stage"], STAGE);
        assert_eq!(event["queryStringParameters"]["wait"], "20");
        assert_eq!(
            event["multiValueQueryStringParameters"]["x"],
            json!(["1", "2"])
        );
        assert_eq!(
            event["requestContext"]["identity"]["accessKey"],
            "IMAGEGENLOCALKEY"
        );
        assert_eq!(
            event["requestContext"]["identity"]["userArn"],
            LOCAL_USER_ARN
        );
        assert_eq!(event["headers"]["x-forwarded-proto"], "http");
        assert_eq!(event["body"], "{\"prompt\":\"x\"}");
    }

    #[tokio::test]
    async fn other_routes_are_refused_and_failures_are_502() {
        let response = api().handle(request("DELETE", "/images/r-1", None)).await;
        assert_eq!(response.status, 403);
        assert!(String::from_utf8_lossy(&response.body).contains("Missing Authentication Token"));
        let failing = RestApi::new([("GET", "/x")], |_| async { Err("boom".to_owned()) });
        assert_eq!(failing.handle(request("GET", "/x", None)).await.status, 502);
        let odd = RestApi::new([("GET", "/x")], |_| async { Ok(json!({"hello": 1})) });
        assert_eq!(odd.handle(request("GET", "/x", None)).await.status, 502);
    }
}
