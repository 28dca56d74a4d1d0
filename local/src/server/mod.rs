//! The stand-ins on one loopback HTTP endpoint, for unmodified AWS clients (`--endpoint-url`).
//!
//! - [`router`]: which stand-in answers a request (by the SigV4 scope's service name: `s3`,
//!   `states`, `sns`, `sqs`, `dynamodb`, `bedrock`, `execute-api`; unsigned routes by path prefix
//!   are kept for pages such as a console).
//! - [`authorize`]: the keys taken, each a caller's, and the hook that may deny a caller's request.
//! - [`gate`]: who may reach the endpoint at all (its `Host`, no pages of other sites).
//! - [`sigv4`]: signature checks for the services answered here (s3s checks S3's itself).
//! - [`protocol`]: the error shapes of the JSON, query and S3 protocols.
//! - [`s3`]: S3 through s3s, with a body limit and object-created notifications.
//! - [`page`]: unsigned pages by path (a web console), whose answers may be streams.
//! - [`tls`]: HTTPS with the data directory's own CA, for clients told to trust it.
//!
//! [`serve`] runs the accept loop on a tokio listener (HTTP/1.1, keep-alive) until its shutdown
//! future resolves, then lets open connections finish their current request. Given a TLS
//! configuration, it answers HTTPS and plain HTTP on the same port (told apart by each
//! connection's first byte) and marks each request with which it came over, the hook's
//! `aws:SecureTransport`. What one client can hold is bounded: [`MAX_CONNECTIONS`] at once,
//! [`HEADER_TIMEOUT`] to send a request's head, TLS handshake included (and to stay idle between
//! requests), [`MAX_HEAD_BYTES`] of head.

pub mod authorize;
pub mod gate;
pub mod page;
pub mod protocol;
pub mod router;
pub mod s3;
pub mod sigv4;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::task::JoinSet;

use crate::error::LocalError;
use crate::local::LocalAws;
pub use authorize::{
    Access, Authorize, Caller, Callers, Denied, DeniedBy, Params, RequestFacts, S3Facts,
    SecureTransport,
};
pub use gate::Gate;
pub use page::{Page, PageResponse};
pub use protocol::Protocol;
pub use router::Router;
pub use s3::{CreatedBy, NotRecorded, ObjectCreated, OnObjectCreated, Recording, S3Route};
pub use tls::{LocalCa, ServerTls, TlsError};

/// The router for the stand-ins of `aws`: S3, Step Functions (`states`, awsJson1_0), SNS
/// (`sns`, awsQuery), SQS (`sqs`, awsJson1_0), DynamoDB (`dynamodb`, awsJson1_0) and the Bedrock
/// runtime (`bedrock`, restJson), taking `aws`'s key; `on_created` records the notification of
/// every object S3 creates before it is answered.
pub fn local_router(
    aws: &LocalAws,
    on_created: Option<OnObjectCreated>,
) -> Result<Router, LocalError> {
    let options = aws.options();
    let router = Router::new().with_key(options.key.clone(), &options.region);
    Ok(with_services(
        router,
        aws,
        aws.s3_service().clone(),
        on_created,
    ))
}

/// [`local_router`] taking the keys of `access`'s callers (not `aws`'s own) and asking its hook,
/// if it has one, about every signed request; S3 gets a service of its own over the same buckets,
/// built with the same `access` (s3s checks S3's signatures and calls the hook itself).
pub fn local_router_with(
    aws: &LocalAws,
    on_created: Option<OnObjectCreated>,
    access: Arc<Access>,
) -> Result<Router, LocalError> {
    let s3 = crate::s3::s3_service_with(&aws.data_dir().s3_root(), Arc::clone(&access))?;
    let router = Router::new().with_access(access, &aws.options().region);
    Ok(with_services(router, aws, s3, on_created))
}

fn with_services(
    router: Router,
    aws: &LocalAws,
    s3_service: s3s::service::S3Service,
    on_created: Option<OnObjectCreated>,
) -> Router {
    let mut s3 = S3Route::new(s3_service);
    if let Some(hook) = on_created {
        s3 = s3.on_object_created(hook);
    }
    let bedrock = crate::bedrock::transport::BedrockService::new(Arc::clone(aws.model()));
    router
        .with_s3(s3)
        .with_service("dynamodb", Protocol::Json, aws.dynamodb().clone())
        // Bedrock runtime's SigV4 service name is `bedrock`; it speaks restJson, whose errors
        // (`x-amzn-ErrorType`, `{"message"}`) are the REST shape. The pipeline calls it in its own
        // Region (BEDROCK_REGION), which the offline model stands in for as well as any other.
        .with_service_in_every_region("bedrock", Protocol::Rest, Arc::new(bedrock))
        .with_service("states", Protocol::Json, aws.sfn().clone())
        .with_service(
            "sns",
            Protocol::Query {
                xmlns: crate::sns::XMLNS,
            },
            aws.sns().clone(),
        )
        .with_service("sqs", Protocol::Json, aws.sqs().clone())
}

/// How long open connections get to finish their current request once shutdown begins.
pub const DRAIN: Duration = Duration::from_secs(5);
/// Connections served at once; more wait to be accepted (the console's event streams hold one
/// each, a burst of AWS CLI calls a few dozen).
pub const MAX_CONNECTIONS: usize = 256;
/// How long a client has to send a request's head, counted from the end of the previous answer,
/// so an idle keep-alive connection is closed after it too (clients open a new one).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// The most a request's head (request line and headers) may take; the SDKs' heads are a few KiB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Serve `router` on `listener` until `shutdown` resolves; then stop accepting, let each open
/// connection finish the request it is on (for at most [`DRAIN`]) and return. Every request
/// passes the [`Gate`] of the listener's address first. With `tls`, the same port answers HTTPS
/// too (see [`tls`]); without, plain HTTP only.
pub async fn serve(
    listener: TcpListener,
    router: Arc<Router>,
    tls: Option<ServerTls>,
    shutdown: impl Future<Output = ()>,
) {
    let gate = match listener.local_addr() {
        Ok(bound) => Gate::new(bound),
        Err(e) => {
            tracing::error!(error = %e, "local endpoint: the listener has no address; not serving");
            return;
        }
    };
    let (closing, closed) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // A free slot before the next accept: past the limit, clients wait in the listen backlog.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let router = Arc::clone(&router);
                    let tls = tls.clone();
                    connections.spawn(connection(stream, router, gate, tls, closed.clone(), slot));
                }
                Err(e) => {
                    // Out of file descriptors, for instance: wait a little rather than spin.
                    tracing::warn!(error = %e, "local endpoint: could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(DRAIN, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!("local endpoint: connections still open after the drain period were closed");
        connections.abort_all();
    }
}

async fn connection(
    stream: TcpStream,
    router: Arc<Router>,
    gate: Gate,
    tls: Option<ServerTls>,
    mut closed: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let Some(tls) = tls else {
        return http(TokioIo::new(stream), router, gate, false, closed).await;
    };
    // Both protocols on one port: a TLS connection opens with a handshake record, whose first
    // byte (content type 22) no HTTP method starts with. The wait for it, and the handshake, are
    // held to the same bound as a request's head.
    let opening = async {
        let mut first = [0u8; 1];
        match stream.peek(&mut first).await {
            Ok(1) if first[0] == TLS_HANDSHAKE => tls
                .acceptor()
                .accept(stream)
                .await
                .map(|s| Opened::Tls(Box::new(s))),
            Ok(_) => Ok(Opened::Plain(stream)),
            Err(e) => Err(e),
        }
    };
    let opened = tokio::select! {
        opened = tokio::time::timeout(HEADER_TIMEOUT, opening) => opened,
        () = until_closed(&mut closed) => return,
    };
    match opened {
        Ok(Ok(Opened::Tls(stream))) => http(TokioIo::new(stream), router, gate, true, closed).await,
        Ok(Ok(Opened::Plain(stream))) => {
            http(TokioIo::new(stream), router, gate, false, closed).await;
        }
        Ok(Err(e)) => tracing::debug!(error = %e, "local endpoint: TLS handshake failed"),
        Err(_) => tracing::debug!("local endpoint: no request nor handshake in time"),
    }
}

/// The first byte of a TLS record carrying a handshake (a ClientHello, first of all).
const TLS_HANDSHAKE: u8 = 0x16;

/// A connection once its protocol is known.
enum Opened {
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    Plain(TcpStream),
}

/// Serve HTTP/1.1 on `io` until the client is done or shutdown begins; every request is marked
/// with whether the connection is TLS ([`SecureTransport`]), for the authorisation hook.
async fn http<I>(
    io: I,
    router: Arc<Router>,
    gate: Gate,
    tls: bool,
    mut closed: watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        let router = Arc::clone(&router);
        request.extensions_mut().insert(SecureTransport(tls));
        async move { Ok::<_, Infallible>(router.handle(request, &gate).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "local endpoint: connection ended");
            }
        }
        () = until_closed(&mut closed) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Resolves once shutdown begins (or the server is gone).
async fn until_closed(closed: &mut watch::Receiver<bool>) {
    let _ = closed.wait_for(|c| *c).await;
}
