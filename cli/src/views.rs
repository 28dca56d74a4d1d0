//! Tables for `imagegen executions` and `imagegen history`.

use std::fmt::Write as _;

use imagegen_core::display::escape_controls;
use imagegen_core::error::cause_message;
use imagegen_core::notify::human::plural;
use imagegen_local::sfn::{ExecutionRecord, Unreadable};
use imagegen_local_pipeline::input::prompt_excerpt;
use imagegen_local_pipeline::results::millis_between;
use imagegen_statemachine::HistoryEvent;
use serde_json::Value;

/// `NAME  STATUS  STARTED  DURATION  PROMPT`, newest first.
pub fn executions_table(records: &[ExecutionRecord]) -> String {
    if records.is_empty() {
        return "no executions yet (try `imagegen run \"a lighthouse at dusk\"`)\n".to_owned();
    }
    let width = records
        .iter()
        .map(|r| escape_controls(&r.name).chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:<9}  {:<24}  {:>9}  PROMPT\n",
        "NAME", "STATUS", "STARTED", "DURATION"
    );
    for r in records {
        let duration = r
            .duration_seconds()
            .map_or_else(|| "-".to_owned(), |s| format!("{s:.2} s"));
        let _ = writeln!(
            out,
            "{:<width$}  {:<9}  {:<24}  {:>9}  {}",
            escape_controls(&r.name),
            r.status.as_str(),
            r.start_date,
            duration,
            prompt_excerpt(&r.input, 50)
        );
    }
    out
}

/// The files of the executions directory that were left out of the table, and why.
pub fn unreadable_note(unreadable: &[Unreadable]) -> String {
    let mut out = String::new();
    if unreadable.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\nNot shown: {} that {} not execution records:",
        plural(unreadable.len(), "file"),
        if unreadable.len() == 1 { "is" } else { "are" }
    );
    for bad in unreadable {
        let _ = writeln!(
            out,
            "  {}: {}",
            escape_controls(&bad.path.display().to_string()),
            bad.reason
        );
    }
    out
}

/// What an event is about, in a few words.
fn summary(event: &HistoryEvent) -> String {
    let Some(detail) = event.detail() else {
        return String::new();
    };
    let field = |name: &str| detail.get(name).and_then(Value::as_str);
    if let Some(name) = field("name") {
        return name.to_owned();
    }
    if let Some(error) = field("error") {
        let cause = field("cause").map(cause_message).unwrap_or_default();
        return format!("{error}: {cause}");
    }
    if let Some(resource) = field("resource") {
        return resource.rsplit(':').next().unwrap_or(resource).to_owned();
    }
    String::new()
}

/// `ID  +MS  TYPE  DETAIL`
pub fn history_table(history: &[HistoryEvent]) -> String {
    let start = history.first().map(|e| e.timestamp.as_str()).unwrap_or("");
    let mut out = format!("{:>4}  {:>8}  {:<28}  DETAIL\n", "ID", "+MS", "TYPE");
    for event in history {
        let _ = writeln!(
            out,
            "{:>4}  {:>8}  {:<28}  {}",
            event.id,
            millis_between(start, &event.timestamp),
            event.event_type.as_str(),
            escape_controls(&summary(event))
        );
    }
    out
}
