//! HTTPS on the endpoint, with a certificate authority of the data directory's own.
//!
//! A template may deny every request whose `aws:SecureTransport` is false (CDK's `enforceSSL`),
//! so a rehearsal must be able to reach the twin over TLS for that policy to be enforced rather
//! than skipped. The CA is made once per data directory ([`DataDir::tls_dir`]) and kept, so a
//! client told to trust it once keeps trusting it; the server's certificate (for `127.0.0.1`,
//! `::1` and `localhost`) is made afresh, signed by the CA, at each start.
//!
//! Clients are pointed at the CA's certificate by [`client_environment`].

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::datadir::DataDir;
use crate::error::LocalError;

/// The CA certificate's file in [`DataDir::tls_dir`] (PEM), what clients are told to trust.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA key's file in [`DataDir::tls_dir`] (PKCS#8 PEM, readable by its owner only).
pub const CA_KEY_FILE: &str = "ca-key.pem";

/// The names the server certificate is good for: the loopback addresses a client is given.
const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// Why the endpoint's TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error(transparent)]
    Io(#[from] LocalError),
    /// The CA files are there but are not a CA this module made (edited, truncated).
    #[error("{path} is not a usable CA key ({detail}); remove the tls directory to make a new CA")]
    BadCa { path: PathBuf, detail: String },
    /// Making or signing a certificate failed.
    #[error("could not make the endpoint's certificate: {0}")]
    Certificate(String),
    /// rustls refused the certificate and key.
    #[error("could not set up TLS with the endpoint's certificate: {0}")]
    Config(String),
}

/// The data directory's CA: its certificate (PEM), where that is kept, and its key.
#[derive(Debug)]
pub struct LocalCa {
    cert_path: PathBuf,
    cert_pem: String,
    key: KeyPair,
}

impl LocalCa {
    /// The CA of `dir`, made (and written) if it has none yet.
    pub fn load_or_create(dir: &DataDir) -> Result<Self, TlsError> {
        let tls_dir = dir.tls_dir();
        let cert_path = tls_dir.join(CA_CERT_FILE);
        let key_path = tls_dir.join(CA_KEY_FILE);
        if !key_path.exists() {
            create(&tls_dir, &cert_path, &key_path)?;
        }
        let key_pem =
            std::fs::read_to_string(&key_path).map_err(LocalError::io("reading", &key_path))?;
        let cert_pem =
            std::fs::read_to_string(&cert_path).map_err(LocalError::io("reading", &cert_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|e| TlsError::BadCa {
            path: key_path.clone(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            cert_path,
            cert_pem,
            key,
        })
    }

    /// The CA certificate's file (PEM), for clients to trust.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The CA certificate (PEM).
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// An HTTPS client (the SDKs' default, rustls on aws-lc-rs) that trusts this CA alone: for
    /// the process's own requests to its endpoint, made as a person's would be (the console under
    /// `imagegen rehearse`), so that they are authorised as theirs are.
    pub fn https_client(&self) -> Result<SharedHttpClient, TlsError> {
        https_client_trusting(&self.cert_pem)
    }

    /// A new server certificate for the loopback names, signed by this CA, ready to serve.
    pub fn server_tls(&self) -> Result<ServerTls, TlsError> {
        let certificate = |e: rcgen::Error| TlsError::Certificate(e.to_string());
        let key = KeyPair::generate().map_err(certificate)?;
        let mut params = CertificateParams::new(SERVER_NAMES.map(str::to_owned).to_vec())
            .map_err(certificate)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "imagegen local endpoint");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // The issuer is rebuilt from the same parameters the CA was made with rather than parsed
        // from its file: its name and key are all a signature needs (and no X.509 parser).
        let issuer = Issuer::new(ca_params(), &self.key);
        let cert = params.signed_by(&key, &issuer).map_err(certificate)?;
        let chain = vec![cert.der().clone()];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        ServerTls::new(chain, private)
    }
}

/// A TLS configuration for [`super::serve`]: who the server says it is.
#[derive(Clone)]
pub struct ServerTls {
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerTls")
    }
}

impl ServerTls {
    fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, TlsError> {
        let mut config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Config(e.to_string()))?;
        // The service is HTTP/1.1 only; saying so lets a client that offers h2 fall back.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    pub(super) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// The environment that makes a client process trust the CA at `ca_cert`: the AWS CLI (botocore)
/// reads `AWS_CA_BUNDLE`; the Rust SDK's default HTTPS client (rustls, roots loaded by
/// `rustls-native-certs`) reads `SSL_CERT_FILE`, which replaces the system's roots rather than
/// adding to them (fine for a process whose every AWS call goes to the twin). aws-config does not
/// read `AWS_CA_BUNDLE`.
pub fn client_environment(ca_cert: &Path) -> Vec<(&'static str, String)> {
    let path = ca_cert.display().to_string();
    vec![("AWS_CA_BUNDLE", path.clone()), ("SSL_CERT_FILE", path)]
}

/// The CA's parameters: its name, its being a CA, what its key may sign.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "imagegen local CA");
    name.push(DnType::OrganizationName, "imagegen twin");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// Make the CA and write it: the certificate first, then the key, whose presence says the pair
/// is whole (a start interrupted in between makes a new pair next time).
fn create(tls_dir: &Path, cert_path: &Path, key_path: &Path) -> Result<(), TlsError> {
    let certificate = |e: rcgen::Error| TlsError::Certificate(e.to_string());
    let key = KeyPair::generate().map_err(certificate)?;
    let cert = ca_params().self_signed(&key).map_err(certificate)?;
    std::fs::create_dir_all(tls_dir).map_err(LocalError::io("creating", tls_dir))?;
    crate::files::replace(cert_path, cert.pem().as_bytes())?;
    write_private(key_path, key.serialize_pem().as_bytes())?;
    Ok(())
}

/// Write `path` readable by its owner only from the start (never widened and narrowed after).
fn write_private(path: &Path, contents: &[u8]) -> Result<(), LocalError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut file| file.write_all(contents).and_then(|()| file.sync_all()))
        .map_err(LocalError::io("writing", path))
}

/// An SDK HTTP client that trusts only the CA certificate `pem` (the twin's `tls/ca.pem`, as a
/// client outside this process reads it from the banner's `AWS_CA_BUNDLE`).
pub fn https_client_trusting(pem: &str) -> Result<SharedHttpClient, TlsError> {
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem.as_bytes()))
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}
