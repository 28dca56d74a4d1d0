//! The on-disk layout of a local data directory and its marker file.
//!
//! ```text
//! <data-dir>/imagegen-data.json   marker: {"format": "imagegen-local", "version": 1}
//! <data-dir>/s3/<bucket>/        a bucket: objects/ (records and data), uploads/ (see crate::s3)
//! <data-dir>/outbox/              published SNS messages (*.eml and messages.jsonl)
//! <data-dir>/executions/          Step Functions executions (<name>.json, or %hashed-<hex>.json)
//! <data-dir>/sqs/                 SQS queues and their messages (<queue>.json)
//! <data-dir>/notifications/       S3 event notifications not yet delivered (<sequencer>-<id>.json)
//! <data-dir>/serve-remote-key.json the secret key of `imagegen serve --allow-remote` (mode 0600)
//! <data-dir>/tls/                 the endpoint's CA: ca.pem, ca-key.pem (mode 0600), made once
//! <data-dir>/logs/                `imagegen rehearse`: each function's processes' output (<name>.log)
//! <data-dir>/code/                `imagegen rehearse`: zip assets unpacked as Lambda unpacks them
//! ```
//!
//! A directory that is neither empty nor marked is refused, so a mistyped path never gets buckets
//! written into someone's home directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::LocalError;

/// Create `root` (and any missing parents, as usual) readable by its owner only: it holds every
/// prompt, image and email, and, for `imagegen serve --allow-remote`, the endpoint's secret key.
fn create_private_dir(root: &Path) -> Result<(), LocalError> {
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(LocalError::io("creating", parent))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(root) {
        Ok(()) => Ok(()),
        // Another process made it first: it is there, as wanted.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && root.is_dir() => Ok(()),
        Err(e) => Err(LocalError::io("creating", root)(e)),
    }
}

/// The marker file's name.
pub const MARKER_FILE: &str = "imagegen-data.json";
/// The format name written in the marker.
pub const FORMAT_NAME: &str = "imagegen-local";
/// The data format version this build reads and writes.
pub const FORMAT_VERSION: u64 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    format: String,
    version: u64,
}

/// An opened, validated data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Open `root`, creating it (and its marker) when it is missing or empty.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, LocalError> {
        let root = root.as_ref().to_path_buf();
        match std::fs::metadata(&root) {
            Ok(meta) if !meta.is_dir() => return Err(LocalError::NotADirectory(root)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_dir(&root)?,
            Err(e) => return Err(LocalError::io("reading", &root)(e)),
        }
        // Race-free with other processes opening the same directory: a creator writes the marker
        // aside and links it into place (all or nothing, and only if none is there), and always
        // before it makes anything else. So a directory found empty gets a marker (this one's or a
        // rival's, either whole), and one found with imagegen's sub-directories in it has one.
        let marker = root.join(MARKER_FILE);
        if is_empty(&root)? {
            create_marker(&marker)?;
        }
        if marker.exists() {
            check_marker(&marker)?;
        } else {
            return Err(LocalError::ForeignDataDir {
                path: root,
                marker: MARKER_FILE,
            });
        }
        let dir = Self { root };
        for sub in [
            dir.s3_root(),
            dir.outbox_dir(),
            dir.executions_dir(),
            dir.sqs_dir(),
            dir.notifications_dir(),
        ] {
            ensure_dir(&sub)?;
        }
        Ok(dir)
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where S3 buckets live (one sub-directory per bucket).
    pub fn s3_root(&self) -> PathBuf {
        self.root.join("s3")
    }

    /// Where published messages are kept.
    pub fn outbox_dir(&self) -> PathBuf {
        self.root.join("outbox")
    }

    /// Where Step Functions executions are kept (one `<name>.json` each, or
    /// `%hashed-<hex>.json` for a name too long to be a file name).
    pub fn executions_dir(&self) -> PathBuf {
        self.root.join("executions")
    }

    /// Where S3 event notifications wait until they are delivered (see [`crate::notifications`]).
    pub fn notifications_dir(&self) -> PathBuf {
        self.root.join("notifications")
    }

    /// Where SQS queues are kept (one `<queue>.json` each).
    pub fn sqs_dir(&self) -> PathBuf {
        self.root.join("sqs")
    }

    /// The key and console token `imagegen serve --allow-remote` uses instead of the published
    /// key, made at its first such start (readable by the owner only).
    pub fn remote_key_file(&self) -> PathBuf {
        self.root.join("serve-remote-key.json")
    }

    /// Where the endpoint's certificate authority is kept (see `crate::server::tls`), made at the
    /// first HTTPS start and reused after, so a client told to trust it keeps trusting it.
    pub fn tls_dir(&self) -> PathBuf {
        self.root.join("tls")
    }

    /// Remove the drafts of whole-file writes ([`crate::files`]) a crashed writer left in the
    /// directories written that way. For the writer that has just taken the data directory's lock
    /// ([`crate::lock::WriterLock`]): the last writer is gone, and none of its own writes is under
    /// way yet. (The marker's drafts are not touched: processes opening the directory write it
    /// before they lock. The S3 store removes its own aside files when it loads a bucket.)
    pub(crate) fn remove_drafts(&self) -> Result<(), LocalError> {
        for dir in [
            self.executions_dir(),
            self.outbox_dir(),
            self.notifications_dir(),
            self.sqs_dir(),
            self.tls_dir(),
        ] {
            crate::files::remove_drafts(&dir)?;
        }
        Ok(())
    }

    /// Where `imagegen rehearse` writes each function's output, one file per function.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// Where `imagegen rehearse` unpacks functions' zip assets (Lambda's `/var/task`).
    pub fn code_dir(&self) -> PathBuf {
        self.root.join("code")
    }
}

/// Whether `dir` holds nothing but marker files still being written (by this or another process).
fn is_empty(dir: &Path) -> Result<bool, LocalError> {
    let entries = std::fs::read_dir(dir).map_err(LocalError::io("listing", dir))?;
    for entry in entries {
        let entry = entry.map_err(LocalError::io("listing", dir))?;
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|n| crate::files::is_draft_of(n, MARKER_FILE))
        {
            return Ok(false);
        }
    }
    Ok(true)
}

fn ensure_dir(dir: &Path) -> Result<(), LocalError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(LocalError::NotADirectory(dir.to_path_buf())),
        Err(_) => std::fs::create_dir_all(dir).map_err(LocalError::io("creating", dir)),
    }
}

fn check_marker(path: &Path) -> Result<(), LocalError> {
    let text = std::fs::read(path).map_err(LocalError::io("reading", path))?;
    let corrupt = |detail: String| LocalError::CorruptMarker {
        path: path.to_path_buf(),
        detail,
    };
    let marker: Marker = serde_json::from_slice(&text)
        .map_err(|e| corrupt(format!("not an imagegen marker ({e})")))?;
    if marker.format != FORMAT_NAME {
        return Err(corrupt(format!(
            "format is {:?}, expected {FORMAT_NAME:?}",
            marker.format
        )));
    }
    if marker.version != FORMAT_VERSION {
        return Err(LocalError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: marker.version,
            supported: FORMAT_VERSION,
        });
    }
    Ok(())
}

/// Create the marker whole; a rival's marker already there is fine (it is checked next).
fn create_marker(marker: &Path) -> Result<(), LocalError> {
    let contents = Marker {
        format: FORMAT_NAME.to_owned(),
        version: FORMAT_VERSION,
    };
    let mut text = serde_json::to_vec_pretty(&contents).map_err(|e| LocalError::CorruptMarker {
        path: marker.to_path_buf(),
        detail: e.to_string(),
    })?;
    text.push(b'\n');
    crate::files::create_new(marker, &text).map(drop)
}
