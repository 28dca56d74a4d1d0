//! Objects of a data directory written before this store, by the `s3s-fs` sample store: each at
//! `<bucket>/<key>` as a plain file (a key that did not fit a path at
//! `<bucket>/.imagegen-keys/<hash>`, its key in `<hash>.key` beside it), with its content type
//! and user metadata in `<s3 root>/.bucket-<b64>.object-<b64>.metadata.json`.
//!
//! Loading a bucket imports them as objects, so an upgrade loses nothing from view. Each one is
//! copied (never moved) into a data file of its own, its record written, and only then the old file
//! removed: a crash before the record leaves the old file and an unnamed data file (which loading
//! removes), so the next load imports it again; a crash after leaves the object and the old file,
//! which the next load finds imported and then removes. What cannot be read is left where it is,
//! and keeps its bucket from being deleted.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use md5::{Digest as _, Md5};

use super::multipart::UPLOADS_DIR;
use super::record::{self, OBJECTS_DIR, ObjectMeta, Slot};

/// Where the old store kept keys that did not fit a path.
const HASHED_KEYS_DIR: &str = ".imagegen-keys";

/// Import every object of the old layout in `bucket_dir`; returns how many.
pub fn import(bucket_dir: &Path) -> usize {
    let mut files = Vec::new();
    collect(bucket_dir, bucket_dir, &mut files);
    let mut imported = 0;
    for file in files {
        match import_one(bucket_dir, &file) {
            Ok(true) => imported += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(
                file = %file.display(),
                error = %e,
                "local S3: an object of an older data directory could not be imported; it stays where it is"
            ),
        }
    }
    if imported > 0 {
        remove_empty_dirs(bucket_dir, bucket_dir);
        tracing::info!(
            bucket = %bucket_dir.display(),
            imported,
            "local S3: imported objects of an older data directory"
        );
    }
    imported
}

/// Every regular file under `dir` but the store's own directories and the old store's key files.
fn collect(bucket_dir: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if dir == bucket_dir
            && (entry.file_name() == OBJECTS_DIR || entry.file_name() == UPLOADS_DIR)
        {
            continue;
        }
        if kind.is_dir() {
            collect(bucket_dir, &path, out);
        } else if kind.is_file()
            && path
                .extension()
                .is_none_or(|e| e != "key" || !in_hashed_keys(bucket_dir, &path))
        {
            out.push(path);
        }
    }
}

fn in_hashed_keys(bucket_dir: &Path, path: &Path) -> bool {
    path.parent() == Some(&bucket_dir.join(HASHED_KEYS_DIR))
}

/// The key the old store kept `file` under, and the name it stored it as (for its metadata file).
fn key_of(bucket_dir: &Path, file: &Path) -> std::io::Result<(String, String)> {
    let relative = file
        .strip_prefix(bucket_dir)
        .map_err(std::io::Error::other)?
        .components()
        .map(|c| c.as_os_str().to_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or_else(|| std::io::Error::other("the file's name is not UTF-8"))?
        .join("/");
    if in_hashed_keys(bucket_dir, file) {
        let key = std::fs::read_to_string(file.with_extension("key"))?;
        return Ok((key, relative));
    }
    Ok((relative.clone(), relative))
}

fn import_one(bucket_dir: &Path, file: &Path) -> std::io::Result<bool> {
    let (key, stored_as) = key_of(bucket_dir, file)?;
    let slot = Slot::new(bucket_dir, &key);
    if let Some((_, meta)) = record::read_record(bucket_dir, &key) {
        // Imported before a crash, or written anew since: the old file is no longer the object.
        if meta.size == std::fs::metadata(file)?.len() {
            remove_old(bucket_dir, file)?;
        }
        return Ok(false);
    }
    let data = slot.new_data_name(&key);
    let aside = record::aside_path(&slot.dir)?;
    let (size, md5) = copy_with_md5(file, &aside).inspect_err(|_| {
        let _ = std::fs::remove_file(&aside);
    })?;
    std::fs::rename(&aside, slot.data(&data))?;
    let (content_type, metadata) = old_metadata(bucket_dir, &stored_as);
    let meta = ObjectMeta {
        key,
        size,
        etag: hex::encode(md5),
        last_modified: std::fs::metadata(file)?.modified().map_or_else(
            |_| s3s::dto::Timestamp::from(std::time::SystemTime::now()),
            Into::into,
        ),
        headers: record::Headers {
            content_type,
            ..record::Headers::default()
        },
        metadata,
        checksums: record::Checksums::default(),
        checksum_type: None,
        parts: None,
        multipart: None,
        data,
    };
    record::write_record(&slot, &meta)?;
    remove_old(bucket_dir, file)?;
    Ok(true)
}

fn copy_with_md5(from: &Path, to: &Path) -> std::io::Result<(u64, [u8; 16])> {
    let mut input = std::fs::File::open(from)?;
    let mut output = std::fs::File::create(to)?;
    let mut hash = Md5::new();
    let mut buf = vec![0; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    output.sync_all()?;
    Ok((size, hash.finalize().into()))
}

/// The content type and user metadata the old store kept for the object stored as `stored_as`.
fn old_metadata(
    bucket_dir: &Path,
    stored_as: &str,
) -> (Option<String>, std::collections::BTreeMap<String, String>) {
    let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let bucket = bucket_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = bucket_dir.with_file_name(format!(
        ".bucket-{}.object-{}.metadata.json",
        encode(&bucket),
        encode(stored_as)
    ));
    let value: serde_json::Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    // The newer format is an object of attributes; the older one only the user metadata.
    let user = value.get("user_metadata").unwrap_or(&value);
    let metadata = user
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.to_lowercase(), v.as_str()?.to_owned())))
        .collect();
    let content_type = value
        .get("content_type")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    (content_type, metadata)
}

/// Remove an imported file (and its key file, for a hashed key).
fn remove_old(bucket_dir: &Path, file: &Path) -> std::io::Result<()> {
    if in_hashed_keys(bucket_dir, file) {
        let _ = std::fs::remove_file(file.with_extension("key"));
    }
    std::fs::remove_file(file)
}

/// Remove the old layout's directories that importing emptied (never the bucket's own).
fn remove_empty_dirs(bucket_dir: &Path, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let own = dir == bucket_dir
            && (entry.file_name() == OBJECTS_DIR || entry.file_name() == UPLOADS_DIR);
        if !own && entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_empty_dirs(bucket_dir, &path);
            let _ = std::fs::remove_dir(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(label: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("imagegen-legacy-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bucket")).unwrap();
        dir
    }

    #[test]
    fn old_objects_become_objects_with_their_bytes_type_and_metadata() {
        let root = temp("import");
        let bucket = root.join("bucket");
        std::fs::create_dir_all(bucket.join("prompts/deep")).unwrap();
        std::fs::write(bucket.join("prompts/a.txt"), "a lighthouse").unwrap();
        std::fs::write(bucket.join("prompts/deep/b.json"), "{}").unwrap();
        std::fs::create_dir_all(bucket.join(HASHED_KEYS_DIR)).unwrap();
        let long = format!("prompts/{}.txt", "x".repeat(300));
        std::fs::write(bucket.join(HASHED_KEYS_DIR).join("abc"), "long one").unwrap();
        std::fs::write(bucket.join(HASHED_KEYS_DIR).join("abc.key"), &long).unwrap();
        let encode = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        std::fs::write(
            root.join(format!(
                ".bucket-{}.object-{}.metadata.json",
                encode("bucket"),
                encode("prompts/a.txt")
            )),
            r#"{"content_type":"text/plain","user_metadata":{"Owner":"ana"}}"#,
        )
        .unwrap();

        assert_eq!(import(&bucket), 3);
        let (_, a) = record::read_record(&bucket, "prompts/a.txt").unwrap();
        assert_eq!(
            (a.size, a.etag.as_str()),
            (12, hex::encode(Md5::digest(b"a lighthouse")).as_str())
        );
        assert_eq!(a.headers.content_type.as_deref(), Some("text/plain"));
        assert_eq!(a.metadata.get("owner").map(String::as_str), Some("ana"));
        let slot = Slot::new(&bucket, "prompts/a.txt");
        assert_eq!(std::fs::read(slot.data(&a.data)).unwrap(), b"a lighthouse");
        assert!(record::read_record(&bucket, "prompts/deep/b.json").is_some());
        assert_eq!(record::read_record(&bucket, &long).unwrap().1.size, 8);
        // The old files and their emptied directories are gone; importing again finds nothing.
        assert!(!bucket.join("prompts").exists() && !bucket.join(HASHED_KEYS_DIR).exists());
        assert_eq!(import(&bucket), 0);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_crash_after_the_record_leaves_the_object_and_the_next_load_removes_the_old_file() {
        let root = temp("crash");
        let bucket = root.join("bucket");
        std::fs::write(bucket.join("a.png"), "png bytes").unwrap();
        assert_eq!(import(&bucket), 1);
        // As if the old file had not been removed yet.
        std::fs::write(bucket.join("a.png"), "png bytes").unwrap();
        assert_eq!(import(&bucket), 0);
        assert!(!bucket.join("a.png").exists());
        assert_eq!(record::read_record(&bucket, "a.png").unwrap().1.size, 9);
        let _ = std::fs::remove_dir_all(&root);
    }
}
