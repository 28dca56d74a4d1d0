//! What API Gateway tells about a request: who signed it, and the request's own id.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The IAM principal API Gateway verified (IAM authorization): the caller's ARN, else its
/// principal id, else its access key, each without a role session's name. `None` when the request
/// was not authenticated: on AWS only an API deployed without IAM authorization (or a direct
/// invocation) can get here so.
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
        .map(principal)
}

/// The principal behind an identity, without the session of an assumed role:
/// `arn:aws:sts::1:assumed-role/Role/session` is `arn:aws:sts::1:assumed-role/Role`, and the principal
/// id `AROA...:session` is `AROA...`.
///
/// Why: `Idempotency-Key`s are scoped by caller, and a role's session name changes between
/// processes (the AWS CLI names each assume-role session after the time it began), so a retry from
/// a new session would otherwise be a new request and start a second execution.
pub fn principal(identity: &str) -> String {
    if let Some((head, role_and_session)) = identity.split_once(":assumed-role/") {
        let role = role_and_session
            .split('/')
            .next()
            .unwrap_or(role_and_session);
        return format!("{head}:assumed-role/{role}");
    }
    if identity.starts_with("arn:") {
        return identity.to_owned();
    }
    identity.split(':').next().unwrap_or(identity).to_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_is_its_own_principal_whatever_the_session() {
        assert_eq!(
            principal("arn:aws:sts::123456789012:assumed-role/Batch/botocore-session-1795953600"),
            "arn:aws:sts::123456789012:assumed-role/Batch"
        );
        assert_eq!(
            principal("arn:aws:sts::123456789012:assumed-role/Batch/i-0abc"),
            principal("arn:aws:sts::123456789012:assumed-role/Batch/i-0def")
        );
        assert_eq!(
            principal("arn:aws:iam::123456789012:user/alice"),
            "arn:aws:iam::123456789012:user/alice"
        );
        assert_eq!(principal("AROAEXAMPLE:session-1"), "AROAEXAMPLE");
        assert_eq!(principal("AIDAEXAMPLE"), "AIDAEXAMPLE");
    }
}
