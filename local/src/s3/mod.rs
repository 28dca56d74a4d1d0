//! S3: buckets are directories under `<data-dir>/s3/`, served by s3s-fs through
//! [`service::LocalS3`]: in-process to a real `aws_sdk_s3::Client` (no socket), or on the loopback
//! endpoint of `imagegen serve`; both go through one [`s3_service`] per data directory. Every key S3
//! takes is stored ([`keymap`]), and `If-None-Match: *` writes are atomic.

pub mod keymap;
pub mod service;

use std::path::{Path, PathBuf};

use s3s::auth::{S3Auth, SecretKey};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Result, s3_error};

use crate::config::{AccessKey, ClientOptions};
use crate::error::LocalError;

/// The S3 service over the directory `root` (one sub-directory per bucket): s3s-fs behind
/// [`service::LocalS3`], checking every request's signature against `key` (s3s's default access check
/// refuses unsigned requests with `AccessDenied`).
///
/// Make one per root and share it (it is cheap to clone): s3s-fs names its temporary files from a
/// counter of its own and removes leftover ones when it starts, so two services over one root would
/// write over, and delete, each other's half-written objects.
pub fn s3_service(root: &Path, key: &AccessKey) -> Result<S3Service, LocalError> {
    // s3s-fs's error type has no words of its own (only Debug); the one thing it checks here is
    // that the directory can be opened.
    let fs = s3s_fs::FileSystem::new(root).map_err(|_| LocalError::S3Setup {
        path: root.to_path_buf(),
        detail: "the bucket directory cannot be opened (does it exist, and may it be read?)"
            .to_owned(),
    })?;
    let mut builder = S3ServiceBuilder::new(service::LocalS3::new(fs, root));
    builder.set_auth(LocalKey(key.clone()));
    Ok(builder.build())
}

/// An `aws_sdk_s3::Client` whose requests `service` answers in this process (no socket). Requests
/// are signed and the signatures checked.
///
/// The object file a key is stored in: [`object_path`].
pub fn s3_client(service: &S3Service, options: &ClientOptions) -> aws_sdk_s3::Client {
    let shared = crate::config::sdk_config(options, s3s_aws::Client::from(service.clone()));
    let config = aws_sdk_s3::config::Builder::from(&shared)
        .endpoint_url(&options.s3_endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The file that holds object `key` of `bucket` under the S3 root `root` (always inside the
/// bucket's directory, whatever the key).
pub fn object_path(root: &Path, bucket: &str, key: &str) -> PathBuf {
    keymap::stored_key(bucket, key)
        .split('/')
        .fold(root.join(bucket), |path, part| path.join(part))
}

/// The local access key; any other is `InvalidAccessKeyId`, as on AWS (s3s's `SimpleAuth` says
/// `NotSignedUp`, which the SDKs and the AWS CLI do not know as a credentials problem).
#[derive(Debug, Clone)]
struct LocalKey(AccessKey);

#[async_trait::async_trait]
impl S3Auth for LocalKey {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if let Some(secret) = self.0.secret_of(access_key) {
            Ok(SecretKey::from(secret))
        } else {
            Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            ))
        }
    }
}

/// Create the bucket `name` under `root` if it does not exist; returns its directory.
pub fn ensure_bucket(root: &Path, name: &str) -> Result<PathBuf, LocalError> {
    validate_bucket_name(name)?;
    let dir = root.join(name);
    if dir.is_dir() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).map_err(LocalError::io("creating bucket directory", &dir))?;
    Ok(dir)
}

/// S3's general-purpose bucket naming rules.
pub fn validate_bucket_name(name: &str) -> Result<(), LocalError> {
    let invalid = |reason| LocalError::InvalidBucketName {
        name: name.to_owned(),
        reason,
    };
    if !(3..=63).contains(&name.len()) {
        return Err(invalid("must be 3 to 63 characters long"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(invalid(
            "may contain only lower-case letters, digits, dots and hyphens",
        ));
    }
    let first_last_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_alphanumeric());
    if !first_last_ok(name.bytes().next()) || !first_last_ok(name.bytes().last()) {
        return Err(invalid("must begin and end with a letter or digit"));
    }
    if name.contains("..") {
        return Err(invalid("must not contain two adjacent dots"));
    }
    if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        return Err(invalid("must not look like an IP address"));
    }
    Ok(())
}
