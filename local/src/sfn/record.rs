//! One execution as the Step Functions stand-in keeps it (in memory while it runs, on disk always).

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use imagegen_statemachine::HistoryEvent;
use serde::{Deserialize, Serialize};

/// An execution's status, named as in the Step Functions API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    /// Stopped before it ended: by StopExecution, or (locally) because the process that ran it ended.
    Aborted,
}

impl Status {
    /// The API name (`RUNNING`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "RUNNING",
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::TimedOut => "TIMED_OUT",
            Self::Aborted => "ABORTED",
        }
    }

    /// Looks up an API name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Running,
            Self::Succeeded,
            Self::Failed,
            Self::TimedOut,
            Self::Aborted,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything DescribeExecution and GetExecutionHistory answer for one execution. Persisted as
/// `<data-dir>/executions/<name>.json` (see [`super::store`] for names too long to be a file
/// name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionRecord {
    pub name: String,
    pub execution_arn: String,
    pub state_machine_arn: String,
    pub status: Status,
    /// The input as given (JSON text).
    pub input: String,
    /// The output (JSON text), once it succeeded.
    #[serde(default)]
    pub output: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    /// RFC 3339, wall-clock time.
    pub start_date: String,
    #[serde(default)]
    pub stop_date: Option<String>,
    /// Every history event recorded so far.
    #[serde(default)]
    pub history: Vec<HistoryEvent>,
    /// The owner id of the process running it (see [`super::owner`]); absent in records written
    /// before owners were kept, which read as ended when `RUNNING`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl ExecutionRecord {
    /// Seconds since the epoch of an RFC 3339 time (as the JSON protocol sends timestamps).
    pub fn epoch_seconds(rfc3339: &str) -> Option<f64> {
        DateTime::from_str(rfc3339, Format::DateTime)
            .ok()
            .map(|d| d.as_secs_f64())
    }

    /// How long it ran (or has been running, if it has no stop date), in seconds.
    pub fn duration_seconds(&self) -> Option<f64> {
        let start = Self::epoch_seconds(&self.start_date)?;
        let stop = match &self.stop_date {
            Some(stop) => Self::epoch_seconds(stop)?,
            None => DateTime::from(std::time::SystemTime::now()).as_secs_f64(),
        };
        Some((stop - start).max(0.0))
    }
}

/// When an execution with `history` ends at `now` (on the clock its history is kept on: the
/// engine's, which `--fast-retries` runs ahead over the waits it skips): `now`, unless its last
/// event is later. An execution never ends before its last event.
pub fn end_after(history: &[HistoryEvent], now: String) -> String {
    // Both are RFC 3339 with three fractional digits in UTC, so the text sorts like the time.
    match history.last() {
        Some(last) if last.timestamp > now => last.timestamp.clone(),
        _ => now,
    }
}

/// `time` as the records write it (RFC 3339, UTC, three fractional digits, as the history).
pub fn rfc3339(time: chrono::DateTime<chrono::Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The current wall-clock time as RFC 3339 with exactly three fractional digits (so that the text
/// sorts like the time).
pub fn now_rfc3339() -> String {
    let millis = DateTime::from(std::time::SystemTime::now())
        .to_millis()
        .unwrap_or_default();
    let seconds = DateTime::from_secs(millis.div_euclid(1000));
    let text = seconds
        .fmt(Format::DateTime)
        .unwrap_or_else(|_| seconds.secs().to_string());
    format!(
        "{}.{:03}Z",
        text.trim_end_matches('Z'),
        millis.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] {
            assert_eq!(Status::from_name(s).unwrap().as_str(), s);
        }
        assert_eq!(
            serde_json::to_string(&Status::TimedOut).unwrap(),
            "\"TIMED_OUT\""
        );
    }

    #[test]
    fn dates() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 24, "{now}");
        assert!(
            ExecutionRecord::epoch_seconds(&now).unwrap() > 1.7e9,
            "{now}"
        );
        assert_eq!(
            ExecutionRecord::epoch_seconds("2024-01-01T00:00:01.500Z"),
            Some(1_704_067_201.5)
        );
    }
}
