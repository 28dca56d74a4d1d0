//! The executions list: name, status, start, duration and prompt, newest first, filtered by
//! status; the script reloads the table when an execution starts or ends.

use std::fmt::Write as _;

use imagegen_local::sfn::{ExecutionRecord, Status};

use crate::PREFIX;
use crate::html::{badge, duration, esc, execution_url, time};
use imagegen_local_pipeline::input::prompt_excerpt;

/// The statuses one can filter by, in the order shown.
const FILTERS: [Status; 5] = [
    Status::Running,
    Status::Succeeded,
    Status::Failed,
    Status::TimedOut,
    Status::Aborted,
];

/// The page's `main`: `records` newest first, those with `filter`'s status only; `unreadable`
/// files in the executions directory are counted.
pub fn render(records: &[ExecutionRecord], filter: Option<Status>, unreadable: usize) -> String {
    let mut out = String::from(r#"<div class="title-row"><h1>Executions</h1>"#);
    let _ = write!(
        out,
        r#"<a class="button" href="{PREFIX}start">Start execution</a></div>"#
    );
    out.push_str(r#"<nav class="filters" aria-label="Filter by status">"#);
    let link = |out: &mut String, query: &str, label: &str, current: bool| {
        let current = if current {
            r#" aria-current="true""#
        } else {
            ""
        };
        let _ = write!(out, r#"<a href="{PREFIX}{query}"{current}>{label}</a>"#);
    };
    link(&mut out, "", "All", filter.is_none());
    for status in FILTERS {
        let label = status.as_str().replace('_', " ").to_lowercase();
        link(
            &mut out,
            &format!("?status={}", status.as_str()),
            &label,
            filter == Some(status),
        );
    }
    out.push_str("</nav>");
    out.push_str(r#"<div id="executions" class="table-wrap">"#);
    out.push_str(&table(records, filter));
    out.push_str("</div>");
    if unreadable > 0 {
        let _ = write!(
            out,
            r#"<p class="note">{unreadable} file(s) in the executions directory are not execution records (see <code>imagegen executions</code>).</p>"#
        );
    }
    out
}

fn table(records: &[ExecutionRecord], filter: Option<Status>) -> String {
    let shown: Vec<&ExecutionRecord> = records
        .iter()
        .filter(|r| filter.is_none_or(|f| r.status == f))
        .collect();
    if shown.is_empty() {
        let what = match filter {
            Some(status) => format!("No {} executions.", status.as_str()),
            None => "No executions yet.".to_owned(),
        };
        return format!(
            r#"<p class="empty">{what} <a href="{PREFIX}start">Start one</a>, or upload a prompt file under prompts/.</p>"#
        );
    }
    let mut out = String::from(
        "<table class=\"executions\"><thead><tr><th>Name</th><th>Status</th><th>Started</th>\
         <th>Duration</th><th>Prompt</th></tr></thead><tbody>",
    );
    for record in shown {
        let took = match (record.status, record.duration_seconds()) {
            (Status::Running, _) => "running".to_owned(),
            (_, Some(seconds)) => duration(seconds),
            (_, None) => "-".to_owned(),
        };
        let _ = write!(
            out,
            r#"<tr data-execution="{name}"><td><a href="{url}">{name}</a></td><td>{status}</td><td>{started}</td><td>{took}</td><td class="prompt">{prompt}</td></tr>"#,
            name = esc(&record.name),
            url = esc(&execution_url(&record.name, "")),
            status = badge(record.status.as_str()),
            started = esc(&time(&record.start_date)),
            prompt = esc(&prompt_excerpt(&record.input, 80)),
        );
    }
    out.push_str("</tbody></table>");
    out
}
