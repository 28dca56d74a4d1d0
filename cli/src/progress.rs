//! Live progress: one line per state as the history is recorded.
//!
//! ```text
//! ▶ GenerateImage
//!   ✗ GenerateImage attempt 1: ModelThrottled — Rate exceeded
//!   ↻ GenerateImage attempt 2 (after 1.3 s)
//! ✓ GenerateImage 812 ms
//! ```

use std::io::Write;
use std::sync::Mutex;
use std::time::Instant;

use imagegen_core::display::escape_controls;
use imagegen_core::error::cause_message;
use imagegen_local_pipeline::results::millis_between;
use imagegen_statemachine::HistoryEvent;
use serde_json::Value;

#[derive(Debug, Default)]
struct Current {
    name: String,
    started: Option<Instant>,
    attempts: u32,
    failed_at: Option<String>,
    last_error: Option<String>,
}

/// Prints state transitions to a writer (stdout in the CLI).
pub struct Progress {
    out: Mutex<(Box<dyn Write + Send>, Current)>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Progress").finish_non_exhaustive()
    }
}

fn detail<'a>(event: &'a HistoryEvent, field: &str) -> Option<&'a str> {
    event
        .detail()
        .and_then(|d| d.get(field))
        .and_then(Value::as_str)
}

impl Progress {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Mutex::new((out, Current::default())),
        }
    }

    /// Handle one history event (of any execution; the CLI runs one at a time).
    pub fn event(&self, event: &HistoryEvent) {
        let mut guard = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let (out, current) = &mut *guard;
        let kind = event.event_type.as_str();
        // Progress is best effort: a closed stdout must not fail the run.
        let _ = match kind {
            k if k.ends_with("StateEntered") => {
                *current = Current {
                    name: escape_controls(detail(event, "name").unwrap_or("?")).into_owned(),
                    started: Some(Instant::now()),
                    ..Current::default()
                };
                if k == "FailStateEntered" {
                    writeln!(out, "✗ {}", current.name)
                } else {
                    writeln!(out, "▶ {}", current.name)
                }
            }
            "LambdaFunctionScheduled" => {
                current.attempts += 1;
                match &current.failed_at {
                    Some(at) if current.attempts > 1 => {
                        let waited = millis_between(at, &event.timestamp) as f64 / 1000.0;
                        writeln!(
                            out,
                            "  ↻ {} attempt {} (after {waited:.1} s)",
                            current.name, current.attempts
                        )
                    }
                    _ => Ok(()),
                }
            }
            "LambdaFunctionFailed" | "LambdaFunctionTimedOut" => {
                let error = escape_controls(detail(event, "error").unwrap_or("States.TaskFailed"));
                let cause = detail(event, "cause")
                    .map(cause_message)
                    .unwrap_or_default();
                let cause = escape_controls(&cause);
                current.failed_at = Some(event.timestamp.clone());
                current.last_error = Some(error.to_string());
                writeln!(
                    out,
                    "  ✗ {} attempt {}: {error} — {cause}",
                    current.name, current.attempts
                )
            }
            "LambdaFunctionSucceeded" => {
                current.last_error = None;
                Ok(())
            }
            k if k.ends_with("StateExited") => {
                let ms = current.started.map_or(0, |s| s.elapsed().as_millis());
                match &current.last_error {
                    Some(error) => writeln!(out, "✗ {} {ms} ms — {error}", current.name),
                    None => writeln!(out, "✓ {} {ms} ms", current.name),
                }
            }
            _ => Ok(()),
        };
        let _ = out.flush();
    }
}
