//! Whose request it is: a request started through the API is answered only to the caller who
//! started it ([`crate::caller::principal`]); to anyone else it does not exist.
//!
//! The execution name carries the owner: `api-{hash}-{tag}`, where `{hash}` identifies the request
//! ([`door_name`] over the caller and its `Idempotency-Key`, or API Gateway's request id) and
//! `{tag}` is a hash of the owner and that first part. `GET /images/{requestId}` recomputes the tag
//! for the caller asking and compares, before it asks Step Functions anything.
//!
//! Why the name, and not the execution's input, its tags or the manifest: the name is the one
//! thing every execution has from its start, on AWS and in the offline twin alike, and needs no
//! extra call. The input is console JSON that ValidatePrompt holds to its rules (an unknown field is
//! refused), and anyone who can start an execution writes it; the local Step Functions keeps no
//! tags; the manifest exists only once a request succeeded. A hash, not the ARN itself, so the
//! name, the request id and every output key (which all show the name) do not tell who asked; the
//! tag hashes the owner with the request's own hash, so two requests of one caller carry different
//! tags and cannot be linked by them.
//!
//! Anyone can compute a tag for a principal they name, which only lets them mark a request of their
//! own as readable by that principal; reading a request needs the caller's own, verified principal
//! to hash to its tag (128 bits).
//!
//! Requests started by the other doors (S3 uploads, the Step Functions console, the queue) carry no
//! such tag, so the API answers 404 for them: they are read with Step Functions and S3 permissions.

use imagegen_core::execution_name::{door_name, hash_parts};

/// The execution names' word for this door.
pub const DOOR: &str = "api";

/// The execution name of a request `owner` makes, identified by `identity`.
pub fn execution_name(owner: &str, identity: &[&str]) -> String {
    let request = door_name(DOOR, identity);
    let tag = tag(owner, &request);
    format!("{request}-{tag}")
}

/// Whether `owner` started the execution `name` through the API.
pub fn started_by(name: &str, owner: &str) -> bool {
    let Some((request, tag)) = name.rsplit_once('-') else {
        return false;
    };
    request
        .strip_prefix(DOOR)
        .is_some_and(|rest| rest.starts_with('-'))
        && tag == self::tag(owner, request)
}

fn tag(owner: &str, request: &str) -> String {
    hash_parts(&["owner", owner, request])
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagegen_core::execution_name::{HASH_HEX, MAX_NAME_LEN};

    const ALICE: &str = "arn:aws:iam::1:user/alice";

    #[test]
    fn only_the_owner_is_told_its_requests() {
        let name = execution_name(ALICE, &[ALICE, "key-1"]);
        assert!(name.len() <= MAX_NAME_LEN, "{name}");
        assert_eq!(name.len(), DOOR.len() + 2 * (1 + HASH_HEX));
        assert!(started_by(&name, ALICE));
        assert!(!started_by(&name, "arn:aws:iam::1:user/bob"));
        assert!(!started_by(&name, ""));
    }

    #[test]
    fn names_of_other_doors_have_no_owner() {
        for name in [
            door_name(DOOR, &[ALICE, "key-1"]),
            door_name("sqs", &["queue", "message"]),
            format!("sqs-{}", &execution_name(ALICE, &["x"])[4..]),
            "console-run".to_owned(),
            String::new(),
        ] {
            assert!(!started_by(&name, ALICE), "{name}");
        }
    }

    #[test]
    fn two_requests_of_one_caller_carry_different_tags() {
        let a = execution_name(ALICE, &["request", "1"]);
        let b = execution_name(ALICE, &["request", "2"]);
        let tag = |name: &str| name.rsplit_once('-').map(|(_, t)| t.to_owned());
        assert_ne!(tag(&a), tag(&b));
    }
}
