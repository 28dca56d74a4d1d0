//! What API Gateway tells about a request: who signed it, and the request's own id.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The IAM identity API Gateway verified (IAM authorization): the caller's ARN, else its
/// principal id, else its access key. `None` when the request was not authenticated: on AWS only
/// an API deployed without IAM authorization (or a direct invocation) can get here so.
pub fn caller(request: &Request) -> Option<String> {
    let Some(RequestContext::ApiGatewayV1(context)) = request.request_context_ref() else {
        return None;
    };
    let identity = &context.identity;
    [&identity.user_arn, &identity.caller, &identity.access_key]
        .into_iter()
        .flatten()
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
        .map(str::to_owned)
}

/// API Gateway's id of this request (unique per request).
pub fn request_id(request: &Request) -> Option<String> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => context
            .request_id
            .clone()
            .filter(|id| !id.trim().is_empty()),
        _ => None,
    }
}

/// The resource API Gateway matched (`/images/{requestId}`), if it says.
pub fn resource(request: &Request) -> Option<String> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => context.resource_path.clone(),
        _ => None,
    }
}

/// The base URL of the API as the caller reached it (`https://host/stage`), from the request's
/// URL less the resource's path; relative (`/stage`) when the request names no host.
pub fn base_url(request: &Request) -> String {
    let uri = request.uri();
    let path = uri.path();
    let base = path.strip_suffix(request.raw_http_path()).unwrap_or("");
    match (uri.scheme_str(), uri.authority()) {
        (Some(scheme), Some(authority)) => format!("{scheme}://{authority}{base}"),
        _ => base.to_owned(),
    }
}
