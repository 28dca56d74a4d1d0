//! Which file an object key is kept in.
//!
//! S3 takes any UTF-8 key of 1 to 1,024 bytes; a file system does not. s3s-fs keeps an object at
//! `<bucket>/<key>` and its metadata in a file whose name holds the bucket and key in base64, so a
//! key of about 155 bytes or more overflowed the file system's 255-byte name limit (an S3
//! `InternalError`), and a key with `..`, `.` or empty segments named another place than itself.
//!
//! A key that fits is stored under its own name, so a person finds `images/<request>/0.png` where
//! the key says. Any other key is stored as `.imagegen-keys/<hash>` (128 bits of SHA-256 of the
//! key, in hex), with the key itself written beside it in `.imagegen-keys/<hash>.key` for listings.
//! Every key S3 takes becomes a path inside its bucket's directory; none can leave it.

use sha2::{Digest, Sha256};

use crate::files::NAME_MAX;

/// The prefix of stored names for keys that do not fit; keys under it never fit themselves.
pub const RESERVED_PREFIX: &str = ".imagegen-keys/";

/// Length of `s` in unpadded base64.
fn base64_len(bytes: usize) -> usize {
    (bytes * 4).div_ceil(3)
}

/// Whether `key` of `bucket` can be stored under its own name: every segment a plain file name,
/// and s3s-fs's longest metadata file name (`.bucket-<b64>.object-<b64>.upload-<uuid>.metadata.json`)
/// within the limit.
pub fn fits(bucket: &str, key: &str) -> bool {
    metadata_name_len(bucket, key) <= NAME_MAX
        && !key.starts_with(RESERVED_PREFIX)
        && !key.contains('\0')
        && !key.contains('\\')
        && key
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != ".." && s.len() <= NAME_MAX)
}

fn metadata_name_len(bucket: &str, key: &str) -> usize {
    ".bucket-".len()
        + base64_len(bucket.len())
        + ".object-".len()
        + base64_len(key.len())
        + ".upload-".len()
        + 36
        + ".metadata.json".len()
}

/// The key s3s-fs stores `key` under.
pub fn stored_key(bucket: &str, key: &str) -> String {
    if fits(bucket, key) {
        key.to_owned()
    } else {
        format!("{RESERVED_PREFIX}{}", hash(key))
    }
}

/// The file beside a stored object that holds its real key (`None` for keys stored as themselves).
pub fn key_file(bucket: &str, key: &str) -> Option<String> {
    (!fits(bucket, key)).then(|| format!("{RESERVED_PREFIX}{}.key", hash(key)))
}

fn hash(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_keys_keep_their_names() {
        for key in [
            "prompts/a.txt",
            "images/run-20240101-000000-abcdef/0.png",
            "prompts/café ☕.txt",
            &format!("prompts/{}.txt", "a".repeat(100)),
        ] {
            assert!(fits("imagegen-local", key), "{key}");
            assert_eq!(stored_key("imagegen-local", key), key);
            assert_eq!(key_file("imagegen-local", key), None);
        }
    }

    #[test]
    fn every_other_key_gets_a_short_safe_name() {
        let long = format!("prompts/{}.txt", "a".repeat(1016));
        for key in [
            long.as_str(),
            "../../etc/passwd",
            "a/../b",
            "./a",
            "a//b",
            "a/",
            "/a",
            "a\0b",
            ".imagegen-keys/x",
            &"é".repeat(512),
        ] {
            assert!(!fits("imagegen-local", key), "{key:?}");
            let stored = stored_key("imagegen-local", key);
            assert!(
                stored.starts_with(RESERVED_PREFIX) && stored.len() == 47,
                "{stored}"
            );
            // Even in a bucket with the longest name S3 allows.
            assert!(metadata_name_len(&"b".repeat(63), &format!("{stored}.key")) <= NAME_MAX);
            assert_eq!(
                key_file("imagegen-local", key).unwrap(),
                format!("{stored}.key")
            );
        }
    }
}
