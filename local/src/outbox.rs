//! The outbox: every published message as an `.eml` file a mail client can open, plus one JSON line
//! per message in `messages.jsonl` for programs.
//!
//! A crash can stop an append part way, leaving the log's last line torn. The next append starts on
//! a fresh line, so the torn one never swallows a whole message; readers skip torn lines and report
//! them ([`Outbox::read`]) rather than refusing the whole log. Logs written before that may hold a
//! torn line with a whole message run on after it: the message is still read.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::LocalError;
use crate::files;

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

/// How every line of the log starts, as `OutboxMessage` serialises (its first field). Inside a
/// value a quote is escaped, so this text only ever starts a message.
const LINE_START: &[u8] = br#"{"messageId":"#;

/// What the log holds: the messages, oldest first, and the lines a crash cut short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxLog {
    pub messages: Vec<OutboxMessage>,
    pub torn: Vec<TornLine>,
}

/// A message a crash cut short while it was appended to the log; its `.eml` file may be whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornLine {
    /// The line of the log it is on, from 1.
    pub line: usize,
    /// What was written of it.
    pub text: String,
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
        files::replace(&eml_path, eml.as_bytes())?;
        let log_path = self.dir.join(LOG_FILE);
        if let Err(e) = append_line(&log_path, line.as_bytes()) {
            // Not published: no `.eml` of it stays either (the publisher is told, and sends again).
            let _ = std::fs::remove_file(&eml_path);
            return Err(LocalError::io("appending to", &log_path)(e));
        }
        Ok(message)
    }

    /// Every message kept so far, oldest first. A line a crash cut short is skipped and logged as
    /// a warning; [`Outbox::read`] returns such lines.
    pub fn list(&self) -> Result<Vec<OutboxMessage>, LocalError> {
        let log = self.read()?;
        for torn in &log.torn {
            tracing::warn!(
                path = %self.dir.join(LOG_FILE).display(),
                line = torn.line,
                "local SNS: a message cut short by a crash in the outbox log was skipped"
            );
        }
        Ok(log.messages)
    }

    /// Every message kept so far, oldest first, and the lines a crash cut short. A line that is
    /// neither a message nor the start of one is an error: the file is not an outbox log.
    pub fn read(&self) -> Result<OutboxLog, LocalError> {
        let path = self.dir.join(LOG_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => parse_log(&path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(OutboxLog::default()),
            Err(e) => Err(LocalError::io("reading", &path)(e)),
        }
    }
}

/// Append `line` (ending in a newline) to the log at `path` in one write. After a torn last line
/// it starts on a fresh line; a write that fails is cut back off, so the log gains the whole line
/// or nothing (a crash mid-write can still tear it; readers allow for that).
fn append_line(path: &Path, line: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let len = file.metadata()?.len();
    let mut bytes = Vec::with_capacity(line.len() + 1);
    if len > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last != *b"\n" {
            bytes.push(b'\n');
        }
    }
    bytes.extend_from_slice(line);
    file.write_all(&bytes).inspect_err(|_| {
        let _ = file.set_len(len);
    })
}

/// The messages and torn lines of the log `bytes` read from `path`.
fn parse_log(path: &Path, bytes: &[u8]) -> Result<OutboxLog, LocalError> {
    let mut log = OutboxLog::default();
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        for piece in pieces(line) {
            match serde_json::from_slice::<OutboxMessage>(piece) {
                Ok(message) => log.messages.push(message),
                // The text stops inside the message: the rest was never written.
                Err(e) if e.is_eof() => log.torn.push(TornLine {
                    line: i + 1,
                    text: String::from_utf8_lossy(piece).into_owned(),
                }),
                Err(e) => {
                    return Err(LocalError::CorruptOutbox {
                        path: path.to_path_buf(),
                        line: i + 1,
                        detail: e.to_string(),
                    });
                }
            }
        }
    }
    Ok(log)
}

/// A line cut at each start of a message: one piece for a line as the log writes it, more where
/// an older version appended a message right after a torn one.
fn pieces(line: &[u8]) -> Vec<&[u8]> {
    let mut starts: Vec<usize> = (1..line.len())
        .filter(|&at| line[at..].starts_with(LINE_START))
        .collect();
    starts.insert(0, 0);
    starts.push(line.len());
    starts.windows(2).map(|w| &line[w[0]..w[1]]).collect()
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
    use crate::ids::new_id;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("imagegen-outbox-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn publish(outbox: &Outbox, id: &str, body: &str) -> OutboxMessage {
        outbox
            .record(
                id,
                "arn:aws:sns:us-east-1:0:imagegen",
                Some("s"),
                body,
                BTreeMap::new(),
                &[],
            )
            .unwrap()
    }

    fn ids(messages: &[OutboxMessage]) -> Vec<&str> {
        messages.iter().map(|m| m.message_id.as_str()).collect()
    }

    /// Issue 21 item 2: a message the log could not take (a full disk) is not published, so its
    /// `.eml` must not stay either: the publisher sends it again, and the user would get two.
    #[test]
    fn a_message_the_log_cannot_take_leaves_no_eml() {
        let dir = scratch();
        // A directory where the log should be: every append fails, as on a full disk.
        std::fs::create_dir_all(dir.join(LOG_FILE)).unwrap();
        let outbox = Outbox::new(&dir);
        let err = outbox
            .record(
                "m-1",
                "arn:aws:sns:us-east-1:0:imagegen",
                None,
                "body",
                BTreeMap::new(),
                &[],
            )
            .unwrap_err();
        assert!(err.to_string().contains(LOG_FILE), "{err}");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n != LOG_FILE)
            .collect();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Issue 21 item 6: a crash mid-append left a torn line that the next append ran on from, and
    /// the whole outbox could no longer be read.
    #[test]
    fn a_torn_last_line_is_skipped_and_reported_and_never_swallows_the_next() {
        let dir = scratch();
        let outbox = Outbox::new(&dir);
        publish(&outbox, "m-1", "first");
        publish(&outbox, "m-2", "画像");
        // A crash in the middle of the second line, inside a multi-byte character.
        let log_path = dir.join(LOG_FILE);
        let whole = std::fs::read(&log_path).unwrap();
        let cut = whole.len()
            - 1
            - whole
                .iter()
                .rev()
                .skip(1)
                .position(|&b| b == b'\n')
                .unwrap();
        let in_char = cut
            + whole[cut..]
                .windows(3)
                .position(|w| w == "画".as_bytes())
                .unwrap()
            + 1;
        std::fs::write(&log_path, &whole[..in_char]).unwrap();

        publish(&outbox, "m-3", "third");
        // The new message has a line of its own.
        let lines = std::fs::read(&log_path).unwrap();
        let lines: Vec<&[u8]> = lines.split(|&b| b == b'\n').collect();
        assert_eq!(
            lines.len(),
            4,
            "three lines and the empty rest after the last newline"
        );
        assert!(serde_json::from_slice::<OutboxMessage>(lines[2]).is_ok());
        let log = outbox.read().unwrap();
        assert_eq!(ids(&log.messages), ["m-1", "m-3"]);
        assert_eq!(log.torn.len(), 1, "{:?}", log.torn);
        assert_eq!(log.torn[0].line, 2);
        assert!(
            log.torn[0].text.starts_with(r#"{"messageId":"m-2""#),
            "{:?}",
            log.torn
        );
        assert_eq!(ids(&outbox.list().unwrap()), ["m-1", "m-3"]);
        // Every `.eml` is whole: no drafts are left beside them.
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Logs written before the fix: a torn line with the next message run on after it.
    #[test]
    fn a_message_run_on_after_a_torn_one_is_still_read() {
        let dir = scratch();
        let outbox = Outbox::new(&dir);
        publish(&outbox, "m-1", "first");
        publish(&outbox, "m-2", "second");
        let log_path = dir.join(LOG_FILE);
        let text = std::fs::read_to_string(&log_path).unwrap();
        let (first, second) = text.split_once('\n').unwrap();
        std::fs::write(&log_path, format!("{}{first}\n{second}", &second[..40])).unwrap();
        let log = outbox.read().unwrap();
        assert_eq!(ids(&log.messages), ["m-1", "m-2"]);
        assert_eq!(log.torn.len(), 1);
        assert_eq!(log.torn[0].line, 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_line_that_is_no_message_is_still_an_error() {
        let dir = scratch();
        std::fs::write(dir.join(LOG_FILE), "garbage\n").unwrap();
        let err = Outbox::new(&dir).read().unwrap_err();
        assert!(
            matches!(err, LocalError::CorruptOutbox { line: 1, .. }),
            "{err}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn every_line_starts_with_the_line_start() {
        let dir = scratch();
        let mut attributes = BTreeMap::new();
        attributes.insert(
            r#"{"messageId":"#.to_owned(),
            r#"{"messageId":"x"}"#.to_owned(),
        );
        let m = Outbox::new(&dir)
            .record(
                "m-1",
                "arn:aws:sns:us-east-1:0:t",
                None,
                r#"{"messageId":"x"}"#,
                attributes,
                &[],
            )
            .unwrap();
        let line = serde_json::to_vec(&m).unwrap();
        assert!(line.starts_with(LINE_START));
        // Inside values the text is escaped, so the line is one piece.
        assert_eq!(pieces(&line).len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

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
