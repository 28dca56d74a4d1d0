//! Who may use the console: requests addressed to this machine by IP address or as `localhost`
//! (so a web page whose domain name was re-pointed at 127.0.0.1 cannot read the console: DNS
//! rebinding), and, for requests that change something, pages of the console itself (a page of
//! another site open in the same browser must not start executions: cross-site request forgery).
//!
//! A state-changing request is a POST that carries the console's token (a random value made at
//! start, written into each page and never sent to other origins), and whose `Origin` and
//! `Sec-Fetch-Site` headers, when the browser sends them, say it came from this origin.

use std::net::IpAddr;

use imagegen_local::transport::LocalRequest;

/// The form field and the header that carry the token.
pub const TOKEN_FIELD: &str = "csrf";
pub const TOKEN_HEADER: &str = "x-csrf-token";

/// Why a request was refused, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The console's token and checks.
#[derive(Clone)]
pub struct Guard {
    token: String,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").finish_non_exhaustive()
    }
}

impl Guard {
    /// A guard with a new random token (122 random bits from the operating system).
    pub fn new() -> Self {
        Self::with_token(uuid::Uuid::new_v4().simple().to_string())
    }

    pub fn with_token(token: String) -> Self {
        Self { token }
    }

    /// The token pages carry.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Any request: addressed by IP address or `localhost`.
    pub fn check_host(&self, request: &LocalRequest) -> Result<(), Refusal> {
        let host = request.header("host").unwrap_or_default();
        if host_is_local_or_ip(host) {
            Ok(())
        } else {
            Err(Refusal(format!(
                "This console answers requests addressed to an IP address or to localhost, not to \
                 {:?} (a defence against DNS rebinding); open it at the address imagegen serve printed.",
                host
            )))
        }
    }

    /// A state-changing request: same origin, with the token (`token` is the one the request
    /// carried, in the form or the header).
    pub fn check_change(&self, request: &LocalRequest, token: Option<&str>) -> Result<(), Refusal> {
        if let Some(site) = request.header("sec-fetch-site")
            && site != "same-origin"
        {
            return Err(Refusal(format!(
                "This request came from another site (Sec-Fetch-Site: {site}); the console only \
                 takes changes from its own pages."
            )));
        }
        if let Some(origin) = request.header("origin") {
            let host = request.header("host").unwrap_or_default();
            if origin != format!("http://{host}") {
                return Err(Refusal(format!(
                    "This request came from {origin:?}, not from the console at http://{host}; the \
                     console only takes changes from its own pages."
                )));
            }
        }
        match token {
            Some(given) if same(given.as_bytes(), self.token.as_bytes()) => Ok(()),
            Some(_) => Err(Refusal(
                "The console's token in this request is not this server's (was the page opened \
                 before imagegen serve restarted? reload it)."
                    .to_owned(),
            )),
            None => Err(Refusal(
                "This request has no console token; the console only takes changes from its own \
                 pages."
                    .to_owned(),
            )),
        }
    }
}

impl Default for Guard {
    fn default() -> Self {
        Self::new()
    }
}

/// Compares every byte whatever the first difference, so timing says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `127.0.0.1:4566`, `[::1]:4566`, `localhost:4566`, `192.168.1.5` (no domain names but
/// `localhost`: a rebound domain is the attack).
fn host_is_local_or_ip(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((ip, port)) if port.is_empty() || port.starts_with(':') => ip,
            _ => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> LocalRequest {
        LocalRequest {
            method: "POST".to_owned(),
            path: "/console/start".to_owned(),
            query: None,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn hosts_by_ip_or_localhost_only() {
        let guard = Guard::with_token("t".to_owned());
        for ok in [
            "127.0.0.1:4566",
            "localhost:4566",
            "LOCALHOST",
            "[::1]:8080",
            "192.168.1.5:4566",
        ] {
            assert!(guard.check_host(&request(&[("host", ok)])).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example:4566",
            "localhost.evil.example",
            "",
            "[::1",
            "127.0.0.1.nip.io:4566",
        ] {
            assert!(
                guard.check_host(&request(&[("host", bad)])).is_err(),
                "{bad}"
            );
        }
        assert!(guard.check_host(&request(&[])).is_err());
    }

    #[test]
    fn changes_need_the_token_and_the_same_origin() {
        let guard = Guard::with_token("secret-token".to_owned());
        let host = ("host", "127.0.0.1:4566");
        let ours = [
            host,
            ("origin", "http://127.0.0.1:4566"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert!(
            guard
                .check_change(&request(&ours), Some("secret-token"))
                .is_ok()
        );
        // Without the browser's headers (a client that sends none), the token decides.
        assert!(
            guard
                .check_change(&request(&[host]), Some("secret-token"))
                .is_ok()
        );
        let refused = |headers: &[(&str, &str)], token: Option<&str>| {
            guard.check_change(&request(headers), token).unwrap_err().0
        };
        assert!(refused(&ours, None).contains("no console token"));
        assert!(refused(&ours, Some("secret-tokem")).contains("not this server's"));
        assert!(refused(&ours, Some("")).contains("not this server's"));
        let cross_site = [
            host,
            ("origin", "http://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ];
        assert!(refused(&cross_site, Some("secret-token")).contains("another site"));
        let other_origin = [host, ("origin", "http://localhost:4566")];
        assert!(refused(&other_origin, Some("secret-token")).contains("not from the console"));
        let opaque = [host, ("origin", "null")];
        assert!(refused(&opaque, Some("secret-token")).contains("not from the console"));
        assert!(
            refused(
                &[host, ("sec-fetch-site", "same-site")],
                Some("secret-token")
            )
            .contains("another site")
        );
    }

    #[test]
    fn tokens_are_random() {
        let (a, b) = (Guard::new(), Guard::new());
        assert_ne!(a.token(), b.token());
        assert_eq!(a.token().len(), 32);
    }
}
