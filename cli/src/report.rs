//! What an execution did, read from its history: time per state, retries, the files it made (as
//! paths on disk under the data directory) and the email it sent.

use imagegen_core::display::escape_controls;
use imagegen_core::error::cause_message;
use std::fmt;
use std::path::{Path, PathBuf};

use imagegen_local::LocalAws;
use imagegen_local::sfn::{ExecutionRecord, Status};
use imagegen_local_pipeline::results::{Made, detail_str, email_for, millis_between};
use imagegen_statemachine::HistoryEvent;

/// One state's part of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct StateTiming {
    pub name: String,
    /// From entering the state to leaving it (history timestamps).
    pub millis: i64,
    /// Lambda invocations (1 without retries; 0 for states that call nothing).
    pub attempts: u32,
    /// The error of its last failed attempt, if any.
    pub last_error: Option<String>,
}

/// A finished execution, for people.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub name: String,
    pub status: Status,
    pub error: Option<String>,
    /// The cause in plain words (a Lambda error's `errorMessage`).
    pub reason: Option<String>,
    pub seconds: f64,
    pub states: Vec<StateTiming>,
    /// The request's warnings (a legacy model, ...), as ValidatePrompt wrote them.
    pub warnings: Vec<String>,
    pub images: Vec<PathBuf>,
    pub thumbnails: Vec<PathBuf>,
    pub manifest: Option<PathBuf>,
    pub email: Option<PathBuf>,
    pub history_file: PathBuf,
}

/// A path as a person should see it (control characters escaped).
fn shown(path: &Path) -> String {
    escape_controls(&path.display().to_string()).into_owned()
}

/// Per-state timings.
fn walk(history: &[HistoryEvent]) -> Vec<StateTiming> {
    let mut states: Vec<(StateTiming, String)> = Vec::new();
    let mut open: Option<usize> = None;
    let close = |states: &mut Vec<(StateTiming, String)>, open: &mut Option<usize>, at: &str| {
        if let Some(i) = open.take()
            && let Some((timing, entered)) = states.get_mut(i)
        {
            timing.millis = millis_between(entered, at);
        }
    };
    for event in history {
        let kind = event.event_type.as_str();
        if kind.ends_with("StateEntered") {
            close(&mut states, &mut open, &event.timestamp);
            let name = detail_str(event, "name").unwrap_or("?").to_owned();
            states.push((
                StateTiming {
                    name,
                    millis: 0,
                    attempts: 0,
                    last_error: None,
                },
                event.timestamp.clone(),
            ));
            open = Some(states.len() - 1);
        } else if kind.ends_with("StateExited") {
            close(&mut states, &mut open, &event.timestamp);
        } else if kind == "LambdaFunctionScheduled" {
            if let Some((timing, _)) = open.and_then(|i| states.get_mut(i)) {
                timing.attempts += 1;
            }
        } else if kind == "LambdaFunctionFailed" || kind == "LambdaFunctionTimedOut" {
            if let Some((timing, _)) = open.and_then(|i| states.get_mut(i)) {
                timing.last_error = detail_str(event, "error").map(str::to_owned);
            }
        } else if kind.starts_with("Execution") && kind != "ExecutionStarted" {
            close(&mut states, &mut open, &event.timestamp);
        }
    }
    states.into_iter().map(|(t, _)| t).collect()
}

impl Report {
    /// The report of `record`, with paths in `aws`'s data directory.
    pub fn new(record: &ExecutionRecord, aws: &LocalAws) -> Self {
        let root = std::path::absolute(aws.data_dir().root())
            .unwrap_or_else(|_| aws.data_dir().root().to_path_buf());
        let s3_root = root.join("s3");
        let states = walk(&record.history);
        let made = Made::of(record);
        let path = |key: &str| imagegen_local::s3::object_path(&s3_root, &made.bucket, key);
        let images = made.images.iter().map(|i| path(&i.key)).collect();
        let thumbnails = made.thumbnails.iter().map(|t| path(&t.key)).collect();
        let manifest = made.manifest.as_deref().map(path);
        // The execution's email, whoever sent it (notify-user or the backstop): each carries the
        // execution's name as a message attribute.
        let email = aws.list_messages().ok().and_then(|messages| {
            email_for(&messages, &record.name).map(|m| root.join("outbox").join(&m.eml_file))
        });
        Self {
            name: record.name.clone(),
            status: record.status,
            error: record.error.clone(),
            reason: record.cause.as_deref().map(cause_message),
            seconds: record.duration_seconds().unwrap_or_default(),
            states,
            warnings: made.warnings,
            images,
            thumbnails,
            manifest,
            email,
            // The store names the file (a long name's is hashed); a recorded name is always valid.
            history_file: aws
                .sfn()
                .store()
                .path_of(&record.name)
                .map(|p| std::path::absolute(&p).unwrap_or(p))
                .unwrap_or_default(),
        }
    }

    pub fn succeeded(&self) -> bool {
        self.status == Status::Succeeded
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\n{}  {}  in {:.2} s",
            escape_controls(&self.name),
            self.status,
            self.seconds
        )?;
        for state in &self.states {
            let retries = match state.attempts {
                0 | 1 => String::new(),
                n => format!("  ({n} attempts)"),
            };
            writeln!(
                f,
                "  {:<20} {:>7} ms{retries}",
                escape_controls(&state.name),
                state.millis
            )?;
        }
        if let Some(error) = &self.error {
            writeln!(f, "Error:       {}", escape_controls(error))?;
        }
        if let Some(reason) = &self.reason {
            writeln!(f, "Reason:      {}", escape_controls(reason))?;
        }
        for warning in &self.warnings {
            writeln!(f, "Note:        {warning}")?;
        }
        let list = |f: &mut fmt::Formatter<'_>, label: &str, paths: &[PathBuf]| -> fmt::Result {
            for (i, path) in paths.iter().enumerate() {
                let label = if i == 0 { label } else { "" };
                writeln!(f, "{label:<13}{}", shown(path))?;
            }
            Ok(())
        };
        list(f, "Images:", &self.images)?;
        list(f, "Thumbnails:", &self.thumbnails)?;
        if let Some(manifest) = &self.manifest {
            writeln!(f, "Manifest:    {}", shown(manifest))?;
        }
        if let Some(email) = &self.email {
            writeln!(f, "Email:       {}", shown(email))?;
        }
        write!(
            f,
            "History:     {}  (imagegen history {})",
            shown(&self.history_file),
            escape_controls(&self.name)
        )
    }
}
