//! The template's policies enforced at the twin's endpoint: [`Enforcer`] is the endpoint's
//! [`Authorize`] hook. Each request is mapped to the [`Operation`] the table knows
//! ([`mapping`]), its caller to a [`Principal`] (a function role by its key, the administrator by
//! the person's: [`keys`]), and authorised as IAM would.
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

    fn decide(
        &self,
        principal: &Principal,
        requirements: &[Requirement],
        secure_transport: bool,
    ) -> Result<(), Denied> {
        match self
            .authorizer
            .authorize(principal, requirements, secure_transport)
        {
            Ok(None) => Ok(()),
            Ok(Some(denial)) => Err(Denied {
                message: denial.message,
            }),
            // A policy that cannot be evaluated denies: a rehearsal must not pass what AWS might
            // refuse.
            Err(e) => Err(Denied {
                message: format!("The rehearsal could not evaluate the policies: {e}"),
            }),
        }
    }
}

/// The principal a caller's key stands for.
fn principal_of(caller: &Caller) -> Principal {
    if caller.name == ADMINISTRATOR {
        Principal::Administrator
    } else {
        Principal::Role {
            arn: caller.name.clone(),
        }
    }
}

impl Authorize for Enforcer {
    fn authorize(&self, caller: &Caller, request: &RequestFacts) -> Result<(), Denied> {
        let principal = principal_of(caller);
        let operation = match operation_of(request, &self.place) {
            Mapped::Known(operation) => operation,
            // The administrator may do anything an explicit Deny does not forbid, and a Deny
            // cannot be evaluated for an operation whose resource is unknown; a role's request
            // for it is refused so that the gap shows instead of passing.
            Mapped::Unknown { .. } if principal == Principal::Administrator => return Ok(()),
            Mapped::Unknown { why } => {
                return Err(Denied {
                    message: format!(
                        "{} may not make this request: {why} (add it to the operations table).",
                        caller.name
                    ),
                });
            }
        };
        self.decide(
            &principal,
            &operation.requirements(),
            request.secure_transport,
        )?;
        // S3 answers a read of a missing key 404 only to a caller that may list the bucket.
        if let (Params::S3(s3), Operation::Object { bucket, .. }) = (&request.params, &operation)
            && s3.object_exists == Some(false)
        {
            return self.decide(
                &principal,
                &[missing_key_needs(bucket)],
                request.secure_transport,
            );
        }
        Ok(())
    }
}
