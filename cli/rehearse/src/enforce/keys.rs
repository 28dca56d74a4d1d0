//! The credentials a rehearsal hands out: one key pair and session token per function role (what
//! Lambda puts in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), and the
//! administrator's key for the person at the AWS CLI.
//!
//! A role's key is derived from its ARN, so every rehearsal of a template hands a function the same
//! key and a log or a saved command stays valid. They guard a loopback endpoint against mistakes
//! (a function using another's key), not against an attacker who can read the template.

use std::collections::BTreeMap;

use imagegen_local::config::AccessKey;
use imagegen_local::server::{Caller, Callers};
use sha2::{Digest, Sha256};

use crate::plan::Plan;

/// The caller name of the administrator's key (a role's caller is named by the role's ARN).
pub const ADMINISTRATOR: &str = "administrator";

/// A role's temporary credentials, as STS would issue them.
#[derive(Debug, Clone)]
pub struct RoleKey {
    pub key: AccessKey,
    pub session_token: String,
}

/// Every key of one rehearsal.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The twin's published key ([`AccessKey::published`]), which the person's AWS CLI already
    /// uses with `imagegen serve`.
    pub administrator: AccessKey,
    /// By role ARN.
    pub roles: BTreeMap<String, RoleKey>,
}

impl Keys {
    /// One key per role the plan's functions run as, and the administrator's.
    pub fn issue(plan: &Plan) -> Self {
        Self::for_roles(plan.functions.iter().map(|f| f.role_arn.as_str()))
    }

    /// One key per role ARN, and the administrator's.
    pub fn for_roles<'a>(role_arns: impl IntoIterator<Item = &'a str>) -> Self {
        let roles = role_arns
            .into_iter()
            .map(|arn| (arn.to_owned(), role_key(arn)))
            .collect();
        Self {
            administrator: AccessKey::published(),
            roles,
        }
    }

    /// The key of the role with this ARN.
    pub fn role(&self, arn: &str) -> Option<&RoleKey> {
        self.roles.get(arn)
    }

    /// The endpoint's callers: each role's key as the role, the administrator's as
    /// [`ADMINISTRATOR`].
    pub fn callers(&self) -> Callers {
        self.roles.iter().fold(
            Callers::new().with(self.administrator.clone(), Caller::new(ADMINISTRATOR)),
            |callers, (arn, role)| callers.with(role.key.clone(), Caller::new(arn.clone())),
        )
    }
}

/// `ASIA` and 16 characters (temporary credentials' shape), a 40-character secret and a token,
/// each a hash of the role's ARN under its own label.
fn role_key(arn: &str) -> RoleKey {
    let hash = |label: &str| hex::encode_upper(Sha256::digest(format!("{label}\n{arn}")));
    RoleKey {
        key: AccessKey {
            id: format!("ASIA{}", &hash("access key id")[..16]),
            secret: hash("secret access key")[..40].to_owned(),
        },
        session_token: hash("session token"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::000000000000:role/Imagegen-GenerateImageRole-ABC";

    #[test]
    fn a_roles_key_is_stable_and_its_own() {
        let keys = Keys::for_roles([ROLE, "arn:aws:iam::000000000000:role/Other"]);
        let again = Keys::for_roles([ROLE]);
        let key = &keys.role(ROLE).unwrap().key;
        assert_eq!(key.id, again.role(ROLE).unwrap().key.id);
        assert_eq!(key.secret, again.role(ROLE).unwrap().key.secret);
        assert!(
            key.id.starts_with("ASIA") && key.id.len() == 20,
            "{}",
            key.id
        );
        assert_eq!(key.secret.len(), 40);
        let other = &keys
            .role("arn:aws:iam::000000000000:role/Other")
            .unwrap()
            .key;
        assert_ne!(key.id, other.id);
        assert_ne!(key.secret, other.secret);
    }

    #[test]
    fn callers_name_each_role_and_the_administrator() {
        let keys = Keys::for_roles([ROLE]);
        let callers = keys.callers();
        let id = &keys.role(ROLE).unwrap().key.id;
        assert_eq!(callers.caller_of(id).unwrap().name, ROLE);
        assert_eq!(
            callers.caller_of(&keys.administrator.id).unwrap().name,
            ADMINISTRATOR
        );
        assert_eq!(callers.secret_of("ASIANOTAKEY"), None);
    }
}
