//! Normalising prompt text.

use super::blocklist_form::fold;

/// Why a piece of text is not acceptable as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    /// A control character other than tab, CR or LF; position is in characters, from 1.
    ControlCharacter { code: u32, position: usize },
}

/// Trim, drop a byte-order mark, and fold every run of white space (newlines included) into one space.
/// Control characters other than white space are refused rather than silently dropped.
pub fn normalise(raw: &str) -> Result<String, TextProblem> {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    if let Some((index, c)) = raw
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !c.is_whitespace())
    {
        return Err(TextProblem::ControlCharacter {
            code: u32::from(c),
            position: index + 1,
        });
    }
    Ok(raw.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The first blocklisted term the text contains as a whole word, if any. Text and terms are compared
/// in their [`fold`]ed form, so case, full-width letters, invisible characters and Cyrillic or
/// Greek look-alikes do not hide a term.
pub fn blocked_term<'a>(text: &str, blocklist: &'a [String]) -> Option<&'a str> {
    let folded = fold(text);
    blocklist.iter().map(String::as_str).find(|term| {
        let term = fold(term);
        !term.trim().is_empty() && contains_word(&folded, term.trim())
    })
}

fn contains_word(haystack: &str, needle: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    haystack.match_indices(needle).any(|(start, _)| {
        let before = haystack[..start].chars().next_back();
        let after = haystack[start + needle.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_white_space_and_trims() {
        assert_eq!(
            normalise("\u{feff}  a\tlighthouse\r\n\n at  dusk ").unwrap(),
            "a lighthouse at dusk"
        );
        assert_eq!(normalise(" \n ").unwrap(), "");
    }

    #[test]
    fn refuses_control_characters() {
        assert_eq!(
            normalise("ab\u{7}c"),
            Err(TextProblem::ControlCharacter {
                code: 7,
                position: 3
            })
        );
        assert!(normalise("x\u{0}").is_err());
        assert!(normalise("x\u{1b}[31m").is_err());
    }

    #[test]
    fn blocklist_matches_whole_words_only() {
        let list = vec!["gore".to_owned(), "red panda".to_owned()];
        assert_eq!(blocked_term("Some GORE here", &list), Some("gore"));
        assert_eq!(blocked_term("a gorge at dawn", &list), None);
        assert_eq!(blocked_term("gore.", &list), Some("gore"));
        assert_eq!(blocked_term("a red panda eating", &list), Some("red panda"));
        assert_eq!(blocked_term("café gore", &list), Some("gore"));
        assert_eq!(blocked_term("anything", &[]), None);
    }

    #[test]
    fn disguised_terms_are_still_blocked() {
        let list = vec!["gore".to_owned(), "Red Panda".to_owned()];
        for prompt in [
            "lots of go\u{200b}re",
            "lots of ｇｏｒｅ",
            "lots of gоrе",
            "lots of GΟRE",
            "a red\u{ad} pаnda",
        ] {
            assert!(blocked_term(prompt, &list).is_some(), "{prompt:?}");
        }
        assert_eq!(blocked_term("a gоrge", &list), None);
        assert_eq!(blocked_term("a cat", &["  ".to_owned()]), None);
    }
}
