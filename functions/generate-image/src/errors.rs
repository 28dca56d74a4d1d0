//! How model failures become pipeline errors.

use imagegen_core::PipelineError;
use imagegen_core::model::{self, ResponseError, is_content_filter_message};
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
        InvokeError::Retired(m) => PipelineError::ModelRetired(retired_message(model_id, &m)),
        InvokeError::Failed(m) => PipelineError::ModelError(format!("{model_id} failed: {m}")),
    }
}

/// `ModelRetired`'s words: the model (and its name, when known), what Bedrock said, and the
/// current models to use instead (the active known ones, this one left out).
fn retired_message(model_id: &str, bedrock_said: &str) -> String {
    let named = match model::known_model(model_id) {
        Some(known) => format!("{model_id} ({})", known.name),
        None => model_id.to_owned(),
    };
    let gone = model::base_id(model_id);
    let current: Vec<String> = model::current_models()
        .filter(|m| m.id != gone)
        .map(|m| format!("{} ({})", m.id, m.name))
        .collect();
    let mut message = format!("{named} has been retired on Bedrock: {bedrock_said}");
    if !message.ends_with('.') {
        message.push('.');
    }
    if !current.is_empty() {
        message.push_str(&format!(" Current models: {}.", current.join(", ")));
    }
    message
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
        assert_eq!(name(InvokeError::Retired("gone".into())), "ModelRetired");
        assert_eq!(
            from_response("m", ResponseError::Filtered("Filter reason: prompt".into())).name(),
            "ContentFiltered"
        );
        assert_eq!(
            from_response("m", ResponseError::Malformed("x".into())).name(),
            "ModelError"
        );
    }

    #[test]
    fn a_retired_model_is_named_with_the_current_ones() {
        let said = "This model version has reached the end of its life. Please refer to the AWS \
                    documentation for more details.";
        let retired = from_invoke(
            "us.stability.stable-image-core-v1:1",
            InvokeError::Retired(said.into()),
        );
        assert_eq!(
            retired.to_string(),
            format!(
                "us.stability.stable-image-core-v1:1 (Stable Image Core 1.1) has been retired on \
                 Bedrock: {said} Current models: stability.stable-image-ultra-v1:1 (Stable Image \
                 Ultra 1.1), stability.sd3-5-large-v1:0 (Stable Diffusion 3.5 Large)."
            )
        );
        let unknown = from_invoke(
            "stability.sd3-large-v1:0",
            InvokeError::Retired("gone".into()),
        );
        assert!(
            unknown.to_string().starts_with(
                "stability.sd3-large-v1:0 has been retired on Bedrock: gone. Current models: \
                 stability.stable-image-core-v1:1 (Stable Image Core 1.1), "
            ),
            "{unknown}"
        );
    }
}
