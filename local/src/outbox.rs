//! The outbox: every published message as an `.eml` file a mail client can open, plus one JSON line
//! per message in `messages.jsonl` for programs.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::LocalError;

/// The JSON-lines log's file name.
pub const LOG_FILE: &str = "messages.jsonl";

/// One published message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub message_id: String,
    pub topic_arn: String,
    #[serde(default)]
    pub subject: Option<String>,
    pub body: String,
    /// String message attributes by name.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// The email addresses subscribed to the topic when it was published (the `.eml` is addressed
    /// to them; to the topic itself when there are none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// RFC 3339.
    pub timestamp: String,
    /// The `.eml` file's name inside the outbox directory.
    pub eml_file: String,
}

/// A message directory shared by every publisher in this process.
#[derive(Debug)]
pub struct Outbox {
    dir: PathBuf,
    write_lock: Mutex<()>,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            write_lock: Mutex::new(()),
        }
    }

    /// The directory messages are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keep a message: write its `.eml` file (addressed to `recipients`, or to the topic when there
    /// are none) and append it to the log.
    pub fn record(
        &self,
        message_id: &str,
        topic_arn: &str,
        subject: Option<&str>,
        body: &str,
        attributes: BTreeMap<String, String>,
        recipients: &[String],
    ) -> Result<OutboxMessage, LocalError> {
        let now = SystemTime::now();
        let stamp = DateTime::from(now);
        let timestamp = stamp
            .fmt(Format::DateTime)
            .unwrap_or_else(|_| stamp.secs().to_string());
        let file_stamp: String = timestamp
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect();
        let message = OutboxMessage {
            message_id: message_id.to_owned(),
            topic_arn: topic_arn.to_owned(),
            subject: subject.map(str::to_owned),
            body: body.to_owned(),
            attributes,
            recipients: recipients.to_vec(),
            timestamp,
            eml_file: format!("{file_stamp}-{message_id}.eml"),
        };
        let date = stamp
            .fmt(Format::HttpDate)
            .unwrap_or_else(|_| message.timestamp.clone());
        let eml = to_eml(&message, &date);
        let mut line = serde_json::to_string(&message).map_err(|e| LocalError::CorruptOutbox {
            path: self.dir.join(LOG_FILE),
            line: 0,
            detail: e.to_string(),
        })?;
        line.push('\n');

        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let eml_path = self.dir.join(&message.eml_file);
        std::fs::write(&eml_path, eml).map_err(LocalError::io("writing", &eml_path))?;
        let log_path = self.dir.join(LOG_FILE);
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(LocalError::io("appending to", &log_path))?;
        Ok(message)
    }

    /// Every message kept so far, oldest first.
    pub fn list(&self) -> Result<Vec<OutboxMessage>, LocalError> {
        let path = self.dir.join(LOG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(LocalError::io("reading", &path)(e)),
        };
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|e| LocalError::CorruptOutbox {
                    path: path.clone(),
                    line: i + 1,
                    detail: e.to_string(),
                })
            })
            .collect()
    }
}

/// A header value safe for one line: ASCII as is, anything else as an RFC 2047 encoded word.
fn header_value(value: &str) -> String {
    let flat: String = value
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    if flat.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        flat
    } else {
        let b64 = base64::engine::general_purpose::STANDARD.encode(flat.as_bytes());
        format!("=?UTF-8?B?{b64}?=")
    }
}

/// `status` -> `Status`, `request-id` -> `Request-Id`; anything not a header character becomes `-`.
fn header_name(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let c = if c.is_ascii_alphanumeric() { c } else { '-' };
            let out = if upper { c.to_ascii_uppercase() } else { c };
            upper = c == '-';
            out
        })
        .collect()
}

fn topic_name(topic_arn: &str) -> &str {
    topic_arn.rsplit(':').next().unwrap_or(topic_arn)
}

fn to_eml(message: &OutboxMessage, date: &str) -> String {
    let mut out = String::new();
    let mut header = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    };
    header("From", "imagegen (local SNS) <no-reply@sns.localhost>");
    let to = if message.recipients.is_empty() {
        format!(
            "\"{}\" <{}@sns.localhost>",
            header_value(&message.topic_arn),
            header_name(topic_name(&message.topic_arn)).to_ascii_lowercase()
        )
    } else {
        // Addresses were checked when subscribed; a line break here would forge headers.
        message
            .recipients
            .iter()
            .map(|r| header_value(r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    header("To", &to);
    header(
        "Subject",
        &header_value(message.subject.as_deref().unwrap_or("")),
    );
    header("Date", date);
    header(
        "Message-ID",
        &format!("<{}@sns.localhost>", message.message_id),
    );
    header("X-Imagegen-Topic-Arn", &header_value(&message.topic_arn));
    for (name, value) in &message.attributes {
        header(
            &format!("X-Imagegen-{}", header_name(name)),
            &header_value(value),
        );
    }
    header("MIME-Version", "1.0");
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "8bit");
    out.push_str("\r\n");
    for line in message.body.lines() {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_helpers() {
        assert_eq!(header_name("status"), "Status");
        assert_eq!(header_name("request_id"), "Request-Id");
        assert_eq!(header_value("plain"), "plain");
        assert_eq!(header_value("a\r\nb"), "a  b");
        assert!(header_value("café").starts_with("=?UTF-8?B?"));
        assert_eq!(topic_name("arn:aws:sns:us-east-1:0:imagegen"), "imagegen");
    }
}
