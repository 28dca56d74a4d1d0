//! Executions on disk: `<data-dir>/executions/`, one file per execution, so that
//! `imagegen executions` and `imagegen history` see the runs of earlier commands.
//!
//! A name becomes a path only once Step Functions' name rules hold for it (no `/`, no `..`, no
//! control characters: see [`super::names::name_problem`]). Files appear whole: a new record is
//! written aside and linked into place, a changed one written aside and renamed over the old, so a
//! reader in another process never sees half a record.
//!
//! Which file holds which execution is one rule, `file_name_of`'s: `<name>.json` when that fits
//! the file system, else a name made from a hash of the execution name. Step Functions takes 80
//! characters of any script, up to 320 bytes, and a file name (with its draft's additions) stops at
//! 255 bytes. A record holds its own name, so a listing reads the name from the file and checks
//! that the name leads back to that file.

use std::path::{Path, PathBuf};

use imagegen_core::display::escape_controls;
use sha2::{Digest, Sha256};

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

    /// The file of an execution (`<name>.json`, or `%hashed-<hex>.json` for a name too long to be a
    /// file name); an error for a name Step Functions would refuse.
    pub fn path_of(&self, name: &str) -> Result<PathBuf, LocalError> {
        if let Some(reason) = names::name_problem(name) {
            return Err(LocalError::InvalidExecutionName {
                name: escape_controls(name).into_owned(),
                reason,
            });
        }
        Ok(self.dir.join(file_name_of(name)))
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
            Ok(bytes) => read_record(&path, &bytes).map(Some).map_err(|reason| {
                LocalError::CorruptExecution {
                    path: path.clone(),
                    detail: reason,
                }
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
            if !is_record_file(&path) {
                continue;
            }
            let read = std::fs::read(&path)
                .map_err(|e| format!("cannot be read ({e})"))
                .and_then(|bytes| read_record(&path, &bytes));
            match read {
                Ok(record) => listing.records.push(record),
                Err(reason) => listing.unreadable.push(Unreadable { path, reason }),
            }
        }
        newest_first(&mut listing.records);
        listing.unreadable.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(listing)
    }
}

/// The order listings give: newest start first, then by name.
pub(super) fn newest_first(records: &mut [ExecutionRecord]) {
    records.sort_by(|a, b| {
        b.start_date
            .cmp(&a.start_date)
            .then_with(|| a.name.cmp(&b.name))
    });
}

const RECORD_SUFFIX: &str = ".json";

/// The start of the file names made from a hash. No execution name holds `%`, so no name kept as
/// itself starts so.
const HASHED_PREFIX: &str = "%hashed-";

/// The file execution `name` is kept in, inside the executions directory: `<name>.json` when that
/// name and its draft (see [`files`]) fit the file system's limit, which holds for every name of
/// up to 206 bytes and so for every file earlier versions wrote; otherwise `%hashed-<hex>.json`
/// (128 bits of SHA-256 of the name, as S3 keys that do not fit are kept).
///
/// A name starting with `.` is kept as itself too: its file is hidden from `ls`, but it is no
/// draft or lock (a draft never ends in `.json`, locks live in `.owners/`), so listings take it.
fn file_name_of(name: &str) -> String {
    let own = format!("{name}{RECORD_SUFFIX}");
    if files::draft_name_len(own.len()) <= files::NAME_MAX {
        own
    } else {
        let digest = Sha256::digest(name.as_bytes());
        format!(
            "{HASHED_PREFIX}{}{RECORD_SUFFIX}",
            hex::encode(&digest[..16])
        )
    }
}

/// Whether a directory entry is an execution's file by its name: `*.json`, hidden or not. Drafts
/// end in their id, not `.json`, so they are never taken for records.
fn is_record_file(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with(RECORD_SUFFIX))
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

/// The record in `bytes`, which must be the execution `path` is the file of (see [`file_name_of`]);
/// otherwise why not, in words.
fn read_record(path: &Path, bytes: &[u8]) -> Result<ExecutionRecord, String> {
    let record: ExecutionRecord = serde_json::from_slice(bytes)
        .map_err(|e| format!("it is not an execution record ({e})"))?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy();
    if file_name_of(&record.name) != file_name {
        let held = escape_controls(&record.name);
        let stem = file_name.strip_suffix(RECORD_SUFFIX).unwrap_or(&file_name);
        return Err(if stem.starts_with(HASHED_PREFIX) {
            format!(
                "it holds execution {held}, whose name does not hash to this file's (a file renamed or copied by hand?)"
            )
        } else {
            format!(
                "it holds execution {held}, not {} (a file renamed or copied by hand?)",
                escape_controls(stem)
            )
        });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::new_id;
    use crate::sfn::record::Status;
    use crate::sfn::{SfnService, names};

    fn scratch() -> PathBuf {
        std::env::temp_dir().join(format!("imagegen-store-{}", new_id()))
    }

    /// A `RUNNING` record whose process is gone (its owner holds no lock), as a crash leaves it.
    fn crashed(name: &str) -> ExecutionRecord {
        ExecutionRecord {
            name: name.to_owned(),
            execution_arn: names::execution_arn("us-east-1", "pipe", name),
            state_machine_arn: names::state_machine_arn("us-east-1", "pipe"),
            status: Status::Running,
            input: "{}".to_owned(),
            output: None,
            error: None,
            cause: None,
            start_date: "2024-01-01T00:00:00.000Z".to_owned(),
            stop_date: None,
            history: Vec::new(),
            owner: Some(new_id()),
        }
    }

    /// Write `name`'s record, reopen the directory as a restarted process would, and check it is
    /// found, listed, and settled as `ABORTED` by crash recovery (saved so, listed so).
    async fn kept_listed_and_recovered(name: &str) {
        let dir = scratch();
        let store = ExecutionStore::open(&dir).unwrap();
        assert!(store.create(&crashed(name)).unwrap());
        assert!(!store.create(&crashed(name)).unwrap(), "claimed twice");

        let store = ExecutionStore::open(&dir).unwrap();
        assert_eq!(store.load(name).unwrap().unwrap().name, name);
        let listing = store.list().unwrap();
        assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
        let listed: Vec<&str> = listing.records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(listed, [name]);

        let sfn = SfnService::new("us-east-1", store.clone());
        let recovered = sfn.recover().await.unwrap();
        assert_eq!(recovered.len(), 1, "{name:?} was not recovered");
        assert_eq!(store.load(name).unwrap().unwrap().status, Status::Aborted);
        assert_eq!(store.list().unwrap().records[0].status, Status::Aborted);
        // Nothing but the record itself (and the owners' directory, the ends journal and the
        // reserve) is left.
        let files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| {
                ![
                    super::super::owner::OWNERS_DIR,
                    super::super::journal::JOURNAL_FILE,
                    super::super::reserve::RESERVE_FILE,
                ]
                .contains(&n.to_str().unwrap_or_default())
            })
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Issue 21 item 3: a name starting with `.` ran but was never listed, nor recovered.
    #[tokio::test]
    async fn names_starting_with_a_dot_are_listed_and_recovered() {
        kept_listed_and_recovered(".crashme").await;
        kept_listed_and_recovered(".").await;
        kept_listed_and_recovered("..").await;
    }

    /// Issue 21 item 4: 80 characters of a multi-byte script made a draft name over 255 bytes.
    #[tokio::test]
    async fn names_of_80_multibyte_characters_are_kept_listed_and_recovered() {
        for name in [
            "画".repeat(80),
            "😀".repeat(80),
            "ж".repeat(80),
            "画".repeat(69),
        ] {
            assert_eq!(names::name_problem(&name), None);
            kept_listed_and_recovered(&name).await;
        }
    }

    #[test]
    fn short_names_keep_their_file_and_long_ones_are_hashed() {
        // Every name earlier versions could store keeps its file.
        let plain = [
            "run-1",
            "café",
            ".crashme",
            &"a".repeat(80),
            &"ж".repeat(80),
            &"画".repeat(68),
        ];
        for name in plain {
            assert_eq!(file_name_of(name), format!("{name}.json"), "{name}");
        }
        for name in ["画".repeat(69), "画".repeat(80), "😀".repeat(80)] {
            let file = file_name_of(&name);
            assert!(
                file.starts_with(HASHED_PREFIX) && file.len() == 45,
                "{file}"
            );
            assert!(files::draft_name_len(file.len()) <= files::NAME_MAX);
        }
        assert_ne!(file_name_of(&"ж".repeat(80)), file_name_of(&"ж".repeat(79)));
    }

    #[test]
    fn drafts_and_owner_locks_are_not_taken_for_records() {
        let dir = scratch();
        let store = ExecutionStore::open(&dir).unwrap();
        store.create(&crashed(".crashme")).unwrap();
        let file = file_name_of(".crashme");
        let hashed = file_name_of(&"画".repeat(80));
        // What a crash mid-write leaves, and the owners' directory with a lock in it.
        for draft in [&file, &hashed] {
            std::fs::write(dir.join(format!(".{draft}.draft-{}", new_id())), b"{").unwrap();
        }
        let owners = dir.join(super::super::owner::OWNERS_DIR);
        std::fs::create_dir_all(&owners).unwrap();
        std::fs::write(owners.join(format!("{}.lock", new_id())), b"").unwrap();
        let listing = store.list().unwrap();
        assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
        assert_eq!(listing.records.len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_must_hold_the_execution_it_is_named_for() {
        let dir = scratch();
        let store = ExecutionStore::open(&dir).unwrap();
        let long = "ж".repeat(80);
        store.create(&crashed(&long)).unwrap();
        let bytes = std::fs::read(store.path_of(&long).unwrap()).unwrap();
        // A hashed file copied under another hashed name, and under a plain one.
        let other = store.path_of(&"ж".repeat(79)).unwrap();
        std::fs::write(&other, &bytes).unwrap();
        std::fs::write(dir.join("copy.json"), &bytes).unwrap();
        let listing = store.list().unwrap();
        assert_eq!(listing.records.len(), 1);
        let reasons: Vec<&str> = listing
            .unreadable
            .iter()
            .map(|u| u.reason.as_str())
            .collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(
            reasons
                .iter()
                .all(|r| r.contains("a file renamed or copied by hand")),
            "{reasons:?}"
        );
        assert!(store.load(&"ж".repeat(79)).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

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
