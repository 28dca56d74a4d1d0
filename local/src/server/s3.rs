//! S3 on the loopback endpoint: the s3s service (which parses, checks signatures, presigned URLs
//! included, and answers in S3's XML), with a body size limit in front and, behind it, the
//! "object created" notifications S3 sends for a successful upload, recorded before it is answered.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use http::{Method, Request, Response};
use http_body_util::Limited;
use hyper::body::Incoming;
use percent_encoding::percent_decode_str;
use s3s::service::S3Service;

use super::protocol::Protocol;
use super::router::{Body, content_length, header, into_http};
use super::sigv4::{presign_has_expired, query_pairs};
use crate::ids::new_id;
use crate::transport::LocalResponse;

/// The largest body one S3 request may have locally: one PutObject, or one part of a multipart
/// upload (AWS allows 5 GiB; a local disk is better served by a smaller cap).
pub const MAX_S3_BODY_BYTES: u64 = 1 << 30;

/// How an object came to be, named as in S3 event notifications (`ObjectCreated:Put`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreatedBy {
    Put,
    Copy,
    CompleteMultipartUpload,
}

impl CreatedBy {
    pub const ALL: [Self; 3] = [Self::Put, Self::Copy, Self::CompleteMultipartUpload];

    /// The one named `event_name` (`ObjectCreated:Put`...).
    pub fn from_event_name(event_name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.event_name() == event_name)
    }

    /// The notification's `eventName`.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Put => "ObjectCreated:Put",
            Self::Copy => "ObjectCreated:Copy",
            Self::CompleteMultipartUpload => "ObjectCreated:CompleteMultipartUpload",
        }
    }
}

/// Kept (in records of [`crate::notifications`]) by its event name.
impl serde::Serialize for CreatedBy {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.event_name())
    }
}

impl<'de> serde::Deserialize<'de> for CreatedBy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::from_event_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("not an ObjectCreated event: {name}")))
    }
}

/// An object S3 has just created (the request succeeded; it is not answered yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    pub bucket: String,
    /// Decoded.
    pub key: String,
    pub created_by: CreatedBy,
}

/// Why the hook could not take an object's notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NotRecorded(pub String);

/// What [`OnObjectCreated`] returns: resolved once the notification is kept.
pub type Recording = Pin<Box<dyn Future<Output = Result<(), NotRecorded>> + Send>>;

/// Called after each object creation and awaited before the request is answered, as S3 keeps an
/// event notification durably before it acknowledges the upload. It records the notification and
/// delivers it on a task of its own (S3 delivers asynchronously, after answering). When it fails,
/// the upload is answered `500 InternalError` (the object may be stored; the client retries), so
/// no acknowledged upload goes without its notification.
pub type OnObjectCreated = Arc<dyn Fn(ObjectCreated) -> Recording + Send + Sync>;

/// The S3 part of the router.
#[derive(Clone)]
pub struct S3Route {
    service: S3Service,
    on_created: Option<OnObjectCreated>,
}

impl fmt::Debug for S3Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Route")
            .field("notifies", &self.on_created.is_some())
            .finish()
    }
}

impl S3Route {
    /// `service` (see [`crate::s3::s3_service`]), taking bodies up to [`MAX_S3_BODY_BYTES`].
    pub fn new(service: S3Service) -> Self {
        Self {
            service,
            on_created: None,
        }
    }

    /// Call `hook` after each successful object creation.
    pub fn on_object_created(mut self, hook: OnObjectCreated) -> Self {
        self.on_created = Some(hook);
        self
    }

    pub(super) async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let request_id = new_id();
        let mut response = self.answer(request).await;
        identify(&mut response, &request_id);
        response
    }

    async fn answer(&self, request: Request<Incoming>) -> Response<Body> {
        if let Some(refused) = refuse_early(&request) {
            return into_http(refused);
        }
        let request = match with_length(request).await {
            Ok(request) => request,
            Err(refused) => return into_http(refused),
        };
        let headers = request.headers();
        let stated = [
            content_length(headers),
            header(headers, "x-amz-decoded-content-length").and_then(|v| v.trim().parse().ok()),
        ];
        if stated.iter().flatten().any(|n| *n > MAX_S3_BODY_BYTES) {
            return into_http(Protocol::S3Xml.too_large(MAX_S3_BODY_BYTES));
        }
        let created = created_by(&request);
        let (parts, body) = request.into_parts();
        // A body with a length is held to it by hyper; one without (chunked) is cut at the limit.
        let body = if stated[0].is_some() {
            body
        } else {
            Body::http_body_unsync(Limited::new(body, MAX_S3_BODY_BYTES as usize))
        };
        let mut response = match self.service.call(Request::from_parts(parts, body)).await {
            Ok(response) => response,
            Err(e) => {
                tracing::error!(error = ?e, "local S3: the request failed inside s3s");
                return into_http(Protocol::S3Xml.error(
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                ));
            }
        };
        // A retried completion answers as the first did but creates nothing: no second event.
        let repeated = response
            .headers_mut()
            .remove(crate::s3::service::REPEATED_COMPLETION)
            .is_some();
        if response.status().is_success()
            && !repeated
            && let (Some(created), Some(hook)) = (created, &self.on_created)
        {
            let (bucket, key) = (created.bucket.clone(), created.key.clone());
            if let Err(e) = hook(created).await {
                tracing::error!(
                    ?bucket, ?key, error = %e,
                    "local S3: the event notification could not be recorded; the upload is answered with an error"
                );
                return into_http(Protocol::S3Xml.error(
                    500,
                    "InternalError",
                    "We encountered an internal error. Please try again.",
                ));
            }
        }
        response
    }
}

/// The largest body taken without a stated length (`Transfer-Encoding: chunked` with neither
/// `Content-Length` nor `x-amz-decoded-content-length`): it is read whole to learn its length,
/// which s3s needs, so it is held in memory and kept small.
pub const MAX_UNSIZED_BODY_BYTES: usize = 16 << 20;

/// Refusals S3 makes before it reads a request, in S3's words: a key that is not UTF-8 once
/// percent-decoded (400 `InvalidURI`), and a presigned URL past its expiry (403 `AccessDenied`,
/// whatever else is wrong with it).
fn refuse_early<B>(request: &Request<B>) -> Option<LocalResponse> {
    if percent_decode_str(request.uri().path())
        .decode_utf8()
        .is_err()
    {
        return Some(Protocol::S3Xml.error(400, "InvalidURI", "Couldn't parse the specified URI."));
    }
    let query = request.uri().query().unwrap_or("");
    if query.contains("X-Amz-Expires") && presign_has_expired(query, SystemTime::now()) {
        return Some(Protocol::S3Xml.error(403, "AccessDenied", "Request has expired"));
    }
    None
}

/// A request whose body has no stated length, read whole (up to [`MAX_UNSIZED_BODY_BYTES`]) and
/// given its `Content-Length`, as S3 takes a plain chunked upload; any other request as it is.
async fn with_length(request: Request<Incoming>) -> Result<Request<Body>, LocalResponse> {
    let headers = request.headers();
    let unsized_body = headers.get(http::header::TRANSFER_ENCODING).is_some()
        && content_length(headers).is_none()
        && header(headers, "x-amz-decoded-content-length").is_none();
    let (mut parts, body) = request.into_parts();
    if !unsized_body {
        return Ok(Request::from_parts(parts, Body::from(body)));
    }
    let limited = Limited::new(body, MAX_UNSIZED_BODY_BYTES);
    let bytes = match http_body_util::BodyExt::collect(limited).await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            return Err(if too_large {
                Protocol::S3Xml.error(
                    411,
                    "MissingContentLength",
                    &format!(
                        "A body without Content-Length is taken up to {} MiB here; send \
                         Content-Length (or use a multipart upload) for a larger one.",
                        MAX_UNSIZED_BODY_BYTES >> 20
                    ),
                )
            } else {
                Protocol::S3Xml.error(400, "IncompleteBody", "The request body could not be read.")
            });
        }
    };
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    parts.headers.insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(bytes.len()),
    );
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Give `response` S3's request id: the `x-amz-request-id` header, and in an error's XML body
/// the `RequestId` element with the same value (s3s writes none), so a client can quote either.
fn identify(response: &mut Response<Body>, request_id: &str) {
    let Ok(id) = http::HeaderValue::from_str(request_id) else {
        return;
    };
    let id = response
        .headers_mut()
        .entry("x-amz-request-id")
        .or_insert(id)
        .to_str()
        .unwrap_or(request_id)
        .to_owned();
    if response.status().is_success() {
        return;
    }
    let Some(body) = response.body().bytes() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return;
    };
    if text.contains("<RequestId>") || !text.contains("</Error>") {
        return;
    }
    let with_id = text.replacen(
        "</Error>",
        &format!("<RequestId>{id}</RequestId></Error>"),
        1,
    );
    let length = with_id.len();
    *response.body_mut() = Body::from(with_id);
    response.headers_mut().insert(
        http::header::CONTENT_LENGTH,
        http::HeaderValue::from(length),
    );
}

/// The object a request would create, if it is a PutObject, CopyObject or
/// CompleteMultipartUpload (path-style: `/bucket/key`). Requests on sub-resources (`?tagging`,
/// `?acl`, a part's `?partNumber=&uploadId=`) create nothing.
fn created_by<B>(request: &Request<B>) -> Option<ObjectCreated> {
    let path = request.uri().path();
    let (bucket, key) = path.strip_prefix('/')?.split_once('/')?;
    if bucket.is_empty() || key.is_empty() {
        return None;
    }
    let query = query_pairs(request.uri().query().unwrap_or(""));
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    // `x-id` is the Rust SDK's operation marker, `X-Amz-*` a presigned URL's signature.
    let only = |allowed: &[&str]| {
        query
            .iter()
            .all(|(k, _)| k == "x-id" || k.starts_with("X-Amz-") || allowed.contains(&k.as_str()))
    };
    let created_by = match *request.method() {
        Method::PUT if only(&[]) => {
            if request.headers().contains_key("x-amz-copy-source") {
                CreatedBy::Copy
            } else {
                CreatedBy::Put
            }
        }
        Method::POST if has("uploadId") && only(&["uploadId"]) => {
            CreatedBy::CompleteMultipartUpload
        }
        _ => return None,
    };
    Some(ObjectCreated {
        bucket: percent_decode_str(bucket).decode_utf8_lossy().into_owned(),
        key: percent_decode_str(key).decode_utf8_lossy().into_owned(),
        created_by,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, uri: &str, copy: bool) -> Request<()> {
        let mut builder = Request::builder().method(method).uri(uri);
        if copy {
            builder = builder.header("x-amz-copy-source", "/b/src.txt");
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn which_requests_create_objects() {
        let put = created_by(&request(
            Method::PUT,
            "/b/prompts/a%20b.txt?x-id=PutObject",
            false,
        ));
        assert_eq!(
            put,
            Some(ObjectCreated {
                bucket: "b".into(),
                key: "prompts/a b.txt".into(),
                created_by: CreatedBy::Put
            })
        );
        let copy = created_by(&request(Method::PUT, "/b/k", true)).unwrap();
        assert_eq!(copy.created_by, CreatedBy::Copy);
        let complete = created_by(&request(Method::POST, "/b/k?uploadId=u1", false)).unwrap();
        assert_eq!(complete.created_by, CreatedBy::CompleteMultipartUpload);
        let presigned = "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00";
        assert!(created_by(&request(Method::PUT, presigned, false)).is_some());
        for (method, uri) in [
            (Method::PUT, "/b/k?partNumber=1&uploadId=u1"),
            (Method::PUT, "/b/k?tagging"),
            (Method::PUT, "/b"),
            (Method::PUT, "/b/"),
            (Method::POST, "/b/k?uploads"),
            (Method::GET, "/b/k"),
            (Method::DELETE, "/b/k"),
        ] {
            assert_eq!(
                created_by(&request(method.clone(), uri, false)),
                None,
                "{method} {uri}"
            );
        }
    }

    #[test]
    fn created_by_is_kept_by_its_event_name() {
        for created_by in CreatedBy::ALL {
            let text = serde_json::to_string(&created_by).unwrap();
            assert_eq!(text, format!("\"{}\"", created_by.event_name()));
            assert_eq!(
                serde_json::from_str::<CreatedBy>(&text).unwrap(),
                created_by
            );
        }
        assert!(serde_json::from_str::<CreatedBy>("\"ObjectRemoved:Delete\"").is_err());
    }

    #[test]
    fn event_names() {
        assert_eq!(CreatedBy::Put.event_name(), "ObjectCreated:Put");
        assert_eq!(
            CreatedBy::CompleteMultipartUpload.event_name(),
            "ObjectCreated:CompleteMultipartUpload"
        );
    }
}
