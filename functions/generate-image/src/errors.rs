//! How model failures become pipeline errors.

use imagegen_core::PipelineError;
use imagegen_core::model::{ResponseError, is_content_filter_message};
use imagegen_core::ports::InvokeError;

pub fn from_invoke(model_id: &str, error: InvokeError) -> PipelineError {
    match error {
        InvokeError::Throttled(m) => {
            PipelineError::ModelThrottled(format!("{model_id} is throttling requests: {m}"))
        }
        InvokeError::Refused(m) if is_content_filter_message(&m) => PipelineError::ContentFiltered(
            format!("{model_id}'s content filter blocked the request: {m}"),
        ),
        InvokeError::Refused(m) => {
            PipelineError::ModelError(format!("{model_id} refused the request: {m}"))
        }
        InvokeError::Unavailable(m) => {
            PipelineError::ModelUnavailable(format!("{model_id} is unavailable: {m}"))
        }
        // The service's message names the caller's role and account: it stays in the logs, out of
        // the email.
        InvokeError::BudgetSpent(_) => PipelineError::BudgetSpent(format!(
            "{model_id} was not called: the monthly budget for image generation is spent, and \
             AWS Budgets stopped the model calls until it is lifted"
        )),
        InvokeError::Failed(m) => PipelineError::ModelError(format!("{model_id} failed: {m}")),
    }
}

pub fn from_response(model_id: &str, error: ResponseError) -> PipelineError {
    match error {
        ResponseError::Filtered(m) => PipelineError::ContentFiltered(format!(
            "{model_id}'s content filter blocked the result: {m}"
        )),
        other => PipelineError::ModelError(format!("{model_id}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        let name = |e| from_invoke("m", e).name();
        assert_eq!(name(InvokeError::Throttled("x".into())), "ModelThrottled");
        assert_eq!(
            name(InvokeError::Refused(
                "This request has been blocked by our content filters.".into()
            )),
            "ContentFiltered"
        );
        assert_eq!(name(InvokeError::Refused("bad width".into())), "ModelError");
        assert_eq!(
            name(InvokeError::Unavailable("503".into())),
            "ModelUnavailable"
        );
        assert_eq!(name(InvokeError::Failed("denied".into())), "ModelError");
        let spent = from_invoke(
            "m",
            InvokeError::BudgetSpent("User: arn:aws:sts::123456789012:assumed-role/r/f".into()),
        );
        assert_eq!(spent.name(), "BudgetSpent");
        assert!(!spent.to_string().contains("123456789012"), "{spent}");
        assert_eq!(
            from_response("m", ResponseError::Filtered("Filter reason: prompt".into())).name(),
            "ContentFiltered"
        );
        assert_eq!(
            from_response("m", ResponseError::Malformed("x".into())).name(),
            "ModelError"
        );
    }
}
