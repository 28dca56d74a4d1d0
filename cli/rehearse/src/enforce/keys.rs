//! The credentials a rehearsal hands out: for each function, its role's temporary credentials in
//! the session Lambda names after the function (what Lambda puts in `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and the administrator's key for the person at
//! the AWS CLI.
//!
//! A session's key is derived from its role's ARN and its name, so every rehearsal of a template
//! hands a function the same key and a log or a saved command stays valid. They guard a loopback
//! endpoint against mistakes (a function using another's key, a key without its token), not
//! against an attacker who can read the template.
//!
//! Each key's caller is named by the session's ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/
//! SESSION`, what STS's GetCallerIdentity answers), which [`super::Enforcer`] reads back.

use imagegen_local::config::AccessKey;
use imagegen_local::server::{Caller, Callers};
use sha2::{Digest, Sha256};

use crate::iam::session_arn;
use crate::plan::Plan;

/// The caller name of the administrator's key (a role's caller is named by its session's ARN).
pub const ADMINISTRATOR: &str = "administrator";

/// A role's temporary credentials in one session, as STS would issue them.
#[derive(Debug, Clone)]
pub struct RoleKey {
    pub role_arn: String,
    /// The session's name: the function's, for a function's role.
    pub session: String,
    pub key: AccessKey,
    /// Required with the key: the endpoint refuses the key without it, as AWS does.
    pub session_token: String,
}

impl RoleKey {
    /// `ASIA` and 16 characters (temporary credentials' shape), a 40-character secret and a
    /// token, each a hash of the role's ARN and the session's name under its own label.
    fn issue(role_arn: &str, session: &str) -> Self {
        let hash = |label: &str| {
            hex::encode_upper(Sha256::digest(format!("{label}\n{role_arn}\n{session}")))
        };
        Self {
            role_arn: role_arn.to_owned(),
            session: session.to_owned(),
            key: AccessKey {
                id: format!("ASIA{}", &hash("access key id")[..16]),
                secret: hash("secret access key")[..40].to_owned(),
            },
            session_token: hash("session token"),
        }
    }

    /// The caller this key signs as: the session's ARN.
    pub fn caller(&self) -> Caller {
        Caller::new(session_arn(&self.role_arn, Some(&self.session)))
    }
}

/// Every key of one rehearsal.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The twin's published key ([`AccessKey::published`]), which the person's AWS CLI already
    /// uses with `imagegen serve`: a long-term key, taken without a token.
    pub administrator: AccessKey,
    /// By function ARN.
    pub functions: Vec<(String, RoleKey)>,
}

impl Keys {
    /// One key per function of the plan, in its role's session named after it, and the
    /// administrator's.
    pub fn issue(plan: &Plan) -> Self {
        Self::for_functions(
            plan.functions
                .iter()
                .map(|f| (f.arn.as_str(), f.role_arn.as_str(), f.name.as_str())),
        )
    }

    /// One key per (function ARN, role ARN, function name), and the administrator's.
    pub fn for_functions<'a>(
        functions: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>,
    ) -> Self {
        Self {
            administrator: AccessKey::published(),
            functions: functions
                .into_iter()
                .map(|(arn, role, name)| (arn.to_owned(), RoleKey::issue(role, name)))
                .collect(),
        }
    }

    /// The key of the function with this ARN.
    pub fn function(&self, arn: &str) -> Option<&RoleKey> {
        self.functions
            .iter()
            .find(|(function, _)| function == arn)
            .map(|(_, key)| key)
    }

    /// The endpoint's callers: each function's key as its session, asking for its token, the
    /// administrator's as [`ADMINISTRATOR`].
    pub fn callers(&self) -> Callers {
        self.functions.iter().fold(
            Callers::new().with(self.administrator.clone(), Caller::new(ADMINISTRATOR)),
            |callers, (_, role)| {
                callers.with_session(role.key.clone(), role.session_token.clone(), role.caller())
            },
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::000000000000:role/Imagegen-GenerateImageRole-ABC";
    const GENERATE: &str = "arn:aws:lambda:us-east-1:000000000000:function:generate";
    const OTHER: &str = "arn:aws:lambda:us-east-1:000000000000:function:other";

    #[test]
    fn a_sessions_key_is_stable_and_its_own() {
        // Two functions sharing a role still have sessions, and keys, of their own.
        let keys = Keys::for_functions([(GENERATE, ROLE, "generate"), (OTHER, ROLE, "other")]);
        let again = Keys::for_functions([(GENERATE, ROLE, "generate")]);
        let generate = keys.function(GENERATE).unwrap();
        assert_eq!(generate.key.id, again.function(GENERATE).unwrap().key.id);
        assert_eq!(
            generate.key.secret,
            again.function(GENERATE).unwrap().key.secret
        );
        assert!(
            generate.key.id.starts_with("ASIA") && generate.key.id.len() == 20,
            "{}",
            generate.key.id
        );
        assert_eq!(generate.key.secret.len(), 40);
        let other = keys.function(OTHER).unwrap();
        assert_ne!(generate.key.id, other.key.id);
        assert_ne!(generate.key.secret, other.key.secret);
        assert_ne!(generate.session_token, other.session_token);
    }

    #[test]
    fn callers_name_each_session_and_ask_for_its_token() {
        let keys = Keys::for_functions([(GENERATE, ROLE, "generate")]);
        let callers = keys.callers();
        let generate = keys.function(GENERATE).unwrap();
        assert_eq!(
            callers.caller_of(&generate.key.id).unwrap().name,
            "arn:aws:sts::000000000000:assumed-role/Imagegen-GenerateImageRole-ABC/generate"
        );
        assert!(callers.token_matches(&generate.key.id, Some(&generate.session_token)));
        assert!(!callers.token_matches(&generate.key.id, None));
        assert_eq!(
            callers.caller_of(&keys.administrator.id).unwrap().name,
            ADMINISTRATOR
        );
        assert!(callers.token_matches(&keys.administrator.id, None));
        assert_eq!(callers.secret_of("ASIANOTAKEY"), None);
    }
}
