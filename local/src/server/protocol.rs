//! The wire protocols' error shapes. SDKs classify an error by its code, so each refusal the server
//! makes itself (a bad signature, a body too large, an unknown service) is answered in the shape and
//! with the code the service's own front door would use.

use crate::ids::new_id;
use crate::transport::LocalResponse;

use super::authorize::{Denied, DeniedBy};
use super::gate;
use super::sigv4::AuthError;

/// S3's words for a temporary key's missing or wrong session token (its `InvalidToken`).
pub const S3_INVALID_TOKEN: &str = "The provided token is malformed or otherwise invalid.";

/// How a service's requests and errors are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// awsJson1_0 / awsJson1_1: `X-Amz-Target`, JSON bodies, errors `{"__type", "message"}`.
    Json,
    /// awsQuery: form bodies with `Action=`, XML answers, errors in `<ErrorResponse>`.
    Query {
        /// The service's XML namespace (`http://sns.amazonaws.com/doc/2010-03-31/`).
        xmlns: &'static str,
    },
    /// REST-XML as S3 writes it: `<Error><Code>` at the top level.
    S3Xml,
    /// An API Gateway REST API (`execute-api`): JSON `{"message": ...}` bodies with the error's type
    /// in `x-amzn-ErrorType`; every refused signature is a 403.
    Rest,
}

impl Protocol {
    /// An error response with `status`, `code` and `message`.
    pub fn error(self, status: u16, code: &str, message: &str) -> LocalResponse {
        self.error_with_id(status, code, message, new_id())
    }

    /// An error response for a request that already has its id (a service's own refusal).
    pub fn error_with_id(
        self,
        status: u16,
        code: &str,
        message: &str,
        request_id: String,
    ) -> LocalResponse {
        match self {
            Self::Json => LocalResponse::new(
                status,
                "application/x-amz-json-1.0",
                serde_json::json!({"__type": code, "message": message}).to_string(),
            )
            .with_header("x-amzn-errortype", code.to_owned())
            .with_header("x-amzn-requestid", request_id),
            Self::Query { xmlns } => LocalResponse::new(
                status,
                "text/xml",
                format!(
                    "<ErrorResponse xmlns=\"{xmlns}\"><Error><Type>Sender</Type><Code>{}</Code>\
                     <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                    xml_escape(code),
                    xml_escape(message)
                ),
            )
            .with_header("x-amzn-requestid", request_id),
            Self::S3Xml => LocalResponse::new(
                status,
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code>\
                     <Message>{}</Message><RequestId>{request_id}</RequestId></Error>",
                    xml_escape(code),
                    xml_escape(message)
                ),
            )
            .with_header("x-amz-request-id", request_id),
            Self::Rest => LocalResponse::new(
                status,
                "application/json",
                serde_json::json!({"message": message}).to_string(),
            )
            .with_header("x-amzn-errortype", code.to_owned())
            .with_header("x-amzn-requestid", request_id),
        }
    }

    /// A refused signature, with the code this protocol's services use for it.
    pub fn auth_error(self, error: &AuthError) -> LocalResponse {
        let message = error.to_string();
        let (status, code) = match (self, error) {
            (Self::Json, AuthError::Missing) => (400, "MissingAuthenticationTokenException"),
            (Self::Json, AuthError::Incomplete(_)) => (400, "IncompleteSignatureException"),
            (Self::Json, AuthError::UnknownAccessKey(_) | AuthError::InvalidToken) => {
                (400, "UnrecognizedClientException")
            }
            (Self::Json, AuthError::Mismatch | AuthError::Expired(_)) => {
                (400, "InvalidSignatureException")
            }
            (Self::Query { .. }, AuthError::Missing) => (403, "MissingAuthenticationToken"),
            (Self::Query { .. }, AuthError::Incomplete(_)) => (400, "IncompleteSignature"),
            (Self::Query { .. }, AuthError::UnknownAccessKey(_) | AuthError::InvalidToken) => {
                (403, "InvalidClientTokenId")
            }
            (Self::Query { .. }, AuthError::Mismatch | AuthError::Expired(_)) => {
                (403, "SignatureDoesNotMatch")
            }
            (Self::S3Xml, AuthError::Missing) => (403, "AccessDenied"),
            (Self::S3Xml, AuthError::Incomplete(_)) => (400, "AuthorizationHeaderMalformed"),
            (Self::S3Xml, AuthError::UnknownAccessKey(_)) => (403, "InvalidAccessKeyId"),
            (Self::S3Xml, AuthError::Mismatch) => (403, "SignatureDoesNotMatch"),
            (Self::S3Xml, AuthError::InvalidToken) => {
                return self.error(400, "InvalidToken", S3_INVALID_TOKEN);
            }
            (Self::S3Xml, AuthError::Expired(_)) => (403, "AccessDenied"),
            // API Gateway's own words for a request without a signature.
            (Self::Rest, AuthError::Missing) => {
                return self.error(
                    403,
                    "MissingAuthenticationTokenException",
                    "Missing Authentication Token",
                );
            }
            (Self::Rest, AuthError::Incomplete(_)) => (403, "IncompleteSignatureException"),
            (Self::Rest, AuthError::UnknownAccessKey(_) | AuthError::InvalidToken) => {
                (403, "UnrecognizedClientException")
            }
            (Self::Rest, AuthError::Mismatch | AuthError::Expired(_)) => {
                (403, "InvalidSignatureException")
            }
        };
        self.error(status, code, &message)
    }

    /// A request the gate refused (a foreign `Host`, a page of another site): each protocol's
    /// "access denied".
    pub fn forbidden(self, refusal: &gate::Refusal) -> LocalResponse {
        let code = match self {
            Self::Json => "AccessDeniedException",
            Self::Query { .. } | Self::S3Xml => "AccessDenied",
            Self::Rest => "ForbiddenException",
        };
        self.error(403, code, &refusal.to_string())
    }

    /// A request the authorisation hook denied, answered as `service` (the SigV4 scope's name)
    /// answers it: see [`Self::denied`], except that KMS refusing the key a queue or topic is
    /// encrypted with is SQS's `400 KmsAccessDenied` (legacy code `KMS.AccessDeniedException`,
    /// which the SDKs report) and SNS's `400 KMSAccessDenied` (the services' API references, the
    /// SendMessage and Publish errors).
    pub fn refused(self, service: &str, denied: &Denied) -> LocalResponse {
        match (denied.by, self, service) {
            (DeniedBy::Kms, Self::Json, "sqs") => self
                .error(400, "com.amazonaws.sqs#KmsAccessDenied", &denied.message)
                .with_header(
                    "x-amzn-query-error",
                    "KMS.AccessDeniedException;Sender".to_owned(),
                ),
            (DeniedBy::Kms, Self::Query { .. }, "sns") => {
                self.error(400, "KMSAccessDenied", &denied.message)
            }
            _ => self.denied(&denied.message),
        }
    }

    /// A request the authorisation hook denied, as each service answers one: S3 `403
    /// AccessDenied`; Step Functions, SQS and DynamoDB (awsJson) `400 AccessDeniedException`; SNS
    /// (awsQuery) `403 AuthorizationError`; Bedrock and APIs (REST) `403 AccessDeniedException`.
    pub fn denied(self, message: &str) -> LocalResponse {
        let (status, code) = match self {
            Self::Json => (400, "AccessDeniedException"),
            Self::Query { .. } => (403, "AuthorizationError"),
            Self::S3Xml => (403, "AccessDenied"),
            Self::Rest => (403, "AccessDeniedException"),
        };
        self.error(status, code, message)
    }

    /// A request body over `limit` bytes.
    pub fn too_large(self, limit: u64) -> LocalResponse {
        match self {
            Self::S3Xml => self.error(
                400,
                "EntityTooLarge",
                &format!(
                    "Your proposed upload exceeds the maximum allowed size (this local endpoint \
                     takes at most {} per request).",
                    bytes_in_words(limit)
                ),
            ),
            Self::Json | Self::Query { .. } | Self::Rest => self.error(
                413,
                "RequestEntityTooLarge",
                &format!(
                    "The request body is larger than {} (the local endpoint's limit).",
                    bytes_in_words(limit)
                ),
            ),
        }
    }
}

/// `1 MiB`, `1 GiB`, or a number of bytes.
pub fn bytes_in_words(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    if n >= GIB && n.is_multiple_of(GIB) {
        format!("{} GiB", n / GIB)
    } else if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

/// Text as XML character data or an attribute value.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &LocalResponse) -> String {
        String::from_utf8(r.body.clone()).unwrap()
    }

    #[test]
    fn each_protocol_names_a_bad_signature_its_own_way() {
        let json = Protocol::Json.auth_error(&AuthError::UnknownAccessKey("K".into()));
        assert_eq!(json.status, 400);
        let value: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(value["__type"], "UnrecognizedClientException");
        let sns = Protocol::Query {
            xmlns: "http://sns.amazonaws.com/doc/2010-03-31/",
        }
        .auth_error(&AuthError::Mismatch);
        assert_eq!(sns.status, 403);
        assert!(
            body(&sns).contains("<Code>SignatureDoesNotMatch</Code>"),
            "{}",
            body(&sns)
        );
        let api = Protocol::Rest.auth_error(&AuthError::Missing);
        assert_eq!(api.status, 403);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&api.body).unwrap()["message"],
            "Missing Authentication Token"
        );
        let s3 = Protocol::S3Xml.too_large(1 << 30);
        assert!(body(&s3).contains("<Code>EntityTooLarge</Code>"));
        assert!(body(&s3).contains("1 GiB"));
        assert_eq!(Protocol::Json.too_large(1 << 20).status, 413);
        assert_eq!(bytes_in_words(1000), "1000 bytes");
    }

    #[test]
    fn each_protocol_answers_a_denial_as_its_service_does() {
        let json = Protocol::Json.denied("no");
        assert_eq!(json.status, 400);
        let value: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(value["__type"], "AccessDeniedException");
        let sns = Protocol::Query { xmlns: "x" }.denied("no");
        assert_eq!(sns.status, 403);
        assert!(body(&sns).contains("<Code>AuthorizationError</Code>"));
        let s3 = Protocol::S3Xml.denied("no");
        assert_eq!(s3.status, 403);
        assert!(body(&s3).contains("<Code>AccessDenied</Code>"));
        let rest = Protocol::Rest.denied("no");
        assert_eq!(rest.status, 403);
        assert!(
            rest.headers
                .iter()
                .any(|(n, v)| n == "x-amzn-errortype" && v == "AccessDeniedException")
        );
    }

    #[test]
    fn a_kms_refusal_is_the_services_own_kms_error() {
        let kms = Denied::by_kms("User: r is not authorized to perform: kms:GenerateDataKey");
        let sqs = Protocol::Json.refused("sqs", &kms);
        assert_eq!(sqs.status, 400);
        let value: serde_json::Value = serde_json::from_slice(&sqs.body).unwrap();
        assert_eq!(value["__type"], "com.amazonaws.sqs#KmsAccessDenied");
        assert!(
            sqs.headers
                .iter()
                .any(|(n, v)| n == "x-amzn-query-error" && v == "KMS.AccessDeniedException;Sender")
        );
        let sns = Protocol::Query { xmlns: "x" }.refused("sns", &kms);
        assert_eq!(sns.status, 400);
        assert!(body(&sns).contains("<Code>KMSAccessDenied</Code>"));
        // The service's own refusal keeps its code; KMS elsewhere is the service's denial.
        let own = Protocol::Json.refused("sqs", &Denied::new("no"));
        let value: serde_json::Value = serde_json::from_slice(&own.body).unwrap();
        assert_eq!(value["__type"], "AccessDeniedException");
        let dynamodb = Protocol::Json.refused("dynamodb", &kms);
        let value: serde_json::Value = serde_json::from_slice(&dynamodb.body).unwrap();
        assert_eq!(value["__type"], "AccessDeniedException");
    }

    #[test]
    fn each_protocol_refuses_a_foreign_host_as_access_denied() {
        let refusal = gate::Refusal::CrossSite("Origin: http://attacker.example".to_owned());
        let json = Protocol::Json.forbidden(&refusal);
        assert_eq!(json.status, 403);
        let value: serde_json::Value = serde_json::from_slice(&json.body).unwrap();
        assert_eq!(value["__type"], "AccessDeniedException");
        assert!(body(&Protocol::S3Xml.forbidden(&refusal)).contains("<Code>AccessDenied</Code>"));
        let api = Protocol::Rest.forbidden(&refusal);
        assert_eq!(
            api.headers
                .iter()
                .find(|(n, _)| n == "x-amzn-errortype")
                .unwrap()
                .1,
            "ForbiddenException"
        );
    }
}
