//! Unsigned pages served by path (a web console): like any other route they get the whole request,
//! but they may answer with a stream of chunks that are sent as they come (server-sent events),
//! which a [`LocalResponse`] cannot carry.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use hyper::body::Frame;
use tokio::sync::mpsc;

use super::router::{Body, into_http};
use crate::transport::{LocalRequest, LocalResponse};

/// A page's answer.
#[derive(Debug)]
pub enum PageResponse {
    /// A whole response.
    Whole(LocalResponse),
    /// Status and headers at once, then each chunk as it is sent; the body ends when every sender
    /// is dropped. The sender finds out that the client has gone when a send fails.
    Stream {
        status: u16,
        headers: Vec<(&'static str, String)>,
        chunks: mpsc::Receiver<Bytes>,
    },
}

impl From<LocalResponse> for PageResponse {
    fn from(response: LocalResponse) -> Self {
        Self::Whole(response)
    }
}

/// Something that answers unsigned requests under a path prefix.
pub trait Page: Send + Sync + fmt::Debug + 'static {
    fn call(
        &self,
        request: LocalRequest,
    ) -> Pin<Box<dyn Future<Output = PageResponse> + Send + '_>>;
}

/// A [`PageResponse`] as an HTTP response.
pub fn page_into_http(response: PageResponse) -> Response<Body> {
    match response {
        PageResponse::Whole(whole) => into_http(whole),
        PageResponse::Stream {
            status,
            headers,
            chunks,
        } => {
            let mut builder = Response::builder().status(status);
            for (name, value) in &headers {
                builder = builder.header(*name, value);
            }
            builder
                .body(Body::http_body(Chunks(chunks)))
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "local endpoint: a stream could not be started");
                    let mut r = Response::new(Body::empty());
                    *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                    r
                })
        }
    }
}

/// A body whose frames are the chunks a channel receives.
struct Chunks(mpsc::Receiver<Bytes>);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_stream_sends_each_chunk_and_ends_with_its_senders() {
        let (tx, chunks) = mpsc::channel(4);
        let response = page_into_http(PageResponse::Stream {
            status: 200,
            headers: vec![("content-type", "text/event-stream".to_owned())],
            chunks,
        });
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert!(response.headers().get("content-length").is_none());
        let mut body = response.into_body();
        tx.send(Bytes::from_static(b"data: 1\n\n")).await.unwrap();
        let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&first[..], b"data: 1\n\n");
        tx.send(Bytes::from_static(b"data: 2\n\n")).await.unwrap();
        drop(tx);
        let rest = body.collect().await.unwrap().to_bytes();
        assert_eq!(&rest[..], b"data: 2\n\n");
    }
}
