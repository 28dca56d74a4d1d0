//! The account, Region and ARNs the engine names. One home for the offline twin's account: the
//! local stand-ins (`imagegen_local::config`) answer with the same one, so a definition's
//! `$$.Execution.Id` is the ARN DescribeExecution returns. An engine can be told another account
//! ([`Engine::with_account`](crate::Engine::with_account)): the ASL conformance corpus was recorded
//! under one of its own.

/// The account id of the offline twin (and of the engine's ARNs unless a caller says otherwise).
pub const ACCOUNT_ID: &str = "000000000000";
/// The Region of the offline twin, unless a caller names another.
pub const REGION: &str = "us-east-1";

/// `arn:aws:states:{region}:{ACCOUNT_ID}:stateMachine:{name}`
pub fn state_machine_arn(region: &str, name: &str) -> String {
    states_arn(region, ACCOUNT_ID, "stateMachine", name)
}

/// `arn:aws:states:{region}:{ACCOUNT_ID}:execution:{state_machine}:{name}`
pub fn execution_arn(region: &str, state_machine: &str, name: &str) -> String {
    states_arn(
        region,
        ACCOUNT_ID,
        "execution",
        &format!("{state_machine}:{name}"),
    )
}

/// `arn:aws:states:{region}:{account}:{kind}:{rest}`: a state machine (`stateMachine`), a Standard
/// execution (`execution`) or an Express one (`express`, as TestState names its own).
pub(crate) fn states_arn(region: &str, account: &str, kind: &str, rest: &str) -> String {
    format!("arn:aws:states:{region}:{account}:{kind}:{rest}")
}

/// `arn:aws:iam::{ACCOUNT_ID}:role/{name}`
pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT_ID}:role/{name}")
}

/// The full ARN for a Lambda function name (or the ARN itself, without a version qualifier).
pub fn lambda_arn(name_or_arn: &str) -> String {
    lambda_arn_in(ACCOUNT_ID, name_or_arn)
}

/// [`lambda_arn`], completing a bare name in `account`.
pub(crate) fn lambda_arn_in(account: &str, name_or_arn: &str) -> String {
    if let Some(rest) = name_or_arn.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() >= 6 && parts[1] == "lambda" && parts[4] == "function" {
            return format!("arn:{}", parts[..6].join(":"));
        }
        return name_or_arn.to_string();
    }
    format!("arn:aws:lambda:{REGION}:{account}:function:{name_or_arn}")
}

/// The function name of a Lambda ARN (or the name itself).
pub fn lambda_name(name_or_arn: &str) -> &str {
    if name_or_arn.starts_with("arn:") {
        name_or_arn.split(':').nth(6).unwrap_or(name_or_arn)
    } else {
        name_or_arn
    }
}
