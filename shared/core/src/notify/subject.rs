//! SNS subjects: ASCII printable characters only, one line, not starting with whitespace, at most
//! 100 characters. User text (a prompt) is folded to ASCII and truncated to fit.

/// SNS's limit on the subject length.
pub const SUBJECT_MAX: usize = 100;

/// Common non-ASCII characters and their ASCII stand-ins; anything else non-ASCII is dropped.
const FOLDS: &[(&str, &str)] = &[
    ("àáâãäåāăą", "a"),
    ("ÀÁÂÃÄÅĀĂĄ", "A"),
    ("çćč", "c"),
    ("ÇĆČ", "C"),
    ("ďđ", "d"),
    ("èéêëēėęě", "e"),
    ("ÈÉÊËĒĖĘĚ", "E"),
    ("ğ", "g"),
    ("ìíîïīį", "i"),
    ("ÌÍÎÏĪĮİ", "I"),
    ("łľ", "l"),
    ("ŁĽ", "L"),
    ("ñńň", "n"),
    ("ÑŃŇ", "N"),
    ("òóôõöøōő", "o"),
    ("ÒÓÔÕÖØŌŐ", "O"),
    ("řŕ", "r"),
    ("śšşș", "s"),
    ("ŚŠŞȘ", "S"),
    ("ťţț", "t"),
    ("ùúûüūůűų", "u"),
    ("ÙÚÛÜŪŮŰŲ", "U"),
    ("ýÿ", "y"),
    ("Ý", "Y"),
    ("źżž", "z"),
    ("ŹŻŽ", "Z"),
    ("ß", "ss"),
    ("æ", "ae"),
    ("Æ", "AE"),
    ("œ", "oe"),
    ("Œ", "OE"),
    ("‘’‚‛′`", "'"),
    ("“”„‟″«»", "\""),
    ("‐‑‒–—―−", "-"),
    ("…", "..."),
    ("×", "x"),
];

/// One line of printable ASCII: accents folded, typographic quotes and dashes replaced, control
/// characters and any whitespace turned into single spaces, other non-ASCII dropped, trimmed.
pub fn ascii_line(text: &str) -> String {
    fn push(s: &str, out: &mut String) {
        for c in s.chars() {
            if c != ' ' {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with(' ') {
                out.push(' ');
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_graphic() {
            out.push(c);
        } else if c.is_whitespace() || c.is_control() {
            push(" ", &mut out);
        } else if let Some((_, ascii)) = FOLDS.iter().find(|(from, _)| from.contains(c)) {
            push(ascii, &mut out);
        }
    }
    out.trim_end().to_owned()
}

/// Cut `text` (ASCII) to at most `max` characters, ending with `...` when something was cut.
pub fn truncate_ascii(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(3);
    let cut = text.get(..keep).unwrap_or_default().trim_end();
    format!("{cut}...")
}

/// `head` alone, or `head - "quoted..."` with the quoted text shortened to fit [`SUBJECT_MAX`].
pub fn subject_with_quote(head: &str, quoted: &str) -> String {
    let head = truncate_ascii(&ascii_line(head), SUBJECT_MAX);
    let quoted = ascii_line(quoted);
    // ` - ""` around the quote, and room for at least a few characters and the ellipsis.
    let room = SUBJECT_MAX.saturating_sub(head.len() + 5);
    if quoted.is_empty() || room < 8 {
        return head;
    }
    format!("{head} - \"{}\"", truncate_ascii(&quoted, room))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sns_safe(subject: &str) -> bool {
        !subject.is_empty()
            && subject.len() <= SUBJECT_MAX
            && subject.chars().all(|c| c.is_ascii_graphic() || c == ' ')
            && !subject.starts_with(' ')
    }

    #[test]
    fn ascii_line_folds_and_flattens() {
        assert_eq!(ascii_line("café crème"), "cafe creme");
        assert_eq!(ascii_line("“Straße” — naïve…"), "\"Strasse\" - naive...");
        assert_eq!(ascii_line("  a\n\tb\r\n\u{0}c\u{200b}d  "), "a b cd");
        assert_eq!(ascii_line("東京の夜 ☕ at night"), "at night");
        assert_eq!(ascii_line("\u{a0}\u{2003}x"), "x");
        assert_eq!(ascii_line("🚀🚀"), "");
    }

    #[test]
    fn truncation_adds_an_ellipsis_within_the_limit() {
        assert_eq!(truncate_ascii("abcdef", 6), "abcdef");
        assert_eq!(truncate_ascii("abcdefg", 6), "abc...");
        assert_eq!(truncate_ascii("ab    cdefg", 8), "ab...");
    }

    #[test]
    fn subjects_fit_sns() {
        let long = "a lighthouse at dusk, waves crashing on black rocks, ".repeat(10);
        let s = subject_with_quote("imagegen: your image is ready", &long);
        assert!(sns_safe(&s), "{s}");
        assert_eq!(s.len(), SUBJECT_MAX);
        assert!(
            s.starts_with("imagegen: your image is ready - \"a lighthouse at dusk"),
            "{s}"
        );
        assert!(s.ends_with("...\""), "{s}");

        let unicode = "Ein Leuchtturm in der Dämmerung — «très» belle 🌅 東京 ".repeat(8);
        let s = subject_with_quote("imagegen: your image is ready", &unicode);
        assert!(sns_safe(&s), "{s}");
        assert!(s.contains("Dammerung - \"tres\" belle"), "{s}");

        let s = subject_with_quote("imagegen: your image is ready", "東京");
        assert_eq!(s, "imagegen: your image is ready");
        let s = subject_with_quote("imagegen: your image is ready", "\n a cat \n");
        assert_eq!(s, "imagegen: your image is ready - \"a cat\"");
        let s = subject_with_quote(&"x".repeat(200), "prompt");
        assert!(sns_safe(&s), "{s}");
    }
}
