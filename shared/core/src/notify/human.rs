//! Small formatting helpers for the emails.

use std::time::Duration;

/// `s3://bucket/key`.
pub fn s3_uri(bucket: &str, key: &str) -> String {
    format!("s3://{bucket}/{key}")
}

/// "1 hour", "1 hour 30 minutes", "45 seconds".
pub fn human_duration(duration: Duration) -> String {
    let total = duration.as_secs();
    let parts = [
        (total / 3600, "hour"),
        (total % 3600 / 60, "minute"),
        (total % 60, "second"),
    ];
    let words: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}{}", if *n == 1 { "" } else { "s" }))
        .collect();
    if words.is_empty() {
        "0 seconds".to_owned()
    } else {
        words.join(" ")
    }
}

/// Milliseconds as seconds with one decimal: "8.2 s".
pub fn seconds(millis: u64) -> String {
    format!("{}.{} s", millis / 1000, millis % 1000 / 100)
}

/// "1.2 MB", "350 KB", "900 bytes" (decimal units).
pub fn human_bytes(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{}.{} MB", bytes / 1_000_000, bytes % 1_000_000 / 100_000)
    } else if bytes >= 1_000 {
        format!("{} KB", bytes / 1_000)
    } else {
        format!("{bytes} bytes")
    }
}

/// At most `max` characters of `text`, cut on a character boundary, with `…` when cut.
pub fn cap_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
    }
}

/// `n thing` or `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_secs(3600)), "1 hour");
        assert_eq!(human_duration(Duration::from_secs(43_200)), "12 hours");
        assert_eq!(
            human_duration(Duration::from_secs(5400)),
            "1 hour 30 minutes"
        );
        assert_eq!(human_duration(Duration::from_secs(60)), "1 minute");
        assert_eq!(
            human_duration(Duration::from_secs(3661)),
            "1 hour 1 minute 1 second"
        );
        assert_eq!(human_duration(Duration::ZERO), "0 seconds");
    }

    #[test]
    fn numbers() {
        assert_eq!(seconds(8_234), "8.2 s");
        assert_eq!(seconds(45), "0.0 s");
        assert_eq!(human_bytes(1_234_567), "1.2 MB");
        assert_eq!(human_bytes(350_100), "350 KB");
        assert_eq!(human_bytes(900), "900 bytes");
        assert_eq!(plural(1, "image"), "1 image");
        assert_eq!(plural(3, "image"), "3 images");
        assert_eq!(s3_uri("b", "k/x.png"), "s3://b/k/x.png");
    }

    #[test]
    fn capping_respects_char_boundaries() {
        assert_eq!(cap_chars("héllo", 10), "héllo");
        assert_eq!(cap_chars("héllo", 2), "hé…");
        assert_eq!(cap_chars("☕☕☕", 1), "☕…");
    }
}
