//! Whole-file writes for the data directory: a reader (this process or another) sees the old file
//! or the new one, never half of either.
//!
//! Both writes go through a draft beside the target, a hidden name that listings skip: `replace`
//! renames it over the target, `create_new` hard-links it to a name nobody holds yet.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::LocalError;
use crate::ids::{ID_LEN, new_id};

/// Put `bytes` at `path`, replacing what was there in one step (write aside, then rename).
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<(), LocalError> {
    let draft = write_draft(path, bytes, |file, bytes| file.write_all(bytes))?;
    std::fs::rename(&draft, path).map_err(|e| {
        let _ = std::fs::remove_file(&draft);
        LocalError::io("replacing", path)(e)
    })
}

/// Put `bytes` at `path` unless something is there already: `Ok(false)` then, and nothing changes.
/// The link appears with the whole file, so a rival writer either wins or sees this one's.
pub(crate) fn create_new(path: &Path, bytes: &[u8]) -> Result<bool, LocalError> {
    let draft = write_draft(path, bytes, |file, bytes| file.write_all(bytes))?;
    let linked = std::fs::hard_link(&draft, path);
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(LocalError::io("creating", path)(e)),
    }
}

/// [`create_new`] that survives a power cut once it returns: the draft's bytes reach the disk before
/// it is linked, and the directory entry after. For what the twin has acknowledged to a client
/// (an S3 notification recorded before the upload is answered).
pub(crate) fn create_new_synced(path: &Path, bytes: &[u8]) -> Result<bool, LocalError> {
    let draft = write_draft(path, bytes, |file, bytes| {
        file.write_all(bytes)?;
        file.sync_all()
    })?;
    let linked = std::fs::hard_link(&draft, path);
    let _ = std::fs::remove_file(&draft);
    match linked {
        Ok(()) => {
            sync_parent(path)?;
            Ok(true)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(LocalError::io("creating", path)(e)),
    }
}

/// Remove `path` for good (the directory entry's removal reaches the disk before this returns);
/// a file already gone is fine.
pub(crate) fn remove_synced(path: &Path) -> Result<(), LocalError> {
    match std::fs::remove_file(path) {
        Ok(()) => sync_parent(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(LocalError::io("removing", path)(e)),
    }
}

/// Flush the directory holding `path`, so an entry made or removed in it outlives a power cut.
pub(crate) fn sync_parent(path: &Path) -> Result<(), LocalError> {
    let Some(dir) = path.parent() else {
        return Ok(());
    };
    // Directories are opened read-only to be synced; on systems that cannot sync one (not Unix)
    // the entry is as durable as the file system makes it.
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(LocalError::io("syncing", dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Whether the directory entry `entry` is a draft of a file named `file_name`.
pub(crate) fn is_draft_of(entry: &str, file_name: &str) -> bool {
    entry
        .strip_prefix('.')
        .and_then(|rest| rest.strip_prefix(file_name))
        .is_some_and(|rest| rest.starts_with(DRAFT_INFIX))
}

/// A new draft of `path` holding `bytes`, written by `write`. A write that fails (a full disk, say)
/// has left part of a file behind: it is removed, so failures never pile up drafts.
fn write_draft(
    path: &Path,
    bytes: &[u8],
    write: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
) -> Result<PathBuf, LocalError> {
    let draft = draft_of(path);
    let mut file = File::create(&draft).map_err(LocalError::io("writing", &draft))?;
    if let Err(e) = write(&mut file, bytes) {
        drop(file);
        let _ = std::fs::remove_file(&draft);
        return Err(LocalError::io("writing", &draft)(e));
    }
    Ok(draft)
}

const DRAFT_INFIX: &str = ".draft-";

/// The file system's limit on one name, in bytes.
pub(crate) const NAME_MAX: usize = 255;

/// The length in bytes of the drafts of a file whose name is `file_name_len` bytes long: a file
/// name that fits must leave room for them.
pub(crate) fn draft_name_len(file_name_len: usize) -> usize {
    ".".len() + file_name_len + DRAFT_INFIX.len() + ID_LEN
}

/// Whether the directory entry `entry` is a draft of any file.
pub(crate) fn is_draft(entry: &str) -> bool {
    entry.starts_with('.') && entry.contains(DRAFT_INFIX)
}

/// Remove the drafts in `dir` (none if it is not there): what a crashed writer left, never linked
/// or renamed into place, so nothing it belongs to was acknowledged. Only for the directory's
/// one writer while none of its own writes is under way: a draft may be a live write's.
pub(crate) fn remove_drafts(dir: &Path) -> Result<(), LocalError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(LocalError::io("listing", dir)(e)),
    };
    for entry in entries {
        let name = entry.map_err(LocalError::io("listing", dir))?.file_name();
        if is_draft(&name.to_string_lossy()) {
            let _ = std::fs::remove_file(dir.join(name));
        }
    }
    Ok(())
}

/// A unique hidden name beside `path`: `.<file name>.draft-<id>`.
fn draft_of(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}{DRAFT_INFIX}{}", new_id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("imagegen-files-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn create_new_refuses_a_taken_name_and_replace_overwrites() {
        let dir = scratch();
        let path = dir.join("a.json");
        assert!(create_new(&path, b"one").unwrap());
        assert!(!create_new(&path, b"two").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        replace(&path, b"three").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"three");
        // No drafts are left behind.
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_draft_write_leaves_no_draft() {
        let dir = scratch();
        let path = dir.join("a.json");
        // Half the bytes land, then the disk is full: what a real failed write leaves.
        let err = write_draft(&path, b"0123456789", |file, bytes| {
            file.write_all(&bytes[..5])?;
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        })
        .unwrap_err();
        assert!(matches!(err, LocalError::Io { .. }), "{err}");
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn drafts_are_hidden_and_named_after_their_file() {
        let draft = draft_of(Path::new("/d/imagegen-data.json"));
        let name = draft.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with('.'), "{name}");
        assert!(is_draft_of(name, "imagegen-data.json"), "{name}");
        assert!(!is_draft_of(name, "imagegen-data"), "{name}");
        assert!(!is_draft_of("imagegen-data.json", "imagegen-data.json"));
        assert_eq!(name.len(), draft_name_len("imagegen-data.json".len()));
    }
}
