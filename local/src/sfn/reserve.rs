//! Room kept free for the last writes of an execution: `<executions>/.reserve`, a file of zeros
//! removed when saving an end or delivering its status change (the failure email: a claim in the
//! bucket, an `.eml`, a line of the outbox log) fails, so that the retry right after finds room
//! on a full disk. It is made again once nothing is waiting and there is room for it.
//!
//! The ends themselves do not depend on it: they are written into space set aside beforehand
//! ([`super::journal`]). The reserve is what lets the record and the email follow at once rather
//! than once the user frees space.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The reserve's file name inside the executions directory (hidden, no `*.json`).
pub const RESERVE_FILE: &str = ".reserve";

/// Its size: a few dozen saved records with their histories and failure emails.
pub const RESERVE_BYTES: usize = 1024 * 1024;

/// The reserve file of one executions directory.
#[derive(Debug, Clone)]
pub struct Reserve {
    path: PathBuf,
    bytes: usize,
}

impl Reserve {
    pub fn new(executions_dir: &Path, bytes: usize) -> Self {
        Self {
            path: executions_dir.join(RESERVE_FILE),
            bytes,
        }
    }

    /// Whether the space is set aside now.
    pub fn held(&self) -> bool {
        std::fs::metadata(&self.path).is_ok_and(|m| m.len() == self.bytes as u64)
    }

    /// Set the space aside unless it is already; false when there is no room for it (nothing is
    /// left behind then).
    pub fn make(&self) -> bool {
        if self.held() {
            return true;
        }
        let made = File::create(&self.path).and_then(|mut file| {
            file.write_all(&vec![0u8; self.bytes])?;
            file.sync_data()
        });
        if made.is_err() {
            let _ = std::fs::remove_file(&self.path);
        }
        made.is_ok()
    }

    /// Give the space back to the file system; true when it was held.
    pub fn release(&self) -> bool {
        let held = self.held();
        let _ = std::fs::remove_file(&self.path);
        if held {
            tracing::warn!(path = %self.path.display(), "the disk is full: the space kept free for executions' ends and emails is used now");
        }
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_id;

    #[test]
    fn made_released_and_made_again() {
        let dir = std::env::temp_dir().join(format!("imagegen-reserve-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let reserve = Reserve::new(&dir, 4096);
        assert!(!reserve.held());
        assert!(reserve.make());
        assert!(reserve.held());
        assert!(reserve.release());
        assert!(!reserve.release(), "released twice");
        assert!(!dir.join(RESERVE_FILE).exists());
        assert!(reserve.make());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_room_leaves_nothing_behind() {
        // A directory that does not exist stands for one that cannot take the file.
        let reserve = Reserve::new(Path::new("/nonexistent/imagegen/executions"), 4096);
        assert!(!reserve.make());
        assert!(!reserve.held());
    }
}
