//! The template's policies enforced at the twin's endpoint: [`Enforcer`] is the endpoint's
//! [`Authorize`] hook. Each request is mapped to the [`Operation`] the table knows
//! ([`mapping`]), its caller to a [`Principal`] (a function role by its key, the administrator by
//! the person's: [`keys`]), and authorised as IAM would. An operation on a topic or queue
//! encrypted with a key of the account also needs what the service asks of KMS for the caller
//! ([`crate::operations::KEY_USE`]), refused in the service's words for a KMS refusal.
//!
//! ```ignore
//! let keys = Keys::issue(&plan);
//! let access = Access::new(keys.callers())
//!     .with_authorize(Arc::new(Enforcer::new(Authorizer::from_stack(&stack)?, &stack)));
//! let router = imagegen_local::server::local_router_with(&aws, on_created, Arc::new(access))?;
//! ```

pub mod keys;
pub mod mapping;

use imagegen_local::server::{Authorize, Caller, Denied, Params, RequestFacts};

use crate::iam::{Authorizer, Principal};
use crate::operations::{Operation, Requirement, missing_key_needs};
use crate::template::Stack;
pub use keys::{ADMINISTRATOR, Keys, RoleKey};
use mapping::{Mapped, Place, operation_of};

/// Authorises the endpoint's requests from the stack's policies.
#[derive(Debug)]
pub struct Enforcer {
    authorizer: Authorizer,
    place: Place,
}

impl Enforcer {
    /// Requests to the resources of `stack` (its Region and account), decided by `authorizer`.
    pub fn new(authorizer: Authorizer, stack: &Stack<'_>) -> Self {
        Self::in_place(authorizer, stack.region(), stack.account())
    }

    /// As [`Self::new`], in `region` of `account`.
    pub fn in_place(authorizer: Authorizer, region: &str, account: &str) -> Self {
        Self {
            authorizer,
            place: Place {
                region: region.to_owned(),
                account: account.to_owned(),
            },
        }
    }

    /// Whether `principal` may meet every requirement; a denial is `refusal`'s (the service's
    /// own, or KMS's for the service).
    fn decide(
        &self,
        principal: &Principal,
        requirements: &[Requirement],
        secure_transport: bool,
        refusal: fn(String) -> Denied,
    ) -> Result<(), Denied> {
        match self
            .authorizer
            .authorize(principal, requirements, secure_transport)
        {
            Ok(None) => Ok(()),
            Ok(Some(denial)) => Err(refusal(denial.message)),
            // A policy that cannot be evaluated denies: a rehearsal must not pass what AWS might
            // refuse.
            Err(e) => Err(refusal(format!(
                "The rehearsal could not evaluate the policies: {e}"
            ))),
        }
    }

    /// What the service asks of KMS for the caller when the operation's topic or queue is
    /// encrypted with a key of the account: each use authorised by the key policy and the
    /// caller's policies, after the operation itself (as the service asks KMS only then).
    fn key_use(
        &self,
        principal: &Principal,
        operation: &Operation,
        secure_transport: bool,
    ) -> Result<(), Denied> {
        let Operation::On { arn, .. } = operation else {
            return Ok(());
        };
        let Some(key) = self.authorizer.encryption_key(arn) else {
            return Ok(());
        };
        for through in operation.key_use(key, &self.place.region) {
            self.decide(
                principal,
                &through.requirements(),
                secure_transport,
                Denied::by_kms,
            )?;
        }
        Ok(())
    }
}

impl Enforcer {
    /// The principal a caller's key stands for: the administrator, or a role's session, named
    /// by its ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, see [`keys`]). A name that
    /// is neither is a role the stack does not have, which no policy allows anything.
    fn principal_of(&self, caller: &Caller) -> Principal {
        if caller.name == ADMINISTRATOR {
            return Principal::Administrator;
        }
        let (role, session) = caller
            .name
            .split_once(":assumed-role/")
            .and_then(|(_, rest)| rest.split_once('/'))
            .unwrap_or((caller.name.as_str(), ""));
        Principal::Role {
            arn: self
                .authorizer
                .role_arn(role)
                .map_or_else(|| caller.name.clone(), str::to_owned),
            session: (!session.is_empty()).then(|| session.to_owned()),
        }
    }
}

impl Authorize for Enforcer {
    fn authorize(&self, caller: &Caller, request: &RequestFacts) -> Result<(), Denied> {
        let principal = self.principal_of(caller);
        let operation = match operation_of(request, &self.place) {
            Mapped::Known(operation) => operation,
            // The administrator may do anything an explicit Deny does not forbid, and a Deny
            // cannot be evaluated for an operation whose resource is unknown; a role's request
            // for it is refused so that the gap shows instead of passing.
            Mapped::Unknown { .. } if principal == Principal::Administrator => return Ok(()),
            Mapped::Unknown { why } => {
                return Err(Denied::new(format!(
                    "{} may not make this request: {why} (add it to the operations table).",
                    caller.name
                )));
            }
        };
        self.decide(
            &principal,
            &operation.requirements(),
            request.secure_transport,
            Denied::new,
        )?;
        self.key_use(&principal, &operation, request.secure_transport)?;
        // S3 answers a read of a missing key 404 only to a caller that may list the bucket.
        if let (Params::S3(s3), Operation::Object { bucket, .. }) = (&request.params, &operation)
            && s3.object_exists == Some(false)
        {
            return self.decide(
                &principal,
                &[missing_key_needs(bucket)],
                request.secure_transport,
                Denied::new,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
