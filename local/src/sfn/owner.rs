//! Which process runs an execution, and whether that process is still there.
//!
//! A stand-in that starts executions takes an exclusive lock on a file of its own,
//! `<executions>/.owners/<id>.lock`, and holds it while it or any execution it started runs. Each
//! record it writes names that id. Another process that finds a `RUNNING` record asks the
//! operating system whether the lock is still held: held means the execution is alive (it is shown
//! `RUNNING`); free (or the file gone) means its process ended, and the execution can never finish,
//! so `ABORTED` is both true and final. The operating system releases the lock when a process
//! exits, however it exits, so there is no guess and no heartbeat to miss.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};

use crate::error::LocalError;
use crate::ids::new_id;

/// The directory of owner lock files, inside the executions directory.
pub const OWNERS_DIR: &str = ".owners";

/// An exclusive lock held for as long as this value lives.
#[derive(Debug)]
pub struct Owner {
    id: String,
    path: PathBuf,
    // Held for its lock; closing it releases the lock.
    _file: File,
}

impl Owner {
    /// A new owner id with its lock taken, under `executions_dir`.
    pub fn acquire(executions_dir: &Path) -> Result<Self, LocalError> {
        let dir = executions_dir.join(OWNERS_DIR);
        std::fs::create_dir_all(&dir).map_err(LocalError::io("creating", &dir))?;
        let id = new_id();
        let path = lock_path(executions_dir, &id);
        let file = File::create(&path).map_err(LocalError::io("creating", &path))?;
        file.lock().map_err(LocalError::io("locking", &path))?;
        Ok(Self {
            id,
            path,
            _file: file,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // Nobody can need the file once the lock is given up: a record naming it reads as ended.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the owner `id` still holds its lock. An id that is not a plain owner id, a missing file
/// and a free lock all mean the owner is gone.
pub fn is_alive(executions_dir: &Path, id: &str) -> bool {
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return false;
    }
    let Ok(file) = File::open(lock_path(executions_dir, id)) else {
        return false;
    };
    match file.try_lock_shared() {
        Ok(()) => false,
        Err(TryLockError::WouldBlock) => true,
        // The lock cannot be asked about (a file system without locks): say alive rather than
        // declare a live execution dead; it will read as ended once its file is removed.
        Err(TryLockError::Error(_)) => true,
    }
}

fn lock_path(executions_dir: &Path, id: &str) -> PathBuf {
    executions_dir.join(OWNERS_DIR).join(format!("{id}.lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alive_while_held_and_gone_after() {
        let dir = std::env::temp_dir().join(format!("imagegen-owner-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let owner = Owner::acquire(&dir).unwrap();
        let id = owner.id().to_owned();
        assert!(is_alive(&dir, &id));
        drop(owner);
        assert!(!is_alive(&dir, &id));
        assert!(!is_alive(&dir, "../../etc/passwd"));
        assert!(!is_alive(&dir, ""));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
