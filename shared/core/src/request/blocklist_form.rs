//! The form text is compared in when matching the blocklist, so a term cannot slip through by being
//! written differently: Unicode NFKC (full-width `ｇｏｒｅ` is `gore`, ligatures are split), invisible
//! characters dropped (format characters such as the zero-width space and the soft hyphen, and every
//! other default-ignorable code point), common Cyrillic and Greek look-alikes mapped to the Latin
//! letters they imitate (`gоre` with a Cyrillic `о`), lower case.
//!
//! Only matching uses this form: the prompt sent to the model is left as the person wrote it (after
//! [`super::text::normalise`]).

use icu_normalizer::ComposingNormalizerBorrowed;
use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Cyrillic and Greek letters that look like a Latin letter in common fonts (from Unicode's
/// confusables list, the lower-case forms; upper case is lowered before the lookup).
const LOOK_ALIKES: &[(char, char)] = &[
    // Cyrillic
    ('а', 'a'),
    ('в', 'b'),
    ('с', 'c'),
    ('ԁ', 'd'),
    ('е', 'e'),
    ('ё', 'e'),
    ('һ', 'h'),
    ('н', 'h'),
    ('і', 'i'),
    ('ї', 'i'),
    ('ј', 'j'),
    ('к', 'k'),
    ('ӏ', 'l'),
    ('м', 'm'),
    ('п', 'n'),
    ('о', 'o'),
    ('р', 'p'),
    ('ԛ', 'q'),
    ('г', 'r'),
    ('ѕ', 's'),
    ('т', 't'),
    ('ц', 'u'),
    ('ѵ', 'v'),
    ('ԝ', 'w'),
    ('х', 'x'),
    ('у', 'y'),
    ('ү', 'y'),
    // Greek
    ('α', 'a'),
    ('β', 'b'),
    ('ε', 'e'),
    ('η', 'n'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('μ', 'u'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('τ', 't'),
    ('υ', 'u'),
    ('χ', 'x'),
    ('γ', 'y'),
    ('ζ', 'z'),
];

/// `text` in the form blocklist matching compares.
pub fn fold(text: &str) -> String {
    let nfkc = ComposingNormalizerBorrowed::new_nfkc().normalize(text);
    let category = CodePointMapData::<GeneralCategory>::new();
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    nfkc.chars()
        .filter(|&c| category.get(c) != GeneralCategory::Format && !ignorable.contains(c))
        .flat_map(char::to_lowercase)
        .map(|c| {
            LOOK_ALIKES
                .iter()
                .find(|(from, _)| *from == c)
                .map_or(c, |(_, to)| *to)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disguised_spellings_fold_to_the_plain_word() {
        for disguised in [
            "gore",
            "GORE",
            "go\u{200b}re",         // zero-width space
            "g\u{ad}ore",           // soft hyphen
            "g\u{2060}o\u{feff}re", // word joiner, zero-width no-break space
            "ｇｏｒｅ",             // full-width
            "ＧＯＲＥ",
            "gоrе",        // Cyrillic о and е
            "GОRЕ",        // Cyrillic upper case О and Е
            "gοre",        // Greek ο
            "g\u{34f}ore", // combining grapheme joiner (default-ignorable)
        ] {
            assert_eq!(fold(disguised), "gore", "{disguised:?}");
        }
    }

    #[test]
    fn ordinary_text_is_only_lowered() {
        assert_eq!(fold("A Lighthouse at Dusk"), "a lighthouse at dusk");
        assert_eq!(fold("café crème"), "café crème");
        assert_eq!(fold("東京の夜"), "東京の夜");
        assert_eq!(fold("ﬁre"), "fire");
    }
}
