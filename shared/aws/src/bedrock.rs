use aws_sdk_bedrockruntime::config::http::HttpResponse;
use aws_sdk_bedrockruntime::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelError;
use aws_sdk_bedrockruntime::primitives::Blob;

use imagegen_core::pools::Invocation;
use imagegen_core::ports::{ImageModel, InvokeError};

/// The IAM path of the Deny `bedrock:InvokeModel` policy that the budget's action attaches to
/// GenerateImage's role when the month's budget is spent (the CDK reads it from `facts.json`). Its
/// name is CloudFormation's; the path is what tells this denial from any other.
pub const BUDGET_SPENT_POLICY_PATH: &str = "/imagegen-budget-spent/";

/// What AWS writes before the denying policy's ARN when an identity-based policy of the same
/// account denies explicitly (IAM user guide, "Troubleshoot access denied error messages").
const EXPLICIT_IDENTITY_DENY: &str = "with an explicit deny in an identity-based policy: ";

/// Whether an AccessDenied message names, as the explicit deny, a policy under
/// [`BUDGET_SPENT_POLICY_PATH`]: `... with an explicit deny in an identity-based policy:
/// arn:aws:iam::123456789012:policy/imagegen-budget-spent/NAME`. Any other denial (no grant, another
/// policy, a message without the policy's ARN) is not the budget's.
fn denied_by_budget_policy(message: &str) -> bool {
    let Some((_, rest)) = message.split_once(EXPLICIT_IDENTITY_DENY) else {
        return false;
    };
    let arn = rest
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(['.', ',', ';']);
    // arn:PARTITION:iam::ACCOUNT:policy/PATH/NAME
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_prefix, _partition, "iam", "", _account, resource] = fields.as_slice() else {
        return false;
    };
    *arn_prefix == "arn"
        && resource
            .strip_prefix("policy")
            .and_then(|p| p.strip_prefix(BUDGET_SPENT_POLICY_PATH))
            .is_some_and(|name| !name.is_empty())
}

/// What Bedrock says, in a `ResourceNotFoundException` (HTTP 404), of a model that is gone: past
/// its end of life ("This model version has reached the end of its life. Please refer to the AWS
/// documentation for more details."), or a legacy model the account has not used lately ("Access
/// denied. This Model is marked by provider as Legacy and you have not been actively using the
/// model in the last 15 days. Please upgrade to an active model on Amazon Bedrock"). Both are
/// Bedrock's model lifecycle (Bedrock user guide, "Model lifecycle"); the phrases are matched, not
/// the exception alone, because a missing inference profile or model ARN is a ResourceNotFound too,
/// and that is a setting to fix, not a model that went away.
const RETIRED_PHRASES: [&str; 2] = [
    "reached the end of its life",
    "marked by provider as legacy",
];

/// Whether a not-found answer is Bedrock's word for a model that is gone (see [`RETIRED_PHRASES`]).
fn is_retired_message(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    RETIRED_PHRASES.iter().any(|p| message.contains(p))
}

/// [`ImageModel`] over `aws_sdk_bedrockruntime::Client` (InvokeModel).
#[derive(Debug, Clone)]
pub struct BedrockModel {
    client: aws_sdk_bedrockruntime::Client,
}

impl BedrockModel {
    pub fn new(client: aws_sdk_bedrockruntime::Client) -> Self {
        Self { client }
    }
}

/// Map an SDK error to what the pipeline does about it.
fn classify(err: SdkError<InvokeModelError, HttpResponse>) -> InvokeError {
    let status = err.raw_response().map(|r| r.status().as_u16());
    let Some(service) = err.as_service_error() else {
        // Timeouts, connection failures, unreadable responses: the service may come back.
        return InvokeError::Unavailable(crate::error_text(&err));
    };
    let message = service
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| crate::error_text(&err));
    let code = service.code().unwrap_or("");
    let denied = matches!(service, InvokeModelError::AccessDeniedException(_))
        || code == "AccessDeniedException"
        || status == Some(403);
    if denied && denied_by_budget_policy(&message) {
        return InvokeError::BudgetSpent(message);
    }
    // The legacy model's answer starts "Access denied." but is a 404 ResourceNotFoundException,
    // never an AccessDenied, so a missing grant or the budget's deny cannot be taken for it.
    let not_found = matches!(service, InvokeModelError::ResourceNotFoundException(_))
        || code == "ResourceNotFoundException"
        || status == Some(404);
    if not_found && is_retired_message(&message) {
        return InvokeError::Retired(message);
    }
    match service {
        InvokeModelError::ThrottlingException(_)
        | InvokeModelError::ServiceQuotaExceededException(_) => InvokeError::Throttled(message),
        InvokeModelError::ValidationException(_) => InvokeError::Refused(message),
        InvokeModelError::ServiceUnavailableException(_)
        | InvokeModelError::InternalServerException(_)
        | InvokeModelError::ModelNotReadyException(_)
        | InvokeModelError::ModelTimeoutException(_) => InvokeError::Unavailable(message),
        _ if status == Some(429) || code == "ThrottlingException" => {
            InvokeError::Throttled(message)
        }
        _ if matches!(status, Some(500..=599)) => InvokeError::Unavailable(message),
        _ => InvokeError::Failed(if code.is_empty() {
            message
        } else {
            format!("{code}: {message}")
        }),
    }
}

impl ImageModel for BedrockModel {
    async fn invoke(&self, call: &Invocation, body: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let request = self
            .client
            .invoke_model()
            .model_id(&call.model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(body));
        let out = match &call.region {
            // A pool in another Region: the same client, its Region overridden for this call (the
            // endpoint and the signature follow it).
            Some(region) => {
                request
                    .customize()
                    .config_override(
                        aws_sdk_bedrockruntime::config::Builder::default()
                            .region(aws_sdk_bedrockruntime::config::Region::new(region.clone())),
                    )
                    .send()
                    .await
            }
            None => request.send().await,
        }
        .map_err(classify)?;
        Ok(out.body.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::operation::invoke_model::InvokeModelOutput;
    use aws_sdk_bedrockruntime::types::error::{
        AccessDeniedException, ResourceNotFoundException, ServiceUnavailableException,
        ThrottlingException, ValidationException,
    };
    use aws_smithy_mocks::{mock, mock_client};

    async fn invoke_with(rule: aws_smithy_mocks::Rule) -> Result<Vec<u8>, InvokeError> {
        let model = BedrockModel::new(mock_client!(aws_sdk_bedrockruntime, [&rule]));
        let call = Invocation {
            model_id: "amazon.nova-canvas-v1:0".into(),
            region: None,
        };
        model.invoke(&call, b"{}".to_vec()).await
    }

    #[tokio::test]
    async fn returns_the_body() {
        let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model)
            .match_requests(|r| r.model_id() == Some("amazon.nova-canvas-v1:0"))
            .then_output(|| {
                InvokeModelOutput::builder()
                    .body(Blob::new(b"{\"images\":[]}".to_vec()))
                    .content_type("application/json")
                    .build()
                    .unwrap()
            });
        assert_eq!(invoke_with(rule).await.unwrap(), b"{\"images\":[]}");
    }

    #[tokio::test]
    async fn errors_are_classified() {
        let throttled = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::ThrottlingException(
                ThrottlingException::builder()
                    .message("Too many requests")
                    .build(),
            )
        });
        assert!(matches!(
            invoke_with(throttled).await,
            Err(InvokeError::Throttled(_))
        ));

        let refused = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::ValidationException(
                ValidationException::builder()
                    .message("This request has been blocked by our content filters.")
                    .build(),
            )
        });
        let got = invoke_with(refused).await;
        assert!(
            matches!(&got, Err(InvokeError::Refused(m)) if m.contains("content filters")),
            "{got:?}"
        );

        let down = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::ServiceUnavailableException(
                ServiceUnavailableException::builder()
                    .message("down")
                    .build(),
            )
        });
        assert!(matches!(
            invoke_with(down).await,
            Err(InvokeError::Unavailable(_))
        ));

        let denied = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(|| {
            InvokeModelError::AccessDeniedException(
                AccessDeniedException::builder().message("no").build(),
            )
        });
        assert!(matches!(
            invoke_with(denied).await,
            Err(InvokeError::Failed(_))
        ));
    }

    /// What Bedrock answers once the budget's action has attached the Deny policy (the message AWS
    /// gives for an explicit deny in a same-account identity-based policy).
    fn budget_denial(policy: &str) -> String {
        format!(
            "User: arn:aws:sts::123456789012:assumed-role/Imagegen-GenerateImageRole-AB12/Imagegen-GenerateImageFunction-CD34 \
             is not authorized to perform: bedrock:InvokeModel on resource: \
             arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1 \
             with an explicit deny in an identity-based policy: {policy}"
        )
    }

    #[tokio::test]
    async fn the_budget_policys_deny_is_budget_spent() {
        let policy = "arn:aws:iam::123456789012:policy/imagegen-budget-spent/Imagegen-CostGuardsBudgetSpentPolicy-9F8E";
        let message = budget_denial(policy);
        let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(move || {
            InvokeModelError::AccessDeniedException(
                AccessDeniedException::builder()
                    .message(message.clone())
                    .build(),
            )
        });
        let got = invoke_with(rule).await;
        assert!(
            matches!(&got, Err(InvokeError::BudgetSpent(m)) if m.contains(policy)),
            "{got:?}"
        );
    }

    /// As Bedrock sends it on the wire: HTTP 403, the error type in `x-amzn-ErrorType`, the
    /// message in the JSON body (the SDK parses it into AccessDeniedException).
    #[tokio::test]
    async fn the_budget_deny_as_bedrock_sends_it_is_budget_spent() {
        // The message holds no quote or backslash, so it goes into the JSON as it is.
        let body = format!(
            "{{\"message\":\"{}\"}}",
            budget_denial("arn:aws-us-gov:iam::123456789012:policy/imagegen-budget-spent/P.")
        );
        let rule =
            mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_http_response(move || {
                let mut response = aws_smithy_runtime_api::http::Response::new(
                    aws_smithy_runtime_api::http::StatusCode::try_from(403).unwrap(),
                    aws_smithy_types::body::SdkBody::from(body.clone()),
                );
                response.headers_mut().insert(
                    "x-amzn-ErrorType",
                    "AccessDeniedException:http://internal.amazon.com/coral/com.amazon.bedrock/",
                );
                response
                    .headers_mut()
                    .insert("content-type", "application/json");
                response
            });
        let got = invoke_with(rule).await;
        assert!(matches!(got, Err(InvokeError::BudgetSpent(_))), "{got:?}");
    }

    #[test]
    fn only_a_deny_by_a_policy_under_the_path_is_the_budgets() {
        assert!(denied_by_budget_policy(&budget_denial(
            "arn:aws:iam::123456789012:policy/imagegen-budget-spent/Name"
        )));
        for other in [
            // Another policy denies, or the same name under another path.
            budget_denial("arn:aws:iam::123456789012:policy/ops/DenyBedrock"),
            budget_denial("arn:aws:iam::123456789012:policy/imagegen-budget-spent-x/Name"),
            budget_denial("arn:aws:iam::123456789012:policy/imagegen-budget-spent/"),
            budget_denial("arn:aws:iam::123456789012:role/imagegen-budget-spent/Name"),
            // Another kind of policy, or no ARN given (cross-account, or not rolled out).
            "User: x is not authorized to perform: bedrock:InvokeModel on resource: m with an \
             explicit deny in a service control policy: arn:aws:organizations::1:policy/o-1/service_control_policy/p-1"
                .to_owned(),
            "User: x is not authorized to perform: bedrock:InvokeModel on resource: m with an \
             explicit deny in an identity-based policy"
                .to_owned(),
            "User: x is not authorized to perform: bedrock:InvokeModel on resource: m because no \
             identity-based policy allows the bedrock:InvokeModel action"
                .to_owned(),
        ] {
            assert!(!denied_by_budget_policy(&other), "{other}");
        }
    }

    /// Bedrock's words for a model past its end of life, and for a legacy model the account has
    /// not used lately (as botocore and the SDKs report them).
    const END_OF_LIFE: &str = "This model version has reached the end of its life. Please refer to \
                               the AWS documentation for more details.";
    const LEGACY_UNUSED: &str = "Access denied. This Model is marked by provider as Legacy and you \
                                 have not been actively using the model in the last 15 days. \
                                 Please upgrade to an active model on Amazon Bedrock";

    fn not_found(message: &'static str) -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(move || {
            InvokeModelError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message(message)
                    .build(),
            )
        })
    }

    #[tokio::test]
    async fn a_model_past_its_end_of_life_or_gone_from_the_account_is_retired() {
        for message in [END_OF_LIFE, LEGACY_UNUSED] {
            let got = invoke_with(not_found(message)).await;
            assert!(
                matches!(&got, Err(InvokeError::Retired(m)) if m.ends_with(message)),
                "{got:?}"
            );
        }
    }

    /// As Bedrock sends it on the wire: HTTP 404, the error type in `x-amzn-ErrorType`.
    #[tokio::test]
    async fn the_end_of_life_answer_as_bedrock_sends_it_is_retired() {
        let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_http_response(|| {
            let mut response = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(404).unwrap(),
                aws_smithy_types::body::SdkBody::from(format!("{{\"message\":\"{END_OF_LIFE}\"}}")),
            );
            response.headers_mut().insert(
                "x-amzn-ErrorType",
                "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            );
            response
                .headers_mut()
                .insert("content-type", "application/json");
            response
        });
        let got = invoke_with(rule).await;
        assert!(matches!(got, Err(InvokeError::Retired(_))), "{got:?}");
    }

    /// Not every refusal is a retired model: a missing grant (even one worded like the legacy
    /// answer), the budget's deny and any other not-found stay what they are.
    #[tokio::test]
    async fn denials_and_other_not_founds_are_not_retired() {
        for message in [
            "You don't have access to the model with the specified model ID.",
            LEGACY_UNUSED,
        ] {
            let denied =
                mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(move || {
                    InvokeModelError::AccessDeniedException(
                        AccessDeniedException::builder().message(message).build(),
                    )
                });
            let got = invoke_with(denied).await;
            assert!(
                matches!(&got, Err(InvokeError::Failed(m)) if m.starts_with("AccessDeniedException")),
                "{got:?}"
            );
        }
        let message =
            budget_denial("arn:aws:iam::123456789012:policy/imagegen-budget-spent/Imagegen-Spent");
        let spent = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_error(move || {
            InvokeModelError::AccessDeniedException(
                AccessDeniedException::builder()
                    .message(message.clone())
                    .build(),
            )
        });
        let got = invoke_with(spent).await;
        assert!(matches!(got, Err(InvokeError::BudgetSpent(_))), "{got:?}");
        let got = invoke_with(not_found(
            "Model not found: the inference profile does not exist",
        ))
        .await;
        assert!(
            matches!(&got, Err(InvokeError::Failed(m)) if m.starts_with("ResourceNotFoundException")),
            "{got:?}"
        );
    }

    #[tokio::test]
    async fn http_429_without_a_modeled_error_is_throttling() {
        let rule = mock!(aws_sdk_bedrockruntime::Client::invoke_model).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(429).unwrap(),
                aws_smithy_types::body::SdkBody::from(r#"{"message":"Too many requests"}"#),
            )
        });
        let got = invoke_with(rule).await;
        assert!(matches!(got, Err(InvokeError::Throttled(_))), "{got:?}");
    }
}
