//! Decoding the URL-encoded object keys of S3 notifications.

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
}
