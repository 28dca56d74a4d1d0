//! Ends the data directory had no room for (a full disk), said rather than hidden behind a status.
//!
//! An execution whose end could not be saved to its record, or whose status change (the failure
//! email) could not be delivered, is kept in the journal (`executions/.ends.journal`) and retried;
//! a command that exits with some still pending tells its user which, why, and what happens next,
//! and exits with [`UNRECORDED_EXIT`].

use std::path::Path;

use imagegen_core::display::escape_controls;
use imagegen_local::sfn::PendingEnd;
use imagegen_local::sfn::journal::JOURNAL_FILE;

/// The exit status of a command that leaves an execution's end or email unwritten: the end is
/// true (printed), but the data directory does not hold all of it yet.
pub const UNRECORDED_EXIT: u8 = 3;

/// A sentence for one pending end.
pub fn sentence(pending: &PendingEnd, executions_dir: &Path) -> String {
    let name = escape_controls(&pending.record.name);
    let status = pending.record.status;
    let what = match (pending.saved, pending.delivered) {
        (false, false) => {
            "its record could not be saved nor its status change (the failure email) delivered"
        }
        (false, true) => "its record could not be saved",
        _ => "its status change (the failure email) could not be delivered",
    };
    let why = if pending.reason.is_empty() {
        String::new()
    } else {
        format!(" ({})", escape_controls(&pending.reason))
    };
    let next = if pending.journalled {
        format!(
            "The end is kept in {}; the next imagegen command on this directory finishes it once the disk has room.",
            escape_controls(&executions_dir.join(JOURNAL_FILE).display().to_string())
        )
    } else {
        "The end could not be written anywhere on disk: once this command exits, the execution reads ABORTED.".to_owned()
    };
    format!("imagegen: execution {name} ended {status}, but {what}{why}. {next}")
}

/// Say each pending end on stderr; returns how many there were.
pub fn tell(pending: &[PendingEnd], executions_dir: &Path) -> usize {
    for end in pending {
        eprintln!("{}", sentence(end, executions_dir));
    }
    pending.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagegen_local::sfn::{ExecutionRecord, Status};

    fn pending(saved: bool, delivered: bool, journalled: bool) -> PendingEnd {
        PendingEnd {
            record: ExecutionRecord {
                name: "run-1".to_owned(),
                execution_arn: String::new(),
                state_machine_arn: String::new(),
                status: Status::Failed,
                input: "{}".to_owned(),
                output: None,
                error: Some("StorageError".to_owned()),
                cause: None,
                start_date: String::new(),
                stop_date: None,
                history: Vec::new(),
                owner: None,
            },
            saved,
            delivered,
            journalled,
            reason: "No space left on device (os error 28)".to_owned(),
        }
    }

    #[test]
    fn each_case_says_what_is_missing_why_and_what_comes_next() {
        let dir = Path::new("/d/executions");
        let unsaved = sentence(&pending(false, true, true), dir);
        assert!(
            unsaved
                .contains("run-1 ended FAILED, but its record could not be saved (No space left"),
            "{unsaved}"
        );
        assert!(
            unsaved.contains("/d/executions/.ends.journal; the next imagegen command"),
            "{unsaved}"
        );
        let unsent = sentence(&pending(true, false, true), dir);
        assert!(
            unsent.contains("the failure email) could not be delivered"),
            "{unsent}"
        );
        let lost = sentence(&pending(false, false, false), dir);
        assert!(lost.contains("nor its status change"), "{lost}");
        assert!(lost.contains("reads ABORTED"), "{lost}");
    }
}
