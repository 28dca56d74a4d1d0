//! S3: buckets are directories under `<data-dir>/s3/`, served in-process by s3s-fs to a real
//! `aws_sdk_s3::Client` (no socket).

use std::path::{Path, PathBuf};

use aws_sdk_s3::config::{BehaviorVersion, Region};
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;

use crate::config::{ACCESS_KEY_ID, ClientOptions, SECRET_ACCESS_KEY, credentials};
use crate::error::LocalError;

/// An `aws_sdk_s3::Client` whose requests are answered by s3s-fs over the directory `root`
/// (one sub-directory per bucket). Requests are signed and the signatures checked.
pub fn s3_client(root: &Path, options: &ClientOptions) -> Result<aws_sdk_s3::Client, LocalError> {
    let setup_error = |detail: String| LocalError::S3Setup {
        path: root.to_path_buf(),
        detail,
    };
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| setup_error(format!("{e:?}")))?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(SimpleAuth::from_single(ACCESS_KEY_ID, SECRET_ACCESS_KEY));
    let service = builder.build();
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(options.region.clone()))
        .credentials_provider(credentials())
        .endpoint_url(&options.s3_endpoint)
        .force_path_style(true)
        .retry_config(options.retry.clone())
        .stalled_stream_protection(crate::config::stalled_stream_protection())
        .http_client(s3s_aws::Client::from(service))
        .build();
    Ok(aws_sdk_s3::Client::from_conf(config))
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
