//! The deploy rehearsed: the synthesized CDK cloud assembly read, its template resolved as
//! CloudFormation would resolve it in the offline twin's account, every resource classified, and
//! requests authorised from the template's own policies as IAM evaluates them.
//!
//! `assembly` finds the stack and its assets -> `template` resolves intrinsics and names ->
//! `inventory` says what is rehearsed and refuses what it cannot rehearse faithfully -> `iam`
//! authorises the requests that `operations` describes; `plan` reads what the twin must build, and
//! `wiring` checks each connection it makes against the policies (see README.md for the module
//! map).

pub mod assembly;
pub mod enforce;
pub mod iam;
pub mod inventory;
pub mod operations;
pub mod plan;
pub mod template;
pub mod twin;
pub mod wiring;

pub use assembly::{Assembly, AssemblyError, CodeAsset, StackChoice};
pub use enforce::{Enforcer, Keys};
pub use iam::{Authorizer, Decision, Principal, Request};
pub use inventory::{Entry, Inventory, InventoryError, Rehearsal};
pub use operations::{Operation, Requirement};
pub use plan::{Plan, PlanError};
pub use template::{ParameterOverride, Stack, StackOptions, Template, TemplateError};
pub use wiring::Finding;

/// Why a rehearsal cannot start: each is one sentence, and the command line answers every one of
/// them with exit status 2 (a wrong input, not a failure of the pipeline).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Assembly(#[from] AssemblyError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

impl StartError {
    /// The exit status the command line gives this error.
    pub fn exit_status(&self) -> i32 {
        2
    }
}
