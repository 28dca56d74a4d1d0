//! What API Gateway tells about a request: who signed it, and the request's own id.
//!
//! The caller is the principal IAM authorization verified, and it scopes two things: the
//! `Idempotency-Key`s (one caller's key never names another's request) and which requests
//! `GET /images/{requestId}` answers ([`crate::owner`]). A person is their own caller: an IAM user,
//! a federated user, and an assumed role's session (IAM Identity Center's `AWSReservedSSO_*/alice`,
//! a SAML or OIDC sign-in) are each kept whole, session name and all, so two people of one
//! permission set share neither keys nor requests. Only where the session's name is one that AWS
//! tooling makes up per process ([`per_process_session`]) is the caller the role alone: there a
//! retry from a new process must still be the same caller, and the session's name tells nobody
//! apart.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The IAM principal API Gateway verified (IAM authorization): the caller's ARN, else its
/// principal id, else its access key, scoped by [`principal`]. `None` when the request was not
/// authenticated: on AWS only an API deployed without IAM authorization (or a direct invocation)
/// can get here so.
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

/// The caller behind an identity: the identity whole, except that an assumed role's session is left
/// out when its name is made up per process ([`per_process_session`]):
/// `arn:aws:sts::1:assumed-role/Role/botocore-session-1795953600` is
/// `arn:aws:sts::1:assumed-role/Role`, and the principal id `AROA...:i-0abc...` is `AROA...`;
/// `arn:aws:sts::1:assumed-role/AWSReservedSSO_Dev_0a1b/alice` stays as it is.
pub fn principal(identity: &str) -> String {
    if let Some((head, role_and_session)) = identity.split_once(":assumed-role/")
        && let Some((role, session)) = role_and_session.split_once('/')
        && per_process_session(session)
    {
        return format!("{head}:assumed-role/{role}");
    }
    if !identity.starts_with("arn:")
        && let Some((id, session)) = identity.split_once(':')
        && per_process_session(session)
    {
        return id.to_owned();
    }
    identity.to_owned()
}

/// Whether a role session's name is one AWS tooling makes up for each process, so that it says
/// which process asked, not who:
///
/// - `botocore-session-<seconds>`: the AWS CLI and boto3 assuming a profile's `role_arn`;
/// - `aws-sdk-<language>-<time>` and `aws-go-sdk-<time>`: the SDKs assuming a role without a
///   session name (Rust, Java, JavaScript; Go);
/// - `i-<hex>`: an EC2 instance profile (the instance's id);
/// - 32 hex digits: an ECS task role (the task's id).
///
/// A Lambda function's role session is named after the function, which does not change between
/// invocations, so a function is its own caller with its session kept. Anything not listed here is
/// kept whole: a session name that is not recognised may be a person.
pub fn per_process_session(session: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(time) = session.strip_prefix("botocore-session-") {
        return digits(time);
    }
    if let Some(time) = session.strip_prefix("aws-go-sdk-") {
        return digits(time);
    }
    if let Some(rest) = session.strip_prefix("aws-sdk-")
        && let Some((language, time)) = rest.split_once('-')
    {
        return !language.is_empty()
            && language.bytes().all(|b| b.is_ascii_lowercase())
            && digits(time);
    }
    if let Some(id) = session.strip_prefix("i-") {
        return matches!(id.len(), 8 | 17) && hex(id);
    }
    session.len() == 32 && hex(session)
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

    const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/Batch";

    #[test]
    fn a_role_whose_sessions_are_processes_is_one_caller() {
        for session in [
            "botocore-session-1795953600",
            "aws-sdk-rust-1795953600",
            "aws-sdk-java-1795953600123",
            "aws-sdk-js-1795953600123",
            "aws-go-sdk-1795953600123456789",
            "i-0abc1234def567890",
            "i-0abc1234",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(principal(&format!("{ROLE}/{session}")), ROLE, "{session}");
        }
        assert_eq!(principal("AROAEXAMPLE:i-0abc1234def567890"), "AROAEXAMPLE");
    }

    #[test]
    fn people_and_other_sessions_are_their_own_callers() {
        for identity in [
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0a1b2c3d4e5f6a7b/alice",
            "arn:aws:sts::123456789012:assumed-role/SamlUsers/alice@example.com",
            "arn:aws:sts::123456789012:assumed-role/Imagegen-Fn-Role/imagegen-worker",
            "arn:aws:sts::123456789012:assumed-role/Batch/botocore-session-x",
            "arn:aws:sts::123456789012:assumed-role/Batch/i-nothex00",
            "arn:aws:sts::123456789012:federated-user/alice",
            "arn:aws:iam::123456789012:user/alice",
            "AROAEXAMPLE:alice",
            "AIDAEXAMPLE",
        ] {
            assert_eq!(principal(identity), identity);
        }
    }
}
