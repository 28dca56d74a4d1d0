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
//!
//! Before any of that, every request passes the [`Gate`] (its `Host`, `Origin` and
//! `Sec-Fetch-Site`), and is refused in the shape of the route it would have taken. Every signature
//! must cover `host` and be scoped to the router's Region; only S3 takes query-string (presigned)
//! signatures, because only S3 links are opened by browsers, and a query signature is what lets a
//! plain cross-site `fetch(url, {mode: 'no-cors'})` act.

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

use super::authorize::{Access, SecureTransport, facts_of};
use super::gate::Gate;
use super::page::{Page, page_into_http};
use super::protocol::Protocol;
use super::s3::S3Route;
use super::sigv4;
use crate::config::{AccessKey, DEFAULT_REGION};
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
    /// Signatures may name any Region (a service the twin stands in for everywhere).
    every_region: bool,
}

/// The router's table. Build it with [`Router::new`] and the `with_*` methods.
#[derive(Debug, Clone)]
pub struct Router {
    /// The keys signatures may be made with, their callers and the authorisation hook (S3's
    /// signatures are checked by s3s, which must be given the same [`Access`]).
    access: Arc<Access>,
    /// The Region every credential scope must name.
    region: String,
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
    /// A router taking the published key in the default Region.
    pub fn new() -> Self {
        Self {
            access: Arc::new(Access::single(AccessKey::published())),
            region: DEFAULT_REGION.to_owned(),
            services: BTreeMap::new(),
            s3: None,
            pages: Vec::new(),
            signed_paths: Vec::new(),
        }
    }

    /// Take signatures made with `key` (only), scoped to `region`; every signed request is served.
    pub fn with_key(self, key: AccessKey, region: &str) -> Self {
        self.with_access(Arc::new(Access::single(key)), region)
    }

    /// Take signatures made with the callers' keys, scoped to `region`, and ask `access`'s hook
    /// (if it has one) about each signed request. The S3 route's service must be built with the
    /// same `access` ([`crate::s3::s3_service_with`]): s3s checks S3's signatures itself.
    pub fn with_access(mut self, access: Arc<Access>, region: &str) -> Self {
        self.access = access;
        self.region = region.to_owned();
        self
    }

    /// Answer requests signed for `service` (the SigV4 scope's name) with `endpoint`.
    pub fn with_service(
        self,
        service: &str,
        protocol: Protocol,
        endpoint: Arc<dyn Endpoint>,
    ) -> Self {
        self.serve(service, protocol, endpoint, false)
    }

    /// Like [`Self::with_service`], for a service called in Regions other than the endpoint's: a
    /// signature's scope may name any Region, and the authorisation hook is told which.
    pub fn with_service_in_every_region(
        self,
        service: &str,
        protocol: Protocol,
        endpoint: Arc<dyn Endpoint>,
    ) -> Self {
        self.serve(service, protocol, endpoint, true)
    }

    fn serve(
        mut self,
        service: &str,
        protocol: Protocol,
        endpoint: Arc<dyn Endpoint>,
        every_region: bool,
    ) -> Self {
        let served = Served {
            protocol,
            endpoint,
            every_region,
        };
        self.services.insert(service.to_owned(), served);
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

    /// Answer one request that reached a server guarded by `gate`.
    pub async fn handle(&self, request: Request<Incoming>, gate: &Gate) -> Response<Body> {
        let path = request.uri().path().to_owned();
        let page = self
            .pages
            .iter()
            .find(|(p, _)| path.starts_with(p.as_str()))
            .map(|(_, page)| page);
        let authorization = header(request.headers(), "authorization");
        let service = sigv4::scope_service(authorization.as_deref(), request.uri().query());
        let tls = SecureTransport::of(request.extensions());
        if let Err(refusal) = gate.check(request.method(), request.headers(), tls) {
            tracing::debug!(%refusal, "local endpoint: request refused at the gate");
            return into_http(match page {
                Some(_) => {
                    LocalResponse::new(403, "text/plain; charset=utf-8", refusal.to_string())
                }
                None => self
                    .protocol_of(service.as_deref(), &path, request.headers())
                    .forbidden(&refusal),
            });
        }
        if let Some(page) = page {
            return match read(request, MAX_API_BODY_BYTES).await {
                Ok(local) => page_into_http(page.call(local).await),
                Err(ReadError::TooLarge) => into_http(Protocol::Json.too_large(MAX_API_BODY_BYTES)),
                Err(ReadError::Broken) => into_http(broken()),
            };
        }
        match service.as_deref() {
            Some("s3") => self.s3(request).await,
            Some(name) => match self.services.get(name) {
                Some(served) => into_http(self.serve_signed(served, request).await),
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

    /// The protocol a request not meant for a page would be answered in.
    fn protocol_of(&self, service: Option<&str>, path: &str, headers: &HeaderMap) -> Protocol {
        match service {
            Some("s3") => Protocol::S3Xml,
            Some(name) => self
                .services
                .get(name)
                .map_or_else(|| guess_protocol(headers), |served| served.protocol),
            None => self
                .signed_path_protocol(path)
                .unwrap_or_else(|| guess_protocol(headers)),
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
        let Some(s3) = &self.s3 else {
            return into_http(Protocol::S3Xml.error(
                400,
                "UnknownService",
                "This local endpoint does not serve S3.",
            ));
        };
        if let Err(e) = self.check_s3_signature(&request) {
            tracing::debug!(error = %e, "local endpoint: S3 signature refused");
            return into_http(Protocol::S3Xml.auth_error(&e));
        }
        s3.handle(request).await
    }

    /// What s3s does not check of an S3 signature: that it covers `host` and names this Region,
    /// and that it is SigV4 (SigV2 signs neither host nor Region). Whether it matches is s3s's
    /// to say; one that cannot be read is left to s3s too, which says why in S3's words.
    fn check_s3_signature(&self, request: &Request<Incoming>) -> Result<(), sigv4::AuthError> {
        let authorization = header(request.headers(), "authorization");
        let query = request.uri().query();
        let v2_query = sigv4::query_pairs(query.unwrap_or(""))
            .iter()
            .any(|(k, _)| k == "AWSAccessKeyId");
        if authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("AWS "))
            || v2_query
        {
            return Err(sigv4::AuthError::Incomplete(
                "This local endpoint takes Signature Version 4 only (AWS4-HMAC-SHA256).".to_owned(),
            ));
        }
        let headers = header_pairs(request.headers());
        let stated = sigv4::Request {
            method: request.method().as_str(),
            path: request.uri().path(),
            query,
            headers: &headers,
            payload_hash: "",
        };
        match sigv4::read(&stated) {
            Ok(signature) => sigv4::check_scope(&signature, &self.region),
            Err(_) => Ok(()),
        }
    }

    /// A signed JSON or query request: read the body, check the signature, call the service.
    async fn serve_signed(&self, served: &Served, request: Request<Incoming>) -> LocalResponse {
        let secure_transport = SecureTransport::of(request.extensions());
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
        let verified = sigv4::read(&signed).and_then(|signature| {
            if let sigv4::Placement::Query { .. } = signature.placement {
                return Err(sigv4::AuthError::Incomplete(
                    "This local endpoint takes query-string (presigned) signatures for S3 only; \
                     sign this request in its Authorization header."
                        .to_owned(),
                ));
            }
            if served.every_region {
                sigv4::check_host(&signature)?;
            } else {
                sigv4::check_scope(&signature, &self.region)?;
            }
            sigv4::verify(
                &signed,
                &signature,
                |id| self.access.callers.secret_of(id),
                SystemTime::now(),
            )?;
            let token = local.header("x-amz-security-token");
            if !self
                .access
                .callers
                .token_matches(&signature.scope.access_key, token)
            {
                return Err(sigv4::AuthError::InvalidToken);
            }
            Ok(signature)
        });
        let signature = match verified {
            Ok(signature) => signature,
            Err(e) => {
                tracing::debug!(error = %e, "local endpoint: signature refused");
                return served.protocol.auth_error(&e);
            }
        };
        if self.access.authorize.is_some() {
            let facts = facts_of(
                &signature.scope.service,
                served.protocol,
                &local,
                secure_transport,
                served
                    .every_region
                    .then_some(signature.scope.region.as_str()),
            );
            if let Err(denied) = self.access.check(&signature.scope.access_key, &facts) {
                tracing::debug!(%denied, "local endpoint: request denied");
                return served.protocol.refused(&signature.scope.service, &denied);
            }
        }
        served.endpoint.call(local).await
    }
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
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
    let headers = header_pairs(&parts.headers);
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

/// Every header as (name, value) text.
fn header_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
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
