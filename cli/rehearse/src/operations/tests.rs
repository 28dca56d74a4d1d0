use super::*;

#[test]
fn every_operation_has_one_row_with_actions() {
    let mut seen = std::collections::BTreeSet::new();
    for row in TABLE {
        assert!(seen.insert(row.operation), "{} twice", row.operation);
        assert!(!row.actions.is_empty(), "{}", row.operation);
        for action in row.actions {
            assert!(action.contains(':'), "{action}");
        }
    }
}

#[test]
fn head_object_needs_get_object_and_list_objects_sets_the_prefix() {
    let head = Operation::Object {
        operation: "s3:HeadObject",
        bucket: "b".into(),
        key: "images/r/0.png".into(),
    };
    assert_eq!(
        head.requirements(),
        [Requirement {
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/images/r/0.png".into(),
            context: Vec::new()
        }]
    );
    let list = Operation::ListObjects {
        bucket: "b".into(),
        prefix: "images/".into(),
    };
    let r = list.requirements();
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].action, r[0].resource.as_str()),
        ("s3:ListBucket", "arn:aws:s3:::b")
    );
    assert_eq!(
        r[0].context,
        [(
            "s3:prefix".to_string(),
            ContextValue::Text("images/".into())
        )]
    );
    assert_eq!(missing_key_needs("b").action, "s3:ListBucket");
}

#[test]
fn a_foundation_model_is_one_arn_without_an_account() {
    let op = Operation::InvokeModel {
        region: "us-west-2".into(),
        account: "000000000000".into(),
        model_id: "stability.stable-image-core-v1:1".into(),
    };
    let arns: Vec<String> = op.requirements().into_iter().map(|r| r.resource).collect();
    assert_eq!(
        arns,
        ["arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1"]
    );
}

#[test]
fn an_inference_profile_is_the_profile_and_each_destinations_model() {
    let op = Operation::InvokeModel {
        region: "us-west-2".into(),
        account: "000000000000".into(),
        model_id: "us.stability.stable-image-core-v1:1".into(),
    };
    let arns: Vec<String> = op.requirements().into_iter().map(|r| r.resource).collect();
    assert_eq!(
        arns,
        [
            "arn:aws:bedrock:us-west-2:000000000000:inference-profile/us.stability.stable-image-core-v1:1",
            "arn:aws:bedrock:us-east-1::foundation-model/stability.stable-image-core-v1:1",
            "arn:aws:bedrock:us-east-2::foundation-model/stability.stable-image-core-v1:1",
            "arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1",
        ]
    );
    assert!(
        InferenceProfile::parse("stability.sd3-5-large-v1:0").is_none(),
        "a provider, not a geography"
    );
    assert!(InferenceProfile::parse("eu.amazon.nova-canvas-v1:0").is_some());
}

#[test]
fn kms_through_sqs_sets_via_service_and_the_queues_encryption_context() {
    let op = Operation::KeyThrough {
        operation: "kms:GenerateDataKey",
        key_arn: "arn:aws:kms:us-east-1:000000000000:key/k".into(),
        through: Through::Queue("arn:aws:sqs:us-east-1:000000000000:q".to_owned()),
        region: "us-east-1".into(),
    };
    let r = op.requirements();
    assert_eq!(r[0].action, "kms:GenerateDataKey");
    assert!(r[0].context.contains(&(
        "kms:ViaService".to_string(),
        ContextValue::Text("sqs.us-east-1.amazonaws.com".into())
    )));
    assert_eq!(
        api_route_arn("us-east-1", "0", "api", "prod", "GET", "/images/r1"),
        "arn:aws:execute-api:us-east-1:0:api/prod/GET/images/r1"
    );
}

#[test]
fn copy_object_reads_the_source_and_writes_the_destination() {
    let copy = Operation::Copy {
        source_bucket: "b".into(),
        source_key: "prompts/p.txt".into(),
        bucket: "b".into(),
        key: "images/r/0.png".into(),
    };
    let r: Vec<(&str, String)> = copy
        .requirements()
        .into_iter()
        .map(|r| (r.action, r.resource))
        .collect();
    assert_eq!(
        r,
        [
            ("s3:GetObject", "arn:aws:s3:::b/prompts/p.txt".to_owned()),
            ("s3:PutObject", "arn:aws:s3:::b/images/r/0.png".to_owned()),
        ]
    );
    let part = Operation::Object {
        operation: "s3:UploadPart",
        bucket: "b".into(),
        key: "k".into(),
    };
    assert_eq!(part.requirements()[0].action, "s3:PutObject");
}

#[test]
fn what_an_encrypted_topic_or_queue_needs_of_its_key() {
    // Every operation and every KMS action named is a row of the table.
    for (operation, actions) in KEY_USE {
        assert!(row_of(operation).is_some(), "{operation}");
        for action in *actions {
            assert!(row_of(action).is_some(), "{action}");
        }
    }
    let key = "arn:aws:kms:us-east-1:000000000000:key/k";
    let topic = "arn:aws:sns:us-east-1:000000000000:t".to_string();
    let publish = Operation::On {
        operation: "sns:Publish",
        arn: topic.clone(),
    };
    let uses: Vec<(&str, Through)> = publish
        .key_use(key, "us-east-1")
        .into_iter()
        .map(|op| match op {
            Operation::KeyThrough {
                operation, through, ..
            } => (operation, through),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        uses,
        [
            ("kms:GenerateDataKey", Through::Topic(topic.clone())),
            ("kms:Decrypt", Through::Topic(topic))
        ]
    );
    let queue = "arn:aws:sqs:us-east-1:000000000000:q".to_string();
    let receive = Operation::On {
        operation: "sqs:ReceiveMessage",
        arn: queue.clone(),
    };
    assert_eq!(
        receive.key_use(key, "us-east-1"),
        [Operation::KeyThrough {
            operation: "kms:Decrypt",
            key_arn: key.into(),
            through: Through::Queue(queue.clone()),
            region: "us-east-1".into()
        }]
    );
    // Deleting a message does not read it.
    let delete = Operation::On {
        operation: "sqs:DeleteMessage",
        arn: queue,
    };
    assert_eq!(delete.key_use(key, "us-east-1"), []);
}
