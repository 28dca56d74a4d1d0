//! The Lambda Runtime API (2018-06-01) for one function process, on its own loopback port.
//!
//! One server per process, as in a Lambda execution environment: the process's only way to get
//! work is `GET invocation/next`, so giving each process its own address makes "which process
//! runs this invocation" a choice of the pool, not a race between processes on one queue.
//!
//! The sandbox [`offer`](RuntimeApi::offer)s one invocation at a time; `next` long-polls until
//! there is one, starts its clock (the deadline header) and tells the sandbox; the answer posted
//! to `response` or `error` goes back on the offer's channel. `init/error` is kept for the sandbox
//! to see. A request for any other id is answered 400, as Lambda does.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::{InvokeError, MAX_RESPONSE_BYTES};

const PREFIX: &str = "/2018-06-01/runtime/";

/// One invocation handed to the process.
#[derive(Debug)]
pub(super) struct Offer {
    pub request_id: String,
    pub payload: Bytes,
    pub timeout: Duration,
    /// Told when the process takes the invocation, with its deadline.
    pub taken: oneshot::Sender<Instant>,
    /// Told what the process answered.
    pub outcome: oneshot::Sender<Outcome>,
}

/// What the process posted for an invocation.
#[derive(Debug)]
pub(super) enum Outcome {
    Response(Bytes),
    Error(InvokeError),
    TooLarge,
}

/// The running server; stops when dropped.
#[derive(Debug)]
pub(super) struct RuntimeApi {
    address: SocketAddr,
    offers: mpsc::Sender<Offer>,
    init_error: watch::Receiver<Option<InvokeError>>,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    /// Listen on 127.0.0.1 on a free port; `arn` goes in every invocation's headers.
    pub async fn start(arn: &str) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        // Capacity 1: the sandbox offers one invocation at a time and waits for its outcome.
        let (offers, offered) = mpsc::channel(1);
        let (init_tx, init_error) = watch::channel(None);
        let shared = Arc::new(Shared {
            arn: arn.to_owned(),
            offered: tokio::sync::Mutex::new(offered),
            current: Mutex::new(None),
            init_error: init_tx,
        });
        let server = tokio::spawn(serve(listener, shared));
        Ok(Self {
            address,
            offers,
            init_error,
            server,
        })
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Queue `offer` for the process's next `GET invocation/next`. Fails (giving the offer back)
    /// only if one is already waiting, which the sandbox never does.
    pub fn offer(&self, offer: Offer) -> Result<(), Box<Offer>> {
        self.offers.try_send(offer).map_err(|e| match e {
            mpsc::error::TrySendError::Full(o) | mpsc::error::TrySendError::Closed(o) => {
                Box::new(o)
            }
        })
    }

    /// A receiver of the `init/error` the process reported, if it reports one.
    pub fn init_errors(&self) -> watch::Receiver<Option<InvokeError>> {
        self.init_error.clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        // The accept loop owns the connections' tasks, so aborting it closes them too.
        self.server.abort();
    }
}

#[derive(Debug)]
struct Shared {
    arn: String,
    offered: tokio::sync::Mutex<mpsc::Receiver<Offer>>,
    /// The invocation the process holds: its id and where its outcome goes.
    current: Mutex<Option<(String, oneshot::Sender<Outcome>)>>,
    init_error: watch::Sender<Option<InvokeError>>,
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                // Bound to 127.0.0.1, so this holds anyway; the check says who may talk here.
                Ok((stream, peer)) if peer.ip().is_loopback() => {
                    connections.spawn(connection(stream, Arc::clone(&shared)));
                }
                Ok((_, peer)) => tracing::warn!(%peer, "Runtime API: refused a non-loopback peer"),
                Err(e) => {
                    // Out of file descriptors, for instance: wait a little rather than spin.
                    tracing::warn!(error = %e, "Runtime API: could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let shared = Arc::clone(&shared);
        async move { Ok::<_, Infallible>(route(&shared, request).await) }
    });
    // No header or idle timeout: `next` is a long poll that may wait for minutes.
    if let Err(e) = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(error = %e, "Runtime API: connection ended");
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(resource) = path.strip_prefix(PREFIX) else {
        return not_found(&path);
    };
    match (request.method().clone(), resource) {
        (Method::GET, "invocation/next") => next(shared).await,
        (Method::POST, "init/error") => init_error(shared, request).await,
        (Method::POST, resource) => {
            match resource
                .strip_prefix("invocation/")
                .and_then(|r| r.rsplit_once('/'))
            {
                Some((id, "response")) => response(shared, id, request).await,
                Some((id, "error")) => error(shared, id, request).await,
                _ => not_found(&path),
            }
        }
        _ => not_found(&path),
    }
}

/// `GET invocation/next`: wait for an offer, start its clock, hand it over.
async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    let offer = shared.offered.lock().await.recv().await;
    let Some(offer) = offer else {
        return status_json(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            "The sandbox is gone.",
        );
    };
    let deadline = Instant::now() + offer.timeout;
    let deadline_ms = (SystemTime::now() + offer.timeout)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let trace_id = trace_id(&offer.request_id);
    *lock(&shared.current) = Some((offer.request_id.clone(), offer.outcome));
    // The sandbox may have given up on this invocation already; the process finds out when its
    // answer is refused.
    let _ = offer.taken.send(deadline);
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", &offer.request_id)
        .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", &shared.arn)
        .header("Lambda-Runtime-Trace-Id", trace_id)
        .body(Full::new(offer.payload))
        .unwrap_or_else(|_| internal())
}

/// `POST invocation/{id}/response`.
async fn response(shared: &Shared, id: &str, request: Request<Incoming>) -> Response<Full<Bytes>> {
    if !is_current(shared, id) {
        return invalid_request_id();
    }
    match read_body(request).await {
        Ok(body) => {
            resolve(shared, id, Outcome::Response(body));
            accepted()
        }
        Err(BodyError::TooLarge) => {
            resolve(shared, id, Outcome::TooLarge);
            status_json(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
            )
        }
        Err(BodyError::Read) => bad_body(),
    }
}

/// The body of `invocation/{id}/error` and `init/error`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    #[serde(rename = "errorMessage")]
    error_message: Option<String>,
}

/// `POST invocation/{id}/error`: the function's own error.
async fn error(shared: &Shared, id: &str, request: Request<Incoming>) -> Response<Full<Bytes>> {
    if !is_current(shared, id) {
        return invalid_request_id();
    }
    let header_type = error_type_header(&request);
    let Ok(body) = read_body(request).await else {
        return bad_body();
    };
    let (error_type, message) = parse_error(&body, header_type);
    let error_type = error_type.unwrap_or_else(|| "Unhandled".to_owned());
    resolve(
        shared,
        id,
        Outcome::Error(InvokeError::new(error_type, message)),
    );
    accepted()
}

/// `POST init/error`: the process could not initialise; kept for the sandbox.
async fn init_error(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let header_type = error_type_header(&request);
    let Ok(body) = read_body(request).await else {
        return bad_body();
    };
    let (error_type, message) = parse_error(&body, header_type);
    shared
        .init_error
        .send_replace(Some(InvokeError::init_failed(error_type, message)));
    accepted()
}

fn error_type_header(request: &Request<Incoming>) -> Option<String> {
    request
        .headers()
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The type (body first, then the header) and message of an error body; a body that is not the
/// documented JSON is the message itself.
fn parse_error(body: &[u8], header_type: Option<String>) -> (Option<String>, String) {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => (
            parsed.error_type.or(header_type),
            parsed.error_message.unwrap_or_default(),
        ),
        Err(_) => (header_type, String::from_utf8_lossy(body).into_owned()),
    }
}

fn is_current(shared: &Shared, id: &str) -> bool {
    lock(&shared.current)
        .as_ref()
        .is_some_and(|(current, _)| current == id)
}

fn resolve(shared: &Shared, id: &str, outcome: Outcome) {
    let mut current = lock(&shared.current);
    if current.as_ref().is_some_and(|(c, _)| c == id)
        && let Some((_, tell)) = current.take()
    {
        let _ = tell.send(outcome);
    }
}

enum BodyError {
    TooLarge,
    Read,
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, BodyError> {
    match Limited::new(request.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Read),
    }
}

/// An X-Ray trace header made from the request id (the runtime passes it on; nothing reads it).
fn trace_id(request_id: &str) -> String {
    let hex: String = request_id.chars().filter(|c| *c != '-').collect();
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let root = hex.get(..24).unwrap_or(&hex);
    let parent = hex.get(16..).unwrap_or(&hex);
    format!("Root=1-{secs:08x}-{root};Parent={parent};Sampled=0")
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accepted() -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"status":"OK"}"#)))
        .unwrap_or_else(|_| internal())
}

fn invalid_request_id() -> Response<Full<Bytes>> {
    status_json(
        StatusCode::BAD_REQUEST,
        "InvalidRequestID",
        "Invalid request ID",
    )
}

fn bad_body() -> Response<Full<Bytes>> {
    status_json(
        StatusCode::BAD_REQUEST,
        "InvalidRequest",
        "The request body could not be read.",
    )
}

fn not_found(path: &str) -> Response<Full<Bytes>> {
    status_json(
        StatusCode::NOT_FOUND,
        "NotFound",
        &format!("No Runtime API resource at {path}."),
    )
}

fn status_json(status: StatusCode, error_type: &str, message: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({ "errorType": error_type, "errorMessage": message });
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| internal())
}

fn internal() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
