//! Download what a successful execution made: its manifest, images and thumbnails.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::DeployedClientError;
use crate::follow::Followed;

async fn get(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, DeployedClientError> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            DeployedClientError::aws(
                "S3",
                format!("s3://{bucket}/{key}: {}", imagegen_aws::error_text(&e)),
            )
        })?;
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| DeployedClientError::aws("S3", format!("s3://{bucket}/{key}: {e}")))?;
    Ok(body.into_bytes().to_vec())
}

fn write(dir: &Path, sub: &str, key: &str, bytes: &[u8]) -> Result<PathBuf, DeployedClientError> {
    let file_name = key
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("object");
    let dir = dir.join(sub);
    std::fs::create_dir_all(&dir).map_err(|source| DeployedClientError::WriteFile {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(file_name);
    std::fs::write(&path, bytes).map_err(|source| DeployedClientError::WriteFile {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Fetch the manifest named by the execution's output and everything it lists into `dir`
/// (`manifest.json`, `images/`, `thumbnails/`). Returns the files written.
pub async fn download_results(
    s3: &aws_sdk_s3::Client,
    followed: &Followed,
    dir: &Path,
) -> Result<Vec<PathBuf>, DeployedClientError> {
    let output: Value = followed
        .output
        .as_deref()
        .and_then(|o| serde_json::from_str(o).ok())
        .unwrap_or(Value::Null);
    let manifest_key = output["manifestKey"].as_str().ok_or_else(|| {
        DeployedClientError::Unusable(
            "the execution's output names no manifest (manifestKey)".to_owned(),
        )
    })?;
    let states = Value::Object(followed.state_outputs());
    let bucket = states
        .pointer("/request/output/bucket")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            DeployedClientError::Unusable(
                "the execution history does not name the output bucket".to_owned(),
            )
        })?;
    let manifest_bytes = get(s3, bucket, manifest_key).await?;
    let mut written = vec![write(dir, "", "manifest.json", &manifest_bytes)?];
    let manifest: Value = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        DeployedClientError::Unusable(format!("s3://{bucket}/{manifest_key} is not JSON: {e}"))
    })?;
    let items = |field: &str| manifest[field].as_array().cloned().unwrap_or_default();
    for image in items("images") {
        let (Some(b), Some(key)) = (image["bucket"].as_str(), image["key"].as_str()) else {
            continue;
        };
        written.push(write(dir, "images", key, &get(s3, b, key).await?)?);
    }
    for thumbnail in items("thumbnails") {
        let Some(key) = thumbnail["key"].as_str() else {
            continue;
        };
        written.push(write(dir, "thumbnails", key, &get(s3, bucket, key).await?)?);
    }
    Ok(written)
}
