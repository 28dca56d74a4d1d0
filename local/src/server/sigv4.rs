//! AWS Signature Version 4, checked on the server side for the services the server answers itself
//! (Step Functions, SNS, ...). S3 requests are checked by s3s, which knows S3's variants (chunked
//! payloads, POST policies).
//!
//! A signed request carries its credential scope (`KEY/DATE/REGION/SERVICE/aws4_request`) either in
//! the `Authorization` header or, for a presigned URL, in the `X-Amz-*` query parameters. The
//! server rebuilds the canonical request from what it received, derives the signing key from the
//! secret of the named access key and compares signatures. The steps and names follow the IAM User
//! Guide ("Create a signed AWS API request"); the tests hold the code to its published examples.

use std::time::{Duration, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use hmac::{Hmac, Mac};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

/// The only algorithm SigV4 has.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a request's date may be from the server's clock (AWS allows 15 minutes).
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// The longest a presigned URL may live (7 days).
pub const MAX_EXPIRES_SECONDS: u64 = 7 * 24 * 3600;

/// The credential scope of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub access_key: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Scope {
    /// `KEY/YYYYMMDD/REGION/SERVICE/aws4_request`.
    fn parse(credential: &str) -> Option<Self> {
        let mut parts = credential.rsplitn(5, '/');
        let terminator = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let date = parts.next()?;
        let access_key = parts.next()?;
        (terminator == "aws4_request" && !access_key.is_empty() && !service.is_empty()).then(|| {
            Self {
                access_key: access_key.to_owned(),
                date: date.to_owned(),
                region: region.to_owned(),
                service: service.to_owned(),
            }
        })
    }

    /// `YYYYMMDD/REGION/SERVICE/aws4_request`, as in the string to sign.
    fn text(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Where a request's signature was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
    Header,
    /// A presigned URL: `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, ... in the query.
    Query { expires_seconds: u64 },
}

/// A signature as the request states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub scope: Scope,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// Lower-case header names, in the order given.
    pub signed_headers: Vec<String>,
    /// Lower-case hex.
    pub signature: String,
    pub placement: Placement,
}

/// Why a request's signature is not accepted. The server answers each with the error code of the
/// service's protocol (see `protocol.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// The request is not signed.
    Missing,
    /// The signature is there but cannot be read (a part missing, another algorithm).
    Incomplete(String),
    /// The access key is not the local one.
    UnknownAccessKey(String),
    /// The signature does not match the request.
    Mismatch,
    /// A temporary key's session token (`X-Amz-Security-Token`) is missing or not its own.
    InvalidToken,
    /// The request's date is too far from now, or a presigned URL has expired.
    Expired(String),
}

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("Missing Authentication Token"),
            Self::Incomplete(why) => f.write_str(why),
            Self::UnknownAccessKey(_) | Self::InvalidToken => {
                f.write_str("The security token included in the request is invalid.")
            }
            Self::Mismatch => f.write_str(
                "The request signature we calculated does not match the signature you provided. \
                 Check your AWS Secret Access Key and signing method. Consult the service \
                 documentation for details.",
            ),
            Self::Expired(why) => f.write_str(why),
        }
    }
}

/// What the canonical request is built from: the request as received.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The path as it arrived (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    /// Header names in any case; a name may repeat.
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body (or `UNSIGNED-PAYLOAD` where the service allows it).
    pub payload_hash: &'a str,
}

impl Request<'_> {
    fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn query_param(&self, name: &str) -> Option<String> {
        query_pairs(self.query.unwrap_or(""))
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// The service named by a request's credential scope, if it has one: the routing key.
pub fn scope_service(authorization: Option<&str>, query: Option<&str>) -> Option<String> {
    scope_of(authorization, query).map(|s| s.service)
}

/// The Region named by a request's credential scope, if it has one: where the client meant to
/// call (one endpoint stands in for every Region of a service that is called in several).
pub fn scope_region(authorization: Option<&str>, query: Option<&str>) -> Option<String> {
    scope_of(authorization, query).map(|s| s.region)
}

fn scope_of(authorization: Option<&str>, query: Option<&str>) -> Option<Scope> {
    if let Some(header) = authorization {
        return header_fields(header).ok().map(|(scope, _, _)| scope);
    }
    let credential = query_pairs(query?)
        .into_iter()
        .find(|(k, _)| k == "X-Amz-Credential")?
        .1;
    Scope::parse(&credential)
}

/// The signature a request states (header first, then query).
pub fn read(request: &Request<'_>) -> Result<Signature, AuthError> {
    if let Some(header) = request.header_values("authorization").first() {
        let (scope, signed_headers, signature) = header_fields(header)?;
        let amz_date = request
            .header_values("x-amz-date")
            .first()
            .map(|d| (*d).to_owned())
            .ok_or_else(|| {
                AuthError::Incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                        .to_owned(),
                )
            })?;
        return Ok(Signature {
            scope,
            amz_date,
            signed_headers,
            signature,
            placement: Placement::Header,
        });
    }
    let Some(credential) = request.query_param("X-Amz-Credential") else {
        return Err(AuthError::Missing);
    };
    let field = |name: &str| {
        request.query_param(name).ok_or_else(|| {
            AuthError::Incomplete(format!(
                "AWS query-string parameters must include '{name}'."
            ))
        })
    };
    if field("X-Amz-Algorithm")? != ALGORITHM {
        return Err(AuthError::Incomplete(format!(
            "X-Amz-Algorithm only supports '{ALGORITHM}'."
        )));
    }
    let scope = Scope::parse(&credential).ok_or_else(|| {
        AuthError::Incomplete(format!(
            "Credential '{credential}' is not KEY/DATE/REGION/SERVICE/aws4_request."
        ))
    })?;
    let expires_seconds = field("X-Amz-Expires")?.parse::<u64>().map_err(|_| {
        AuthError::Incomplete("X-Amz-Expires must be a number of seconds.".to_owned())
    })?;
    Ok(Signature {
        scope,
        amz_date: field("X-Amz-Date")?,
        signed_headers: split_signed_headers(&field("X-Amz-SignedHeaders")?),
        signature: field("X-Amz-Signature")?,
        placement: Placement::Query { expires_seconds },
    })
}

/// Check `signature` against `request`, with the secret of its access key from `secret_of`, at the
/// time `now`.
pub fn verify(
    request: &Request<'_>,
    signature: &Signature,
    secret_of: impl Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Result<(), AuthError> {
    let secret = secret_of(&signature.scope.access_key)
        .ok_or_else(|| AuthError::UnknownAccessKey(signature.scope.access_key.clone()))?;
    check_time(signature, now)?;
    let canonical = canonical_request(request, signature);
    let expected = sign(&secret, signature, &canonical);
    if constant_time_eq(expected.as_bytes(), signature.signature.as_bytes()) {
        Ok(())
    } else {
        Err(AuthError::Mismatch)
    }
}

/// What a signature must cover here beyond matching: the `host` header (so a request signed for
/// one address is not good at another, and a page that rebinds a name cannot reuse it), and a scope
/// in `region`, the only Region these stand-ins are in.
pub fn check_scope(signature: &Signature, region: &str) -> Result<(), AuthError> {
    check_host(signature)?;
    if signature.scope.region != region {
        return Err(AuthError::Incomplete(format!(
            "Credential should be scoped to a valid region: this endpoint is in '{region}', not \
             '{}'.",
            signature.scope.region
        )));
    }
    Ok(())
}

/// That a signature covers the `host` header (for a service served in every Region, whose scope
/// may name any).
pub fn check_host(signature: &Signature) -> Result<(), AuthError> {
    if signature.signed_headers.iter().any(|h| h == "host") {
        return Ok(());
    }
    Err(AuthError::Incomplete(
        "The signed headers must include host (SignedHeaders names the headers the signature \
         covers)."
            .to_owned(),
    ))
}

fn check_time(signature: &Signature, now: SystemTime) -> Result<(), AuthError> {
    let signed_at = parse_amz_date(&signature.amz_date).ok_or_else(|| {
        AuthError::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{}'.",
            signature.amz_date
        ))
    })?;
    if !signature.amz_date.starts_with(&signature.scope.date) {
        return Err(AuthError::Incomplete(format!(
            "Credential should be scoped to a valid date '{}', not '{}'.",
            &signature.amz_date[..8],
            signature.scope.date
        )));
    }
    let now_secs = DateTime::from(now).secs();
    let skew = MAX_SKEW.as_secs() as i64;
    match signature.placement {
        Placement::Header if (now_secs - signed_at).abs() > skew => {
            Err(AuthError::Expired(format!(
                "Signature expired: {} is now earlier than {} ({} - 15 min.)",
                signature.amz_date,
                amz_date(now_secs - skew),
                amz_date(now_secs)
            )))
        }
        Placement::Query { expires_seconds } if expires_seconds > MAX_EXPIRES_SECONDS => {
            Err(AuthError::Incomplete(format!(
                "X-Amz-Expires must be less than a week (in seconds) that is 604800; got {expires_seconds}."
            )))
        }
        Placement::Query { expires_seconds } if now_secs > signed_at + expires_seconds as i64 => {
            Err(AuthError::Expired("Request has expired".to_owned()))
        }
        Placement::Query { .. } if signed_at - now_secs > skew => {
            Err(AuthError::Expired("Request is not yet valid".to_owned()))
        }
        _ => Ok(()),
    }
}

/// The canonical request (the IAM guide's step 1) for a service other than S3: the path is
/// URI-encoded once more, as every service but S3 signs it.
pub fn canonical_request(request: &Request<'_>, signature: &Signature) -> String {
    canonical_request_with(request, signature, &uri_encode(request.path, true))
}

fn canonical_request_with(
    request: &Request<'_>,
    signature: &Signature,
    canonical_uri: &str,
) -> String {
    let skip_signature = matches!(signature.placement, Placement::Query { .. });
    let mut pairs: Vec<(String, String)> = query_pairs(request.query.unwrap_or(""))
        .into_iter()
        .filter(|(k, _)| !(skip_signature && k == "X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(&k, false), uri_encode(&v, false)))
        .collect();
    pairs.sort();
    let query = pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut headers = String::new();
    for name in &signature.signed_headers {
        let values: Vec<String> = request
            .header_values(name)
            .iter()
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    format!(
        "{}\n{canonical_uri}\n{query}\n{headers}\n{}\n{}",
        request.method,
        signature.signed_headers.join(";"),
        request.payload_hash
    )
}

/// The string to sign (step 2): algorithm, date, scope and the canonical request's hash.
pub fn string_to_sign(signature: &Signature, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}\n{}",
        signature.amz_date,
        signature.scope.text(),
        sha256_hex(canonical_request.as_bytes())
    )
}

/// The signing key (step 3): `AWS4` + secret, HMAC'd with date, region, service, `aws4_request`.
pub fn signing_key(secret: &str, scope: &Scope) -> Vec<u8> {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in [&scope.date, &scope.region, &scope.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    key
}

/// The signature (step 4), lower-case hex.
pub fn sign(secret: &str, signature: &Signature, canonical_request: &str) -> String {
    let key = signing_key(secret, &signature.scope);
    hex::encode(hmac(
        &key,
        string_to_sign(signature, canonical_request).as_bytes(),
    ))
}

/// Hex SHA-256, as the payload hash and the string to sign use it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // `new_from_slice` accepts keys of any length for HMAC; the error arm cannot happen.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `Credential=...`, `SignedHeaders=...`, `Signature=...` of an `Authorization` header.
fn header_fields(header: &str) -> Result<(Scope, Vec<String>, String), AuthError> {
    let Some(rest) = header.trim().strip_prefix(ALGORITHM) else {
        return Err(AuthError::Incomplete(format!(
            "Authorization header must use {ALGORITHM}."
        )));
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v.trim()),
            Some(("SignedHeaders", v)) => signed_headers = Some(v.trim()),
            Some(("Signature", v)) => signature = Some(v.trim()),
            _ => {}
        }
    }
    let missing = |what: &str| {
        AuthError::Incomplete(format!(
            "Authorization header requires '{what}' parameter. Authorization={}",
            header.trim()
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let scope = Scope::parse(credential).ok_or_else(|| {
        AuthError::Incomplete(format!(
            "Credential '{credential}' is not KEY/DATE/REGION/SERVICE/aws4_request."
        ))
    })?;
    let signed_headers =
        split_signed_headers(signed_headers.ok_or_else(|| missing("SignedHeaders"))?);
    let signature = signature.ok_or_else(|| missing("Signature"))?.to_owned();
    Ok((scope, signed_headers, signature))
}

fn split_signed_headers(list: &str) -> Vec<String> {
    list.split(';')
        .filter(|h| !h.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// A raw query string as decoded (name, value) pairs (`+` stays `+`: SigV4 clients encode spaces as
/// `%20`).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// SigV4's URI encoding: unreserved characters as they are, every other byte as `%XX` (upper
/// case); `/` kept when `keep_slash`.
pub fn uri_encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether `query` is a presigned URL's that expired before `now` (its `X-Amz-Date` plus
/// `X-Amz-Expires`, a negative expiry included), for services that check signatures elsewhere
/// (S3, in `s3s`) but answer an expired link as S3 does: 403 `AccessDenied`.
pub fn presign_has_expired(query: &str, now: SystemTime) -> bool {
    let pairs = query_pairs(query);
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(date), Some(expires)) = (value("X-Amz-Date"), value("X-Amz-Expires")) else {
        return false;
    };
    let (Some(signed_at), Ok(expires)) = (parse_amz_date(date), expires.parse::<i64>()) else {
        return false;
    };
    expires < 0 || DateTime::from(now).secs() > signed_at.saturating_add(expires)
}

/// `YYYYMMDDTHHMMSSZ` as seconds since the epoch.
fn parse_amz_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' || !digits(0..8) || !digits(9..15) {
        return None;
    }
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    );
    DateTime::from_str(&rfc3339, Format::DateTime)
        .ok()
        .map(|d| d.secs())
}

fn amz_date(secs: i64) -> String {
    DateTime::from_secs(secs)
        .fmt(Format::DateTime)
        .map(|t| t.replace(['-', ':'], ""))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn at(amz: &str) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(parse_amz_date(amz).unwrap() as u64)
    }

    const DOC_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// The IAM User Guide's example: `GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08`
    /// signed by AKIDEXAMPLE on 2015-08-30, and its published signature.
    #[test]
    fn expired_presigned_queries_are_told_apart() {
        let now = at("20260101T120000Z");
        let q = |date: &str, expires: &str| {
            format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={date}&X-Amz-Expires={expires}")
        };
        assert!(!presign_has_expired(&q("20260101T115000Z", "900"), now));
        assert!(presign_has_expired(&q("20260101T114000Z", "900"), now));
        assert!(presign_has_expired(&q("20260101T120000Z", "-1000"), now));
        assert!(!presign_has_expired("list-type=2", now));
        assert!(!presign_has_expired(&q("garbage", "900"), now));
    }

    #[test]
    fn the_iam_guide_example_verifies() {
        let h = headers(&[
            ("Host", "iam.amazonaws.com"),
            (
                "Content-Type",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
                 SignedHeaders=content-type;host;x-amz-date, \
                 Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
            ),
        ]);
        let empty = sha256_hex(b"");
        let request = Request {
            method: "GET",
            path: "/",
            query: Some("Action=ListUsers&Version=2010-05-08"),
            headers: &h,
            payload_hash: &empty,
        };
        let signature = read(&request).unwrap();
        assert_eq!(signature.scope.service, "iam");
        // The guide's intermediate values: the canonical request's hash and the signing key.
        let canonical = canonical_request(&request, &signature);
        assert_eq!(
            sha256_hex(canonical.as_bytes()),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            hex::encode(signing_key(DOC_SECRET, &signature.scope)),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
        let secret = |key: &str| (key == "AKIDEXAMPLE").then(|| DOC_SECRET.to_owned());
        assert_eq!(
            verify(&request, &signature, secret, at("20150830T123600Z")),
            Ok(())
        );
        // One changed byte anywhere in what is signed breaks it.
        let tampered = Request {
            query: Some("Action=ListUsers&Version=2010-05-09"),
            ..request
        };
        assert_eq!(
            verify(&tampered, &signature, secret, at("20150830T123600Z")),
            Err(AuthError::Mismatch)
        );
        assert_eq!(
            verify(
                &request,
                &signature,
                |_| Some("wrong".to_owned()),
                at("20150830T123600Z")
            ),
            Err(AuthError::Mismatch)
        );
        assert_eq!(
            verify(&request, &signature, |_| None, at("20150830T123600Z")),
            Err(AuthError::UnknownAccessKey("AKIDEXAMPLE".to_owned()))
        );
        assert!(matches!(
            verify(&request, &signature, secret, at("20150830T130000Z")),
            Err(AuthError::Expired(_))
        ));
    }

    /// The S3 API Reference's example (`GET /test.txt` with a Range header, 2013-05-24): its
    /// signature, from the same steps with S3's single URI encoding.
    #[test]
    fn the_s3_reference_example_signs_the_same() {
        let h = headers(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            (
                "x-amz-content-sha256",
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            ),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let empty = sha256_hex(b"");
        let request = Request {
            method: "GET",
            path: "/test.txt",
            query: None,
            headers: &h,
            payload_hash: &empty,
        };
        let signature = Signature {
            scope: Scope::parse("AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request").unwrap(),
            amz_date: "20130524T000000Z".to_owned(),
            signed_headers: split_signed_headers("host;range;x-amz-content-sha256;x-amz-date"),
            signature: String::new(),
            placement: Placement::Header,
        };
        let canonical = canonical_request_with(&request, &signature, request.path);
        assert_eq!(
            sign(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                &signature,
                &canonical
            ),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    #[test]
    fn presigned_query_signatures_round_trip() {
        let h = headers(&[("host", "127.0.0.1:4566")]);
        let query_without = "Action=ListTopics&X-Amz-Algorithm=AWS4-HMAC-SHA256\
            &X-Amz-Credential=KEY%2F20240101%2Fus-east-1%2Fsns%2Faws4_request\
            &X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host";
        let empty = sha256_hex(b"");
        let unsigned = Request {
            method: "GET",
            path: "/",
            query: Some(query_without),
            headers: &h,
            payload_hash: &empty,
        };
        let mut signature = read(&unsigned).unwrap_err();
        assert!(
            matches!(signature, AuthError::Incomplete(_)),
            "{signature:?}"
        );
        let mut stated = Signature {
            scope: Scope::parse("KEY/20240101/us-east-1/sns/aws4_request").unwrap(),
            amz_date: "20240101T000000Z".to_owned(),
            signed_headers: vec!["host".to_owned()],
            signature: String::new(),
            placement: Placement::Query {
                expires_seconds: 60,
            },
        };
        let good = sign("secret", &stated, &canonical_request(&unsigned, &stated));
        let query = format!("{query_without}&X-Amz-Signature={good}");
        let request = Request {
            query: Some(&query),
            ..unsigned
        };
        stated = read(&request).unwrap();
        let secret = |_: &str| Some("secret".to_owned());
        assert_eq!(
            verify(&request, &stated, secret, at("20240101T000030Z")),
            Ok(())
        );
        signature = verify(&request, &stated, secret, at("20240101T000200Z")).unwrap_err();
        assert_eq!(
            signature,
            AuthError::Expired("Request has expired".to_owned())
        );
        assert_eq!(scope_service(None, Some(&query)).as_deref(), Some("sns"));
    }

    #[test]
    fn scopes_must_sign_the_host_in_the_local_region() {
        let mut signature = Signature {
            scope: Scope::parse("K/20240101/us-east-1/states/aws4_request").unwrap(),
            amz_date: "20240101T000000Z".to_owned(),
            signed_headers: vec!["host".to_owned(), "x-amz-date".to_owned()],
            signature: String::new(),
            placement: Placement::Header,
        };
        assert_eq!(check_scope(&signature, "us-east-1"), Ok(()));
        let AuthError::Incomplete(why) = check_scope(&signature, "eu-west-1").unwrap_err() else {
            panic!("a wrong Region is an incomplete signature");
        };
        assert!(why.contains("'eu-west-1'"), "{why}");
        signature.signed_headers = vec!["x-amz-date".to_owned()];
        let AuthError::Incomplete(why) = check_scope(&signature, "us-east-1").unwrap_err() else {
            panic!("an unsigned host is an incomplete signature");
        };
        assert!(why.contains("include host"), "{why}");
    }

    #[test]
    fn routing_reads_the_scope_and_bad_headers_are_incomplete() {
        let header = "AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/states/aws4_request, \
                      SignedHeaders=host;x-amz-date, Signature=00";
        assert_eq!(scope_service(Some(header), None).as_deref(), Some("states"));
        assert_eq!(
            scope_region(Some(header), None).as_deref(),
            Some("us-east-1")
        );
        assert_eq!(scope_service(None, Some("list-type=2")), None);
        assert_eq!(scope_region(None, Some("list-type=2")), None);
        assert_eq!(scope_service(Some("Basic dXNlcg=="), None), None);
        for bad in [
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/states, SignedHeaders=host, Signature=00",
            "AWS4-HMAC-SHA1 Credential=K/20240101/us-east-1/states/aws4_request",
        ] {
            assert!(
                matches!(header_fields(bad), Err(AuthError::Incomplete(_))),
                "{bad}"
            );
        }
        assert_eq!(uri_encode("a b/ü~", true), "a%20b/%C3%BC~");
        assert_eq!(uri_encode("a/b", false), "a%2Fb");
        assert_eq!(
            amz_date(parse_amz_date("20150830T123600Z").unwrap()),
            "20150830T123600Z"
        );
        assert_eq!(parse_amz_date("2015-08-30"), None);
    }
}
