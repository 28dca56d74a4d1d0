//! One page of a listing, as S3 computes it: keys in UTF-8 binary order after a starting point,
//! under a prefix, rolled up at a delimiter into common prefixes, which count toward `max-keys`
//! like keys do.

/// What a listing asks for (the same for ListObjects, ListObjectsV2, ListObjectVersions and
/// ListMultipartUploads).
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub prefix: String,
    /// `None` for no delimiter; an empty one is no delimiter either (rclone sends `delimiter=`).
    pub delimiter: Option<String>,
    /// Start after this key (a marker, start-after or decoded continuation token).
    pub after: Option<String>,
    pub max_keys: usize,
}

impl Query {
    pub fn new(
        prefix: Option<String>,
        delimiter: Option<String>,
        after: Option<String>,
        max_keys: Option<i32>,
    ) -> Self {
        Self {
            prefix: prefix.unwrap_or_default(),
            delimiter: delimiter.filter(|d| !d.is_empty()),
            after: after.filter(|a| !a.is_empty()),
            max_keys: clamp_max_keys(max_keys),
        }
    }

    /// Where iteration over the sorted keys starts: after `after`, or at the prefix, whichever
    /// is later.
    pub fn start(&self) -> (std::ops::Bound<&str>, std::ops::Bound<&str>) {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        match &self.after {
            Some(after) if after.as_str() >= self.prefix.as_str() => {
                (Excluded(after.as_str()), Unbounded)
            }
            _ => (Included(self.prefix.as_str()), Unbounded),
        }
    }
}

/// S3's default and largest page.
pub const MAX_KEYS: usize = 1000;

fn clamp_max_keys(max_keys: Option<i32>) -> usize {
    max_keys.map_or(MAX_KEYS, |n| usize::try_from(n).unwrap_or(0).min(MAX_KEYS))
}

/// One line of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry<T> {
    Item(T),
    CommonPrefix(String),
}

/// A page: its entries in order, whether more follow, and the last key or prefix in it (where
/// the next page starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub entries: Vec<Entry<T>>,
    pub truncated: bool,
    pub last: Option<String>,
}

impl<T> Page<T> {
    pub fn items(&self) -> impl Iterator<Item = &T> {
        self.entries.iter().filter_map(|e| match e {
            Entry::Item(t) => Some(t),
            Entry::CommonPrefix(_) => None,
        })
    }

    pub fn common_prefixes(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().filter_map(|e| match e {
            Entry::CommonPrefix(p) => Some(p.as_str()),
            Entry::Item(_) => None,
        })
    }
}

/// The page `query` selects from `items`: sorted by key, starting where [`Query::start`] says.
/// Stops reading `items` once the page is full and one more entry is known to exist, so a page of
/// a huge bucket costs a page's worth of steps (plus the keys rolled into its prefixes).
pub fn page<'a, T>(items: impl Iterator<Item = (&'a str, T)>, query: &Query) -> Page<T> {
    let mut entries = Vec::new();
    let mut last: Option<String> = None;
    let mut truncated = false;
    for (key, item) in items {
        if !key.starts_with(&query.prefix) {
            if key > query.prefix.as_str() {
                break;
            }
            continue;
        }
        if query.after.as_deref().is_some_and(|after| key <= after) {
            continue;
        }
        let rolled = query.delimiter.as_deref().and_then(|d| {
            let rest = &key[query.prefix.len()..];
            rest.find(d)
                .map(|at| key[..query.prefix.len() + at + d.len()].to_owned())
        });
        let entry = match rolled {
            // Keys under a prefix already on this page, or under the one the previous page ended
            // with (the marker), are in it already.
            Some(prefix)
                if last.as_deref() == Some(prefix.as_str())
                    || query.after.as_deref() == Some(prefix.as_str()) =>
            {
                continue;
            }
            Some(prefix) => Entry::CommonPrefix(prefix),
            None => Entry::Item(item),
        };
        if entries.len() == query.max_keys {
            // As S3 (and the Ceph suite) answer `max-keys=0`: nothing, and not truncated.
            truncated = query.max_keys > 0;
            break;
        }
        last = Some(match &entry {
            Entry::CommonPrefix(p) => p.clone(),
            Entry::Item(_) => key.to_owned(),
        });
        entries.push(entry);
    }
    Page {
        entries,
        truncated,
        last,
    }
}

/// `EncodingType=url`: what S3 percent-encodes in a listing (everything but unreserved
/// characters and `/`).
pub fn url_encode(s: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b'/');
    utf8_percent_encode(s, KEEP).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(keys: &[&str], q: &Query) -> (Vec<String>, bool, Option<String>) {
        let mut sorted: Vec<&str> = keys.to_vec();
        sorted.sort_unstable();
        let p = page(sorted.iter().map(|k| (*k, *k)), q);
        let shown = p
            .entries
            .iter()
            .map(|e| match e {
                Entry::Item(k) => (*k).to_owned(),
                Entry::CommonPrefix(p) => format!("[{p}]"),
            })
            .collect();
        (shown, p.truncated, p.last)
    }

    fn q(prefix: &str, delimiter: Option<&str>, after: Option<&str>, max: i32) -> Query {
        Query::new(
            Some(prefix.into()),
            delimiter.map(Into::into),
            after.map(Into::into),
            Some(max),
        )
    }

    const KEYS: &[&str] = &[
        "a/1",
        "a/2",
        "a/b/3",
        "b",
        "c/",
        "c/d",
        "é",
        "foo/bar",
        "foo/bar/xyzzy",
    ];

    #[test]
    fn delimiter_rolls_up_and_counts() {
        let (got, truncated, _) = list(KEYS, &q("", Some("/"), None, 1000));
        assert_eq!(got, ["[a/]", "b", "[c/]", "[foo/]", "é"]);
        assert!(!truncated);
        let (got, truncated, last) = list(KEYS, &q("", Some("/"), None, 2));
        assert_eq!(got, ["[a/]", "b"]);
        assert!(truncated);
        let (got, _, _) = list(KEYS, &q("", Some("/"), last.as_deref(), 2));
        assert_eq!(got, ["[c/]", "[foo/]"]);
        let (got, _, _) = list(KEYS, &q("", Some("/"), Some("a/"), 1000));
        assert_eq!(got, ["b", "[c/]", "[foo/]", "é"]);
    }

    #[test]
    fn empty_delimiter_is_none() {
        let (got, _, _) = list(KEYS, &q("a/", Some(""), None, 1000));
        assert_eq!(got, ["a/1", "a/2", "a/b/3"]);
    }

    #[test]
    fn prefix_and_start_after() {
        let (got, _, _) = list(KEYS, &q("foo/bar", None, None, 1000));
        assert_eq!(got, ["foo/bar", "foo/bar/xyzzy"]);
        let (got, _, _) = list(KEYS, &q("foo/bar/", Some("/"), None, 1000));
        assert_eq!(got, ["foo/bar/xyzzy"]);
        let (got, _, _) = list(KEYS, &q("", None, Some("c/"), 3));
        assert_eq!(got, ["c/d", "foo/bar", "foo/bar/xyzzy"]);
        let (got, truncated, _) = list(KEYS, &q("", None, None, 0));
        assert!(got.is_empty() && !truncated);
        let (got, _, _) = list(&["/a", "/b/c", "x"], &q("/", Some("/"), None, 1000));
        assert_eq!(got, ["/a", "[/b/]"]);
    }

    #[test]
    fn url_encoding() {
        assert_eq!(url_encode("a b/ü+&.txt"), "a%20b/%C3%BC%2B%26.txt");
    }
}
