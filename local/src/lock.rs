//! One writer per data directory.
//!
//! A process that writes to a data directory (`imagegen serve`, `run`, `upload`) holds an exclusive
//! lock on `<data-dir>/imagegen.lock` while it works, and writes into the file who it is (command,
//! pid, address), so a second writer is refused with a message naming the first, rather than both
//! writing into the same files. Readers (`imagegen executions`, `history`) take no lock: every file
//! they read is written whole. The operating system releases the lock when its process exits,
//! however it exits; the file itself stays (removing it would let two processes lock two different
//! files of the same name).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::datadir::DataDir;
use crate::error::LocalError;

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "imagegen.lock";

/// Who holds the lock, as written into the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The command, e.g. `imagegen serve`.
    pub command: String,
    pub pid: u32,
    /// Where it listens, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` (pid {}", self.command, self.pid)?;
        if let Some(address) = &self.address {
            write!(f, ", serving {address}")?;
        }
        f.write_str(")")
    }
}

/// The data directory's writer lock, held while this value lives.
#[derive(Debug)]
pub struct WriterLock {
    file: File,
    path: PathBuf,
    holder: Holder,
}

impl WriterLock {
    /// Take the lock for `command`, or fail with [`LocalError::DataDirInUse`] naming its holder.
    pub fn acquire(data: &DataDir, command: &str) -> Result<Self, LocalError> {
        let path = data.root().join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(LocalError::io("opening", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read(&path)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<Holder>(&bytes).ok())
                    .map_or_else(|| "another imagegen process".to_owned(), |h| h.to_string());
                return Err(LocalError::DataDirInUse {
                    path: data.root().to_path_buf(),
                    holder,
                });
            }
            Err(TryLockError::Error(e)) => return Err(LocalError::io("locking", &path)(e)),
        }
        let mut lock = Self {
            file,
            path,
            holder: Holder {
                command: command.to_owned(),
                pid: std::process::id(),
                address: None,
            },
        };
        lock.write_holder()?;
        // A writer's first act: what a crashed writer left half-written goes (issue 21).
        data.remove_drafts()?;
        Ok(lock)
    }

    /// Record the address this process serves (shown to a refused second writer).
    pub fn set_address(&mut self, address: &str) -> Result<(), LocalError> {
        self.holder.address = Some(address.to_owned());
        self.write_holder()
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    fn write_holder(&mut self) -> Result<(), LocalError> {
        let mut text = serde_json::to_vec(&self.holder).unwrap_or_default();
        text.push(b'\n');
        let path = &self.path;
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(&text))
            .map_err(LocalError::io("writing", path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_writer_is_refused_with_the_first_named() {
        let root = std::env::temp_dir().join(format!("imagegen-lock-{}", crate::ids::new_id()));
        let data = DataDir::open(&root).unwrap();
        let mut first = WriterLock::acquire(&data, "imagegen serve").unwrap();
        first.set_address("http://127.0.0.1:4566").unwrap();
        let err = WriterLock::acquire(&data, "imagegen run").unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LocalError::DataDirInUse { .. }), "{text}");
        assert!(text.contains("`imagegen serve`"), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
        assert!(text.contains("http://127.0.0.1:4566"), "{text}");
        drop(first);
        let again = WriterLock::acquire(&data, "imagegen run").unwrap();
        assert_eq!(again.holder().command, "imagegen run");
        drop(again);
        let _ = std::fs::remove_dir_all(&root);
    }

    /// Issue 21: a kill -9 in the middle of a whole-file write leaves its draft; the next writer
    /// removes it, and a writer that is refused touches nothing (the draft may be a live write's).
    #[test]
    fn the_next_writer_removes_the_drafts_a_crashed_writer_left() {
        let root = std::env::temp_dir().join(format!("imagegen-lock-{}", crate::ids::new_id()));
        let data = DataDir::open(&root).unwrap();
        let first = WriterLock::acquire(&data, "imagegen serve").unwrap();
        let mut kept = Vec::new();
        let mut drafts = Vec::new();
        for dir in [
            data.executions_dir(),
            data.outbox_dir(),
            data.notifications_dir(),
            data.sqs_dir(),
        ] {
            std::fs::create_dir_all(&dir).unwrap();
            let record = dir.join("r1.json");
            std::fs::write(&record, b"{}").unwrap();
            kept.push(record);
            let draft = dir.join(format!(".r2.json.draft-{}", crate::ids::new_id()));
            std::fs::write(&draft, b"{\"half").unwrap();
            drafts.push(draft);
        }
        assert!(WriterLock::acquire(&data, "imagegen run").is_err());
        assert!(
            drafts.iter().all(|d| d.exists()),
            "a refused writer removes nothing"
        );
        drop(first);
        let _next = WriterLock::acquire(&data, "imagegen run").unwrap();
        let left: Vec<_> = drafts.iter().filter(|d| d.exists()).collect();
        assert!(left.is_empty(), "drafts left: {left:?}");
        assert!(kept.iter().all(|r| r.exists()), "records are kept");
        let _ = std::fs::remove_dir_all(&root);
    }
}
