//! Executions on disk: `<data-dir>/executions/<name>.json`, one file per execution, so that
//! `imagegen executions` and `imagegen history` see the runs of earlier commands.
//!
//! A name becomes a path only once Step Functions' name rules hold for it (no `/`, no `..`, no
//! control characters: see [`super::names::name_problem`]). Files appear whole: a new record is
//! written aside and linked into place, a changed one written aside and renamed over the old, so a
//! reader in another process never sees half a record.

use std::path::{Path, PathBuf};

use imagegen_core::display::escape_controls;

use super::names;
use super::record::ExecutionRecord;
use crate::error::LocalError;
use crate::files;

/// A file in the executions directory that could not be read as an execution record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub path: PathBuf,
    /// Why, in words.
    pub reason: String,
}

/// What the executions directory holds: the records, newest first, and the files that are not
/// records (one bad file never hides the others).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub records: Vec<ExecutionRecord>,
    pub unreadable: Vec<Unreadable>,
}

/// The directory of execution files.
#[derive(Debug, Clone)]
pub struct ExecutionStore {
    dir: PathBuf,
}

impl ExecutionStore {
    /// A store over `dir` (created if missing).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, LocalError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(LocalError::io("creating", &dir))?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of an execution; an error for a name Step Functions would refuse.
    pub fn path_of(&self, name: &str) -> Result<PathBuf, LocalError> {
        if let Some(reason) = names::name_problem(name) {
            return Err(LocalError::InvalidExecutionName {
                name: escape_controls(name).into_owned(),
                reason,
            });
        }
        Ok(self.dir.join(format!("{name}.json")))
    }

    /// Claim `record.name` and write it; `Ok(false)` if an execution of that name exists already.
    pub fn create(&self, record: &ExecutionRecord) -> Result<bool, LocalError> {
        let path = self.path_of(&record.name)?;
        files::create_new(&path, &to_json(record, &path)?)
    }

    /// Replace an execution's file (whole: readers see the old record or the new one).
    pub fn save(&self, record: &ExecutionRecord) -> Result<(), LocalError> {
        let path = self.path_of(&record.name)?;
        files::replace(&path, &to_json(record, &path)?)
    }

    /// One execution by name (`None` if there is none; an error for a name that cannot be one).
    pub fn load(&self, name: &str) -> Result<Option<ExecutionRecord>, LocalError> {
        let path = self.path_of(name)?;
        match std::fs::read(&path) {
            Ok(bytes) => read_record(&path, name, &bytes)
                .map(Some)
                .map_err(|reason| LocalError::CorruptExecution {
                    path: path.clone(),
                    detail: reason,
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LocalError::io("reading", &path)(e)),
        }
    }

    /// Every execution, newest first, and every `*.json` file that is not one.
    pub fn list(&self) -> Result<Listing, LocalError> {
        let entries = std::fs::read_dir(&self.dir).map_err(LocalError::io("listing", &self.dir))?;
        let mut listing = Listing::default();
        for entry in entries {
            let path = entry.map_err(LocalError::io("listing", &self.dir))?.path();
            let Some(name) = record_name(&path) else {
                continue;
            };
            let read = std::fs::read(&path)
                .map_err(|e| format!("cannot be read ({e})"))
                .and_then(|bytes| read_record(&path, &name, &bytes));
            match read {
                Ok(record) => listing.records.push(record),
                Err(reason) => listing.unreadable.push(Unreadable { path, reason }),
            }
        }
        listing.records.sort_by(|a, b| {
            b.start_date
                .cmp(&a.start_date)
                .then_with(|| a.name.cmp(&b.name))
        });
        listing.unreadable.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(listing)
    }
}

/// The execution name a file in the directory stands for: `<name>.json`, not hidden.
fn record_name(path: &Path) -> Option<String> {
    let file_name = path.file_name()?.to_string_lossy();
    let name = file_name.strip_suffix(".json")?;
    (!name.starts_with('.')).then(|| name.to_owned())
}

fn to_json(record: &ExecutionRecord, path: &Path) -> Result<Vec<u8>, LocalError> {
    let mut bytes =
        serde_json::to_vec_pretty(record).map_err(|e| LocalError::CorruptExecution {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The record in `bytes`, which must be execution `name`'s; otherwise why not, in words.
fn read_record(path: &Path, name: &str, bytes: &[u8]) -> Result<ExecutionRecord, String> {
    let record: ExecutionRecord = serde_json::from_slice(bytes)
        .map_err(|e| format!("it is not an execution record ({e})"))?;
    if record.name != name {
        return Err(format!(
            "it holds execution {}, not {} (a file renamed or copied by hand?)",
            escape_controls(&record.name),
            escape_controls(&path.file_stem().unwrap_or_default().to_string_lossy())
        ));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_execution_names_never_become_paths() {
        let store = ExecutionStore {
            dir: PathBuf::from("/nonexistent/executions"),
        };
        for bad in ["../../../x", "a/b", "", "x\u{1b}[31m", &"n".repeat(81)] {
            let err = store.path_of(bad).unwrap_err();
            assert!(
                matches!(err, LocalError::InvalidExecutionName { .. }),
                "{bad:?}: {err}"
            );
            assert!(store.load(bad).is_err(), "{bad:?}");
            assert!(!err.to_string().contains('\u{1b}'), "{err}");
        }
        assert_eq!(
            store.path_of("run-1").unwrap(),
            PathBuf::from("/nonexistent/executions/run-1.json")
        );
    }
}
