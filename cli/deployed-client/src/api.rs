//! Requests to the deployed HTTP API (`imagegen aws post` and `imagegen aws get`), signed as its
//! IAM authorization requires (SigV4, service `execute-api`) with the credentials of the usual AWS
//! configuration chain (environment, profile, SSO, instance role).
//!
//! The API's URL is the `ApiUrl` output of the `Imagegen` stack, which ends with the stage:
//! `https://ID.execute-api.REGION.amazonaws.com/prod/` (`imagegen` reads it from `--api-url` or
//! `IMAGEGEN_API_URL`).
//! The signing region is the configured one, else the one in the API's host name.

use std::time::SystemTime;

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use imagegen_local::apigateway::SERVICE;
use serde_json::Value;

use crate::error::DeployedClientError;

/// An answer of the API.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// The body as JSON (every answer of the API is), or as text when it is not.
    pub body: Value,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Signs requests with the caller's credentials and sends them to one API.
#[derive(Debug)]
pub struct Api {
    base: String,
    region: String,
    credentials: aws_credential_types::Credentials,
    /// Built at the first request and kept, so `post --wait` polls over one connection pool.
    client: tokio::sync::OnceCell<HttpClient>,
}

impl Api {
    /// The API at `base_url`, with the credentials and region of the AWS configuration chain.
    pub async fn from_environment(base_url: &str) -> Result<Self, DeployedClientError> {
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        let provider = sdk.credentials_provider().ok_or_else(|| {
            DeployedClientError::Unusable(
                "no AWS credentials are configured (see `aws configure`)".to_owned(),
            )
        })?;
        let credentials = provider
            .provide_credentials()
            .await
            .map_err(|e| DeployedClientError::aws("AWS credentials", e))?;
        let region = sdk
            .region()
            .map(|r| r.as_ref().to_owned())
            .or_else(|| region_of(base_url))
            .ok_or_else(|| {
                DeployedClientError::Unusable(format!(
                    "no AWS region is configured and {base_url} does not name one: set AWS_REGION"
                ))
            })?;
        Ok(Self::new(base_url, &region, credentials))
    }

    pub fn new(
        base_url: &str,
        region: &str,
        credentials: aws_credential_types::Credentials,
    ) -> Self {
        Self {
            base: base_url.trim_end_matches('/').to_owned(),
            region: region.to_owned(),
            credentials,
            client: tokio::sync::OnceCell::new(),
        }
    }

    /// The URL of `path` (which starts with `/`) on this API.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Send a signed request; `headers` are signed too.
    pub async fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<Answer, DeployedClientError> {
        let failed = |e: &dyn std::fmt::Display| DeployedClientError::aws("HTTP API", e);
        let uri: http::Uri = url
            .parse()
            .map_err(|e| DeployedClientError::Unusable(format!("{url} is not a URL: {e}")))?;
        let host = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .ok_or_else(|| DeployedClientError::Unusable(format!("{url} has no host")))?;
        let mut request = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut request = request
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| failed(&e))?;
        self.sign(&mut request, &body).map_err(|e| failed(&e))?;
        let client = self
            .client
            .get_or_try_init(|| async {
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|e| failed(&e))?
                    .https_or_http()
                    .enable_http1()
                    .build();
                Ok::<_, DeployedClientError>(Client::builder(TokioExecutor::new()).build(https))
            })
            .await?;
        let response = client.request(request).await.map_err(|e| failed(&e))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| failed(&e))?
            .to_bytes();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(Answer { status, body })
    }

    fn sign(&self, request: &mut http::Request<Full<Bytes>>, body: &[u8]) -> Result<(), String> {
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str(), v.to_str().ok()?)))
            .collect();
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            uri,
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }
}

/// The region in an API Gateway host name (`ID.execute-api.REGION.amazonaws.com`).
pub fn region_of(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split(['/', ':']).next()?;
    let mut labels = host.split('.');
    labels.next()?;
    (labels.next()? == SERVICE)
        .then(|| labels.next().map(str::to_owned))
        .flatten()
}

/// The status URL for `request`: a URL as given, else a request id on this API.
pub fn status_url(api: &Api, request: &str, wait: Option<u64>) -> String {
    let base = if request.starts_with("http://") || request.starts_with("https://") {
        request.to_owned()
    } else {
        api.url(&http_api::routes::status_path(request))
    };
    match wait {
        Some(seconds) => format!("{base}?wait={seconds}"),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_is_read_from_api_gateway_host_names() {
        assert_eq!(
            region_of("https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of("http://127.0.0.1:4566"), None);
        assert_eq!(region_of("https://api.example.com/"), None);
    }

    #[test]
    fn status_urls_from_ids_or_urls() {
        let api = Api::new(
            "https://x.execute-api.us-east-1.amazonaws.com/prod/",
            "us-east-1",
            aws_credential_types::Credentials::new("AKID", "secret", None, None, "test"),
        );
        assert_eq!(
            status_url(&api, "r-1", Some(20)),
            "https://x.execute-api.us-east-1.amazonaws.com/prod/images/r-1?wait=20"
        );
        assert_eq!(
            status_url(&api, "http://h/images/r", None),
            "http://h/images/r"
        );
    }
}
