//! HTML for the console's pages: every piece of text from outside (prompts, causes, file names,
//! email bodies, state names) goes through [`esc`] before it is written into a page, in text and
//! in attribute values alike (both are quoted with `"`).

use std::fmt::Write as _;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::PREFIX;

/// `text` safe inside HTML text and inside a quoted attribute value.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a path segment may hold unencoded (RFC 3986 unreserved characters).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `text` as one URL path segment or query value.
pub fn url_part(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// The console URL of execution `name` (with `suffix`, e.g. `/events`).
pub fn execution_url(name: &str, suffix: &str) -> String {
    format!("{PREFIX}executions/{}{suffix}", url_part(name))
}

/// Which page a document is, for the script (`data-page`) and the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Executions,
    Execution,
    Start,
    Outbox,
    StateMachine,
    Refused,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Executions => "executions",
            Self::Execution => "execution",
            Self::Start => "start",
            Self::Outbox => "outbox",
            Self::StateMachine => "state-machine",
            Self::Refused => "refused",
        }
    }
}

/// A whole page: the head (stylesheet, script, the CSRF token for the script's POSTs), the
/// navigation, and `main` (already HTML).
pub fn page(kind: Kind, title: &str, csrf: &str, main: &str) -> String {
    let nav = [
        (Kind::Executions, "", "Executions"),
        (Kind::Start, "start", "Start execution"),
        (Kind::Outbox, "outbox", "Outbox"),
        (Kind::StateMachine, "state-machine", "State machine"),
    ]
    .iter()
    .fold(String::new(), |mut out, (k, path, label)| {
        let current = if *k == kind {
            r#" aria-current="page""#
        } else {
            ""
        };
        let _ = write!(out, r#"<a href="{PREFIX}{path}"{current}>{label}</a>"#);
        out
    });
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{csrf}">
<title>{title} · imagegen console</title>
<link rel="icon" href="{PREFIX}assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{PREFIX}assets/console.css">
<script src="{PREFIX}assets/console.js" defer></script>
</head>
<body data-page="{kind}">
<header class="top"><a class="brand" href="{PREFIX}">imagegen <span>offline console</span></a><nav>{nav}</nav></header>
<main id="main">
{main}
</main>
</body>
</html>
"#,
        csrf = esc(csrf),
        title = esc(title),
        kind = kind.name(),
    )
}

/// A status as a coloured label (`RUNNING`, `SUCCEEDED`, ...).
pub fn badge(status: &str) -> String {
    format!(
        r#"<span class="badge status-{}">{}</span>"#,
        esc(&status.to_ascii_lowercase()),
        esc(status)
    )
}

/// Text in a `<pre>` block, with `http://` and `https://` addresses made links (the rest escaped).
pub fn linked_text(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = find_url(rest) {
        out.push_str(&esc(&rest[..at]));
        let url_len = rest[at..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .unwrap_or(rest.len() - at);
        let url = &rest[at..at + url_len];
        let _ = write!(out, r#"<a href="{0}">{0}</a>"#, esc(url));
        rest = &rest[at + url_len..];
    }
    out.push_str(&esc(rest));
    out
}

fn find_url(text: &str) -> Option<usize> {
    match (text.find("http://"), text.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A duration in seconds for people: `850 ms`, `2.4 s`, `3 min 5 s`.
pub fn duration(seconds: f64) -> String {
    if seconds < 1.0 {
        format!("{:.0} ms", seconds * 1000.0)
    } else if seconds < 60.0 {
        format!("{seconds:.1} s")
    } else {
        let whole = seconds.round() as u64;
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

/// An RFC 3339 time as `2026-12-01 21:02:06` (UTC), or the text as given.
pub fn time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => rfc3339.to_owned(),
    }
}

/// JSON text pretty-printed when it parses, else as given.
pub fn pretty_json(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_shown_as_text() {
        let hostile = r#"<img src=x onerror=alert(1)> & "quoted" 'single'"#;
        let shown = esc(hostile);
        assert_eq!(
            shown,
            "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;single&#39;"
        );
        assert!(!shown.contains('<') && !shown.contains('"'));
    }

    #[test]
    fn links_in_text_are_links_and_the_rest_is_escaped() {
        let body = "See <b>this</b>: http://127.0.0.1:4566/b/k.png?x=1&y=2\n  S3: s3://b/k.png";
        assert_eq!(
            linked_text(body),
            "See &lt;b&gt;this&lt;/b&gt;: <a href=\"http://127.0.0.1:4566/b/k.png?x=1&amp;y=2\">\
             http://127.0.0.1:4566/b/k.png?x=1&amp;y=2</a>\n  S3: s3://b/k.png"
        );
        // A quote ends an address: it cannot break out of the attribute.
        assert_eq!(
            linked_text(r#"http://x/"onmouseover="alert(1)"#),
            "<a href=\"http://x/\">http://x/</a>&quot;onmouseover=&quot;alert(1)"
        );
        // Only http(s) addresses become links.
        assert_eq!(linked_text("javascript:alert(1)"), "javascript:alert(1)");
    }

    #[test]
    fn names_in_urls_are_encoded() {
        assert_eq!(
            execution_url("run-1", "/events"),
            "/console/executions/run-1/events"
        );
        assert_eq!(
            execution_url("a b/../\"x", ""),
            "/console/executions/a%20b%2F..%2F%22x"
        );
    }

    #[test]
    fn durations_and_times_for_people() {
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(2.44), "2.4 s");
        assert_eq!(duration(185.0), "3 min 5 s");
        assert_eq!(time("2026-12-01T21:02:06.778Z"), "2026-12-01 21:02:06 UTC");
        assert_eq!(time("soon"), "soon");
    }
}
