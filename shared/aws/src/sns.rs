use aws_sdk_sns::types::MessageAttributeValue;

use imagegen_core::ports::{Message, Notifier};

/// [`Notifier`] over `aws_sdk_sns::Client`, publishing to one topic.
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsNotifier {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        Self {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

impl Notifier for SnsNotifier {
    async fn publish(&self, message: &Message) -> Result<String, String> {
        let mut request = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&message.subject)
            .message(&message.body);
        for (name, value) in &message.attributes {
            let attribute = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| format!("message attribute {name}: {e}"))?;
            request = request.message_attributes(name, attribute);
        }
        let out = request
            .send()
            .await
            .map_err(|e| format!("SNS Publish failed: {}", crate::error_text(&e)))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sns::operation::publish::PublishOutput;
    use aws_smithy_mocks::{mock, mock_client};

    #[tokio::test]
    async fn publishes_subject_body_and_attributes() {
        let rule = mock!(aws_sdk_sns::Client::publish)
            .match_requests(|r| {
                r.topic_arn() == Some("arn:topic")
                    && r.subject() == Some("s")
                    && r.message() == Some("b")
                    && r.message_attributes()
                        .and_then(|a| a.get("status"))
                        .and_then(|v| v.string_value())
                        == Some("SUCCEEDED")
            })
            .then_output(|| PublishOutput::builder().message_id("m-1").build());
        let notifier = SnsNotifier::new(mock_client!(aws_sdk_sns, [&rule]), "arn:topic");
        let id = notifier
            .publish(&Message {
                subject: "s".into(),
                body: "b".into(),
                attributes: vec![("status".into(), "SUCCEEDED".into())],
            })
            .await
            .unwrap();
        assert_eq!(id, "m-1");
        assert_eq!(rule.num_calls(), 1);
    }
}
