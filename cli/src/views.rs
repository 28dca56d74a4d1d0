//! Tables for `imagegen executions` and `imagegen history`.

use std::fmt::Write as _;

use imagegen_core::display::escape_controls;
use imagegen_core::notify::human::plural;
use imagegen_local::sfn::{ExecutionRecord, Unreadable};
use imagegen_statemachine::HistoryEvent;
use serde_json::Value;

use imagegen_core::error::cause_message;

use crate::report::millis_between;

/// The prompt of an execution input, shortened: console input, or the uploaded file's key.
pub fn prompt_excerpt(input: &str, max_chars: usize) -> String {
    let value: Value = serde_json::from_str(input).unwrap_or(Value::String(input.to_owned()));
    let text = match &value {
        Value::String(s) => s.clone(),
        v => v["prompt"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                v.pointer("/source/key")
                    .and_then(Value::as_str)
                    .map(|k| format!("(file) {k}"))
            })
            .unwrap_or_else(|| v.to_string()),
    };
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let one_line = escape_controls(&one_line).into_owned();
    if one_line.chars().count() > max_chars {
        let cut: String = one_line.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts() {
        assert_eq!(
            prompt_excerpt(r#"{"prompt":"a  lighthouse\nat dusk"}"#, 50),
            "a lighthouse at dusk"
        );
        assert_eq!(prompt_excerpt(r#""just text""#, 4), "jus…");
        assert_eq!(
            prompt_excerpt(r#"{"source":{"bucket":"b","key":"prompts/x.txt"}}"#, 50),
            "(file) prompts/x.txt"
        );
        assert_eq!(
            prompt_excerpt(r#"{"prompt":"a\u0000cat\u001b[2J\u202e"}"#, 50),
            "a\\0cat\\x1b[2J\\u202e"
        );
    }
}
