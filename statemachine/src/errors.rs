//! The error names Step Functions itself raises.

/// Catch-all.
pub const ALL: &str = "States.ALL";
/// Any task failure but a timeout.
pub const TASK_FAILED: &str = "States.TaskFailed";
/// A task ran longer than TimeoutSeconds.
pub const TIMEOUT: &str = "States.Timeout";
/// A task sent no heartbeat within HeartbeatSeconds.
pub const HEARTBEAT_TIMEOUT: &str = "States.HeartbeatTimeout";
/// An unrecoverable runtime error (bad path, wrong type, ...). Never caught.
pub const RUNTIME: &str = "States.Runtime";
/// A payload exceeded 256 KiB.
pub const DATA_LIMIT_EXCEEDED: &str = "States.DataLimitExceeded";
/// No Choice rule matched and there is no Default.
pub const NO_CHOICE_MATCHED: &str = "States.NoChoiceMatched";
/// A JSONata expression failed, or produced a value its field cannot take.
pub const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";
/// An intrinsic function failed.
pub const INTRINSIC_FAILURE: &str = "States.IntrinsicFailure";
/// A Map run exceeded its tolerated failures.
pub const EXCEED_TOLERATED_FAILURE_THRESHOLD: &str = "States.ExceedToleratedFailureThreshold";
