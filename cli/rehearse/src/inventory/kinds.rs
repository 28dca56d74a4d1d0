//! Which resource types are rehearsed, and for each the properties the rehearsal honours or that do
//! not change how the resource behaves offline. A property not listed here changes behaviour the
//! rehearsal does not reproduce, so the start stops with a sentence naming it: an allowlist, so a
//! property added to the template later is refused until someone decides it is safe.

/// The properties every type may carry without changing behaviour.
pub(super) const NEUTRAL: &[&str] = &["Tags", "Description"];

/// A rehearsed type and the properties it may have.
pub(super) struct Kind {
    pub(super) kind: &'static str,
    pub(super) properties: &'static [&'static str],
}

pub(super) const REHEARSED: &[Kind] = &[
    Kind {
        kind: "AWS::S3::Bucket",
        // Lifecycle expiry (days), access logging, encryption at rest and public-access settings
        // change nothing a rehearsal of minutes can observe.
        properties: &[
            "BucketName",
            "BucketEncryption",
            "LifecycleConfiguration",
            "LoggingConfiguration",
            "OwnershipControls",
            "PublicAccessBlockConfiguration",
            "CorsConfiguration",
            "MetricsConfigurations",
            "IntelligentTieringConfigurations",
        ],
    },
    Kind {
        kind: "AWS::S3::BucketPolicy",
        properties: &["Bucket", "PolicyDocument"],
    },
    Kind {
        kind: "Custom::S3BucketNotifications",
        properties: &[
            "ServiceToken",
            "BucketName",
            "NotificationConfiguration",
            "Managed",
            "SkipDestinationValidation",
        ],
    },
    Kind {
        kind: "AWS::SNS::Topic",
        properties: &[
            "TopicName",
            "DisplayName",
            "KmsMasterKeyId",
            "TracingConfig",
        ],
    },
    Kind {
        kind: "AWS::SNS::TopicPolicy",
        properties: &["PolicyDocument", "Topics"],
    },
    Kind {
        kind: "AWS::SNS::Subscription",
        properties: &["TopicArn", "Protocol", "Endpoint", "Region"],
    },
    Kind {
        kind: "AWS::SQS::Queue",
        properties: &[
            "QueueName",
            "VisibilityTimeout",
            "MessageRetentionPeriod",
            "RedrivePolicy",
            "RedriveAllowPolicy",
            "DelaySeconds",
            "MaximumMessageSize",
            "ReceiveMessageWaitTimeSeconds",
            "KmsMasterKeyId",
            "KmsDataKeyReusePeriodSeconds",
            "SqsManagedSseEnabled",
        ],
    },
    Kind {
        kind: "AWS::SQS::QueuePolicy",
        properties: &["PolicyDocument", "Queues"],
    },
    Kind {
        kind: "AWS::DynamoDB::Table",
        properties: &[
            "TableName",
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "ProvisionedThroughput",
            "PointInTimeRecoverySpecification",
            "SSESpecification",
            "DeletionProtectionEnabled",
            "TableClass",
            "ContributorInsightsSpecification",
        ],
    },
    Kind {
        kind: "AWS::StepFunctions::StateMachine",
        properties: &[
            "StateMachineName",
            "StateMachineType",
            "DefinitionString",
            "Definition",
            "DefinitionS3Location",
            "DefinitionSubstitutions",
            "RoleArn",
            "LoggingConfiguration",
            "TracingConfiguration",
        ],
    },
    Kind {
        kind: "AWS::IAM::Role",
        // A permissions boundary would cap what the role's policies allow: not evaluated, so
        // refused.
        properties: &[
            "RoleName",
            "AssumeRolePolicyDocument",
            "Policies",
            "ManagedPolicyArns",
            "Path",
            "MaxSessionDuration",
        ],
    },
    Kind {
        kind: "AWS::IAM::Policy",
        properties: &["PolicyName", "PolicyDocument", "Roles", "Users", "Groups"],
    },
    Kind {
        kind: "AWS::IAM::ManagedPolicy",
        properties: &[
            "ManagedPolicyName",
            "PolicyDocument",
            "Roles",
            "Users",
            "Groups",
            "Path",
        ],
    },
    Kind {
        kind: "AWS::Lambda::Function",
        // Layers, container images, file systems, SnapStart and a dead-letter queue change what
        // runs or where failures go: refused.
        properties: &[
            "FunctionName",
            "Code",
            "Handler",
            "Runtime",
            "Role",
            "Environment",
            "Timeout",
            "MemorySize",
            "ReservedConcurrentExecutions",
            "Architectures",
            "LoggingConfig",
            "TracingConfig",
            "EphemeralStorage",
            "RuntimeManagementConfig",
            "KmsKeyArn",
        ],
    },
    Kind {
        kind: "AWS::Lambda::Permission",
        properties: &[
            "Action",
            "FunctionName",
            "Principal",
            "SourceArn",
            "SourceAccount",
            "PrincipalOrgID",
        ],
    },
    Kind {
        kind: "AWS::Lambda::EventSourceMapping",
        // FilterCriteria, BisectBatchOnFunctionError, DestinationConfig, ... are stream or filter
        // behaviour the twin's poller does not have: refused.
        properties: &[
            "EventSourceArn",
            "FunctionName",
            "BatchSize",
            "MaximumBatchingWindowInSeconds",
            "FunctionResponseTypes",
            "ScalingConfig",
            "Enabled",
        ],
    },
    Kind {
        kind: "AWS::Lambda::EventInvokeConfig",
        properties: &[
            "FunctionName",
            "Qualifier",
            "MaximumRetryAttempts",
            "MaximumEventAgeInSeconds",
            "DestinationConfig",
        ],
    },
    Kind {
        kind: "AWS::Events::Rule",
        properties: &[
            "Name",
            "EventPattern",
            "State",
            "Targets",
            "EventBusName",
            "RoleArn",
        ],
    },
    Kind {
        kind: "AWS::ApiGateway::RestApi",
        // A resource policy on the API (`Policy`) is not evaluated: refused.
        properties: &[
            "Name",
            "EndpointConfiguration",
            "BinaryMediaTypes",
            "MinimumCompressionSize",
            "ApiKeySourceType",
        ],
    },
    Kind {
        kind: "AWS::ApiGateway::Resource",
        properties: &["ParentId", "PathPart", "RestApiId"],
    },
    Kind {
        kind: "AWS::ApiGateway::Method",
        properties: &[
            "HttpMethod",
            "ResourceId",
            "RestApiId",
            "AuthorizationType",
            "Integration",
            "MethodResponses",
            "OperationName",
            "RequestParameters",
            "RequestModels",
        ],
    },
    Kind {
        kind: "AWS::ApiGateway::Stage",
        // Stage throttling (MethodSettings) is not reproduced; a rehearsal sends a few requests.
        properties: &[
            "StageName",
            "RestApiId",
            "DeploymentId",
            "MethodSettings",
            "AccessLogSetting",
            "TracingEnabled",
            "CacheClusterEnabled",
        ],
    },
    Kind {
        kind: "AWS::ApiGateway::Deployment",
        properties: &["RestApiId", "StageName", "StageDescription"],
    },
    Kind {
        kind: "AWS::KMS::Key",
        properties: &[
            "KeyPolicy",
            "EnableKeyRotation",
            "RotationPeriodInDays",
            "PendingWindowInDays",
            "KeySpec",
            "KeyUsage",
            "Enabled",
            "MultiRegion",
        ],
    },
];

/// Types known not to be rehearsed, and why (printed beside each at start).
pub(super) const NOT_REHEARSED: &[(&str, &str)] = &[
    (
        "AWS::Logs::LogGroup",
        "functions log to the rehearsal's output instead",
    ),
    ("AWS::CloudWatch::Alarm", "the twin keeps no metrics"),
    ("AWS::CloudWatch::Dashboard", "the twin keeps no metrics"),
    ("AWS::Budgets::Budget", "the twin has no bill"),
    (
        "AWS::Budgets::BudgetsAction",
        "the twin has no bill, so its budget action never fires",
    ),
    (
        "AWS::ApiGateway::Account",
        "API Gateway's logging role for the account",
    ),
    ("AWS::CDK::Metadata", "the CDK's usage report"),
];

/// The rehearsed type `kind`, if it is one.
pub(super) fn rehearsed(kind: &str) -> Option<&'static Kind> {
    REHEARSED.iter().find(|k| k.kind == kind)
}
