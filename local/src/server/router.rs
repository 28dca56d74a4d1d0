//! Which stand-in answers a request.
//!
//! 1. Unsigned routes by path prefix come first (reserved for pages served on the same origin, such
//!    as a web console under `/console/`).
//! 2. A signed request names its service in its SigV4 credential scope (`Authorization` header, or
//!    `X-Amz-Credential` for presigned URLs): `s3` goes to the S3 service (s3s checks S3 signatures
//!    itself), any other name to the service registered under it, after the signature is checked
//!    here. That scope is the routing key because it does not depend on paths: every JSON and query
//!    service posts to `/`.
//! 3. An unsigned request is refused in the shape of the protocol it looks like: a signed service's
//!    own when its path is one the service claims ([`Router::with_signed_path`], an API's routes),
//!    else JSON for `X-Amz-Target`, query for a form post; anything else goes to S3, which refuses
//!    anonymous requests with its own `AccessDenied`.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::page::{Page, page_into_http};
use super::protocol::Protocol;
use super::s3::S3Route;
use super::sigv4;
use crate::config::{ACCESS_KEY_ID, SECRET_ACCESS_KEY};
use crate::transport::{LocalRequest, LocalResponse, LocalService};

/// The body of every answer.
pub type Body = s3s::Body;

/// The largest body a JSON or query request may have (Step Functions and SNS take at most 256 KiB
/// of input or message; the rest is headroom for the envelope).
pub const MAX_API_BODY_BYTES: u64 = 1 << 20;

/// A service the router can call: any [`LocalService`], behind a dyn-compatible face.
pub trait Endpoint: Send + Sync + fmt::Debug + 'static {
    fn call(
        &self,
        request: LocalRequest,
    ) -> Pin<Box<dyn Future<Output = LocalResponse> + Send + '_>>;
}

impl<S: LocalService> Endpoint for S {
    fn call(
        &self,
        request: LocalRequest,
    ) -> Pin<Box<dyn Future<Output = LocalResponse> + Send + '_>> {
        Box::pin(self.handle(request))
    }
}

/// One signed service: how it speaks and who answers.
#[derive(Debug, Clone)]
struct Served {
    protocol: Protocol,
    endpoint: Arc<dyn Endpoint>,
}

/// The router's table. Build it with [`Router::new`] and the `with_*` methods.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// By SigV4 service name (`states`, `sns`, ...).
    services: BTreeMap<String, Served>,
    s3: Option<S3Route>,
    /// Unsigned pages (`/console/`), which may stream their answers, by path prefix.
    pages: Vec<(String, Arc<dyn Page>)>,
    /// Path prefixes of signed services (an API's routes): unsigned requests there are refused in
    /// that service's protocol.
    signed_paths: Vec<(String, String)>,
}

impl Router {
    pub fn new() -> Self {
        Self::default()
    }

    /// Answer requests signed for `service` (the SigV4 scope's name) with `endpoint`.
    pub fn with_service(
        mut self,
        service: &str,
        protocol: Protocol,
        endpoint: Arc<dyn Endpoint>,
    ) -> Self {
        self.services
            .insert(service.to_owned(), Served { protocol, endpoint });
        self
    }

    /// Answer S3 requests (and anonymous requests nobody else claims).
    pub fn with_s3(mut self, s3: S3Route) -> Self {
        self.s3 = Some(s3);
        self
    }

    /// Answer unsigned requests whose path starts with `prefix` with `page`, whose answers may be
    /// streams (server-sent events).
    pub fn with_page(mut self, prefix: &str, page: Arc<dyn Page>) -> Self {
        self.pages.push((prefix.to_owned(), page));
        self
    }

    /// Refuse unsigned requests whose path starts with `prefix` as `service` (registered with
    /// [`Self::with_service`]) refuses them. An API's paths need this: unsigned, they would
    /// otherwise go to S3 as anonymous requests for a bucket of that name.
    pub fn with_signed_path(mut self, prefix: &str, service: &str) -> Self {
        self.signed_paths
            .push((prefix.to_owned(), service.to_owned()));
        self
    }

    /// The SigV4 service names served (S3 included).
    pub fn service_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.services.keys().cloned().collect();
        if self.s3.is_some() {
            names.push("s3".to_owned());
        }
        names.sort();
        names
    }

    /// Answer one request.
    pub async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path().to_owned();
        if let Some((_, page)) = self
            .pages
            .iter()
            .find(|(p, _)| path.starts_with(p.as_str()))
        {
            return match read(request, MAX_API_BODY_BYTES).await {
                Ok(local) => page_into_http(page.call(local).await),
                Err(ReadError::TooLarge) => into_http(Protocol::Json.too_large(MAX_API_BODY_BYTES)),
                Err(ReadError::Broken) => into_http(broken()),
            };
        }
        let authorization = header(request.headers(), "authorization");
        let service = sigv4::scope_service(authorization.as_deref(), request.uri().query());
        match service.as_deref() {
            Some("s3") => self.s3(request).await,
            Some(name) => match self.services.get(name) {
                Some(served) => into_http(serve_signed(served, request).await),
                None => into_http(guess_protocol(request.headers()).error(
                    400,
                    "UnknownService",
                    &format!(
                        "This local endpoint serves {}, not '{name}'.",
                        self.service_names().join(", ")
                    ),
                )),
            },
            None => match self.signed_path_protocol(&path) {
                Some(protocol) => into_http(protocol.auth_error(&sigv4::AuthError::Missing)),
                None => match guess_protocol(request.headers()) {
                    Protocol::S3Xml => self.s3(request).await,
                    protocol => into_http(protocol.auth_error(&sigv4::AuthError::Missing)),
                },
            },
        }
    }

    /// The protocol of the signed service that claims `path`, if one does.
    fn signed_path_protocol(&self, path: &str) -> Option<Protocol> {
        self.signed_paths
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .and_then(|(_, service)| self.services.get(service))
            .map(|served| served.protocol)
    }

    async fn s3(&self, request: Request<Incoming>) -> Response<Body> {
        match &self.s3 {
            Some(s3) => s3.handle(request).await,
            None => into_http(Protocol::S3Xml.error(
                400,
                "UnknownService",
                "This local endpoint does not serve S3.",
            )),
        }
    }
}

/// The protocol an unsigned request appears to speak.
fn guess_protocol(headers: &HeaderMap) -> Protocol {
    if headers.contains_key("x-amz-target") {
        return Protocol::Json;
    }
    let form = header(headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    if form {
        Protocol::Query {
            xmlns: "https://local.imagegen/doc/",
        }
    } else {
        Protocol::S3Xml
    }
}

/// A signed JSON or query request: read the body, check the signature, call the service.
async fn serve_signed(served: &Served, request: Request<Incoming>) -> LocalResponse {
    let local = match read(request, MAX_API_BODY_BYTES).await {
        Ok(local) => local,
        Err(ReadError::TooLarge) => return served.protocol.too_large(MAX_API_BODY_BYTES),
        Err(ReadError::Broken) => return broken(),
    };
    let payload_hash = sigv4::sha256_hex(&local.body);
    let signed = sigv4::Request {
        method: &local.method,
        path: &local.path,
        query: local.query.as_deref(),
        headers: &local.headers,
        payload_hash: &payload_hash,
    };
    let verified = sigv4::read(&signed)
        .and_then(|signature| sigv4::verify(&signed, &signature, local_secret, SystemTime::now()));
    if let Err(e) = verified {
        tracing::debug!(error = %e, "local endpoint: signature refused");
        return served.protocol.auth_error(&e);
    }
    served.endpoint.call(local).await
}

/// The secret of a local access key.
pub fn local_secret(access_key: &str) -> Option<String> {
    (access_key == ACCESS_KEY_ID).then(|| SECRET_ACCESS_KEY.to_owned())
}

enum ReadError {
    TooLarge,
    Broken,
}

/// The whole request, body read up to `limit` bytes.
async fn read(request: Request<Incoming>, limit: u64) -> Result<LocalRequest, ReadError> {
    if content_length(request.headers()).is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let (parts, body) = request.into_parts();
    let bytes: Bytes = match Limited::new(body, limit as usize).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err(ReadError::TooLarge);
        }
        Err(_) => return Err(ReadError::Broken),
    };
    let headers = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Ok(LocalRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body: bytes.to_vec(),
    })
}

fn broken() -> LocalResponse {
    Protocol::Json.error(400, "BadRequest", "The request body could not be read.")
}

/// The `Content-Length` header, if there is a readable one.
pub fn content_length(headers: &HeaderMap) -> Option<u64> {
    header(headers, "content-length")?.trim().parse().ok()
}

/// A header's first value as text.
pub fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// A [`LocalResponse`] as an HTTP response.
pub fn into_http(response: LocalResponse) -> Response<Body> {
    let mut builder = Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name.as_ref(), value);
    }
    let length = response.body.len();
    builder
        .header("content-length", length)
        .body(Body::from(response.body))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "local endpoint: a response could not be built");
            let mut r = Response::new(Body::empty());
            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
            r
        })
}
