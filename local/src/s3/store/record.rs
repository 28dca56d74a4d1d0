//! One object on disk: its data in a plain file, and a metadata record naming that file.
//!
//! An object with key K lives in `<bucket>/objects/<h[..2]>/` where `h` is the hex SHA-256 of K:
//! `<h>.json` is the record (the real key, size, ETag, headers, user metadata, checksums, the name of
//! the data file) and `<h>.<generation>[.<ext>]` the data, byte for byte as uploaded, so a person can
//! open `…/0.png` with an image viewer. The key never becomes a path, so any UTF-8 key is stored and
//! `a/b`, `a/b/c` and `a/` are three independent objects.
//!
//! Why data and record replace each other as one unit: every write puts its data in a file of a new
//! generation (never over the old one), then renames a new record over `<h>.json`. That rename is
//! the commit: before it the old record still names the old data, after it the new record names the
//! new data. Only then is the old data file removed. A crash at any point leaves the old object or
//! the new one whole, plus at most an aside file (`.tmp-*`) or a data file no record names, both
//! removed when the bucket is next loaded ([`load_dir`]).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use s3s::dto::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ids::new_id;

/// The directory under a bucket that holds object records.
pub const OBJECTS_DIR: &str = "objects";
/// The prefix of files being written aside (removed on load: a crash left them).
pub const ASIDE_PREFIX: &str = ".tmp-";
const RECORD_EXT: &str = "json";

/// The checksums S3 keeps for an object, base64 as on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksums {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl Checksums {
    pub fn from_dto(c: s3s::dto::Checksum) -> Self {
        Self {
            crc32: c.checksum_crc32,
            crc32c: c.checksum_crc32c,
            crc64nvme: c.checksum_crc64nvme,
            sha1: c.checksum_sha1,
            sha256: c.checksum_sha256,
        }
    }

    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// The checksum of `algorithm` (`CRC32`, …), if there is one.
    pub fn get(&self, algorithm: &str) -> Option<&String> {
        match algorithm {
            "CRC32" => self.crc32.as_ref(),
            "CRC32C" => self.crc32c.as_ref(),
            "CRC64NVME" => self.crc64nvme.as_ref(),
            "SHA1" => self.sha1.as_ref(),
            "SHA256" => self.sha256.as_ref(),
            _ => None,
        }
    }

    /// Only the checksum of `algorithm`, set to `value`.
    pub fn only(algorithm: &str, value: String) -> Self {
        let mut c = Self::default();
        match algorithm {
            "CRC32" => c.crc32 = Some(value),
            "CRC32C" => c.crc32c = Some(value),
            "CRC64NVME" => c.crc64nvme = Some(value),
            "SHA1" => c.sha1 = Some(value),
            "SHA256" => c.sha256 = Some(value),
            _ => {}
        }
        c
    }
}

/// The HTTP headers S3 stores with an object and returns on GET and HEAD.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headers {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Never `aws-chunked`: that is how the body travelled, not what it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
}

/// Everything about an object but its bytes: the record file's content, and what the bucket's
/// index keeps in memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub key: String,
    pub size: u64,
    /// Without quotes; `<md5 of part md5s>-<parts>` for a multipart upload.
    pub etag: String,
    pub last_modified: Timestamp,
    #[serde(default)]
    pub headers: Headers,
    /// `x-amz-meta-*` as sent (names lower-case), UTF-8.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    #[serde(default)]
    pub checksums: Checksums,
    /// `FULL_OBJECT` or `COMPOSITE`, when there is a checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// The part count of a multipart upload's object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<u32>,
    /// How a multipart upload's object was made (absent for other objects, and for ones an
    /// older version of the store completed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<Multipart>,
    /// The data file's name, in the record's directory.
    pub data: String,
}

/// What a multipart upload's object keeps of its upload: which upload made it, so a retried
/// CompleteMultipartUpload answers as the first one did (S3 does), and each part's size and
/// checksum, so GetObject and HeadObject can answer `partNumber` with the part's bytes and checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Multipart {
    pub upload_id: String,
    pub parts: Vec<PartInfo>,
}

/// One part of a multipart upload's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartInfo {
    pub size: u64,
    #[serde(default)]
    pub checksums: Checksums,
}

impl Multipart {
    /// Part `number` (1-based): its first byte in the object and the part.
    pub fn part(&self, number: i32) -> Option<(u64, &PartInfo)> {
        let index = usize::try_from(number).ok()?.checked_sub(1)?;
        let part = self.parts.get(index)?;
        let start = self.parts[..index].iter().map(|p| p.size).sum();
        Some((start, part))
    }
}

/// Where the files of one key live.
#[derive(Debug, Clone)]
pub struct Slot {
    pub dir: PathBuf,
    stem: String,
}

impl Slot {
    pub fn new(bucket_dir: &Path, key: &str) -> Self {
        let stem = hex::encode(Sha256::digest(key.as_bytes()));
        let dir = bucket_dir.join(OBJECTS_DIR).join(&stem[..2]);
        Self { dir, stem }
    }

    pub fn record(&self) -> PathBuf {
        self.dir.join(format!("{}.{RECORD_EXT}", self.stem))
    }

    pub fn data(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A data file name no earlier write of this key used, keeping the key's extension (when it
    /// is a short plain one) so a person's tools recognise the file.
    pub fn new_data_name(&self, key: &str) -> String {
        let generation: String = new_id()
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(16)
            .collect();
        match extension(key) {
            Some(ext) => format!("{}.{generation}.{ext}", self.stem),
            None => format!("{}.{generation}", self.stem),
        }
    }
}

fn extension(key: &str) -> Option<&str> {
    let name = key.rsplit('/').next()?;
    let (_, ext) = name.rsplit_once('.')?;
    (!ext.is_empty() && ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(ext)
}

/// Whether a file in a slot directory is a record (`<h>.json`); data files have a generation
/// between the hash and any extension, so `<h>.<generation>.json` is data.
fn is_record_name(name: &str) -> bool {
    name.strip_suffix(&format!(".{RECORD_EXT}"))
        .is_some_and(|stem| !stem.contains('.'))
}

/// A fan-out directory's name: the first two hex digits of a key's hash.
fn is_fan_name(name: &str) -> bool {
    name.len() == 2
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A data file's name: the key's hash (64 hex digits), a dot, a generation.
fn is_data_name(name: &str) -> bool {
    name.split_once('.').is_some_and(|(stem, _)| {
        stem.len() == 64
            && stem
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A new aside file's path in `dir` (created with its parents as needed).
pub fn aside_path(dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    Ok(dir.join(format!("{ASIDE_PREFIX}{}", new_id())))
}

/// Write `meta`'s record: aside, fsync, rename over the old one (the commit point).
pub fn write_record(slot: &Slot, meta: &ObjectMeta) -> std::io::Result<()> {
    write_json(&slot.record(), meta)
}

/// Write `value` as JSON at `path` atomically: aside in the same directory, fsync, rename.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let aside = aside_path(dir)?;
    let bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    let written = (|| {
        let mut file = std::fs::File::create(&aside)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::rename(&aside, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&aside);
    }
    written
}

/// Read the record at `path`.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> std::io::Result<T> {
    let bytes = std::fs::read(path)?;
    serde_json::from_slice(&bytes).map_err(std::io::Error::other)
}

/// The record of `key`, if there is one (read from disk, not the index).
pub fn read_record(bucket_dir: &Path, key: &str) -> Option<(Slot, ObjectMeta)> {
    let slot = Slot::new(bucket_dir, key);
    let meta: ObjectMeta = read_json(&slot.record()).ok()?;
    (meta.key == key).then_some((slot, meta))
}

/// Every object under `bucket_dir` as (key, data file), read-only (nothing is cleaned up).
pub fn records_in(bucket_dir: &Path) -> Vec<(String, PathBuf)> {
    let fans = std::fs::read_dir(bucket_dir.join(OBJECTS_DIR))
        .into_iter()
        .flatten()
        .flatten();
    let mut out = Vec::new();
    for fan in fans {
        for entry in std::fs::read_dir(fan.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !is_record_name(&name) {
                continue;
            }
            if let Ok(meta) = read_json::<ObjectMeta>(&entry.path()) {
                out.push((meta.key, fan.path().join(meta.data)));
            }
        }
    }
    out
}

/// Every object record under `bucket_dir`, after removing what an interrupted write left behind:
/// aside files, and data files no record names.
pub fn load_dir(bucket_dir: &Path) -> std::io::Result<Vec<ObjectMeta>> {
    let mut objects = Vec::new();
    let root = bucket_dir.join(OBJECTS_DIR);
    let fans = match std::fs::read_dir(&root) {
        Ok(fans) => fans,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(objects),
        Err(e) => return Err(e),
    };
    for fan in fans {
        let fan = fan?.path();
        if !fan.is_dir()
            || !fan
                .file_name()
                .is_some_and(|n| is_fan_name(&n.to_string_lossy()))
        {
            continue;
        }
        let mut records = Vec::new();
        let mut others = Vec::new();
        for entry in std::fs::read_dir(&fan)? {
            let name = entry?.file_name().to_string_lossy().into_owned();
            if name.starts_with(ASIDE_PREFIX) {
                let _ = std::fs::remove_file(fan.join(&name));
            } else if is_record_name(&name) {
                records.push(name);
            } else {
                others.push(name);
            }
        }
        let mut named = std::collections::HashSet::new();
        for record in records {
            match read_json::<ObjectMeta>(&fan.join(&record)) {
                Ok(meta) => {
                    named.insert(meta.data.clone());
                    objects.push(meta);
                }
                Err(e) => tracing::warn!(
                    file = %fan.join(&record).display(),
                    error = %e,
                    "local S3: skipping an object record that cannot be read"
                ),
            }
        }
        for other in others {
            // Only files this store names (`<64 hex>.…`) are ever removed: anything else in the
            // directory is not ours to delete.
            if !named.contains(&other) && is_data_name(&other) {
                let _ = std::fs::remove_file(fan.join(other));
            }
        }
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_look_like_paths_get_independent_slots() {
        let dir = Path::new("/b");
        let a = Slot::new(dir, "foo/bar");
        let b = Slot::new(dir, "foo/bar/xyzzy");
        let c = Slot::new(dir, "foo/bar/");
        assert_ne!(a.record(), b.record());
        assert_ne!(a.record(), c.record());
        assert!(a.record().starts_with("/b/objects"));
        let evil = Slot::new(dir, "../../etc/passwd");
        assert!(evil.record().starts_with("/b/objects"));
    }

    #[test]
    fn data_names_keep_plain_extensions_only() {
        let slot = Slot::new(Path::new("/b"), "images/r/0.png");
        assert!(slot.new_data_name("images/r/0.png").ends_with(".png"));
        assert_ne!(
            slot.new_data_name("images/r/0.png"),
            slot.new_data_name("images/r/0.png")
        );
        assert_eq!(extension("a/b"), None);
        assert_eq!(extension("a.d/b"), None);
        assert_eq!(extension("a/b.tar.gz"), Some("gz"));
        assert_eq!(extension("a/b.../x"), None);
        assert_eq!(extension("a/b.p g"), None);
    }
}
