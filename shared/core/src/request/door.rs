//! A request arriving at a front door (the HTTP API, the queue): console JSON, held to the same
//! rules as ValidatePrompt applies, before anything starts. A request the pipeline would reject is
//! refused at the door with every problem listed, and starts nothing.

use serde_json::Value;

use super::options::options_from_value;
use super::rules::Rules;
use super::validate::{self, Rejections};

/// A request the pipeline will take.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    /// The execution input: the request's JSON as it came.
    pub input: Value,
    /// The model the request will use.
    pub model_id: String,
    /// What the user should know that does not stop the request, as sentences.
    pub warnings: Vec<String>,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Larger than the largest console JSON document taken (`MAX_PROMPT_FILE_BYTES`).
    #[error("the request is {size} bytes; the limit is {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
    /// Not acceptable: every problem found.
    #[error("{0}")]
    Rejected(Rejections),
}

/// Check a request's body (console JSON: `{"prompt": ..., "width"?, ...}` or a bare JSON string).
pub fn check(body: &[u8], rules: &Rules) -> Result<Accepted, Refused> {
    let size = body.len() as u64;
    if size > rules.max_prompt_file_bytes {
        return Err(Refused::TooLarge {
            size,
            limit: rules.max_prompt_file_bytes,
        });
    }
    let one = |problem: String| Refused::Rejected(Rejections(vec![problem]));
    let text = std::str::from_utf8(body).map_err(|e| {
        one(format!(
            "the request is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(one(
            "the request is empty: send JSON like {\"prompt\": \"a lighthouse at dusk\"}"
                .to_owned(),
        ));
    }
    let input: Value = serde_json::from_str(text)
        .map_err(|e| one(format!("the request is not valid JSON: {e}")))?;
    // Anything but an object or a string is refused here, in the same words as an execution's input.
    let options =
        options_from_value(input.clone(), "the request").map_err(|e| one(e.to_string()))?;
    let valid = validate::validate(options, rules).map_err(Refused::Rejected)?;
    Ok(Accepted {
        input,
        model_id: valid.model.id,
        warnings: valid.warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::from_env(&[("BLOCKLIST", "gore")]).unwrap()
    }

    fn problems(body: &str) -> Vec<String> {
        match check(body.as_bytes(), &rules()) {
            Err(Refused::Rejected(r)) => r.0,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_good_request_keeps_its_json_as_the_input() {
        let accepted = check(br#"{"prompt": "a lighthouse", "seed": 7}"#, &rules()).unwrap();
        assert_eq!(
            accepted.input,
            serde_json::json!({"prompt": "a lighthouse", "seed": 7})
        );
        assert_eq!(accepted.model_id, crate::model::DEFAULT_MODEL_ID);
        assert!(check(br#""a bare prompt""#, &rules()).is_ok());
    }

    #[test]
    fn every_problem_is_listed() {
        let listed = problems(r#"{"prompt": "lots of gore", "width": 1000, "numberOfImages": 9}"#);
        assert!(listed.len() >= 3, "{listed:?}");
        assert!(
            listed.iter().any(|p| p.contains("blocked term")),
            "{listed:?}"
        );
        assert!(
            listed.iter().any(|p| p.contains("width and height")),
            "{listed:?}"
        );
        assert!(
            listed.iter().any(|p| p.contains("numberOfImages")),
            "{listed:?}"
        );
    }

    #[test]
    fn shapes_that_are_not_console_input() {
        assert!(problems("")[0].contains("empty"));
        assert!(problems("{")[0].contains("not valid JSON"));
        assert!(problems("[1]")[0].contains("not an array"));
        assert!(
            problems(r#"{"prompt": "x", "source": {"bucket": "b", "key": "k"}}"#)[0]
                .contains("unknown field `source`")
        );
        let err = check(&[0xff, 0xfe], &rules()).unwrap_err();
        assert!(err.to_string().contains("not UTF-8"), "{err}");
    }

    #[test]
    fn the_body_limit_is_the_prompt_file_limit() {
        let limit = rules().max_prompt_file_bytes;
        let body = format!(r#"{{"prompt": "{}"}}"#, "a".repeat(limit as usize));
        assert_eq!(
            check(body.as_bytes(), &rules()),
            Err(Refused::TooLarge {
                size: body.len() as u64,
                limit
            })
        );
    }
}
