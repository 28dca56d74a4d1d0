//! Who may reach the endpoint at all, checked on every request before any service sees it.
//!
//! - **The `Host` header names the address the server is bound to** (or `localhost`, when bound to
//!   loopback). A web page on `attacker.example:4566` whose name is re-pointed at 127.0.0.1 (DNS
//!   rebinding) is same-origin with its own pages, so the browser lets its scripts read the answers;
//!   its requests still say `Host: attacker.example:4566`, and that is what is refused here. An IP
//!   address cannot be rebound, so bound to every interface (`0.0.0.0`) any address is taken.
//! - **No request from a page of another site.** A browser says where a request comes from in
//!   `Origin` (sent with every cross-origin request that could change something, and with POSTs) and
//!   `Sec-Fetch-Site`. The AWS CLI, the SDKs, s3cmd, rclone and curl send neither. A link opened in
//!   a tab (a presigned S3 link pasted in the address bar says `Sec-Fetch-Site: none`; one clicked in
//!   an email says `cross-site`) is a top-level GET whose answer only the user sees, so it is kept.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use http::{HeaderMap, Method};

/// The checks for a server bound to one address.
#[derive(Debug, Clone, Copy)]
pub struct Gate {
    bound: SocketAddr,
}

/// Why the gate refused a request, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `Host` names another address (DNS rebinding), or is missing.
    ForeignHost { host: String, expected: String },
    /// A page of another site sent it.
    CrossSite(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ForeignHost { host, expected } => write!(
                f,
                "This local endpoint answers requests addressed to {expected}, not to {host:?} \
                 (a defence against DNS rebinding); use the address imagegen serve printed."
            ),
            Self::CrossSite(from) => write!(
                f,
                "This request came from a page of another site ({from}); the local endpoint only \
                 answers clients such as the AWS CLI, the SDKs and its own console."
            ),
        }
    }
}

impl Gate {
    /// The gate of a server bound to `bound` (its real port, not 0).
    pub fn new(bound: SocketAddr) -> Self {
        Self { bound }
    }

    /// Check one request's `Host`, `Origin` and `Sec-Fetch-*` headers; `tls`: whether it came
    /// over TLS, so that the endpoint's own pages send `Origin: https://...` (one port answers both).
    pub fn check(&self, method: &Method, headers: &HeaderMap, tls: bool) -> Result<(), Refusal> {
        let text = |name: &str| {
            headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        let host = text("host").unwrap_or_default();
        if !self.host_is_ours(&host) {
            return Err(Refusal::ForeignHost {
                host,
                expected: self.expected(),
            });
        }
        let scheme = if tls { "https" } else { "http" };
        if let Some(origin) = text("origin")
            && origin != format!("{scheme}://{host}")
        {
            return Err(Refusal::CrossSite(format!("Origin: {origin}")));
        }
        let navigation = text("sec-fetch-mode").as_deref() == Some("navigate")
            && (method == Method::GET || method == Method::HEAD);
        match text("sec-fetch-site").as_deref() {
            Some("cross-site") if !navigation => {
                Err(Refusal::CrossSite("Sec-Fetch-Site: cross-site".to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// What a `Host` header may say, in words.
    fn expected(&self) -> String {
        let port = self.bound.port();
        match self.bound.ip() {
            ip if ip.is_unspecified() => format!("an IP address of this machine, port {port}"),
            ip if ip.is_loopback() => format!("{} or localhost:{port}", self.bound),
            _ => self.bound.to_string(),
        }
    }

    /// `host[:port]` names the bound address: its IP (any IP when bound to every interface), or
    /// `localhost` when the server is reachable through loopback; the port is the bound one (80
    /// when left out).
    fn host_is_ours(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        if port.unwrap_or(80) != self.bound.port() {
            return false;
        }
        let bound = self.bound.ip();
        match name.parse::<IpAddr>() {
            Ok(ip) => bound.is_unspecified() || ip == bound,
            Err(_) => {
                name.eq_ignore_ascii_case("localhost")
                    && (bound.is_loopback() || bound.is_unspecified())
            }
        }
    }
}

/// `name` and port of `127.0.0.1:4566`, `[::1]:4566`, `localhost`; `None` when malformed.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        match after {
            "" => (ip, None),
            _ => (ip, Some(after.strip_prefix(':')?)),
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    if name.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    Some((name, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (n, v) in pairs {
            map.append(
                http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    fn check(bound: &str, pairs: &[(&str, &str)]) -> Result<(), Refusal> {
        Gate::new(bound.parse().unwrap()).check(&Method::POST, &headers(pairs), false)
    }

    #[test]
    fn hosts_name_the_bound_address() {
        for ok in ["127.0.0.1:4566", "localhost:4566", "LOCALHOST:4566"] {
            assert_eq!(check("127.0.0.1:4566", &[("host", ok)]), Ok(()), "{ok}");
        }
        assert_eq!(check("[::1]:8080", &[("host", "[::1]:8080")]), Ok(()));
        assert_eq!(check("127.0.0.1:80", &[("host", "localhost")]), Ok(()));
        assert_eq!(
            check("0.0.0.0:4566", &[("host", "192.168.1.5:4566")]),
            Ok(())
        );
        assert_eq!(check("0.0.0.0:4566", &[("host", "localhost:4566")]), Ok(()));
        assert_eq!(
            check("192.168.1.5:4566", &[("host", "192.168.1.5:4566")]),
            Ok(())
        );
        for (bound, bad) in [
            ("127.0.0.1:4566", "evil.example:4566"),
            ("127.0.0.1:4566", "localhost.evil.example:4566"),
            ("127.0.0.1:4566", "127.0.0.1.nip.io:4566"),
            ("127.0.0.1:4566", "127.0.0.1:4567"),
            ("127.0.0.1:4566", "127.0.0.2:4566"),
            ("127.0.0.1:4566", "127.0.0.1"),
            ("127.0.0.1:4566", ""),
            ("127.0.0.1:4566", "[::1"),
            ("127.0.0.1:4566", "127.0.0.1:x"),
            ("0.0.0.0:4566", "myhost.lan:4566"),
            ("192.168.1.5:4566", "localhost:4566"),
            ("192.168.1.5:4566", "10.0.0.1:4566"),
        ] {
            let refused = check(bound, &[("host", bad)]).unwrap_err();
            assert!(
                matches!(refused, Refusal::ForeignHost { .. }),
                "{bound} {bad}"
            );
        }
        assert!(check("127.0.0.1:4566", &[]).is_err());
    }

    #[test]
    fn pages_of_other_sites_are_refused() {
        let host = ("host", "127.0.0.1:4566");
        assert_eq!(check("127.0.0.1:4566", &[host]), Ok(()));
        let ours = [
            host,
            ("origin", "http://127.0.0.1:4566"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert_eq!(check("127.0.0.1:4566", &ours), Ok(()));
        for bad in [
            vec![host, ("origin", "http://attacker.example")],
            vec![host, ("origin", "null")],
            vec![host, ("origin", "http://localhost:4566")],
            vec![host, ("sec-fetch-site", "cross-site")],
            vec![
                host,
                ("sec-fetch-site", "cross-site"),
                ("sec-fetch-mode", "no-cors"),
            ],
        ] {
            let refused = check("127.0.0.1:4566", &bad).unwrap_err();
            assert!(matches!(refused, Refusal::CrossSite(_)), "{bad:?}");
            assert!(refused.to_string().contains("another site"));
        }
        // A link opened in a tab: typed (`none`) or clicked in another site's page.
        let gate = Gate::new("127.0.0.1:4566".parse().unwrap());
        for site in ["none", "cross-site", "same-site"] {
            let tab = headers(&[
                host,
                ("sec-fetch-site", site),
                ("sec-fetch-mode", "navigate"),
            ]);
            assert_eq!(gate.check(&Method::GET, &tab, false), Ok(()), "{site}");
        }
        // A form posted from another site navigates too, but it changes things: refused.
        let form = headers(&[
            host,
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
        ]);
        assert!(gate.check(&Method::POST, &form, false).is_err());
    }

    #[test]
    fn over_tls_the_origin_is_https() {
        let gate = Gate::new("127.0.0.1:4566".parse().unwrap());
        let from = |origin: &str, tls: bool| {
            let pairs = [("host", "127.0.0.1:4566"), ("origin", origin)];
            gate.check(&Method::POST, &headers(&pairs), tls)
        };
        assert_eq!(from("https://127.0.0.1:4566", true), Ok(()));
        assert!(from("http://127.0.0.1:4566", true).is_err());
        assert!(from("https://127.0.0.1:4566", false).is_err());
    }
}
