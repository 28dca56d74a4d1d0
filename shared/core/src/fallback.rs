//! Fallback models: what a request moves to when Bedrock says its model is retired.
//!
//! `FALLBACK_MODEL_IDS` is an ordered list. When the request's own model turns out retired
//! (`ModelRetired`), the request moves to the first model of the list; when a fallback turns out
//! retired too, to the one after it. The request's own model is skipped wherever it is listed. A
//! request walks the list at most once, so a list of retired models ends in the failure email, never
//! in a loop.

/// The model to use once `current` is found retired, for a request that named `requested`; `None`
/// when the list has nothing left.
pub fn next<'a>(fallbacks: &'a [String], requested: &str, current: &str) -> Option<&'a str> {
    let rest = if current == requested {
        fallbacks
    } else {
        match fallbacks.iter().position(|m| m == current) {
            Some(at) => &fallbacks[at + 1..],
            // Not a model of the list (the list changed meanwhile): nothing is known to follow it.
            None => &[],
        }
    };
    rest.iter().map(String::as_str).find(|m| *m != requested)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_list_is_walked_in_order_once() {
        let fallbacks = list(&["b", "c"]);
        assert_eq!(
            next(&fallbacks, "a", "a"),
            Some("b"),
            "the request's own model"
        );
        assert_eq!(next(&fallbacks, "a", "b"), Some("c"));
        assert_eq!(next(&fallbacks, "a", "c"), None, "the last one: the end");
        assert_eq!(next(&[], "a", "a"), None, "no fallbacks");
        assert_eq!(next(&fallbacks, "a", "x"), None, "not of the list");
    }

    #[test]
    fn the_request_s_own_model_is_skipped_wherever_it_is_listed() {
        let fallbacks = list(&["b", "a", "c"]);
        assert_eq!(next(&fallbacks, "a", "a"), Some("b"));
        assert_eq!(next(&fallbacks, "a", "b"), Some("c"));
        assert_eq!(next(&list(&["a"]), "a", "a"), None);
    }
}
