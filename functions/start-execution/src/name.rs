//! Deterministic execution names.
//!
//! S3 delivers notifications at least once. Step Functions refuses a second execution with the same
//! name (`ExecutionAlreadyExists`, for 90 days on a Standard state machine), so a name computed from
//! the upload itself turns a re-delivered event into a harmless duplicate.
//!
//! The name is `{slug}-{hash}`: a readable ASCII slug of the file name (at most [`SLUG_MAX`] characters)
//! and the first [`HASH_HEX`] hex digits of a SHA-256 over the bucket, the key and what identifies
//! this upload of it ([`hash_parts`], as the front doors' names are made). Step Functions allows
//! 1-80 characters; we use only `[A-Za-z0-9-_]`.
//!
//! What identifies the upload, in order of preference:
//! 1. `versionId` (versioned bucket; the literal `null` of a versioning-suspended bucket is skipped, as
//!    every overwrite shares it);
//! 2. `sequencer`, which S3 gives each PUT of a key and repeats in re-deliveries of that event;
//! 3. `eTag` (the content hash), the last resort.
//!
//! The sequencer comes before the ETag on purpose: in an unversioned bucket, uploading the same prompt
//! again is a request for new images, and the ETag alone would make it a "duplicate" for 90 days.
//!
//! One nuance of Step Functions: StartExecution on a Standard state machine is idempotent while the
//! first execution is still running (same name, same input: it answers with the same ARN instead of
//! `ExecutionAlreadyExists`). Such a re-delivery shows up under `started` with the existing ARN, but
//! still starts nothing new.

#[cfg(doc)]
use imagegen_core::execution_name::HASH_HEX;
use imagegen_core::execution_name::hash_parts;

use crate::event::ObjectCreated;

/// Longest readable part.
pub const SLUG_MAX: usize = 40;

/// The execution name for an upload: the same upload always gets the same name.
pub fn execution_name(object: &ObjectCreated) -> String {
    format!("{}-{}", slug(&object.key), hash(object))
}

/// What tells this upload of the key apart from another upload of the same key.
pub fn upload_identity(object: &ObjectCreated) -> String {
    let version = object.version_id.as_deref().filter(|v| *v != "null");
    match (version, &object.sequencer, &object.etag) {
        (Some(v), _, _) => format!("version:{v}"),
        (None, Some(s), _) => format!("sequencer:{s}"),
        (None, None, Some(e)) => format!("etag:{e}"),
        (None, None, None) => "none".to_owned(),
    }
}

fn hash(object: &ObjectCreated) -> String {
    hash_parts(&[
        object.bucket.as_str(),
        object.key.as_str(),
        &upload_identity(object),
    ])
}

/// A readable, ASCII-only slug of the file name without its extension: letters, digits, `_` and
/// single `-` between words; `prompt` when nothing readable is left.
pub fn slug(key: &str) -> String {
    let file_name = key.rsplit('/').next().unwrap_or(key);
    let stem = match file_name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => file_name,
    };
    let mut slug = String::with_capacity(SLUG_MAX);
    for c in stem.chars() {
        if slug.len() >= SLUG_MAX {
            break;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "prompt".to_owned()
    } else {
        slug.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagegen_core::execution_name::{HASH_HEX, MAX_NAME_LEN};

    fn object(key: &str) -> ObjectCreated {
        ObjectCreated {
            bucket: "bucket".into(),
            key: key.into(),
            version_id: None,
            etag: Some("etag1".into()),
            sequencer: Some("0055AED6DCD90281E5".into()),
        }
    }

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    #[test]
    fn names_are_readable_and_within_the_limits() {
        let name = execution_name(&object("prompts/A lighthouse, at dusk!.txt"));
        assert!(name.starts_with("A-lighthouse-at-dusk-"), "{name}");
        assert!(valid(&name), "{name}");
        let long_key = format!("prompts/{}.json", "very long words ".repeat(40));
        for key in [
            "prompts/café ☕.txt",
            "prompts/☕☕☕.txt",
            "prompts/.txt",
            "prompts/东京/夜.json",
            "prompts/--__--.txt",
            long_key.as_str(),
            "prompts/a\nb\tc\u{0}.txt",
        ] {
            let name = execution_name(&object(key));
            assert!(valid(&name), "{key:?} -> {name}");
        }
        assert!(execution_name(&object("prompts/café ☕.txt")).starts_with("caf-"));
        assert!(execution_name(&object("prompts/☕.txt")).starts_with("prompt-"));
    }

    #[test]
    fn names_are_deterministic() {
        let a = object("prompts/x.txt");
        assert_eq!(execution_name(&a), execution_name(&a.clone()));
        assert!(execution_name(&a).starts_with("x-"));
        assert_eq!(hash(&a).len(), HASH_HEX);
    }

    #[test]
    fn another_upload_gets_another_name() {
        let base = object("prompts/x.txt");
        let names = [
            execution_name(&base),
            execution_name(&ObjectCreated {
                key: "prompts/y/x.txt".into(),
                ..base.clone()
            }),
            execution_name(&ObjectCreated {
                bucket: "other".into(),
                ..base.clone()
            }),
            execution_name(&ObjectCreated {
                sequencer: Some("0055AED6DCD90281E6".into()),
                ..base.clone()
            }),
            execution_name(&ObjectCreated {
                version_id: Some("v1".into()),
                ..base.clone()
            }),
            execution_name(&ObjectCreated {
                version_id: Some("v2".into()),
                ..base.clone()
            }),
        ];
        let mut unique = names.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }

    #[test]
    fn identity_prefers_version_then_sequencer_then_etag() {
        let mut o = object("prompts/x.txt");
        assert_eq!(upload_identity(&o), "sequencer:0055AED6DCD90281E5");
        o.version_id = Some("null".into());
        assert_eq!(upload_identity(&o), "sequencer:0055AED6DCD90281E5");
        o.version_id = Some("3HL4kqtJ".into());
        assert_eq!(upload_identity(&o), "version:3HL4kqtJ");
        let etag_only = ObjectCreated {
            version_id: None,
            sequencer: None,
            ..o.clone()
        };
        assert_eq!(upload_identity(&etag_only), "etag:etag1");
        // Same version, different etag/sequencer representation (S3 vs EventBridge): same name.
        let other_shape = ObjectCreated {
            etag: None,
            sequencer: None,
            ..o.clone()
        };
        assert_eq!(execution_name(&o), execution_name(&other_shape));
    }
}
