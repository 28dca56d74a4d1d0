//! The ends journal: `<executions>/.ends.journal`, space set aside before any execution starts so
//! that every end is recorded, also on a full disk.
//!
//! Saving an end rewrites the execution's record (a new file, renamed over the old), which needs
//! free space. The journal is a file of [`JOURNAL_BYTES`] zeros written when the process takes
//! its first execution (no execution starts without it); an end is first written *into* it, over
//! those zeros, which needs no new space, and only then saved to the record. An end that could not
//! be saved, or whose status change (the failure email) could not be delivered, is still in the
//! journal: the process retries, and the next process to open the data directory finishes the job
//! ([`super::SfnService::recover`]): the record then gets its true end (`FAILED` with its error),
//! not `ABORTED`. Readers in other processes take a journalled end over a `RUNNING` record.
//!
//! Entries are JSON lines: `{"end": <record>}` when an execution ends, `{"done": "<name>"}` once
//! that end is saved and delivered. A crash mid-write leaves a line that does not parse, which is
//! skipped. When the space runs out, the ends still open are written again from the start and the
//! rest is zeroed (all in place). Only the process holding the data directory's writer lock writes
//! it.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::record::ExecutionRecord;
use crate::error::LocalError;

/// The journal's file name inside the executions directory (hidden, and no `*.json`: never taken
/// for a record).
pub const JOURNAL_FILE: &str = ".ends.journal";

/// The space set aside for ends: room for dozens of whole records with their histories, and for
/// thousands of ends without (slimmed: no history, input or output).
pub const JOURNAL_BYTES: u64 = 1024 * 1024;

/// An entry bigger than this is written without its history and output (the pipeline's failed
/// runs take 10 to 30 KiB with theirs).
const MAX_WHOLE_ENTRY: usize = 64 * 1024;

/// Causes longer than this are cut in a slimmed entry (Step Functions allows 32,768 characters).
const SLIM_CAUSE_CHARS: usize = 2048;

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
enum Entry {
    End(Box<ExecutionRecord>),
    Done(String),
}

/// The journal, open for writing.
#[derive(Debug)]
pub struct EndJournal {
    path: PathBuf,
    capacity: u64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    file: File,
    /// Where the next entry goes: after the last byte that is not zero.
    offset: u64,
    /// The ends written and not yet done, by execution name.
    open: HashMap<String, ExecutionRecord>,
}

impl EndJournal {
    /// Open the journal of `executions_dir`, setting its `capacity` bytes aside first if they are
    /// not yet (an error, the disk full say, leaves no journal and no partial one).
    pub fn open(executions_dir: &Path, capacity: u64) -> Result<Self, LocalError> {
        let path = executions_dir.join(JOURNAL_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(LocalError::io("opening", &path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(LocalError::io("reading", &path))?;
        let had = bytes.len() as u64;
        if had < capacity {
            // Zeros written, not a sparse length: the blocks must be taken now, while there is room.
            let zeros = vec![0u8; (capacity - had) as usize];
            let written = file
                .seek(SeekFrom::Start(had))
                .and_then(|_| file.write_all(&zeros))
                .and_then(|()| file.sync_data());
            if let Err(e) = written {
                let _ = file.set_len(had);
                if had == 0 {
                    drop(file);
                    let _ = std::fs::remove_file(&path);
                }
                return Err(LocalError::io(
                    "setting aside space for executions' ends in",
                    &path,
                )(e));
            }
        }
        let offset = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1) as u64;
        let open = open_ends(&bytes);
        Ok(Self {
            path,
            capacity: capacity.max(had),
            state: Mutex::new(State { file, offset, open }),
        })
    }

    /// Write `record`'s end (whole, or slimmed when it is large or the space is short).
    pub fn end(&self, record: &ExecutionRecord) -> Result<(), LocalError> {
        let mut state = self.lock();
        let whole = line(&Entry::End(Box::new(record.clone())));
        let entry = if whole.len() <= MAX_WHOLE_ENTRY && self.fits(&mut state, whole.len())? {
            whole
        } else {
            let slimmed = line(&Entry::End(Box::new(slim(record))));
            if !self.fits(&mut state, slimmed.len())? {
                return Err(self.full());
            }
            slimmed
        };
        self.write(&mut state, &entry)?;
        state.open.insert(record.name.clone(), record.clone());
        Ok(())
    }

    /// Mark `name`'s end saved and delivered: it needs nothing more.
    pub fn done(&self, name: &str) -> Result<(), LocalError> {
        let mut state = self.lock();
        if !state.open.contains_key(name) {
            return Ok(());
        }
        let entry = line(&Entry::Done(name.to_owned()));
        if !self.fits(&mut state, entry.len())? {
            return Err(self.full());
        }
        self.write(&mut state, &entry)?;
        state.open.remove(name);
        Ok(())
    }

    /// The ends written and not yet done, by execution name.
    pub fn open_ends(&self) -> HashMap<String, ExecutionRecord> {
        self.lock().open.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn full(&self) -> LocalError {
        LocalError::io("writing to", &self.path)(std::io::Error::from(
            std::io::ErrorKind::StorageFull,
        ))
    }

    /// Whether `len` more bytes fit, after compacting if they do not yet.
    fn fits(&self, state: &mut State, len: usize) -> Result<bool, LocalError> {
        if state.offset + len as u64 <= self.capacity {
            return Ok(true);
        }
        self.compact(state)?;
        Ok(state.offset + len as u64 <= self.capacity)
    }

    /// Write the open ends from the start and zero the rest, in place. A crash half-way leaves
    /// older entries after the new ones; reading them again changes nothing (an end is delivered
    /// at most once more, and its email is sent once).
    fn compact(&self, state: &mut State) -> Result<(), LocalError> {
        let mut bytes: Vec<u8> = Vec::new();
        for record in state.open.values() {
            let whole = line(&Entry::End(Box::new(record.clone())));
            if whole.len() <= MAX_WHOLE_ENTRY {
                bytes.extend_from_slice(&whole);
            } else {
                bytes.extend_from_slice(&line(&Entry::End(Box::new(slim(record)))));
            }
        }
        let used = bytes.len() as u64;
        if used > self.capacity {
            return Err(self.full());
        }
        bytes.resize(state.offset.max(used) as usize, 0);
        state
            .file
            .seek(SeekFrom::Start(0))
            .and_then(|_| state.file.write_all(&bytes))
            .map_err(LocalError::io("compacting", &self.path))?;
        state.offset = used;
        Ok(())
    }

    fn write(&self, state: &mut State, entry: &[u8]) -> Result<(), LocalError> {
        let at = state.offset;
        let written = state
            .file
            .seek(SeekFrom::Start(at))
            .and_then(|_| state.file.write_all(entry));
        // Even a failed write may have put some bytes down: the next entry starts after them, on
        // a line of its own, so a torn one never merges with it.
        state.offset = at + entry.len() as u64;
        written.map_err(LocalError::io("writing to", &self.path))
    }
}

/// The open ends of the journal in `executions_dir`, for a process that does not write it (none
/// when there is no journal).
pub fn read_open_ends(executions_dir: &Path) -> HashMap<String, ExecutionRecord> {
    match std::fs::read(executions_dir.join(JOURNAL_FILE)) {
        Ok(bytes) => open_ends(&bytes),
        Err(_) => HashMap::new(),
    }
}

/// An entry as written: on a line of its own (a newline before and after).
fn line(entry: &Entry) -> Vec<u8> {
    let mut bytes = vec![b'\n'];
    // An execution record always serialises.
    bytes.extend(serde_json::to_vec(entry).unwrap_or_default());
    bytes.push(b'\n');
    bytes
}

/// The ends in `bytes` not followed by their `done`. Lines that do not parse (cut short by a
/// crash, or zeros) are skipped.
fn open_ends(bytes: &[u8]) -> HashMap<String, ExecutionRecord> {
    let mut open = HashMap::new();
    for raw in bytes.split(|&b| b == b'\n') {
        let text = raw.trim_ascii();
        let text = match text.iter().position(|&b| b != 0) {
            Some(start) => &text[start..],
            None => continue,
        };
        match serde_json::from_slice::<Entry>(text) {
            Ok(Entry::End(record)) => {
                open.insert(record.name.clone(), *record);
            }
            Ok(Entry::Done(name)) => {
                open.remove(&name);
            }
            Err(_) => {}
        }
    }
    open
}

/// The end of `record` without what can be large: its status, error, stop date and a cause cut
/// to [`SLIM_CAUSE_CHARS`].
fn slim(record: &ExecutionRecord) -> ExecutionRecord {
    let mut slim = record.clone();
    slim.history = Vec::new();
    slim.output = None;
    slim.input = String::new();
    slim.cause = record
        .cause
        .as_ref()
        .map(|c| c.chars().take(SLIM_CAUSE_CHARS).collect());
    slim
}

/// `stored` with the end `end` the journal holds: status, error, cause, stop date and output from
/// the end; the history from the end unless it was slimmed away; the input from the record.
pub fn with_end(stored: ExecutionRecord, end: &ExecutionRecord) -> ExecutionRecord {
    let mut record = stored;
    record.status = end.status;
    record.error.clone_from(&end.error);
    record.cause.clone_from(&end.cause);
    record.stop_date.clone_from(&end.stop_date);
    if end.output.is_some() {
        record.output.clone_from(&end.output);
    }
    if end.history.len() > record.history.len() {
        record.history.clone_from(&end.history);
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_id;
    use crate::sfn::names;
    use crate::sfn::record::Status;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("imagegen-journal-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn failed(name: &str, cause_len: usize) -> ExecutionRecord {
        ExecutionRecord {
            name: name.to_owned(),
            execution_arn: names::execution_arn("us-east-1", "pipe", name),
            state_machine_arn: names::state_machine_arn("us-east-1", "pipe"),
            status: Status::Failed,
            input: "{}".to_owned(),
            output: None,
            error: Some("StorageError".to_owned()),
            cause: Some("x".repeat(cause_len)),
            start_date: "2024-01-01T00:00:00.000Z".to_owned(),
            stop_date: Some("2024-01-01T00:00:01.000Z".to_owned()),
            history: Vec::new(),
            owner: None,
        }
    }

    #[test]
    fn the_space_is_taken_at_open_and_ends_survive_a_reopen() {
        let dir = scratch();
        let journal = EndJournal::open(&dir, 64 * 1024).unwrap();
        let path = dir.join(JOURNAL_FILE);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 * 1024);
        journal.end(&failed("a", 10)).unwrap();
        journal.end(&failed("b", 10)).unwrap();
        journal.done("a").unwrap();
        // Writing ends does not grow the file: no new space is needed.
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 64 * 1024);
        drop(journal);
        let reopened = EndJournal::open(&dir, 64 * 1024).unwrap();
        let open = reopened.open_ends();
        assert_eq!(open.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(open["b"].error.as_deref(), Some("StorageError"));
        assert_eq!(read_open_ends(&dir), open);
        // Entries after the reopen go after the old ones.
        reopened.end(&failed("c", 10)).unwrap();
        assert_eq!(read_open_ends(&dir).len(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_torn_entry_is_skipped_and_the_next_one_kept() {
        let dir = scratch();
        let journal = EndJournal::open(&dir, 8192).unwrap();
        journal.end(&failed("a", 10)).unwrap();
        drop(journal);
        // A crash mid-write: half an entry, then the zeros it did not reach.
        let path = dir.join(JOURNAL_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        let end = bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
        let torn = line(&Entry::End(Box::new(failed("torn", 10))));
        bytes[end..end + torn.len() / 2].copy_from_slice(&torn[..torn.len() / 2]);
        std::fs::write(&path, &bytes).unwrap();
        let journal = EndJournal::open(&dir, 8192).unwrap();
        journal.end(&failed("b", 10)).unwrap();
        let mut open: Vec<String> = read_open_ends(&dir).into_keys().collect();
        open.sort();
        assert_eq!(open, ["a", "b"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn when_space_runs_out_the_open_ends_are_kept_and_large_ones_slimmed() {
        let dir = scratch();
        let journal = EndJournal::open(&dir, 4096).unwrap();
        // Many ends, each done: compaction makes room again and again.
        for i in 0..100 {
            let name = format!("run-{i}");
            journal.end(&failed(&name, 10)).unwrap();
            journal.done(&name).unwrap();
        }
        journal.end(&failed("kept", 10)).unwrap();
        for i in 0..100 {
            let name = format!("more-{i}");
            journal.end(&failed(&name, 10)).unwrap();
            journal.done(&name).unwrap();
        }
        // A cause too long for a whole entry is cut, the error kept.
        journal.end(&failed("long", 30_000)).unwrap();
        let open = read_open_ends(&dir);
        assert_eq!(open.len(), 2, "{:?}", open.keys());
        assert_eq!(open["kept"].cause.as_deref(), Some("xxxxxxxxxx"));
        assert_eq!(open["long"].error.as_deref(), Some("StorageError"));
        assert_eq!(open["long"].cause.as_ref().unwrap().len(), SLIM_CAUSE_CHARS);
        assert_eq!(
            std::fs::metadata(dir.join(JOURNAL_FILE)).unwrap().len(),
            4096
        );
        // Open ends that fill the journal: the next one is refused, never written over them.
        let err = loop {
            match journal.end(&failed(&new_id(), 200)) {
                Ok(()) => {}
                Err(e) => break e,
            }
        };
        assert!(err.to_string().contains(JOURNAL_FILE), "{err}");
        assert!(read_open_ends(&dir).contains_key("kept"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_journalled_end_replaces_a_running_record() {
        let mut running = failed("a", 0);
        running.status = Status::Running;
        running.error = None;
        running.cause = None;
        running.stop_date = None;
        running.input = r#"{"prompt":"p"}"#.to_owned();
        let end = slim(&failed("a", 10));
        let settled = with_end(running, &end);
        assert_eq!(settled.status, Status::Failed);
        assert_eq!(settled.error.as_deref(), Some("StorageError"));
        assert_eq!(settled.input, r#"{"prompt":"p"}"#);
        assert!(settled.stop_date.is_some());
    }
}
