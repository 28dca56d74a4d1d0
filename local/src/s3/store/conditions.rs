//! Conditional requests (RFC 7232 as S3 applies it): which answer a GET, HEAD, PUT, DELETE or a
//! copy's source gets from `If-Match`, `If-None-Match`, `If-Modified-Since` and
//! `If-Unmodified-Since`.

use s3s::dto::{ETag, ETagCondition, Timestamp};

/// The conditions a request carries.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub if_match: Option<ETagCondition>,
    pub if_none_match: Option<ETagCondition>,
    pub if_modified_since: Option<Timestamp>,
    pub if_unmodified_since: Option<Timestamp>,
}

/// What the conditions say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// 304 for a read (a write treats it as [`Verdict::PreconditionFailed`]).
    NotModified,
    /// 412.
    PreconditionFailed,
    /// 404 `NoSuchKey`: a write with `If-Match` to a key that has no object (S3 documents this
    /// for conditional writes: there is nothing to match).
    NoSuchKey,
}

/// The current state of the target: `None` when there is no object.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub etag: &'a str,
    pub last_modified: &'a Timestamp,
}

fn matches(condition: &ETagCondition, etag: &str) -> bool {
    match condition {
        ETagCondition::Any => true,
        // S3 compares the value only: a weak tag from a client names the same object.
        ETagCondition::ETag(tag) => tag.value() == etag,
    }
}

/// HTTP dates have whole seconds; an object modified at 12:00:00.5 is not modified since 12:00:00.
fn seconds(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none()
            && self.if_none_match.is_none()
            && self.if_modified_since.is_none()
            && self.if_unmodified_since.is_none()
    }

    /// For GET and HEAD (and a copy's source), in RFC 7232 section 6's order: a date condition
    /// is consulted only when its entity-tag counterpart is absent. So `If-Match` true with
    /// `If-Unmodified-Since` false proceeds, and `If-None-Match` matching (false) answers 304
    /// whatever `If-Modified-Since` says, as S3 documents.
    pub fn for_read(&self, current: Current<'_>) -> Verdict {
        match (&self.if_match, &self.if_unmodified_since) {
            (Some(condition), _) if !matches(condition, current.etag) => {
                return Verdict::PreconditionFailed;
            }
            (None, Some(since)) if seconds(current.last_modified) > seconds(since) => {
                return Verdict::PreconditionFailed;
            }
            _ => {}
        }
        match (&self.if_none_match, &self.if_modified_since) {
            (Some(condition), _) if matches(condition, current.etag) => Verdict::NotModified,
            (None, Some(since)) if seconds(current.last_modified) <= seconds(since) => {
                Verdict::NotModified
            }
            _ => Verdict::Proceed,
        }
    }

    /// For a write or delete of a key whose current object is `current` (`None`: no object).
    /// `If-None-Match: *` fails when there is an object; `If-Match` when its ETag differs, and
    /// with [`Verdict::NoSuchKey`] when there is none.
    pub fn for_write(&self, current: Option<Current<'_>>) -> Verdict {
        if let Some(condition) = &self.if_match {
            match current {
                Some(c) if matches(condition, c.etag) => {}
                Some(_) => return Verdict::PreconditionFailed,
                None => return Verdict::NoSuchKey,
            }
        }
        if let Some(condition) = &self.if_none_match
            && let Some(c) = current
            && matches(condition, c.etag)
        {
            return Verdict::PreconditionFailed;
        }
        Verdict::Proceed
    }
}

/// The ETag as S3 shows it (quoted by s3s).
pub fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from(time::OffsetDateTime::from_unix_timestamp(secs).unwrap())
    }

    fn tag(v: &str) -> Option<ETagCondition> {
        Some(ETagCondition::ETag(ETag::Strong(v.to_owned())))
    }

    #[test]
    fn read_conditions_follow_rfc_7232() {
        let modified = at(1_000);
        let now = Current {
            etag: "abc",
            last_modified: &modified,
        };
        let c = |f: fn(&mut Conditions)| {
            let mut c = Conditions::default();
            f(&mut c);
            c.for_read(now)
        };
        assert_eq!(c(|_| {}), Verdict::Proceed);
        assert_eq!(c(|c| c.if_match = tag("abc")), Verdict::Proceed);
        assert_eq!(c(|c| c.if_match = tag("zzz")), Verdict::PreconditionFailed);
        assert_eq!(c(|c| c.if_none_match = tag("abc")), Verdict::NotModified);
        assert_eq!(c(|c| c.if_none_match = tag("zzz")), Verdict::Proceed);
        assert_eq!(
            c(|c| c.if_modified_since = Some(at(1_000))),
            Verdict::NotModified
        );
        assert_eq!(c(|c| c.if_modified_since = Some(at(999))), Verdict::Proceed);
        assert_eq!(
            c(|c| c.if_unmodified_since = Some(at(999))),
            Verdict::PreconditionFailed
        );
        assert_eq!(
            c(|c| c.if_unmodified_since = Some(at(1_000))),
            Verdict::Proceed
        );
        // If-Match true and If-Unmodified-Since false: 200.
        assert_eq!(
            c(|c| {
                c.if_match = tag("abc");
                c.if_unmodified_since = Some(at(1));
            }),
            Verdict::Proceed
        );
        // If-None-Match false (the tag matches) and If-Modified-Since true (modified): 304.
        assert_eq!(
            c(|c| {
                c.if_none_match = tag("abc");
                c.if_modified_since = Some(at(999));
            }),
            Verdict::NotModified
        );
        // If-None-Match true decides alone: the date is not consulted.
        assert_eq!(
            c(|c| {
                c.if_none_match = tag("zzz");
                c.if_modified_since = Some(at(2_000));
            }),
            Verdict::Proceed
        );
    }

    #[test]
    fn write_conditions() {
        let modified = at(1);
        let now = Current {
            etag: "abc",
            last_modified: &modified,
        };
        let any = Conditions {
            if_none_match: Some(ETagCondition::Any),
            ..Conditions::default()
        };
        assert_eq!(any.for_write(None), Verdict::Proceed);
        assert_eq!(any.for_write(Some(now)), Verdict::PreconditionFailed);
        let if_match = Conditions {
            if_match: tag("abc"),
            ..Conditions::default()
        };
        assert_eq!(if_match.for_write(Some(now)), Verdict::Proceed);
        assert_eq!(if_match.for_write(None), Verdict::NoSuchKey);
        let other = Conditions {
            if_match: tag("zzz"),
            ..Conditions::default()
        };
        assert_eq!(other.for_write(Some(now)), Verdict::PreconditionFailed);
    }
}
