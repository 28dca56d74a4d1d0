//! Executions on disk: `<data-dir>/executions/<name>.json`, one file per execution, so that
//! `imagegen executions` and `imagegen history` see the runs of earlier commands.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::record::ExecutionRecord;
use crate::error::LocalError;

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

    /// The file of an execution (names never contain `/`; see [`super::names::name_problem`]).
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Claim `record.name` and write it; `Ok(false)` if an execution of that name exists already.
    pub fn create(&self, record: &ExecutionRecord) -> Result<bool, LocalError> {
        let path = self.path_of(&record.name);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path);
        let mut file = match file {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
            Err(e) => return Err(LocalError::io("creating", &path)(e)),
        };
        file.write_all(&to_json(record, &path)?)
            .map_err(LocalError::io("writing", &path))?;
        Ok(true)
    }

    /// Replace an execution's file (atomically: write aside, then rename).
    pub fn save(&self, record: &ExecutionRecord) -> Result<(), LocalError> {
        let path = self.path_of(&record.name);
        let tmp = self.dir.join(format!(".{}.json.tmp", record.name));
        std::fs::write(&tmp, to_json(record, &path)?).map_err(LocalError::io("writing", &tmp))?;
        std::fs::rename(&tmp, &path).map_err(LocalError::io("replacing", &path))
    }

    /// One execution by name.
    pub fn load(&self, name: &str) -> Result<Option<ExecutionRecord>, LocalError> {
        let path = self.path_of(name);
        match std::fs::read(&path) {
            Ok(bytes) => read_record(&path, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(LocalError::io("reading", &path)(e)),
        }
    }

    /// Every execution, newest first.
    pub fn list(&self) -> Result<Vec<ExecutionRecord>, LocalError> {
        let entries = std::fs::read_dir(&self.dir).map_err(LocalError::io("listing", &self.dir))?;
        let mut records = Vec::new();
        for entry in entries {
            let path = entry.map_err(LocalError::io("listing", &self.dir))?.path();
            let is_record = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| !n.starts_with('.'));
            if !is_record {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(LocalError::io("reading", &path))?;
            records.push(read_record(&path, &bytes)?);
        }
        records.sort_by(|a, b| {
            b.start_date
                .cmp(&a.start_date)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(records)
    }
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

fn read_record(path: &Path, bytes: &[u8]) -> Result<ExecutionRecord, LocalError> {
    serde_json::from_slice(bytes).map_err(|e| LocalError::CorruptExecution {
        path: path.to_path_buf(),
        detail: format!("not an execution record ({e})"),
    })
}
