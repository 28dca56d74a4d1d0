//! Request ids, execution names and ARNs.
//!
//! A request's id is the one ValidatePrompt gives it ([`imagegen_core::request::request_id`]): the
//! execution name's key-safe characters, `-` and a hash of the name. The doors' names
//! ([`imagegen_core::execution_name::door_name`]) are all key-safe, so the id keeps the name whole and
//! `GET /images/{requestId}` finds the execution from the id alone, with nothing stored: strip the
//! hash, check it, and name the execution of the configured state machine.

use serde_json::Value;

/// The request id of the execution `name`.
pub fn request_id(name: &str) -> String {
    imagegen_core::request::request_id(Some(name), &Value::Null)
}

/// The execution name `request_id` was made from, when the id keeps it whole (names of the doors
/// and of S3 uploads do; a console name with other characters does not).
pub fn execution_name(request_id: &str) -> Option<&str> {
    let (name, _) = request_id.rsplit_once('-')?;
    (self::request_id(name) == request_id).then_some(name)
}

/// A state machine's ARN, checked once (at start-up) so that its executions' ARNs can be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMachineArn {
    arn: String,
    /// `arn:aws:states:r:a:execution:M:`, to which an execution's name is appended.
    executions: String,
}

impl StateMachineArn {
    /// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`, or `None` for anything else.
    pub fn parse(arn: &str) -> Option<Self> {
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        match parts.as_slice() {
            [
                "arn",
                partition,
                "states",
                region,
                account,
                "stateMachine",
                machine,
            ] if !machine.is_empty() && !machine.contains(':') => Some(Self {
                arn: arn.to_owned(),
                executions: format!(
                    "arn:{partition}:states:{region}:{account}:execution:{machine}:"
                ),
            }),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The ARN of this state machine's execution `name`
    /// (`arn:aws:states:r:a:stateMachine:M` -> `arn:aws:states:r:a:execution:M:name`).
    pub fn execution(&self, name: &str) -> String {
        format!("{}{name}", self.executions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_door_name_survives_the_round_trip() {
        let name = imagegen_core::execution_name::door_name("api", &["caller", "key"]);
        let id = request_id(&name);
        assert!(imagegen_core::keys::is_request_id(&id), "{id}");
        assert_eq!(execution_name(&id), Some(name.as_str()));
    }

    #[test]
    fn ids_that_do_not_keep_their_name_lead_nowhere() {
        // A console name with a dot: its id drops the dot, so the name cannot be told.
        assert_eq!(execution_name(&request_id("run.1")), None);
        assert_eq!(execution_name("api-0123-0123456789abcdef"), None);
        assert_eq!(execution_name("nohyphen"), None);
        assert_eq!(execution_name(""), None);
    }

    #[test]
    fn execution_arns_of_the_state_machine() {
        let machine =
            StateMachineArn::parse("arn:aws:states:us-east-1:123:stateMachine:Pipeline").unwrap();
        assert_eq!(
            machine.as_str(),
            "arn:aws:states:us-east-1:123:stateMachine:Pipeline"
        );
        assert_eq!(
            machine.execution("api-1"),
            "arn:aws:states:us-east-1:123:execution:Pipeline:api-1"
        );
        assert_eq!(
            StateMachineArn::parse("arn:aws:sns:us-east-1:123:topic"),
            None
        );
        assert_eq!(
            StateMachineArn::parse("arn:aws:states:us-east-1:123:stateMachine:"),
            None
        );
        assert_eq!(
            StateMachineArn::parse("arn:aws:states:us-east-1:123:stateMachine:M:v1"),
            None
        );
    }
}
