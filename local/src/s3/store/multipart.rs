//! Multipart uploads on disk, so they survive a restart:
//!
//! ```text
//! <bucket>/uploads/<upload-id>/upload.json     the key, headers, metadata and checksum algorithm
//! <bucket>/uploads/<upload-id>/<n>.json        part n's record (size, ETag, checksums, data file)
//! <bucket>/uploads/<upload-id>/<n>.<gen>       part n's data
//! ```
//!
//! A part is committed as an object is (data of a new generation, then its record renamed into
//! place). Completing first renames the upload's directory to a claim (`.completing-<id>`), so of
//! two completions one wins and the other finds no upload (`NoSuchUpload`, as S3 answers a
//! finished upload); a completion that fails a check gives the claim back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use s3s::dto::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::record::{self, Checksums, Headers};
use super::{Bucket, StoreError, StoreResult, Wanted, stage_in};
use crate::ids::new_id;

pub const UPLOADS_DIR: &str = "uploads";
const UPLOAD_FILE: &str = "upload.json";
const CLAIM_PREFIX: &str = ".completing-";
/// Every part but the last must be at least this big.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
pub const MAX_PART_NUMBER: i32 = 10_000;

/// What CreateMultipartUpload said the object will be.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub key: String,
    pub id: String,
    pub initiated: Timestamp,
    #[serde(default)]
    pub headers: Headers,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// `CRC32`, … as asked at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// `COMPOSITE` or `FULL_OBJECT`, as asked at creation (see [`Upload::checksum_type`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

/// A checksum of the parts' checksums (S3's `COMPOSITE` type).
pub const COMPOSITE: &str = "COMPOSITE";
/// A checksum of the whole object's bytes (S3's `FULL_OBJECT` type).
pub const FULL_OBJECT: &str = "FULL_OBJECT";

impl Upload {
    /// The object's checksum type: as asked, else S3's default for the algorithm (SHA-1 and
    /// SHA-256 can only be composite; CRC-64/NVME only full-object; the CRC-32s are full-object
    /// here unless composite was asked). `None` without an algorithm.
    pub fn checksum_type(&self) -> Option<&str> {
        let algorithm = self.checksum_algorithm.as_deref()?;
        Some(match self.checksum_type.as_deref() {
            Some(asked) => asked,
            None if algorithm.starts_with("SHA") => COMPOSITE,
            None => FULL_OBJECT,
        })
    }
}

/// The composite checksum of `parts` for `algorithm`: the checksum of their binary checksums
/// one after another, base64, then `-` and the part count, as S3 computes it. `None` when a
/// part has no checksum of that algorithm.
pub fn composite_checksum(algorithm: &str, parts: &[&Part]) -> Option<String> {
    let mut wanted = Wanted::default();
    if !wanted.add(algorithm) {
        return None;
    }
    let mut hasher = wanted.hasher();
    for part in parts {
        let text = part.checksums.get(algorithm)?;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        hasher.update(&raw);
    }
    let whole = Checksums::from_dto(hasher.finalize());
    Some(format!("{}-{}", whole.get(algorithm)?, parts.len()))
}

/// One uploaded part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub number: i32,
    pub size: u64,
    /// Hex MD5 of the part, its ETag.
    pub etag: String,
    pub last_modified: Timestamp,
    #[serde(default)]
    pub checksums: Checksums,
    pub data: String,
}

fn upload_dir(bucket: &Bucket, id: &str) -> StoreResult<PathBuf> {
    // An id is ours only if it is a plain name: never a path out of the uploads directory.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(StoreError::NoSuchUpload);
    }
    Ok(bucket.uploads_dir().join(id))
}

/// The upload `id` of `key`, read from disk.
pub fn get(bucket: &Bucket, key: &str, id: &str) -> StoreResult<Upload> {
    let dir = upload_dir(bucket, id)?;
    let upload: Upload = record::read_json(&dir.join(UPLOAD_FILE)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::NoSuchUpload
        } else {
            StoreError::io(format!("reading upload {id}"))(e)
        }
    })?;
    if upload.key != key {
        return Err(StoreError::NoSuchUpload);
    }
    Ok(upload)
}

/// Start an upload of `key`.
pub fn create(
    bucket: &Bucket,
    key: &str,
    headers: Headers,
    metadata: BTreeMap<String, String>,
    checksum_algorithm: Option<String>,
    checksum_type: Option<String>,
) -> StoreResult<Upload> {
    let id = new_id();
    let upload = Upload {
        key: key.to_owned(),
        id: id.clone(),
        initiated: Timestamp::from(std::time::SystemTime::now()),
        headers,
        metadata,
        checksum_algorithm,
        checksum_type,
    };
    let dir = upload_dir(bucket, &id)?;
    std::fs::create_dir_all(&dir).map_err(StoreError::io("creating an upload"))?;
    record::write_json(&dir.join(UPLOAD_FILE), &upload)
        .map_err(StoreError::io("creating an upload"))?;
    Ok(upload)
}

/// Store part `number` of upload `id` from `body` (replacing an earlier part of that number).
pub async fn upload_part<S, E>(
    bucket: &Arc<Bucket>,
    key: &str,
    id: &str,
    number: i32,
    body: S,
    wanted: Wanted,
) -> StoreResult<(Part, super::Staged)>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    if !(1..=MAX_PART_NUMBER).contains(&number) {
        return Err(StoreError::InvalidArgument(format!(
            "Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive"
        )));
    }
    get(bucket, key, id)?;
    let dir = upload_dir(bucket, id)?;
    let staged = stage_in(&dir, body, wanted).await?;
    let part = Part {
        number,
        size: staged.size,
        etag: hex::encode(staged.md5),
        last_modified: Timestamp::from(std::time::SystemTime::now()),
        checksums: staged.checksums.clone(),
        data: format!("{number}.{}", new_id()),
    };
    Ok((part, staged))
}

/// Make `staged` part `part.number` of upload `id`, unless the upload is gone meanwhile.
pub async fn commit_part(
    bucket: &Arc<Bucket>,
    id: &str,
    part: &Part,
    staged: super::Staged,
) -> StoreResult<()> {
    let _writer = bucket.writer.lock().await;
    let dir = upload_dir(bucket, id)?;
    if !dir.join(UPLOAD_FILE).is_file() {
        staged.discard();
        return Err(StoreError::NoSuchUpload);
    }
    let record_path = dir.join(format!("{}.json", part.number));
    let old: Option<Part> = record::read_json(&record_path).ok();
    let aside = staged.aside.clone();
    let done = std::fs::rename(&aside, dir.join(&part.data))
        .and_then(|()| record::write_json(&record_path, part));
    if let Err(e) = done {
        staged.discard();
        return Err(StoreError::io("storing a part")(e));
    }
    if let Some(old) = old
        && old.data != part.data
    {
        let _ = std::fs::remove_file(dir.join(old.data));
    }
    Ok(())
}

/// The parts of upload `dir`, by number.
fn parts_in(dir: &Path) -> StoreResult<BTreeMap<i32, Part>> {
    let mut parts = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(StoreError::io("listing parts"))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(number) = name
            .strip_suffix(".json")
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Ok(part) = record::read_json::<Part>(&entry.path()) {
            parts.insert(number, part);
        }
    }
    Ok(parts)
}

/// The parts of upload `id` of `key`.
pub fn parts(bucket: &Bucket, key: &str, id: &str) -> StoreResult<(Upload, BTreeMap<i32, Part>)> {
    let upload = get(bucket, key, id)?;
    let parts = parts_in(&upload_dir(bucket, id)?)?;
    Ok((upload, parts))
}

/// Every upload in progress in the bucket, by key then initiation.
pub fn list(bucket: &Bucket) -> Vec<Upload> {
    let mut uploads: Vec<Upload> = std::fs::read_dir(bucket.uploads_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(|e| record::read_json::<Upload>(&e.path().join(UPLOAD_FILE)).ok())
        .collect();
    uploads.sort_by(|a, b| (&a.key, &a.initiated, &a.id).cmp(&(&b.key, &b.initiated, &b.id)));
    uploads
}

/// Discard upload `id` of `key` and its parts.
pub async fn abort(bucket: &Arc<Bucket>, key: &str, id: &str) -> StoreResult<()> {
    let _writer = bucket.writer.lock().await;
    get(bucket, key, id)?;
    let dir = upload_dir(bucket, id)?;
    std::fs::remove_dir_all(&dir).map_err(StoreError::io(format!("aborting upload {id}")))
}

/// An upload being completed: its directory is claimed; [`Claim::release`] gives it back (the
/// completion failed), [`Claim::finish`] removes it.
#[derive(Debug)]
pub struct Claim {
    claimed: PathBuf,
    original: PathBuf,
    pub upload: Upload,
    pub parts: BTreeMap<i32, Part>,
}

impl Claim {
    pub fn release(self) {
        let _ = std::fs::rename(&self.claimed, &self.original);
    }

    pub fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.claimed);
    }

    pub fn part_path(&self, part: &Part) -> PathBuf {
        self.claimed.join(&part.data)
    }
}

/// Claim upload `id` of `key` for completion.
pub async fn claim(bucket: &Arc<Bucket>, key: &str, id: &str) -> StoreResult<Claim> {
    let _writer = bucket.writer.lock().await;
    let upload = get(bucket, key, id)?;
    let original = upload_dir(bucket, id)?;
    let claimed = bucket.uploads_dir().join(format!("{CLAIM_PREFIX}{id}"));
    std::fs::rename(&original, &claimed).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            StoreError::NoSuchUpload
        } else {
            StoreError::io(format!("completing upload {id}"))(e)
        }
    })?;
    let parts = match parts_in(&claimed) {
        Ok(parts) => parts,
        Err(e) => {
            let _ = std::fs::rename(&claimed, &original);
            return Err(e);
        }
    };
    Ok(Claim {
        claimed,
        original,
        upload,
        parts,
    })
}

/// Check the part list a completion names against the uploaded parts, as S3 does; returns the
/// parts in order. A part number named twice in a row counts once, by its last entry: a client
/// that sent a part again lists both sends, and the part is what the last send stored.
pub fn check_parts<'a>(
    uploaded: &'a BTreeMap<i32, Part>,
    named: &[(i32, Option<String>)],
) -> StoreResult<Vec<&'a Part>> {
    if named.is_empty() {
        return Err(StoreError::InvalidRequest(
            "You must specify at least one part".into(),
        ));
    }
    if named.windows(2).any(|w| w[0].0 > w[1].0) {
        return Err(StoreError::InvalidPartOrder);
    }
    let last_of_each = named
        .iter()
        .enumerate()
        .filter(|(i, (number, _))| named.get(i + 1).is_none_or(|next| next.0 != *number))
        .map(|(_, entry)| entry);
    let mut parts = Vec::with_capacity(named.len());
    for (number, etag) in last_of_each {
        let part = uploaded.get(number).ok_or(StoreError::InvalidPart)?;
        let given = etag.as_deref().map(|e| e.trim_matches('"'));
        if given != Some(part.etag.as_str()) {
            return Err(StoreError::InvalidPart);
        }
        parts.push(part);
    }
    if let Some((_, all_but_last)) = parts.split_last()
        && all_but_last.iter().any(|p| p.size < MIN_PART_SIZE)
    {
        return Err(StoreError::EntityTooSmall);
    }
    Ok(parts)
}

/// The ETag of an object made of `parts`: the MD5 of their binary MD5s, `-`, their count.
pub fn multipart_etag(parts: &[&Part]) -> String {
    let mut md5 = md5::Md5::new();
    for part in parts {
        md5.update(hex::decode(&part.etag).unwrap_or_default());
    }
    format!("{}-{}", hex::encode(md5.finalize()), parts.len())
}

/// After a crash: give claimed uploads back (the completion did not answer, so the client may
/// retry it).
pub fn recover(uploads_dir: &Path) {
    for entry in std::fs::read_dir(uploads_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_prefix(CLAIM_PREFIX) {
            let _ = std::fs::rename(entry.path(), uploads_dir.join(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: i32, size: u64, etag: &str) -> Part {
        Part {
            number,
            size,
            etag: etag.into(),
            last_modified: Timestamp::default(),
            checksums: Checksums::default(),
            data: String::new(),
        }
    }

    #[test]
    fn completion_checks() {
        let md5a = "0cc175b9c0f1b6a831c399e269772661";
        let md5b = "92eb5ffee6ae2fec3ad71c777531578f";
        let uploaded: BTreeMap<i32, Part> = [
            (1, part(1, MIN_PART_SIZE, md5a)),
            (2, part(2, 1, md5b)),
            (3, part(3, 1, md5b)),
        ]
        .into();
        let named = |list: &[(i32, &str)]| -> Vec<(i32, Option<String>)> {
            list.iter()
                .map(|(n, e)| (*n, Some(format!("\"{e}\""))))
                .collect()
        };
        let ok = check_parts(&uploaded, &named(&[(1, md5a), (2, md5b)])).unwrap();
        assert_eq!(ok.len(), 2);
        assert!(multipart_etag(&ok).ends_with("-2"));
        assert!(matches!(
            check_parts(&uploaded, &named(&[(2, md5b), (1, md5a)])),
            Err(StoreError::InvalidPartOrder)
        ));
        assert!(matches!(
            check_parts(&uploaded, &named(&[(1, md5b)])),
            Err(StoreError::InvalidPart)
        ));
        assert!(matches!(
            check_parts(&uploaded, &named(&[(4, md5b)])),
            Err(StoreError::InvalidPart)
        ));
        assert!(matches!(
            check_parts(&uploaded, &named(&[(2, md5b), (3, md5b)])),
            Err(StoreError::EntityTooSmall)
        ));
        // Part 1 sent twice: the list names both sends, the last one is what part 1 holds.
        let resent = check_parts(&uploaded, &named(&[(1, md5b), (1, md5a), (2, md5b)])).unwrap();
        assert_eq!(resent.iter().map(|p| p.number).collect::<Vec<_>>(), [1, 2]);
        assert!(matches!(
            check_parts(&uploaded, &named(&[(1, md5a), (1, md5b)])),
            Err(StoreError::InvalidPart)
        ));
    }

    #[test]
    fn composite_checksums_are_checksums_of_the_parts_checksums() {
        // Values from ceph/s3-tests (test_multipart_use_cksum_helper_sha256): three parts of
        // 5 MiB of 'A', 'B' and 'C'.
        let with = |number, sha256: &str| Part {
            checksums: Checksums::only("SHA256", sha256.into()),
            ..part(number, MIN_PART_SIZE, "")
        };
        let parts = [
            with(1, "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI="),
            with(2, "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM="),
            with(3, "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow="),
        ];
        let refs: Vec<&Part> = parts.iter().collect();
        assert_eq!(
            composite_checksum("SHA256", &refs).as_deref(),
            Some("uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3")
        );
        assert_eq!(
            composite_checksum("CRC32", &refs),
            None,
            "no part has a CRC32"
        );
    }
}
