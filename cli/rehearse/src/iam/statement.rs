//! One policy statement, compiled: who it applies to (principals are ours) and the rest of it
//! (actions, `NotAction`, resources, `NotResource`, conditions) as an `iam-rs` policy of one
//! statement.
//!
//! Principals are matched here, not by iam-rs: it compares an account principal
//! (`arn:aws:iam::ACCOUNT:root`, or the bare account id) with the caller's ARN literally, while IAM
//! reads it as "any principal of the account, if its own policies allow" (a delegation), which
//! the key policies the CDK writes rely on.

use super::{IamError, Principal, Source};
use crate::operations::ContextValue;
use iam_rs::{Arn, Context, Decision as IamDecision, IAMPolicy, IAMRequest, PolicyEvaluator};
use serde_json::Value;

const ANY_PRINCIPAL: &str = "arn:aws:iam::000000000000:root";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    Allow,
    Deny,
}

/// How a resource-policy statement's principal matches the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// The caller itself (its ARN, its service name, or `*`).
    Direct,
    /// The caller's account: an Allow only delegates to the caller's identity policies.
    Account,
    None,
}

#[derive(Debug, Clone)]
enum Principals {
    /// An identity policy's statement: no principal element.
    Caller,
    Listed {
        aws: Vec<String>,
        services: Vec<String>,
        any: bool,
    },
}

#[derive(Debug, Clone)]
pub(super) struct Statement {
    pub(super) source: Source,
    pub(super) effect: Effect,
    principals: Principals,
    not_principal: bool,
    evaluator: PolicyEvaluator,
}

impl Statement {
    /// Compiles a resolved statement of the policy `source`.
    pub(super) fn compile(
        source: Source,
        statement: &Value,
        identity: bool,
    ) -> Result<Self, IamError> {
        let bad = |why: String| IamError::BadPolicy {
            policy: source.to_string(),
            why,
        };
        let object = statement
            .as_object()
            .ok_or_else(|| bad("a statement is not an object".into()))?;
        let effect = match object.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            other => return Err(bad(format!("Effect is {other:?}, not Allow or Deny"))),
        };
        let (principal, not_principal) = match (object.get("Principal"), object.get("NotPrincipal"))
        {
            (Some(p), None) => (Some(p), false),
            (None, Some(p)) => (Some(p), true),
            (None, None) => (None, false),
            (Some(_), Some(_)) => {
                return Err(bad("a statement has both Principal and NotPrincipal".into()));
            }
        };
        let principals = match principal {
            None if identity => Principals::Caller,
            None => {
                return Err(bad(
                    "a resource policy's statement names no Principal".into()
                ));
            }
            Some(p) => listed(p),
        };
        let mut rest = object.clone();
        rest.remove("Principal");
        rest.remove("NotPrincipal");
        let document =
            serde_json::json!({"Version": "2012-10-17", "Statement": [Value::Object(rest)]});
        let policy = IAMPolicy::from_json(&document.to_string())
            .map_err(|e| bad(format!("iam-rs cannot read a statement ({e})")))?;
        Ok(Self {
            source: Source {
                sid: object.get("Sid").and_then(Value::as_str).map(str::to_owned),
                ..source
            },
            effect,
            principals,
            not_principal,
            evaluator: PolicyEvaluator::with_policies(vec![policy]),
        })
    }

    /// How this statement's principal reaches `caller` (in `account`).
    pub(super) fn reach(&self, caller: &Principal, account: &str) -> Reach {
        let reach = match &self.principals {
            Principals::Caller => Reach::Direct,
            Principals::Listed { aws, services, any } => {
                // `"Principal": {"AWS": "*"}` is `"Principal": "*"` in a resource policy.
                if *any || aws.iter().any(|a| a == "*") {
                    Reach::Direct
                } else if let Principal::Service { name, .. } = caller {
                    if services.iter().any(|s| s == name) {
                        Reach::Direct
                    } else {
                        Reach::None
                    }
                } else {
                    let arn = caller.arn(account);
                    let root = format!("arn:aws:iam::{account}:root");
                    if aws.iter().any(|a| {
                        a == "*"
                            || arn.as_deref() == Some(a.as_str())
                            || arn_like(a, arn.as_deref())
                    }) {
                        Reach::Direct
                    } else if aws.iter().any(|a| a == account || *a == root) {
                        Reach::Account
                    } else {
                        Reach::None
                    }
                }
            }
        };
        match (self.not_principal, reach) {
            (false, reach) => reach,
            (true, Reach::None) => Reach::Direct,
            (true, _) => Reach::None,
        }
    }

    /// Whether the action, resource and conditions match (the principal aside).
    pub(super) fn matches(
        &self,
        action: &str,
        resource: &str,
        context: &[(String, ContextValue)],
    ) -> Result<bool, IamError> {
        let arn = Arn::parse(resource).map_err(|e| IamError::BadResource {
            resource: resource.into(),
            why: e.to_string(),
        })?;
        let mut ctx = Context::new();
        for (key, value) in context {
            ctx.insert(key.clone(), context_value(value));
        }
        // The principal was matched above; iam-rs needs a valid one, any will do.
        let principal = iam_rs::Principal::Aws(iam_rs::PrincipalId::String(ANY_PRINCIPAL.into()));
        let request = IAMRequest::new_with_context(principal, action, arn, ctx);
        let result = self
            .evaluator
            .evaluate(&request)
            .map_err(|e| IamError::Evaluation {
                policy: self.source.to_string(),
                why: e.to_string(),
            })?;
        Ok(matches!(
            result.decision,
            IamDecision::Allow | IamDecision::Deny
        ))
    }
}

fn listed(principal: &Value) -> Principals {
    let strings = |v: Option<&Value>| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    match principal {
        Value::String(s) if s == "*" => Principals::Listed {
            aws: Vec::new(),
            services: Vec::new(),
            any: true,
        },
        _ => Principals::Listed {
            aws: strings(principal.get("AWS")),
            services: strings(principal.get("Service")),
            any: false,
        },
    }
}

/// An ARN principal with wildcards (`arn:aws:iam::ACCOUNT:role/*`) matching the caller's ARN.
fn arn_like(pattern: &str, arn: Option<&str>) -> bool {
    let Some(arn) = arn else { return false };
    pattern.contains(['*', '?']) && Arn::wildcard_match(arn, pattern)
}

fn context_value(value: &ContextValue) -> iam_rs::ContextValue {
    match value {
        ContextValue::Text(s) => iam_rs::ContextValue::String(s.clone()),
        ContextValue::Bool(b) => iam_rs::ContextValue::Boolean(*b),
        ContextValue::Number(n) => iam_rs::ContextValue::Number(*n),
        ContextValue::List(items) => iam_rs::ContextValue::StringList(items.clone()),
    }
}
