#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use aws_sdk_sns::types::MessageAttributeValue;
use imagegen_aws::SnsNotifier;
use imagegen_core::ports::{Message, Notifier};
use imagegen_local::FakeModelBehavior;

#[tokio::test]
async fn publish_writes_eml_and_jsonl() {
    let (_dir, aws) = common::local("sns-publish", FakeModelBehavior::default());
    let topic = aws.topic_arn("imagegen-notifications");
    let notifier = SnsNotifier::new(aws.sns_client(), &topic);
    let body = "Your image is ready.\nhttps://example/0.png\nMerci, café ☕";
    let id = notifier
        .publish(&Message {
            subject: "imagegen: your image is ready".into(),
            body: body.into(),
            attributes: vec![
                ("status".into(), "SUCCEEDED".into()),
                ("request_id".into(), "r-42".into()),
            ],
        })
        .await
        .unwrap();
    assert_eq!(id.len(), 36, "{id}");

    let messages = aws.list_messages().unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.message_id, id);
    assert_eq!(m.topic_arn, topic);
    assert_eq!(m.subject.as_deref(), Some("imagegen: your image is ready"));
    assert_eq!(m.body, body);
    assert_eq!(m.attributes["status"], "SUCCEEDED");
    assert_eq!(m.attributes["request_id"], "r-42");

    let eml = std::fs::read_to_string(aws.outbox().dir().join(&m.eml_file)).unwrap();
    for expected in [
        "From: ",
        "To: \"arn:aws:sns:us-east-1:000000000000:imagegen-notifications\" <imagegen-notifications@sns.localhost>\r\n",
        "Subject: imagegen: your image is ready\r\n",
        "Date: ",
        &format!("Message-ID: <{id}@sns.localhost>\r\n"),
        "X-Imagegen-Status: SUCCEEDED\r\n",
        "X-Imagegen-Request-Id: r-42\r\n",
        "Content-Type: text/plain; charset=utf-8\r\n",
        "\r\n\r\nYour image is ready.\r\nhttps://example/0.png\r\nMerci, café ☕\r\n",
    ] {
        assert!(eml.contains(expected), "missing {expected:?} in\n{eml}");
    }

    // A second message appends.
    notifier
        .publish(&Message {
            subject: "second".into(),
            body: "b".into(),
            attributes: vec![],
        })
        .await
        .unwrap();
    let messages = aws.list_messages().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].subject.as_deref(), Some("second"));
    let emls = std::fs::read_dir(aws.outbox().dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "eml")
        })
        .count();
    assert_eq!(emls, 2);
}

#[tokio::test]
async fn invalid_publishes_are_refused_like_sns() {
    let (_dir, aws) = common::local("sns-invalid", FakeModelBehavior::default());
    let client = aws.sns_client();
    let topic = aws.topic_arn("t");

    let long_subject = client
        .publish()
        .topic_arn(&topic)
        .subject("s".repeat(101))
        .message("hi")
        .send()
        .await
        .unwrap_err();
    let service = long_subject.into_service_error();
    assert!(service.is_invalid_parameter_exception(), "{service:?}");
    assert_eq!(service.meta().message(), Some("Invalid parameter: Subject"));

    // Exactly 100 characters is fine.
    client
        .publish()
        .topic_arn(&topic)
        .subject("s".repeat(100))
        .message("hi")
        .send()
        .await
        .unwrap();

    let too_long = client
        .publish()
        .topic_arn(&topic)
        .message("x".repeat(262_145))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(too_long.is_invalid_parameter_exception(), "{too_long:?}");

    let bad_arn = client
        .publish()
        .topic_arn("not-an-arn")
        .message("hi")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad_arn.is_invalid_parameter_exception(), "{bad_arn:?}");

    let empty_attr = client
        .publish()
        .topic_arn(&topic)
        .message("hi")
        .message_attributes(
            "status",
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        empty_attr.is_invalid_parameter_value_exception(),
        "{empty_attr:?}"
    );

    // Through the adapter the failure is an error string, and nothing was kept but the good one.
    let notifier = SnsNotifier::new(client, &topic);
    let err = notifier
        .publish(&Message {
            subject: "line\nbreak".into(),
            body: "b".into(),
            attributes: vec![],
        })
        .await
        .unwrap_err();
    assert!(err.contains("Invalid parameter: Subject"), "{err}");
    assert_eq!(aws.list_messages().unwrap().len(), 1);
}

#[tokio::test]
async fn subscribers_are_kept_and_addressed() {
    let (_dir, aws) = common::local("sns-subscribe", FakeModelBehavior::default());
    let topic = aws.topic_arn("imagegen-notifications");
    aws.sns().register_topic(&topic);
    let client = aws.sns_client();
    let arn = client
        .subscribe()
        .topic_arn(&topic)
        .protocol("email")
        .endpoint("ada@example.com")
        .send()
        .await
        .unwrap()
        .subscription_arn()
        .unwrap()
        .to_owned();
    let by_topic = client
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_topic.subscriptions()[0].subscription_arn(),
        Some(arn.as_str())
    );
    let notifier = SnsNotifier::new(client.clone(), &topic);
    notifier
        .publish(&Message {
            subject: "s".into(),
            body: "b".into(),
            attributes: vec![],
        })
        .await
        .unwrap();
    let m = &aws.list_messages().unwrap()[0];
    assert_eq!(m.recipients, ["ada@example.com"]);
    let eml = std::fs::read_to_string(aws.outbox().dir().join(&m.eml_file)).unwrap();
    assert!(eml.contains("To: ada@example.com\r\n"), "{eml}");
    client
        .unsubscribe()
        .subscription_arn(&arn)
        .send()
        .await
        .unwrap();
    let gone = client
        .unsubscribe()
        .subscription_arn(&arn)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(gone.is_not_found_exception(), "{gone:?}");
}
