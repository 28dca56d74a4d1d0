//! Execution names and the ARNs of local state machines and executions.

use imagegen_core::display::escape_controls;

/// Step Functions' limit on names.
pub const MAX_NAME_CHARS: usize = 80;

/// Why Step Functions refuses a name (`InvalidName`), or `None` when it is valid: 1 to 80 characters,
/// no whitespace, brackets, wildcards, `"#%\^|~`$&,;:/` or control characters.
pub fn name_problem(name: &str) -> Option<String> {
    let shown = escape_controls(name);
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME_CHARS {
        return Some(format!(
            "Invalid Name: '{shown}' (must be 1 to {MAX_NAME_CHARS} characters)"
        ));
    }
    let bad = name.chars().find(|&c| {
        c.is_whitespace()
            || c.is_control()
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c)
    });
    bad.map(|c| format!("Invalid Name: '{shown}' (character {c:?} is not allowed)"))
}

/// The ARNs of state machines and executions: the engine's builders, so a definition's context
/// object and the API answer the same ones.
pub use imagegen_statemachine::{execution_arn, state_machine_arn};

/// The (state machine name, execution name) of an execution ARN.
pub fn parse_execution_arn(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.splitn(8, ':').collect();
    match parts.as_slice() {
        ["arn", _, "states", _, _, "execution", machine, name]
            if !machine.is_empty() && !name.is_empty() =>
        {
            Some((machine, name))
        }
        _ => None,
    }
}

/// The name of a state machine ARN.
pub fn parse_state_machine_arn(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    match parts.as_slice() {
        ["arn", _, "states", _, _, "stateMachine", name] if !name.is_empty() => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name_problem("run-20240101-abc_1").is_none());
        assert!(name_problem("café").is_none());
        for bad in ["", "a b", "a/b", "a:b", "a*", "x\u{1}", &"n".repeat(81)] {
            assert!(name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn arns() {
        let sm = state_machine_arn("us-east-1", "pipe");
        assert_eq!(
            sm,
            "arn:aws:states:us-east-1:000000000000:stateMachine:pipe"
        );
        assert_eq!(parse_state_machine_arn(&sm), Some("pipe"));
        let ex = execution_arn("us-east-1", "pipe", "run-1");
        assert_eq!(parse_execution_arn(&ex), Some(("pipe", "run-1")));
        assert_eq!(parse_execution_arn(&sm), None);
        assert_eq!(parse_execution_arn("nope"), None);
    }
}
