//! The request id, which names every output key of a request.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Longest readable part of a request id.
const READABLE_MAX: usize = 80;
/// Hex digits of the execution name's hash in a request id (64 bits).
const NAME_HASH_HEX: usize = 16;

/// The request id, which names every output key (`images/{id}/...`, `results/{id}.json`).
///
/// With an execution name: its key-safe characters (`[A-Za-z0-9_-]`, so people recognise their run)
/// then `-` and a hash of the name exactly as given. The readable part alone would let two names that
/// differ only in dropped characters (`run.1`, `run1`) share an id, and so each other's images and
/// manifest; the hash of the raw name keeps every name's id its own. Step Functions keeps names unique
/// per state machine (for 90 days), so ids are unique too. Without a name (a direct invocation): a
/// hash of the input.
pub fn request_id(execution_name: Option<&str>, input: &Value) -> String {
    match execution_name.filter(|n| !n.trim().is_empty()) {
        Some(name) => {
            let readable: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                .take(READABLE_MAX)
                .collect();
            let readable = if readable.is_empty() {
                "exec"
            } else {
                &readable
            };
            let digest = hex::encode(Sha256::digest(name.as_bytes()));
            format!("{readable}-{}", &digest[..NAME_HASH_HEX])
        }
        None => {
            let digest = Sha256::digest(input.to_string().as_bytes());
            format!("req-{}", &hex::encode(digest)[..24])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;
    use serde_json::json;

    #[test]
    fn request_ids_keep_the_readable_name_and_add_its_hash() {
        let id = request_id(Some("exec-1_a"), &json!({}));
        let (readable, hash) = id.rsplit_once('-').unwrap();
        assert_eq!(readable, "exec-1_a");
        assert_eq!(hash.len(), NAME_HASH_HEX);
        assert!(hash.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        assert!(request_id(Some("a b/c"), &json!({})).starts_with("abc-"));
        assert!(request_id(Some("日本"), &json!({})).starts_with("exec-"));
        // The same name always gives the same id (a redriven execution finds its own outputs).
        assert_eq!(id, request_id(Some("exec-1_a"), &json!({"other": "input"})));
    }

    #[test]
    fn names_that_differ_only_in_dropped_characters_get_different_ids() {
        let long = "x".repeat(80);
        let groups: [Vec<String>; 4] = [
            [
                "run.1", "run1", "run:1", "run 1", "run/1", "r.u.n.1", "run1.",
            ]
            .map(String::from)
            .into(),
            ["日本", "中国", "exec"].map(String::from).into(),
            ["a", "a.", ".a", "a..", "a\u{0}"].map(String::from).into(),
            // Past the readable part's length, only the hash tells them apart.
            vec![long.clone(), format!("{long}y"), format!("{long}z")],
        ];
        for names in groups {
            let ids: std::collections::HashSet<String> = names
                .iter()
                .map(|n| request_id(Some(n), &json!({})))
                .collect();
            assert_eq!(ids.len(), names.len(), "{names:?} -> {ids:?}");
        }
    }

    #[test]
    fn request_ids_are_key_safe() {
        for name in ["run.1", "../../etc", "a/b", "日本", "x".repeat(80).as_str()] {
            let id = request_id(Some(name), &json!({}));
            assert!(keys::is_request_id(&id), "{name:?} -> {id:?}");
        }
    }

    #[test]
    fn without_a_name_the_id_hashes_the_input() {
        let a = request_id(None, &json!({"prompt": "x"}));
        assert!(a.starts_with("req-") && a.len() == 28, "{a}");
        assert_eq!(a, request_id(Some("  "), &json!({"prompt": "x"})));
        assert_ne!(a, request_id(None, &json!({"prompt": "y"})));
        assert!(keys::is_request_id(&a));
    }
}
