//! The stand-ins on one loopback HTTP endpoint, for unmodified AWS clients (`--endpoint-url`).
//!
//! - [`router`]: which stand-in answers a request (by the SigV4 scope's service name: `s3`,
//!   `states`, `sns`, `sqs`, `execute-api`; unsigned routes by path prefix are kept for pages such
//!   as a console).
//! - [`sigv4`]: signature checks for the services answered here (s3s checks S3's itself).
//! - [`protocol`]: the error shapes of the JSON, query and S3 protocols.
//! - [`s3`]: S3 through s3s, with a body limit and object-created notifications.
//! - [`page`]: unsigned pages by path (a web console), whose answers may be streams.
//!
//! [`serve`] runs the accept loop on a tokio listener (HTTP/1.1, keep-alive) until its shutdown
//! future resolves, then lets open connections finish their current request.

pub mod page;
pub mod protocol;
pub mod router;
pub mod s3;
pub mod sigv4;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::error::LocalError;
use crate::local::LocalAws;
pub use page::{Page, PageResponse};
pub use protocol::Protocol;
pub use router::Router;
pub use s3::{CreatedBy, NotRecorded, ObjectCreated, OnObjectCreated, Recording, S3Route};

/// The router for the stand-ins of `aws`: S3, Step Functions (`states`, awsJson1_0), SNS
/// (`sns`, awsQuery) and SQS (`sqs`, awsJson1_0); `on_created` records the notification of every object S3 creates before it is answered.
pub fn local_router(
    aws: &LocalAws,
    on_created: Option<OnObjectCreated>,
) -> Result<Router, LocalError> {
    let mut s3 = S3Route::new(aws.s3_service().clone());
    if let Some(hook) = on_created {
        s3 = s3.on_object_created(hook);
    }
    Ok(Router::new()
        .with_s3(s3)
        .with_service("states", Protocol::Json, aws.sfn().clone())
        .with_service(
            "sns",
            Protocol::Query {
                xmlns: crate::sns::XMLNS,
            },
            aws.sns().clone(),
        )
        .with_service("sqs", Protocol::Json, aws.sqs().clone()))
}

/// How long open connections get to finish their current request once shutdown begins.
pub const DRAIN: Duration = Duration::from_secs(5);

/// Serve `router` on `listener` until `shutdown` resolves; then stop accepting, let each open
/// connection finish the request it is on (for at most [`DRAIN`]) and return.
pub async fn serve(listener: TcpListener, router: Arc<Router>, shutdown: impl Future<Output = ()>) {
    let (closing, closed) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, Arc::clone(&router), closed.clone()));
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

async fn connection(stream: TcpStream, router: Arc<Router>, mut closed: watch::Receiver<bool>) {
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |request| {
        let router = Arc::clone(&router);
        async move { Ok::<_, Infallible>(router.handle(request).await) }
    });
    let conn = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
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
