//! Email subscriptions, kept in `<data-dir>/outbox/subscriptions.json` so that every `imagegen`
//! process of the data directory addresses the same people.
//!
//! SNS asks an email endpoint to confirm before it delivers; there is nobody to click a link
//! locally, so a subscription is confirmed when it is made.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::LocalError;
use crate::ids::new_id;

/// The file's name inside the outbox directory.
pub const SUBSCRIPTIONS_FILE: &str = "subscriptions.json";

/// The protocols the local SNS delivers (to the outbox).
pub const EMAIL_PROTOCOLS: [&str; 2] = ["email", "email-json"];

/// One subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub subscription_arn: String,
    pub topic_arn: String,
    pub protocol: String,
    pub endpoint: String,
}

/// The subscriptions file of one outbox.
#[derive(Debug)]
pub struct Subscriptions {
    path: PathBuf,
    write_lock: Mutex<()>,
}

impl Subscriptions {
    /// The subscriptions kept in `outbox_dir`.
    pub fn new(outbox_dir: &Path) -> Self {
        Self {
            path: outbox_dir.join(SUBSCRIPTIONS_FILE),
            write_lock: Mutex::new(()),
        }
    }

    /// Every subscription, oldest first.
    pub fn list(&self) -> Result<Vec<Subscription>, LocalError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| LocalError::CorruptOutbox {
                path: self.path.clone(),
                line: e.line(),
                detail: format!("not a list of subscriptions ({e})"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(LocalError::io("reading", &self.path)(e)),
        }
    }

    /// The email addresses subscribed to `topic_arn`.
    pub fn recipients(&self, topic_arn: &str) -> Result<Vec<String>, LocalError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|s| s.topic_arn == topic_arn)
            .map(|s| s.endpoint)
            .collect())
    }

    /// Subscribe `endpoint` to `topic_arn`; an identical subscription is returned as it is, as SNS
    /// does.
    pub fn subscribe(
        &self,
        topic_arn: &str,
        protocol: &str,
        endpoint: &str,
    ) -> Result<Subscription, LocalError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = self.list()?;
        if let Some(existing) = all
            .iter()
            .find(|s| s.topic_arn == topic_arn && s.protocol == protocol && s.endpoint == endpoint)
        {
            return Ok(existing.clone());
        }
        let subscription = Subscription {
            subscription_arn: format!("{topic_arn}:{}", new_id()),
            topic_arn: topic_arn.to_owned(),
            protocol: protocol.to_owned(),
            endpoint: endpoint.to_owned(),
        };
        all.push(subscription.clone());
        self.write(&all)?;
        Ok(subscription)
    }

    /// Remove a subscription; `false` if there is none with that ARN.
    pub fn unsubscribe(&self, subscription_arn: &str) -> Result<bool, LocalError> {
        let _guard = self.write_lock.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = self.list()?;
        let before = all.len();
        all.retain(|s| s.subscription_arn != subscription_arn);
        if all.len() == before {
            return Ok(false);
        }
        self.write(&all)?;
        Ok(true)
    }

    /// Whole files only (see [`crate::files`]).
    fn write(&self, all: &[Subscription]) -> Result<(), LocalError> {
        let mut text = serde_json::to_vec_pretty(all).map_err(|e| LocalError::CorruptOutbox {
            path: self.path.clone(),
            line: 0,
            detail: e.to_string(),
        })?;
        text.push(b'\n');
        crate::files::replace(&self.path, &text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_is_idempotent_and_unsubscribe_removes() {
        let dir = std::env::temp_dir().join(format!("imagegen-subs-{}", new_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let subs = Subscriptions::new(&dir);
        assert!(subs.list().unwrap().is_empty());
        let a = subs.subscribe("arn:t", "email", "a@example.com").unwrap();
        let again = subs.subscribe("arn:t", "email", "a@example.com").unwrap();
        assert_eq!(a, again);
        subs.subscribe("arn:other", "email", "b@example.com")
            .unwrap();
        assert_eq!(subs.recipients("arn:t").unwrap(), ["a@example.com"]);
        // Another process (another value over the same file) sees them.
        assert_eq!(Subscriptions::new(&dir).list().unwrap().len(), 2);
        assert!(subs.unsubscribe(&a.subscription_arn).unwrap());
        assert!(!subs.unsubscribe(&a.subscription_arn).unwrap());
        assert!(subs.recipients("arn:t").unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
