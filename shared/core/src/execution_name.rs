//! Execution names that make a repeated request start nothing new.
//!
//! Step Functions refuses a second execution with the same name (`ExecutionAlreadyExists`, for 90
//! days on a Standard state machine), so a name computed from what identifies a request turns a
//! retried or re-delivered one into a harmless duplicate. Uploads are named by start-execution from
//! the upload itself; requests at a front door by [`door_name`]. Both hash with [`hash_parts`].

use sha2::{Digest, Sha256};

/// Step Functions' limit on execution names.
pub const MAX_NAME_LEN: usize = 80;
/// Hex digits of the hash in a name (128 bits).
pub const HASH_HEX: usize = 32;

/// The execution name for a request that came through a front door: `{door}-{hash}`, the hash
/// over what identifies the request there (the HTTP API: the caller and its `Idempotency-Key`; the
/// queue: the queue and the message id). A retried POST or a redelivered message computes the same
/// name, and Step Functions starts nothing new for it. `door` is a short ASCII word.
pub fn door_name(door: &str, identity: &[&str]) -> String {
    format!("{door}-{}", hash_parts(identity))
}

/// The first [`HASH_HEX`] hex digits of a SHA-256 over `parts`, each length-prefixed so that no two
/// lists of parts hash the same input.
pub fn hash_parts(parts: &[&str]) -> String {
    let mut sha = Sha256::new();
    for part in parts {
        sha.update((part.len() as u64).to_be_bytes());
        sha.update(part.as_bytes());
    }
    let mut hex = hex::encode(sha.finalize());
    hex.truncate(HASH_HEX);
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        !name.is_empty()
            && name.len() <= MAX_NAME_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }

    #[test]
    fn door_names_are_valid_and_tell_their_parts_apart() {
        let name = door_name("api", &["arn:aws:iam::1:user/a", "key-1"]);
        assert!(name.starts_with("api-") && valid(&name), "{name}");
        assert_eq!(name.len(), 4 + HASH_HEX);
        assert_eq!(name, door_name("api", &["arn:aws:iam::1:user/a", "key-1"]));
        // Another caller with the same key, or the same characters split differently: other names.
        assert_ne!(name, door_name("api", &["arn:aws:iam::1:user/b", "key-1"]));
        assert_ne!(
            door_name("sqs", &["ab", "c"]),
            door_name("sqs", &["a", "bc"])
        );
    }
}
