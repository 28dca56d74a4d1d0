//! Object keys: decoding the URL-encoded keys of S3 notifications, and recognising prompt files.

/// Why an encoded key could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// A `%` not followed by two hex digits (at this byte offset of the encoded key).
    BadEscape { offset: usize },
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadEscape { offset } => write!(
                f,
                "the key has an invalid %-escape at byte {offset} (expected % and two hex digits)"
            ),
            Self::NotUtf8 => f.write_str("the decoded key is not valid UTF-8"),
        }
    }
}

/// Decode a key as S3 notifications encode it (form encoding: `+` is a space, `%XX` a byte of the
/// UTF-8 key). Strict: a malformed escape or a non-UTF-8 result is an error, never a guess, because a
/// wrong key would only fail later with a confusing "no such key".
pub fn decode_s3_key(encoded: &str) -> Result<String, KeyError> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|c| hex_value(*c));
                let lo = bytes.get(i + 2).and_then(|c| hex_value(*c));
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(KeyError::BadEscape { offset: i }),
                }
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| KeyError::NotUtf8)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// File extensions of prompt files (compared case-insensitively).
pub const PROMPT_EXTENSIONS: [&str; 2] = ["txt", "json"];

/// `Ok(())` when `key` (decoded) is a prompt file under `prefix`; otherwise why it is not.
pub fn check_prompt_key(key: &str, prefix: &str) -> Result<(), String> {
    if !key.starts_with(prefix) {
        return Err(format!("not under {prefix}"));
    }
    let file_name = key.rsplit('/').next().unwrap_or(key);
    let extension = file_name
        .rsplit_once('.')
        .map(|(stem, ext)| (stem, ext.to_ascii_lowercase()));
    match extension {
        Some((stem, ext)) if !stem.is_empty() && PROMPT_EXTENSIONS.contains(&ext.as_str()) => {
            Ok(())
        }
        _ => Err("not a .txt or .json prompt file".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plus_is_a_space_and_escapes_are_utf8_bytes() {
        assert_eq!(
            decode_s3_key("prompts/my+first+prompt%2C+v2.txt").unwrap(),
            "prompts/my first prompt, v2.txt"
        );
        assert_eq!(
            decode_s3_key("prompts/caf%C3%A9+%E2%98%95.txt").unwrap(),
            "prompts/café ☕.txt"
        );
        assert_eq!(decode_s3_key("a%2Bb%2fc").unwrap(), "a+b/c");
        assert_eq!(decode_s3_key("").unwrap(), "");
    }

    #[test]
    fn bad_escapes_are_errors() {
        assert_eq!(
            decode_s3_key("prompts/%ZZ.txt"),
            Err(KeyError::BadEscape { offset: 8 })
        );
        assert_eq!(decode_s3_key("x%4"), Err(KeyError::BadEscape { offset: 1 }));
        assert_eq!(decode_s3_key("x%"), Err(KeyError::BadEscape { offset: 1 }));
        assert_eq!(decode_s3_key("%C3%28"), Err(KeyError::NotUtf8));
        assert!(
            KeyError::BadEscape { offset: 3 }
                .to_string()
                .contains("invalid %-escape at byte 3")
        );
    }

    #[test]
    fn prompt_keys() {
        let p = "prompts/";
        assert!(check_prompt_key("prompts/a.txt", p).is_ok());
        assert!(check_prompt_key("prompts/sub/dir/a.JSON", p).is_ok());
        assert!(check_prompt_key("prompts/café ☕.Txt", p).is_ok());
        assert_eq!(
            check_prompt_key("other/a.txt", p).unwrap_err(),
            "not under prompts/"
        );
        for key in [
            "prompts/readme.md",
            "prompts/",
            "prompts/.txt",
            "prompts/txt",
            "prompts/a.txt/",
            "prompts/a.txt.bak",
        ] {
            assert!(check_prompt_key(key, p).is_err(), "{key}");
        }
        assert!(check_prompt_key("images/x.png", p).is_err());
    }
}
