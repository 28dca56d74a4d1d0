//! How `imagegen serve` and `imagegen rehearse` stop once their server has: the same words and
//! the same order for both, so a script reading one reads the other.
//!
//! The server has stopped accepting; uploads answered just before the stop are being delivered
//! and get a moment to be taken (any still under way stay recorded for the next start, never
//! dropped); running executions get the grace period, or until a second Ctrl-C; the others are
//! recorded `ABORTED`, each named. Ends a full disk had no room for are said on stderr
//! ([`crate::unrecorded`]), and the command exits with [`UNRECORDED_EXIT`] rather than 0.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use imagegen_local::sfn::SfnService;

use crate::interrupt::interrupted;
use crate::unrecorded::{self, UNRECORDED_EXIT};

/// How long a stop waits for S3 notifications being delivered (each starts an execution).
pub const NOTIFICATION_SETTLE: Duration = Duration::from_secs(5);

/// The cause recorded on executions still running when the grace period of `command` ends.
pub fn abort_cause(command: &str) -> String {
    format!("{command} was stopped before the execution ended")
}

/// What is stopping: the command's name as people type it (`imagegen serve`), and its grace.
#[derive(Debug, Clone, Copy)]
pub struct Stopping {
    pub command: &'static str,
    pub grace_seconds: u64,
}

impl Stopping {
    /// After the server stopped: `settle` waits for the S3 notifications under way (for
    /// [`NOTIFICATION_SETTLE`]) and says how many are left; then the executions' grace and the
    /// ABORTED ones; `and_then` is the command's own last step (stopping processes) before the
    /// closing line. Returns the exit status: 0, or [`UNRECORDED_EXIT`] when some end or email
    /// could not be written (each said on stderr).
    pub async fn run(
        self,
        out: &mut (dyn Write + Send),
        sfn: &SfnService,
        settle: impl Future<Output = usize>,
        and_then: impl Future<Output = ()>,
    ) -> u8 {
        let command = self.command;
        let undelivered = settle.await;
        if undelivered > 0 {
            writeln!(
                out,
                "\n{undelivered} S3 notification(s) still being delivered stay recorded; the next \
                 `{command}` on this directory delivers them."
            )
            .ok();
        }
        writeln!(
            out,
            "\nStopping: no new requests; running executions have {} s to end.",
            self.grace_seconds
        )
        .ok();
        out.flush().ok();
        let grace = async {
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(self.grace_seconds)) => {}
                () = interrupted(command) => {}
            }
        };
        let report = sfn.shutdown(grace, &abort_cause(command)).await;
        for name in &report.aborted {
            writeln!(out, "  {name}  ABORTED (recorded)").ok();
        }
        and_then.await;
        writeln!(
            out,
            "Stopped: {} execution(s) ended during the grace period, {} recorded ABORTED.",
            report.finished.len(),
            report.aborted.len()
        )
        .ok();
        out.flush().ok();
        let executions = sfn.store().dir();
        if unrecorded::tell(&sfn.pending_ends(), executions) > 0 {
            UNRECORDED_EXIT
        } else {
            0
        }
    }
}
