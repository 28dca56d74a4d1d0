//! Text from outside (prompts, file names, keys, execution names) made safe to show a person: raw
//! control characters would ring bells, move the cursor or recolour a terminal, cut an email header,
//! or (bidirectional overrides) make text read differently from what it is. Each is shown as an
//! escape instead (`\n`, `\t`, `\0`, `\u{1b}`), everything else as it is.

use std::borrow::Cow;

/// Whether `c` is shown escaped: C0 and C1 controls, DEL, the line and paragraph separators and the
/// bidirectional embedding, override and isolate characters.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every character that [`needs_escape`] written as an escape; borrowed when there is
/// none. A backslash is left alone: the escapes are for reading, not for parsing back.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape_controls`] for text that stays on one line but may keep its line breaks elsewhere:
/// like it, except that `\n` is kept (for email bodies and multi-line messages).
pub fn escape_controls_keep_newlines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(escape_controls)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_controls("a lighthouse"), "a lighthouse");
        assert!(matches!(escape_controls("café ☕"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("a\0b\x1b[31mred\x07\r\n\t\u{7f}\u{85}"),
            "a\\0b\\u{1b}[31mred\\u{7}\\r\\n\\t\\u{7f}\\u{85}"
        );
        assert_eq!(escape_controls("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(escape_controls("back\\slash"), "back\\slash");
    }

    #[test]
    fn newlines_can_be_kept() {
        assert_eq!(
            escape_controls_keep_newlines("line 1\nline\x1b2\n"),
            "line 1\nline\\u{1b}2\n"
        );
        assert!(matches!(
            escape_controls_keep_newlines("a\nb"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn nothing_escaped_contains_a_control() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!escape_controls(&all).chars().any(needs_escape));
    }
}
