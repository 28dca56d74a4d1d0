//! ISO-8601 timestamps as Step Functions reads and writes them.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses an ISO-8601 extended offset date-time (`2016-03-14T01:59:00Z`,
/// `...+01:00`, fractional seconds allowed). A missing `T` or offset is invalid.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    if s.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// Formats as AWS does in the context object (`2024-01-01T00:00:00.000Z`).
pub fn format(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn strict_iso() {
        assert!(parse("2016-03-14T01:59:00Z").is_some());
        assert!(parse("2016-03-14T01:59:00.123+01:00").is_some());
        assert!(parse("2016-12-05 21:29:29Z").is_none());
        assert!(parse("2016-12-05T21:29:29").is_none());
        assert!(parse("2016-13-05T21:29:29Z").is_none());
        assert!(parse("05-12-2016T21:29:29Z").is_none());
        assert_eq!(
            format(parse("2016-03-14T01:59:00Z").unwrap()),
            "2016-03-14T01:59:00.000Z"
        );
    }
}
