//! Who may use the console. Which requests reach it at all (the `Host` they name, against DNS
//! rebinding; none from pages of other sites) is the endpoint's rule for every route
//! (`imagegen_local::server::gate`). Here:
//!
//! - **Changes come from the console's own pages** (cross-site request forgery): a state-changing
//!   request is a POST that carries the console's token (a random value made at start, written
//!   into each page and never sent to other origins), and whose `Origin` and `Sec-Fetch-Site`
//!   headers, when the browser sends them, say it came from this origin.
//! - **A login, when the endpoint is reachable from other machines** (`--allow-remote`): the URL
//!   `imagegen serve` prints carries a login token (`?login=`); the console trades it for a cookie
//!   (HttpOnly, SameSite=Strict) and asks for one or the other on every request.

use imagegen_local::transport::LocalRequest;

/// The form field and the header that carry the token.
pub const TOKEN_FIELD: &str = "csrf";
pub const TOKEN_HEADER: &str = "x-csrf-token";
/// The query field of the login URL, and the cookie it is traded for.
pub const LOGIN_FIELD: &str = "login";
pub const LOGIN_COOKIE: &str = "imagegen-console-login";

/// Why a request was refused, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The console's token and checks.
#[derive(Clone)]
pub struct Guard {
    token: String,
    /// The login token, when the console asks for one.
    login: Option<String>,
    /// How the console's pages are reached (`http`, or `https` under `imagegen rehearse`): the
    /// scheme of the `Origin` its own pages send.
    scheme: &'static str,
}

/// Whether a request is logged in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// No login needed, or the request's cookie carries it.
    In,
    /// The login URL: answer with this cookie (a `Set-Cookie` value) and send the browser on to
    /// the same page without the token in its address.
    Trade(String),
    Refused(Refusal),
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
        Self {
            token,
            login: None,
            scheme: "http",
        }
    }

    /// For a console served at `endpoint` (`http://...` or `https://...`).
    pub fn served_at(mut self, endpoint: &str) -> Self {
        self.scheme = if endpoint.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        self
    }

    /// The token pages carry.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Ask every request for `login` (in the login URL's query, or the cookie it was traded for).
    pub fn with_login(mut self, login: String) -> Self {
        self.login = Some(login);
        self
    }

    /// Any request, when a login is asked for: `login` is the request's `?login=` field.
    pub fn check_login(&self, request: &LocalRequest, login: Option<&str>) -> Login {
        let Some(expected) = &self.login else {
            return Login::In;
        };
        if let Some(given) = login {
            return if same(given.as_bytes(), expected.as_bytes()) {
                Login::Trade(format!(
                    "{LOGIN_COOKIE}={expected}; Path=/console/; HttpOnly; SameSite=Strict"
                ))
            } else {
                Login::Refused(Refusal(
                    "This login token is not this server's; open the console at the URL imagegen \
                     serve printed."
                        .to_owned(),
                ))
            };
        }
        let cookie = request
            .header("cookie")
            .unwrap_or_default()
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == LOGIN_COOKIE)
            .map(|(_, value)| value.to_owned());
        match cookie {
            Some(given) if same(given.as_bytes(), expected.as_bytes()) => Login::In,
            _ => Login::Refused(Refusal(
                "This console is reachable from other machines, so it asks for a login: open it at \
                 the URL imagegen serve printed (it carries the login token)."
                    .to_owned(),
            )),
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
            let ours = format!("{}://{host}", self.scheme);
            if origin != ours {
                return Err(Refusal(format!(
                    "This request came from {origin:?}, not from the console at {ours}; the \
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
    fn a_login_is_traded_for_a_cookie() {
        let open = Guard::with_token("t".to_owned());
        assert_eq!(open.check_login(&request(&[]), None), Login::In);
        let guard = Guard::with_token("t".to_owned()).with_login("let-me-in".to_owned());
        assert!(matches!(
            guard.check_login(&request(&[]), None),
            Login::Refused(_)
        ));
        let Login::Trade(cookie) = guard.check_login(&request(&[]), Some("let-me-in")) else {
            panic!("the login URL sets the cookie");
        };
        assert!(
            cookie.starts_with("imagegen-console-login=let-me-in;"),
            "{cookie}"
        );
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(matches!(
            guard.check_login(&request(&[]), Some("let-me-out")),
            Login::Refused(_)
        ));
        let with = |cookie: &str| guard.check_login(&request(&[("cookie", cookie)]), None);
        assert_eq!(with("a=b; imagegen-console-login=let-me-in"), Login::In);
        assert!(matches!(
            with("imagegen-console-login=let-me-out"),
            Login::Refused(_)
        ));
        assert!(matches!(with("other=let-me-in"), Login::Refused(_)));
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
    fn a_console_over_https_takes_changes_from_its_https_pages() {
        let guard = Guard::with_token("t".to_owned()).served_at("https://127.0.0.1:4566");
        let host = ("host", "127.0.0.1:4566");
        let from =
            |origin: &str| guard.check_change(&request(&[host, ("origin", origin)]), Some("t"));
        assert!(from("https://127.0.0.1:4566").is_ok());
        let refused = from("http://127.0.0.1:4566").unwrap_err().0;
        assert!(
            refused.contains("not from the console at https://127.0.0.1:4566"),
            "{refused}"
        );
    }

    #[test]
    fn tokens_are_random() {
        let (a, b) = (Guard::new(), Guard::new());
        assert_ne!(a.token(), b.token());
        assert_eq!(a.token().len(), 32);
    }
}
