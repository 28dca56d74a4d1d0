use aws_sdk_sfn::error::ProvideErrorMetadata;

use imagegen_core::ports::{
    DescribeError, DescribedExecution, ExecutionDescriber, ExecutionStarter, StartOutcome,
};

/// [`ExecutionStarter`] over `aws_sdk_sfn::Client`, for one state machine.
#[derive(Debug, Clone)]
pub struct SfnStarter {
    client: aws_sdk_sfn::Client,
    state_machine_arn: String,
}

impl SfnStarter {
    pub fn new(client: aws_sdk_sfn::Client, state_machine_arn: impl Into<String>) -> Self {
        Self {
            client,
            state_machine_arn: state_machine_arn.into(),
        }
    }
}

impl ExecutionStarter for SfnStarter {
    async fn start(&self, name: &str, input: &str) -> Result<StartOutcome, String> {
        match self
            .client
            .start_execution()
            .state_machine_arn(&self.state_machine_arn)
            .name(name)
            .input(input)
            .send()
            .await
        {
            Ok(out) => Ok(StartOutcome::Started {
                execution_arn: out.execution_arn().to_owned(),
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_already_exists())
                    || e.code() == Some("ExecutionAlreadyExists") =>
            {
                Ok(StartOutcome::AlreadyExists)
            }
            Err(e) => Err(format!("StartExecution failed: {}", crate::error_text(&e))),
        }
    }
}

/// [`ExecutionDescriber`] over `aws_sdk_sfn::Client`.
#[derive(Debug, Clone)]
pub struct SfnDescriber {
    client: aws_sdk_sfn::Client,
}

impl SfnDescriber {
    pub fn new(client: aws_sdk_sfn::Client) -> Self {
        Self { client }
    }
}

impl ExecutionDescriber for SfnDescriber {
    async fn describe(&self, execution_arn: &str) -> Result<DescribedExecution, DescribeError> {
        let out = self
            .client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_execution_does_not_exist())
                    || e.code() == Some("ExecutionDoesNotExist")
                {
                    DescribeError::NotFound(execution_arn.to_owned())
                } else {
                    DescribeError::Other(format!(
                        "DescribeExecution failed: {}",
                        crate::error_text(&e)
                    ))
                }
            })?;
        Ok(DescribedExecution {
            status: out.status().as_str().to_owned(),
            input: out.input().map(str::to_owned),
            error: out.error().map(str::to_owned),
            cause: out.cause().map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::operation::start_execution::{StartExecutionError, StartExecutionOutput};
    use aws_sdk_sfn::types::error::ExecutionAlreadyExists;
    use aws_smithy_mocks::{mock, mock_client};

    #[tokio::test]
    async fn started_and_already_exists() {
        let ok = mock!(aws_sdk_sfn::Client::start_execution)
            .match_requests(|r| r.name() == Some("new"))
            .then_output(|| {
                StartExecutionOutput::builder()
                    .execution_arn("arn:exec:new")
                    .start_date(aws_smithy_types::DateTime::from_secs(0))
                    .build()
                    .unwrap()
            });
        let dup = mock!(aws_sdk_sfn::Client::start_execution)
            .match_requests(|r| r.name() == Some("old"))
            .then_error(|| {
                StartExecutionError::ExecutionAlreadyExists(
                    ExecutionAlreadyExists::builder().message("exists").build(),
                )
            });
        let client = mock_client!(
            aws_sdk_sfn,
            aws_smithy_mocks::RuleMode::MatchAny,
            [&ok, &dup]
        );
        let starter = SfnStarter::new(client, "arn:sm");
        assert_eq!(
            starter.start("new", "{}").await.unwrap(),
            StartOutcome::Started {
                execution_arn: "arn:exec:new".into()
            }
        );
        assert_eq!(
            starter.start("old", "{}").await.unwrap(),
            StartOutcome::AlreadyExists
        );
    }

    #[tokio::test]
    async fn a_missing_execution_is_not_found_and_other_errors_say_what_failed() {
        use aws_sdk_sfn::operation::describe_execution::DescribeExecutionError;
        use aws_sdk_sfn::types::error::{ExecutionDoesNotExist, InvalidArn};
        let missing = mock!(aws_sdk_sfn::Client::describe_execution)
            .match_requests(|r| r.execution_arn() == Some("arn:gone"))
            .then_error(|| {
                DescribeExecutionError::ExecutionDoesNotExist(
                    ExecutionDoesNotExist::builder().message("gone").build(),
                )
            });
        let invalid = mock!(aws_sdk_sfn::Client::describe_execution)
            .match_requests(|r| r.execution_arn() == Some("bad"))
            .then_error(|| {
                DescribeExecutionError::InvalidArn(InvalidArn::builder().message("bad arn").build())
            });
        let client = mock_client!(
            aws_sdk_sfn,
            aws_smithy_mocks::RuleMode::MatchAny,
            [&missing, &invalid]
        );
        let describer = SfnDescriber::new(client);
        assert_eq!(
            describer.describe("arn:gone").await,
            Err(DescribeError::NotFound("arn:gone".into()))
        );
        let other = describer.describe("bad").await.unwrap_err();
        assert!(
            matches!(&other, DescribeError::Other(m) if m.starts_with("DescribeExecution failed")),
            "{other:?}"
        );
    }
}
