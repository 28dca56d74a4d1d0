//! S3: our own store ([`store`]) behind `s3s` (which does the protocol: routing, signatures,
//! XML), through [`service::LocalS3`]: in-process to a real `aws_sdk_s3::Client` (no socket), or
//! on the loopback endpoint of `imagegen serve`; both go through one [`s3_service`] per data
//! directory.
//!
//! A bucket is a directory under `<data-dir>/s3/`; an object is a record and a data file under
//! `<bucket>/objects/`, named from the SHA-256 of its key ([`store::record`] says why), so any
//! key S3 takes is stored and `a/b` and `a/b/c` coexist. [`object_path`] finds an object's data
//! file (plain bytes, as uploaded) from its key. [`event`] is the `ObjectCreated` event S3 sends
//! its notification targets.

mod access;
pub mod event;
pub mod service;
pub mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use s3s::auth::{S3Auth, SecretKey};
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Result, s3_error};

use crate::config::{AccessKey, ClientOptions};
use crate::error::LocalError;
use crate::server::authorize::Access;

/// The S3 service over the directory `root` (one sub-directory per bucket): our store behind
/// [`service::LocalS3`], checking every request's signature against `key` (s3s's default access
/// check refuses unsigned requests with `AccessDenied`).
///
/// Services over one root in one process share one store (and so one index per bucket); make
/// one per root and share it anyway (it is cheap to clone).
pub fn s3_service(root: &Path, key: &AccessKey) -> Result<S3Service, LocalError> {
    s3_service_with(root, Arc::new(Access::single(key.clone())))
}

/// The S3 service over `root`, as [`s3_service`], taking the keys of `access`'s callers and
/// asking its hook about every request (the router serving it must have the same `access`).
pub fn s3_service_with(root: &Path, access: Arc<Access>) -> Result<S3Service, LocalError> {
    let store = store::Store::shared(root).map_err(|e| LocalError::S3Setup {
        path: root.to_path_buf(),
        detail: format!("the bucket directory cannot be opened: {e}"),
    })?;
    let mut builder = S3ServiceBuilder::new(service::LocalS3::new(Arc::clone(&store)));
    builder.set_auth(CallerKeys(Arc::clone(&access)));
    builder.set_access(access::Guard::new(access, store));
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

/// The file that holds the data of object `key` of `bucket` under the S3 root `root`, byte for
/// byte (always inside the bucket's directory, whatever the key). Read from the object's record on
/// disk; when there is no such object, the path its record would have (which does not exist).
/// A later write of the key puts its data in another file.
pub fn object_path(root: &Path, bucket: &str, key: &str) -> PathBuf {
    let bucket_dir = root.join(bucket);
    match store::record::read_record(&bucket_dir, key) {
        Some((slot, meta)) => slot.data(&meta.data),
        None => store::record::Slot::new(&bucket_dir, key).record(),
    }
}

/// Every object in the bucket directory `bucket_dir`, as (key, data file), in key order: read
/// from the records on disk (for tools and tests that look at a data directory without serving
/// it; a running service answers from its index).
pub fn objects_in(bucket_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut objects = store::record::records_in(bucket_dir);
    objects.sort();
    objects
}

/// The callers' keys; any other is `InvalidAccessKeyId`, as on AWS (s3s's `SimpleAuth` says
/// `NotSignedUp`, which the SDKs and the AWS CLI do not know as a credentials problem).
#[derive(Debug, Clone)]
struct CallerKeys(Arc<Access>);

#[async_trait::async_trait]
impl S3Auth for CallerKeys {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if let Some(secret) = self.0.callers.secret_of(access_key) {
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
