//! One queue's messages and what SQS does with them, as plain state over an explicit clock
//! (milliseconds since the epoch), so every rule is tested without waiting:
//!
//! - a received message stays invisible for the visibility timeout, then comes back with a new
//!   receipt handle and one more `ApproximateReceiveCount`;
//! - with a redrive policy, a message received `maxReceiveCount` times that comes back once more is
//!   moved to the dead-letter queue instead of being delivered (SQS moves it when a receive finds
//!   its count over the limit);
//! - messages older than the retention period are dropped; a delay keeps a new message invisible.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::ids::new_id;

/// The defaults of a new SQS queue.
pub const DEFAULT_VISIBILITY_TIMEOUT_SECONDS: u64 = 30;
pub const DEFAULT_RETENTION_SECONDS: u64 = 4 * 24 * 3600;
/// The largest message body a queue takes by default (`MaximumMessageSize`), in bytes.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 262_144;
/// The longest visibility timeout SQS allows (12 hours).
pub const MAX_VISIBILITY_TIMEOUT_SECONDS: u64 = 43_200;

/// Where messages that keep failing go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redrive {
    /// The dead-letter queue's name.
    pub dead_letter_queue: String,
    pub max_receive_count: u32,
}

/// A queue's attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueSettings {
    pub visibility_timeout_seconds: u64,
    pub retention_seconds: u64,
    pub max_message_bytes: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive: Option<Redrive>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            visibility_timeout_seconds: DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
            retention_seconds: DEFAULT_RETENTION_SECONDS,
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            redrive: None,
        }
    }
}

/// A message in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub body: String,
    /// Hex MD5 of the body (`MD5OfMessageBody`, which clients check).
    pub md5: String,
    pub sent_ms: u64,
    pub receive_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_receive_ms: Option<u64>,
    /// Invisible until then (in flight or delayed).
    pub visible_ms: u64,
    /// The handle of the latest receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// A queue: its settings and its messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Queue {
    pub name: String,
    pub settings: QueueSettings,
    pub created_ms: u64,
    pub messages: VecDeque<Message>,
}

/// What one receive did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Received {
    /// Delivered (with their new receipt handles and counts).
    pub messages: Vec<Message>,
    /// Over `maxReceiveCount`: to be put on the dead-letter queue.
    pub dead: Vec<Message>,
}

/// How many messages are where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub visible: usize,
    pub in_flight: usize,
    pub delayed: usize,
    /// The oldest message's age, in seconds (what `ApproximateAgeOfOldestMessage` measures).
    pub oldest_age_seconds: u64,
}

/// The prefix of the receipt handles this stand-in makes.
const RECEIPT_PREFIX: &str = "imagegen-rh-";

impl Queue {
    pub fn new(name: &str, settings: QueueSettings, now_ms: u64) -> Self {
        Self {
            name: name.to_owned(),
            settings,
            created_ms: now_ms,
            messages: VecDeque::new(),
        }
    }

    /// Add a message; it becomes visible after `delay_seconds`.
    pub fn send(&mut self, body: String, now_ms: u64, delay_seconds: u64) -> Message {
        let message = Message {
            id: new_id(),
            md5: md5_hex(body.as_bytes()),
            body,
            sent_ms: now_ms,
            receive_count: 0,
            first_receive_ms: None,
            visible_ms: now_ms + delay_seconds * 1000,
            receipt: None,
        };
        self.messages.push_back(message.clone());
        message
    }

    /// Take back a message moved here from another queue (a dead letter), as it was.
    pub fn adopt(&mut self, mut message: Message, now_ms: u64) {
        message.visible_ms = now_ms;
        message.receipt = None;
        self.messages.push_back(message);
    }

    /// Receive up to `max` visible messages, hiding each for `visibility_seconds` (the queue's
    /// timeout when `None`).
    pub fn receive(
        &mut self,
        now_ms: u64,
        max: usize,
        visibility_seconds: Option<u64>,
    ) -> Received {
        self.expire(now_ms);
        let hide_ms = visibility_seconds.unwrap_or(self.settings.visibility_timeout_seconds) * 1000;
        let limit = self.settings.redrive.as_ref().map(|r| r.max_receive_count);
        let mut received = Received::default();
        let mut kept = VecDeque::with_capacity(self.messages.len());
        for mut message in self.messages.drain(..) {
            if received.messages.len() >= max || message.visible_ms > now_ms {
                kept.push_back(message);
                continue;
            }
            if limit.is_some_and(|limit| message.receive_count >= limit) {
                received.dead.push(message);
                continue;
            }
            message.receive_count += 1;
            message.first_receive_ms.get_or_insert(now_ms);
            message.visible_ms = now_ms + hide_ms;
            message.receipt = Some(format!("{RECEIPT_PREFIX}{}", new_id()));
            received.messages.push(message.clone());
            kept.push_back(message);
        }
        self.messages = kept;
        received
    }

    /// Delete the message a receipt handle names. `Err` for a handle this queue never made;
    /// `Ok(false)` when no message holds it any more (deleted already, or received again since).
    pub fn delete(&mut self, receipt: &str) -> Result<bool, InvalidReceipt> {
        if !receipt.starts_with(RECEIPT_PREFIX) {
            return Err(InvalidReceipt);
        }
        let before = self.messages.len();
        self.messages
            .retain(|m| m.receipt.as_deref() != Some(receipt));
        Ok(self.messages.len() < before)
    }

    /// Hide the in-flight message `receipt` names for `seconds` from now (0 makes it visible at
    /// once), as ChangeMessageVisibility does.
    pub fn change_visibility(
        &mut self,
        receipt: &str,
        seconds: u64,
        now_ms: u64,
    ) -> Result<(), ChangeError> {
        if !receipt.starts_with(RECEIPT_PREFIX) {
            return Err(ChangeError::InvalidReceipt);
        }
        let message = self
            .messages
            .iter_mut()
            .find(|m| m.receipt.as_deref() == Some(receipt))
            .filter(|m| m.visible_ms > now_ms)
            .ok_or(ChangeError::NotInFlight)?;
        message.visible_ms = now_ms + seconds * 1000;
        Ok(())
    }

    /// Drop messages past the retention period.
    pub fn expire(&mut self, now_ms: u64) {
        let keep_ms = self.settings.retention_seconds * 1000;
        self.messages
            .retain(|m| now_ms.saturating_sub(m.sent_ms) < keep_ms);
    }

    pub fn counts(&self, now_ms: u64) -> Counts {
        let mut counts = Counts::default();
        for m in &self.messages {
            if m.visible_ms <= now_ms {
                counts.visible += 1;
            } else if m.receive_count > 0 {
                counts.in_flight += 1;
            } else {
                counts.delayed += 1;
            }
        }
        counts.oldest_age_seconds = self
            .messages
            .iter()
            .map(|m| now_ms.saturating_sub(m.sent_ms) / 1000)
            .max()
            .unwrap_or(0);
        counts
    }
}

/// A receipt handle this stand-in never made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidReceipt;

/// Why a visibility cannot be changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeError {
    /// A receipt handle this stand-in never made.
    InvalidReceipt,
    /// No message in flight holds the handle (deleted, visible again, or received again since).
    NotInFlight,
}

/// Hex MD5 (what SQS reports as `MD5OfMessageBody`).
pub fn md5_hex(bytes: &[u8]) -> String {
    use md5::{Digest, Md5};
    hex::encode(Md5::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_795_000_000_000;

    fn queue(max_receive_count: Option<u32>) -> Queue {
        Queue::new(
            "q",
            QueueSettings {
                redrive: max_receive_count.map(|n| Redrive {
                    dead_letter_queue: "dlq".into(),
                    max_receive_count: n,
                }),
                ..QueueSettings::default()
            },
            T0,
        )
    }

    #[test]
    fn a_received_message_hides_for_the_visibility_timeout_then_comes_back() {
        let mut q = queue(None);
        let sent = q.send("hello".into(), T0, 0);
        assert_eq!(sent.md5, "5d41402abc4b2a76b9719d911017c592");
        let first = q.receive(T0, 10, None);
        assert_eq!(first.messages.len(), 1);
        assert_eq!(first.messages[0].receive_count, 1);
        assert!(q.receive(T0 + 29_999, 10, None).messages.is_empty());
        let again = q.receive(T0 + 30_000, 10, None);
        assert_eq!(again.messages[0].receive_count, 2);
        assert_eq!(again.messages[0].first_receive_ms, Some(T0));
        assert_ne!(again.messages[0].receipt, first.messages[0].receipt);
        // The old handle deletes nothing; the latest deletes the message.
        assert_eq!(
            q.delete(first.messages[0].receipt.as_deref().unwrap()),
            Ok(false)
        );
        assert_eq!(
            q.delete(again.messages[0].receipt.as_deref().unwrap()),
            Ok(true)
        );
        assert!(q.messages.is_empty());
        assert_eq!(q.delete("made-up"), Err(InvalidReceipt));
    }

    #[test]
    fn receives_take_at_most_max_in_order_and_count_what_is_where() {
        let mut q = queue(None);
        for i in 0..12 {
            q.send(format!("m{i}"), T0, 0);
        }
        q.send("later".into(), T0, 60);
        let batch = q.receive(T0 + 5_000, 10, Some(100));
        let bodies: Vec<&str> = batch.messages.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(
            bodies,
            ["m0", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"]
        );
        let counts = q.counts(T0 + 5_000);
        assert_eq!(
            (counts.visible, counts.in_flight, counts.delayed),
            (2, 10, 1)
        );
        assert_eq!(counts.oldest_age_seconds, 5);
    }

    #[test]
    fn a_message_over_max_receive_count_goes_to_the_dead_letter_queue() {
        let mut q = queue(Some(3));
        q.send("bad".into(), T0, 0);
        let mut now = T0;
        for n in 1..=3 {
            let r = q.receive(now, 10, None);
            assert_eq!(r.messages[0].receive_count, n);
            assert!(r.dead.is_empty());
            now += 30_000;
        }
        let r = q.receive(now, 10, None);
        assert!(r.messages.is_empty());
        assert_eq!(r.dead.len(), 1);
        assert_eq!(r.dead[0].body, "bad");
        assert!(q.messages.is_empty());
        let mut dlq = queue(None);
        dlq.adopt(r.dead[0].clone(), now);
        assert_eq!(dlq.counts(now).visible, 1);
        assert_eq!(dlq.messages[0].id, r.dead[0].id);
    }

    #[test]
    fn messages_past_retention_are_dropped() {
        let mut q = queue(None);
        q.send("old".into(), T0, 0);
        q.expire(T0 + DEFAULT_RETENTION_SECONDS * 1000);
        assert!(q.messages.is_empty());
    }

    #[test]
    fn a_visibility_change_hides_or_releases_an_in_flight_message() {
        let mut q = Queue::new("q", QueueSettings::default(), 0);
        q.send("a".into(), 0, 0);
        let receipt = q.receive(0, 1, None).messages[0].receipt.clone().unwrap();
        // Released at once: the next receive gets it again, with a new handle.
        q.change_visibility(&receipt, 0, 1_000).unwrap();
        let again = q.receive(1_000, 1, None).messages;
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].receive_count, 2);
        // The old handle no longer names a message in flight.
        assert_eq!(
            q.change_visibility(&receipt, 10, 1_000),
            Err(ChangeError::NotInFlight)
        );
        // Hidden for longer than the queue's timeout.
        let receipt = again[0].receipt.clone().unwrap();
        q.change_visibility(&receipt, 600, 2_000).unwrap();
        assert!(q.receive(2_000 + 599_000, 1, None).messages.is_empty());
        assert_eq!(q.receive(2_000 + 600_000, 1, None).messages.len(), 1);
        assert_eq!(
            q.change_visibility("someone-else", 1, 0),
            Err(ChangeError::InvalidReceipt)
        );
    }
}
