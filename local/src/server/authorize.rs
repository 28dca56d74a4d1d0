//! Who signed a request, and whether they may make it.
//!
//! The endpoint takes signatures from several keys ([`Callers`]), each naming a [`Caller`] (a
//! function's role, the person at the AWS CLI). What a caller may do is not decided here: an
//! [`Authorize`] hook, given the caller and the [`RequestFacts`] the endpoint read from the
//! request, says yes or [`Denied`], and the endpoint answers a denial the way the service does.
//! Without a hook every signed request is served, as `imagegen serve` always has.
//!
//! The hook is a trait so that this crate knows nothing of policies: `imagegen rehearse`
//! implements it from the synthesized template.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::config::AccessKey;
use crate::transport::LocalRequest;

use super::protocol::Protocol;
use super::sigv4::query_pairs;

/// Who a key belongs to, by a name the hook understands (a role ARN, `administrator`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
}

impl Caller {
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

/// The keys the endpoint takes, each with its caller, and the session token a temporary key must
/// come with.
#[derive(Debug, Clone, Default)]
pub struct Callers {
    by_key_id: BTreeMap<String, (AccessKey, Caller, Option<String>)>,
}

impl Callers {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take signatures made with `key`, as `caller`'s.
    pub fn with(mut self, key: AccessKey, caller: Caller) -> Self {
        self.by_key_id.insert(key.id.clone(), (key, caller, None));
        self
    }

    /// Take signatures made with the temporary `key` (what STS issues, and Lambda hands a
    /// function), as `caller`'s, when the request carries `session_token` too.
    pub fn with_session(mut self, key: AccessKey, session_token: String, caller: Caller) -> Self {
        self.by_key_id
            .insert(key.id.clone(), (key, caller, Some(session_token)));
        self
    }

    /// The secret of the key with this id, if it is one of them.
    pub fn secret_of(&self, key_id: &str) -> Option<String> {
        self.by_key_id
            .get(key_id)
            .map(|(key, _, _)| key.secret.clone())
    }

    /// The caller of the key with this id.
    pub fn caller_of(&self, key_id: &str) -> Option<&Caller> {
        self.by_key_id.get(key_id).map(|(_, caller, _)| caller)
    }

    /// Whether a request signed with the key `key_id` carries the token it must: its session's
    /// for a temporary key (`X-Amz-Security-Token`), and none is asked of a long-term key (one a
    /// client sends anyway is not looked at, as IAM users' keys are not).
    pub fn token_matches(&self, key_id: &str, token: Option<&str>) -> bool {
        match self.by_key_id.get(key_id) {
            Some((_, _, Some(expected))) => token == Some(expected.as_str()),
            Some((_, _, None)) => true,
            None => false,
        }
    }
}

/// What the endpoint read from a signed request, for the hook to decide on.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFacts {
    /// The SigV4 scope's service name (`s3`, `states`, `sns`, `sqs`, `dynamodb`, `bedrock`, ...).
    pub service: String,
    /// The API operation: s3s's name (`GetObject`), the `X-Amz-Target`'s (`StartExecution`), the
    /// query's `Action` (`Publish`), `InvokeModel` for Bedrock's `/model/{id}/invoke`, `Invoke`
    /// for any other REST route (an API's).
    pub operation: String,
    pub params: Params,
    /// Whether the request came over TLS (`aws:SecureTransport`): false on plain HTTP.
    pub secure_transport: bool,
    /// The Region the request was signed for, where the endpoint serves a service in every Region
    /// (Bedrock, called in its own Region); `None`: the endpoint's own Region.
    pub region: Option<String>,
}

/// The operation's parameters, as its protocol carries them.
#[derive(Debug, Clone, PartialEq)]
pub enum Params {
    S3(S3Facts),
    /// awsJson: the body as parsed (`Null` when it is not JSON).
    Json(serde_json::Value),
    /// awsQuery: the form fields, `Action` included, decoded.
    Query(Vec<(String, String)>),
    /// Bedrock runtime: the model id from the path, decoded.
    Model {
        model_id: String,
    },
    /// Any other REST request: method and path (still percent-encoded).
    Route {
        method: String,
        path: String,
    },
}

/// An S3 request's resources.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct S3Facts {
    pub bucket: Option<String>,
    pub key: Option<String>,
    /// CopyObject's (and UploadPartCopy's) source: bucket and key, decoded.
    pub copy_source: Option<(String, String)>,
    /// A listing's `prefix` (the `s3:prefix` condition key).
    pub prefix: Option<String>,
    /// For GetObject and HeadObject: whether the key exists, because S3 answers a missing key 403
    /// rather than 404 to a caller that may not list the bucket. `None` for other operations.
    pub object_exists: Option<bool>,
}

/// A refusal, with the message the service gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Denied {
    pub message: String,
    pub by: DeniedBy,
}

/// Who refused: the service itself (its policies), or KMS, asked by the service on the caller's
/// behalf for the key that encrypts the resource. Services answer the two with different codes
/// (SQS `KMS.AccessDeniedException`, SNS `KMSAccessDenied`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeniedBy {
    Service,
    Kms,
}

impl Denied {
    /// The service's own refusal.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            by: DeniedBy::Service,
        }
    }

    /// KMS's refusal of the key the service would use for the caller.
    pub fn by_kms(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            by: DeniedBy::Kms,
        }
    }
}

/// Decides whether a caller may make a request.
pub trait Authorize: Send + Sync + fmt::Debug {
    fn authorize(&self, caller: &Caller, request: &RequestFacts) -> Result<(), Denied>;
}

/// The keys the endpoint takes and the hook that decides, shared by the router and the S3
/// service behind it (s3s checks S3's signatures and calls the hook itself).
#[derive(Debug, Clone)]
pub struct Access {
    pub callers: Callers,
    pub authorize: Option<Arc<dyn Authorize>>,
}

impl Access {
    /// `callers`, each allowed everything.
    pub fn new(callers: Callers) -> Self {
        Self {
            callers,
            authorize: None,
        }
    }

    /// One key, allowed everything (what `imagegen serve` takes).
    pub fn single(key: AccessKey) -> Self {
        Self::new(Callers::new().with(key, Caller::new("default")))
    }

    /// Ask `hook` about every signed request.
    pub fn with_authorize(mut self, hook: Arc<dyn Authorize>) -> Self {
        self.authorize = Some(hook);
        self
    }

    /// Whether the caller of `key_id` may make `facts`' request; allowed when there is no hook.
    /// A key that is not one of the callers' never reaches here (its signature is refused first),
    /// and is denied if it does.
    pub fn check(&self, key_id: &str, facts: &RequestFacts) -> Result<(), Denied> {
        let Some(hook) = &self.authorize else {
            return Ok(());
        };
        match self.callers.caller_of(key_id) {
            Some(caller) => hook.authorize(caller, facts),
            None => Err(Denied::new(format!(
                "The access key {key_id} is not one of this endpoint's."
            ))),
        }
    }
}

/// How a request reached the endpoint, a fact of its connection: the accept loop puts it in each
/// request's extensions (`http::Extensions`), where the router and S3's guard read it for
/// [`RequestFacts::secure_transport`] (`aws:SecureTransport`). Per connection, not per server,
/// because one port answers both TLS and plain HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecureTransport(pub bool);

impl SecureTransport {
    /// Whether the request with these extensions came over TLS; one nobody marked did not.
    pub fn of(extensions: &http::Extensions) -> bool {
        extensions.get::<Self>().is_some_and(|s| s.0)
    }
}

/// The facts of a JSON, query or REST request to `service`, which came over TLS if
/// `secure_transport`.
pub fn facts_of(
    service: &str,
    protocol: Protocol,
    request: &LocalRequest,
    secure_transport: bool,
    region: Option<&str>,
) -> RequestFacts {
    let (operation, params) = match protocol {
        Protocol::Json => {
            // `AWSStepFunctions.StartExecution`, `DynamoDB_20120810.UpdateItem`.
            let target = request.header("x-amz-target").unwrap_or_default();
            let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
            let body = serde_json::from_slice(&request.body).unwrap_or(serde_json::Value::Null);
            (operation, Params::Json(body))
        }
        Protocol::Query { .. } => {
            let fields = query_pairs(&String::from_utf8_lossy(&request.body));
            let operation = fields
                .iter()
                .find(|(k, _)| k == "Action")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (operation, Params::Query(fields))
        }
        Protocol::Rest | Protocol::S3Xml => rest_operation(service, request),
    };
    RequestFacts {
        service: service.to_owned(),
        operation,
        params,
        secure_transport,
        region: region.map(str::to_owned),
    }
}

/// Bedrock runtime names its operation and model in the path (`POST /model/{modelId}/invoke`);
/// any other REST service is an API, whose one action is `Invoke`.
fn rest_operation(service: &str, request: &LocalRequest) -> (String, Params) {
    let segments: Vec<&str> = request.path.trim_start_matches('/').split('/').collect();
    if let ("bedrock", ["model", id, last]) = (service, segments.as_slice()) {
        let operation = match *last {
            "invoke" => "InvokeModel",
            "invoke-with-response-stream" => "InvokeModelWithResponseStream",
            "converse" => "Converse",
            "converse-stream" => "ConverseStream",
            other => other,
        };
        let model_id = percent_encoding::percent_decode_str(id)
            .decode_utf8_lossy()
            .into_owned();
        return (operation.to_owned(), Params::Model { model_id });
    }
    (
        "Invoke".to_owned(),
        Params::Route {
            method: request.method.clone(),
            path: request.path.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(path: &str, headers: &[(&str, &str)], body: &str) -> LocalRequest {
        LocalRequest {
            method: "POST".into(),
            path: path.into(),
            query: None,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn each_protocol_names_its_operation() {
        let json = facts_of(
            "dynamodb",
            Protocol::Json,
            &request(
                "/",
                &[("x-amz-target", "DynamoDB_20120810.UpdateItem")],
                r#"{"TableName":"t"}"#,
            ),
            true,
            None,
        );
        assert_eq!(json.operation, "UpdateItem");
        assert_eq!(
            json.params,
            Params::Json(serde_json::json!({"TableName": "t"}))
        );
        let query = facts_of(
            "sns",
            Protocol::Query { xmlns: "x" },
            &request(
                "/",
                &[],
                "Action=Publish&TopicArn=arn%3Aaws%3Asns%3Ar%3Aa%3At",
            ),
            false,
            None,
        );
        assert_eq!(query.operation, "Publish");
        let Params::Query(fields) = &query.params else {
            panic!("{query:?}")
        };
        assert!(fields.contains(&("TopicArn".into(), "arn:aws:sns:r:a:t".into())));
        let model = facts_of(
            "bedrock",
            Protocol::Rest,
            &request("/model/us.stability.sd3%3A1/invoke", &[], "{}"),
            false,
            None,
        );
        assert_eq!(model.operation, "InvokeModel");
        assert_eq!(
            model.params,
            Params::Model {
                model_id: "us.stability.sd3:1".into()
            }
        );
        let api = facts_of(
            "execute-api",
            Protocol::Rest,
            &request("/prod/x", &[], ""),
            false,
            None,
        );
        assert_eq!(api.operation, "Invoke");
        assert!(!api.secure_transport);
        assert!(json.secure_transport);
    }

    #[derive(Debug)]
    struct OnlyAlice;

    impl Authorize for OnlyAlice {
        fn authorize(&self, caller: &Caller, _: &RequestFacts) -> Result<(), Denied> {
            if caller.name == "alice" {
                Ok(())
            } else {
                Err(Denied::new(format!("not {}", caller.name)))
            }
        }
    }

    #[test]
    fn the_hook_decides_by_the_keys_caller_and_no_hook_allows() {
        let key = |id: &str| AccessKey {
            id: id.into(),
            secret: format!("{id}-secret"),
        };
        let callers = Callers::new()
            .with(key("A"), Caller::new("alice"))
            .with(key("B"), Caller::new("bob"));
        assert_eq!(callers.secret_of("B").as_deref(), Some("B-secret"));
        assert_eq!(callers.secret_of("C"), None);
        let sessions = callers
            .clone()
            .with_session(key("T"), "token".into(), Caller::new("role"));
        assert!(sessions.token_matches("T", Some("token")));
        assert!(!sessions.token_matches("T", Some("other")));
        assert!(!sessions.token_matches("T", None));
        assert!(sessions.token_matches("A", None));
        assert!(sessions.token_matches("A", Some("any")));
        assert!(!sessions.token_matches("C", None));
        let facts = facts_of("sqs", Protocol::Json, &request("/", &[], "{}"), false, None);
        let open = Access::new(callers.clone());
        assert_eq!(open.check("B", &facts), Ok(()));
        let guarded = open.with_authorize(Arc::new(OnlyAlice));
        assert_eq!(guarded.check("A", &facts), Ok(()));
        assert_eq!(guarded.check("B", &facts).unwrap_err().message, "not bob");
        assert!(guarded.check("C", &facts).is_err());
    }
}
