//! S3: buckets are directories under `<data-dir>/s3/`, served by s3s-fs: in-process to a real
//! `aws_sdk_s3::Client` (no socket), or on the loopback endpoint of `imagegen serve`. Both go
//! through [`s3_service`].

use std::path::{Path, PathBuf};

use aws_sdk_s3::config::{BehaviorVersion, Region};
use s3s::access::{S3Access, S3AccessContext};
use s3s::auth::{S3Auth, SecretKey};
use s3s::path::S3Path;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Result, s3_error};

use crate::config::{ACCESS_KEY_ID, ClientOptions, SECRET_ACCESS_KEY, credentials};
use crate::error::LocalError;

/// The S3 service over the directory `root` (one sub-directory per bucket): signatures checked
/// against the local credentials, anonymous requests refused, and keys that could name a file
/// outside their bucket refused before they reach the file system.
pub fn s3_service(root: &Path) -> Result<S3Service, LocalError> {
    let fs = s3s_fs::FileSystem::new(root).map_err(|e| LocalError::S3Setup {
        path: root.to_path_buf(),
        detail: format!("{e:?}"),
    })?;
    let mut builder = S3ServiceBuilder::new(fs);
    builder.set_auth(LocalKey);
    builder.set_access(KeyGuard);
    Ok(builder.build())
}

/// An `aws_sdk_s3::Client` whose requests are answered by [`s3_service`] over `root`, in process.
/// Requests are signed and the signatures checked.
pub fn s3_client(root: &Path, options: &ClientOptions) -> Result<aws_sdk_s3::Client, LocalError> {
    let service = s3_service(root)?;
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(options.region.clone()))
        .credentials_provider(credentials())
        .endpoint_url(&options.s3_endpoint)
        .force_path_style(true)
        .retry_config(options.retry.clone())
        .http_client(s3s_aws::Client::from(service))
        .build();
    Ok(aws_sdk_s3::Client::from_conf(config))
}

/// The local access key; any other is `InvalidAccessKeyId`, as on AWS (s3s's `SimpleAuth` says
/// `NotSignedUp`, which the SDKs and the AWS CLI do not know as a credentials problem).
#[derive(Debug, Clone, Copy)]
struct LocalKey;

#[async_trait::async_trait]
impl S3Auth for LocalKey {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if access_key == ACCESS_KEY_ID {
            Ok(SecretKey::from(SECRET_ACCESS_KEY))
        } else {
            Err(s3_error!(
                InvalidAccessKeyId,
                "The AWS Access Key Id you provided does not exist in our records."
            ))
        }
    }
}

/// Signed requests only (as s3s's default check), and only keys that stay inside their bucket's
/// directory: on AWS `../x` is just a key, here it would be a path.
#[derive(Debug, Clone, Copy)]
struct KeyGuard;

#[async_trait::async_trait]
impl S3Access for KeyGuard {
    async fn check(&self, cx: &mut S3AccessContext<'_>) -> S3Result<()> {
        if cx.credentials().is_none() {
            return Err(s3_error!(AccessDenied, "Signature is required"));
        }
        if let S3Path::Object { key, .. } = cx.s3_path() {
            key_problem(key).map_or(Ok(()), |why| Err(s3_error!(InvalidArgument, "{}", why)))?;
        }
        if let Some(source) = cx.headers().get("x-amz-copy-source") {
            let source = percent_encoding::percent_decode(source.as_bytes()).decode_utf8_lossy();
            let key = source
                .trim_start_matches('/')
                .split_once('/')
                .map_or("", |(_, k)| k);
            let key = key.split_once("?versionId=").map_or(key, |(k, _)| k);
            key_problem(key).map_or(Ok(()), |why| Err(s3_error!(InvalidArgument, "{}", why)))?;
        }
        Ok(())
    }
}

/// Why a (decoded) key cannot be stored locally: it would leave its bucket's directory, or the file
/// system cannot name it. `None` for a key that is fine.
pub fn key_problem(key: &str) -> Option<String> {
    let shown = imagegen_core::display::escape_controls(key);
    if key.contains('\0') {
        return Some(format!(
            "The key {shown} contains a NUL character, which the local store cannot keep."
        ));
    }
    if key.starts_with('/') {
        return Some(format!(
            "The key {shown} starts with '/', which the local store would read as an absolute path."
        ));
    }
    if key
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Some(format!(
            "The key {shown} has a '.' or '..' segment, which the local store would read as a path out of place."
        ));
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_would_leave_the_bucket_are_refused() {
        for bad in ["../x", "a/../../x", "/etc/passwd", "a/./b", "a\0b", ".."] {
            assert!(key_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["prompts/a.txt", "a..b", ".hidden", "x/...", "a b/c"] {
            assert_eq!(key_problem(good), None, "{good:?}");
        }
        assert!(!key_problem("a\0b").unwrap().contains('\0'));
    }
}
