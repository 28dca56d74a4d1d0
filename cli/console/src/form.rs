//! `application/x-www-form-urlencoded` bodies and query strings.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;

/// The fields of a form body or query string; a field given twice keeps its first value.
pub fn fields(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(decode(name)).or_insert_with(|| decode(value));
    }
    out
}

/// One value: `+` is a space, `%XX` a byte; bytes that are not UTF-8 become U+FFFD.
pub fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_decoded() {
        let f = fields("input=%7B%22prompt%22%3A%22a+b%22%7D&name=&csrf=t&csrf=other&flag");
        assert_eq!(f["input"], r#"{"prompt":"a b"}"#);
        assert_eq!(f["name"], "");
        assert_eq!(f["csrf"], "t");
        assert_eq!(f["flag"], "");
        assert_eq!(decode("caf%C3%A9%2B"), "café+");
        assert_eq!(decode("%FF"), "\u{fffd}");
    }
}
