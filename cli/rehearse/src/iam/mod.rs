//! Authorisation as IAM evaluates it within one account, from the template's own policies:
//! identity policies (a role's inline `Policies`, the `AWS::IAM::Policy` and
//! `AWS::IAM::ManagedPolicy` resources attached to it) and resource policies (bucket, topic and
//! queue policies, Lambda permissions, KMS key policies).
//!
//! The order is IAM's ("Policy evaluation logic"): an explicit Deny in any applicable policy wins;
//! otherwise an Allow in an identity policy or a resource policy that names the caller suffices,
//! except for a KMS key, whose key policy must allow (directly, or by delegating to the account's
//! IAM policies); otherwise the request is implicitly denied. Statements are matched by `iam-rs`
//! (actions, resources, conditions); principals and this order are here (see `statement.rs`).

mod encryption;
mod policies;
mod statement;

use crate::operations::{ContextValue, Requirement};
use crate::template::{Stack, TemplateError};
use sha2::{Digest, Sha256};
use statement::{Effect, Reach, Statement};
use std::collections::BTreeMap;

/// Who makes a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A role of the template (a function's, the state machine's), by its ARN, in the session its
    /// service opened when it assumed the role (`None` where the rehearsal does not know AWS's
    /// name for it).
    Role {
        arn: String,
        session: Option<String>,
    },
    /// An AWS service acting for a resource (`s3.amazonaws.com` for a bucket's notification,
    /// `events.amazonaws.com` for a rule): `aws:SourceArn` and `aws:SourceAccount` say which.
    Service {
        name: String,
        source_arn: Option<String>,
    },
    /// The person at the AWS CLI or console: an administrator of the account (`Action: *` on
    /// `Resource: *`), still subject to every Deny.
    Administrator,
}

impl Principal {
    /// A function's role as Lambda assumes it: Lambda names the session after the function, so
    /// a refusal names the caller `arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION_NAME`.
    pub fn function_role(role_arn: &str, function_name: &str) -> Self {
        Self::Role {
            arn: role_arn.to_owned(),
            session: Some(function_name.to_owned()),
        }
    }

    /// The state machine's role as Step Functions assumes it. Step Functions names the session
    /// itself, with a generated string of 32 letters (what its `AccessDenied` causes show); the
    /// rehearsal derives one from the role's ARN, so that a message is the same every time.
    pub fn state_machine_role(role_arn: &str) -> Self {
        let digest = Sha256::digest(format!("step functions session\n{role_arn}"));
        let session = digest
            .iter()
            .map(|b| {
                let letter = b % 52;
                char::from(if letter < 26 {
                    b'A' + letter
                } else {
                    b'a' + letter - 26
                })
            })
            .collect();
        Self::Role {
            arn: role_arn.to_owned(),
            session: Some(session),
        }
    }

    /// The caller's ARN, for a principal of the account (a role's, not its session's: what
    /// `aws:PrincipalArn` holds and a policy names).
    fn arn(&self, account: &str) -> Option<String> {
        match self {
            Self::Role { arn, .. } => Some(arn.clone()),
            Self::Administrator => Some(format!("arn:aws:iam::{account}:role/Administrator")),
            Self::Service { .. } => None,
        }
    }

    /// As AWS names the caller in a denial: a role's session as
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME/SESSION` (without the role's path).
    fn describe(&self, account: &str) -> String {
        match self {
            Self::Service { name, .. } => name.clone(),
            Self::Role { arn, session } => session_arn(arn, session.as_deref()),
            Self::Administrator => self
                .arn(account)
                .map(|arn| session_arn(&arn, None))
                .unwrap_or_default(),
        }
    }
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE_NAME[/SESSION]` of the role with ARN `role_arn`.
pub fn session_arn(role_arn: &str, session: Option<&str>) -> String {
    let (head, path) = role_arn.split_once(":role/").unwrap_or((role_arn, ""));
    let name = path.rsplit('/').next().unwrap_or(path);
    let head = head.replacen(":iam::", ":sts::", 1);
    match session {
        Some(session) => format!("{head}:assumed-role/{name}/{session}"),
        None => format!("{head}:assumed-role/{name}"),
    }
}

/// The policy (and statement) a decision came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `identity-based` or `resource-based`.
    pub kind: PolicyKind,
    /// The logical id of the resource that holds the policy.
    pub logical_id: String,
    pub sid: Option<String>,
    /// A managed policy's ARN, which AWS names in a same-account denial.
    pub policy_arn: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Identity,
    Resource,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.sid {
            Some(sid) => write!(f, "{} (statement {sid})", self.logical_id),
            None => write!(f, "{}", self.logical_id),
        }
    }
}

/// The outcome for one action on one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allowed {
        by: Source,
    },
    /// No policy allows it.
    ImplicitDeny,
    /// A KMS key's policy neither allows the caller nor delegates to the account's IAM policies,
    /// so the caller's own grants, if any, do not count.
    KeyPolicyDoesNotAllow,
    ExplicitDeny {
        by: Source,
    },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }
}

/// One request to authorise: the caller, what it does and the request's condition keys
/// (`aws:SecureTransport`, ...). The caller's own keys (`aws:PrincipalArn`, `aws:SourceArn`,
/// `aws:SourceAccount`, `aws:PrincipalAccount`) are added by the authorizer.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    pub requirement: &'a Requirement,
    pub secure_transport: bool,
}

/// A denied requirement, with the message the service gives (`... is not authorized to perform:
/// ACTION on resource: ARN because ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub action: &'static str,
    pub resource: String,
    pub decision: Decision,
    pub message: String,
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A policy the authorizer cannot use.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("the policy in {policy} cannot be evaluated: {why}")]
    BadPolicy { policy: String, why: String },
    #[error("{resource} is not an ARN the authorizer can match ({why})")]
    BadResource { resource: String, why: String },
    #[error("evaluating {policy} failed: {why}")]
    Evaluation { policy: String, why: String },
}

/// A resource policy and the resource ARNs it governs.
#[derive(Debug, Clone)]
struct ResourcePolicy {
    /// The resource's ARN; a bucket policy also governs `ARN/*`.
    arn: String,
    is_bucket: bool,
    is_key: bool,
    statements: Vec<Statement>,
}

impl ResourcePolicy {
    fn governs(&self, resource: &str) -> bool {
        resource == self.arn
            || (self.is_bucket && resource.strip_prefix(self.arn.as_str()).is_some_and(|r| r.starts_with('/')))
            // A qualified function ARN (`:alias`, `:$LATEST`) is the function's.
            || (self.arn.contains(":function:") && resource.strip_prefix(self.arn.as_str()).is_some_and(|r| r.starts_with(':')))
    }
}

/// Every policy of the stack, ready to authorise requests.
#[derive(Debug, Clone)]
pub struct Authorizer {
    account: String,
    /// Identity policies by role ARN.
    identity: BTreeMap<String, Vec<Statement>>,
    /// Trust policies (`AssumeRolePolicyDocument`) by role ARN.
    trust: BTreeMap<String, Vec<Statement>>,
    resources: Vec<ResourcePolicy>,
    administrator: Vec<Statement>,
    /// The encrypting key's ARN by topic or queue ARN (`KmsMasterKeyId`).
    encryption: BTreeMap<String, String>,
}

impl Authorizer {
    /// Reads every identity and resource policy the stack creates (intrinsics resolved).
    pub fn from_stack(stack: &Stack<'_>) -> Result<Self, IamError> {
        policies::collect(stack)
    }

    /// The ARN of the stack's role named `name` (the last part of its ARN, after any path).
    pub fn role_arn(&self, name: &str) -> Option<&str> {
        self.trust
            .keys()
            .find(|arn| arn.rsplit('/').next() == Some(name))
            .map(String::as_str)
    }

    /// The ARN of the KMS key that encrypts the topic or queue with this ARN, if a key of the
    /// account's does (not the service's AWS managed key).
    pub fn encryption_key(&self, resource_arn: &str) -> Option<&str> {
        self.encryption.get(resource_arn).map(String::as_str)
    }

    /// Whether `service` (`lambda.amazonaws.com`, `states.amazonaws.com`) may assume the role on
    /// behalf of `source_arn` (the state machine, for the confused-deputy conditions the CDK
    /// writes): its trust policy allows `sts:AssumeRole` and denies nothing. A function or state
    /// machine whose role its service cannot assume would not work deployed.
    pub fn may_assume(
        &self,
        role_arn: &str,
        service: &str,
        source_arn: Option<&str>,
    ) -> Result<bool, IamError> {
        let caller = Principal::Service {
            name: service.into(),
            source_arn: source_arn.map(str::to_owned),
        };
        let requirement = Requirement {
            action: "sts:AssumeRole",
            resource: role_arn.into(),
            context: Vec::new(),
        };
        let mut context = Vec::new();
        self.caller_keys(
            &Request {
                principal: &caller,
                requirement: &requirement,
                secure_transport: true,
            },
            &mut context,
        );
        let mut allowed = false;
        for s in self.trust.get(role_arn).into_iter().flatten() {
            if s.reach(&caller, &self.account) != Reach::Direct
                || !s.matches("sts:AssumeRole", role_arn, &context)?
            {
                continue;
            }
            match s.effect {
                Effect::Deny => return Ok(false),
                Effect::Allow => allowed = true,
            }
        }
        Ok(allowed)
    }

    /// The decision for one requirement.
    pub fn decide(&self, request: &Request<'_>) -> Result<Decision, IamError> {
        let Requirement {
            action,
            resource,
            context,
        } = request.requirement;
        let mut context = context.clone();
        self.caller_keys(request, &mut context);
        let identity: &[Statement] = match request.principal {
            Principal::Role { arn, .. } => self.identity.get(arn).map_or(&[], Vec::as_slice),
            Principal::Administrator => &self.administrator,
            Principal::Service { .. } => &[],
        };
        let policy = self.resources.iter().find(|p| p.governs(resource));
        let mut identity_allow = None;
        let mut direct_allow = None;
        let mut delegated = None;
        for s in identity {
            if s.matches(action, resource, &context)? {
                match s.effect {
                    Effect::Deny => {
                        return Ok(Decision::ExplicitDeny {
                            by: s.source.clone(),
                        });
                    }
                    Effect::Allow => identity_allow = identity_allow.or(Some(s.source.clone())),
                }
            }
        }
        for s in policy.iter().flat_map(|p| &p.statements) {
            let reach = s.reach(request.principal, &self.account);
            if reach == Reach::None || !s.matches(action, resource, &context)? {
                continue;
            }
            match (s.effect, reach) {
                (Effect::Deny, _) => {
                    return Ok(Decision::ExplicitDeny {
                        by: s.source.clone(),
                    });
                }
                (Effect::Allow, Reach::Direct) => {
                    direct_allow = direct_allow.or(Some(s.source.clone()))
                }
                (Effect::Allow, _) => delegated = delegated.or(Some(s.source.clone())),
            }
        }
        let is_key = policy.is_some_and(|p| p.is_key);
        Ok(match (is_key, direct_allow, delegated, identity_allow) {
            (_, Some(by), _, _) => Decision::Allowed { by },
            // A key policy must allow; delegating to IAM lets the identity policy decide.
            (true, None, None, _) => Decision::KeyPolicyDoesNotAllow,
            (true, None, Some(_), Some(by)) | (false, None, _, Some(by)) => {
                Decision::Allowed { by }
            }
            (_, None, _, None) => Decision::ImplicitDeny,
        })
    }

    /// All requirements of an operation: the first one denied, with the message the service
    /// gives, or `None` when every one is allowed.
    pub fn authorize(
        &self,
        principal: &Principal,
        requirements: &[Requirement],
        secure_transport: bool,
    ) -> Result<Option<Denial>, IamError> {
        for requirement in requirements {
            let decision = self.decide(&Request {
                principal,
                requirement,
                secure_transport,
            })?;
            if !decision.is_allowed() {
                let message = self.message(principal, requirement, &decision);
                return Ok(Some(Denial {
                    action: requirement.action,
                    resource: requirement.resource.clone(),
                    decision,
                    message,
                }));
            }
        }
        Ok(None)
    }

    fn caller_keys(&self, request: &Request<'_>, context: &mut Vec<(String, ContextValue)>) {
        let mut add = |k: &str, v: ContextValue| context.push((k.to_owned(), v));
        add(
            "aws:SecureTransport",
            ContextValue::Bool(request.secure_transport),
        );
        match request.principal {
            Principal::Service { name, source_arn } => {
                add("aws:PrincipalServiceName", ContextValue::Text(name.clone()));
                add(
                    "aws:SourceAccount",
                    ContextValue::Text(self.account.clone()),
                );
                if let Some(arn) = source_arn {
                    add("aws:SourceArn", ContextValue::Text(arn.clone()));
                }
            }
            other => {
                if let Some(arn) = other.arn(&self.account) {
                    add("aws:PrincipalArn", ContextValue::Text(arn));
                }
                add(
                    "aws:PrincipalAccount",
                    ContextValue::Text(self.account.clone()),
                );
            }
        }
    }

    /// IAM's AccessDenied message, as the services put it in their error bodies.
    fn message(
        &self,
        principal: &Principal,
        requirement: &Requirement,
        decision: &Decision,
    ) -> String {
        let who = principal.describe(&self.account);
        let Requirement {
            action, resource, ..
        } = requirement;
        let because = match decision {
            Decision::ExplicitDeny { by } => match by.kind {
                // AWS names a same-account managed policy by its ARN (IAM user guide,
                // "Troubleshoot access denied error messages"), which is how GenerateImage tells
                // the budget's Deny from any other; an inline policy has no ARN of its own.
                PolicyKind::Identity => match &by.policy_arn {
                    Some(arn) => {
                        format!("with an explicit deny in an identity-based policy: {arn}")
                    }
                    None => format!("with an explicit deny in an identity-based policy ({by})"),
                },
                PolicyKind::Resource => {
                    format!("with an explicit deny in a resource-based policy ({by})")
                }
            },
            // A service has no identity policies: only the resource's policy could have allowed;
            // KMS says the same of a key policy that neither allows nor delegates.
            Decision::KeyPolicyDoesNotAllow => {
                format!("because no resource-based policy allows the {action} action")
            }
            _ if matches!(principal, Principal::Service { .. }) => {
                format!("because no resource-based policy allows the {action} action")
            }
            _ => format!("because no identity-based policy allows the {action} action"),
        };
        format!(
            "User: {who} is not authorized to perform: {action} on resource: {resource} {because}"
        )
    }
}

#[cfg(test)]
mod tests;
