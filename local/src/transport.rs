//! An in-process HTTP transport for the AWS SDK clients.
//!
//! A [`LocalService`] answers plain HTTP requests; [`InProcessClient`] hands it the requests a real SDK
//! client would send over the network (already serialised and signed), and hands its responses back
//! to the SDK, which parses them exactly as it parses AWS's. Each stand-in (Bedrock runtime, SNS, Step
//! Functions) is one `LocalService`.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;

/// A request as a service sees it: the body is fully read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRequest {
    pub method: String,
    /// The URI path, still percent-encoded.
    pub path: String,
    pub query: Option<String>,
    /// Header names are lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl LocalRequest {
    /// The first value of a header (name in any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response from a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalResponse {
    pub status: u16,
    /// Header names are lower case.
    pub headers: Vec<(Cow<'static, str>, String)>,
    pub body: Vec<u8>,
}

impl LocalResponse {
    /// A response with a status, a content type and a body.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![(Cow::Borrowed("content-type"), content_type.to_owned())],
            body: body.into(),
        }
    }

    /// Add a header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((Cow::Borrowed(name), value.into()));
        self
    }

    /// Add a header whose name is known only at run time (a function's answer).
    pub fn with_header_named(mut self, name: String, value: impl Into<String>) -> Self {
        self.headers
            .push((Cow::Owned(name.to_ascii_lowercase()), value.into()));
        self
    }

    fn into_http(self) -> Result<HttpResponse, ConnectorError> {
        let status = StatusCode::try_from(self.status)
            .map_err(|e| ConnectorError::other(Box::new(e), None))?;
        let length = self.body.len();
        let mut response = HttpResponse::new(status, SdkBody::from(self.body));
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            headers
                .try_insert(name.into_owned(), value)
                .map_err(|e| ConnectorError::other(Box::new(e), None))?;
        }
        headers
            .try_insert("content-length", length.to_string())
            .map_err(|e| ConnectorError::other(Box::new(e), None))?;
        Ok(response)
    }
}

/// An offline service that answers HTTP requests.
pub trait LocalService: Send + Sync + fmt::Debug + 'static {
    fn handle(&self, request: LocalRequest) -> impl Future<Output = LocalResponse> + Send;
}

/// An SDK HTTP client that sends every request to a [`LocalService`] in this process.
#[derive(Debug)]
pub struct InProcessClient<S> {
    service: Arc<S>,
}

impl<S> InProcessClient<S> {
    pub fn new(service: Arc<S>) -> Self {
        Self { service }
    }
}

impl<S: LocalService> HttpClient for InProcessClient<S> {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(InProcessConnector {
            service: Arc::clone(&self.service),
        })
    }
}

#[derive(Debug)]
struct InProcessConnector<S> {
    service: Arc<S>,
}

impl<S: LocalService> HttpConnector for InProcessConnector<S> {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let service = Arc::clone(&self.service);
        HttpConnectorFuture::new(async move {
            let request = read_request(request).await?;
            service.handle(request).await.into_http()
        })
    }
}

async fn read_request(mut request: HttpRequest) -> Result<LocalRequest, ConnectorError> {
    let method = request.method().to_owned();
    let path = request.uri_mut().path().to_owned();
    let query = request.uri_mut().query().map(str::to_owned);
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    let body = ByteStream::new(request.take_body())
        .collect()
        .await
        .map_err(|e| ConnectorError::io(Box::new(e)))?
        .into_bytes()
        .to_vec();
    Ok(LocalRequest {
        method,
        path,
        query,
        headers,
        body,
    })
}
