//! [`LocalAws`]: one data directory and the SDK clients that reach its offline services.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_smithy_types::retry::RetryConfig;
use s3s::service::S3Service;

use crate::bedrock::{FakeModel, FakeModelBehavior, FakeModelStats, transport::bedrock_client};
use crate::config::ClientOptions;
use crate::datadir::DataDir;
use crate::dynamodb::DynamoService;
use crate::error::LocalError;
use crate::notifications::PendingNotifications;
use crate::outbox::{Outbox, OutboxMessage};
use crate::sfn::{ExecutionStore, SfnService};
use crate::sns::SnsService;
use crate::sqs::SqsService;

/// The offline AWS of one data directory.
///
/// Clients made here are the official SDK clients; only their transport is local. Every client of
/// one `LocalAws` shares the same model (behaviour and counters) and the same outbox.
#[derive(Debug, Clone)]
pub struct LocalAws {
    data: DataDir,
    options: ClientOptions,
    model: Arc<FakeModel>,
    outbox: Arc<Outbox>,
    sns: Arc<SnsService>,
    sfn: Arc<SfnService>,
    sqs: Arc<SqsService>,
    /// One S3 service per data directory, shared by every S3 client (see [`crate::s3::s3_service`]).
    s3: S3Service,
    dynamodb: Arc<DynamoService>,
    notifications: PendingNotifications,
}

impl LocalAws {
    /// Open (or create) `data_dir`, with default client options and the model behaviour from the
    /// `IMAGEGEN_FAKE_*` environment variables.
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Self, LocalError> {
        Self::open_with(
            data_dir,
            ClientOptions::default(),
            FakeModelBehavior::from_env()?,
        )
    }

    /// Open (or create) `data_dir` with explicit options and model behaviour.
    pub fn open_with(
        data_dir: impl AsRef<Path>,
        options: ClientOptions,
        behavior: FakeModelBehavior,
    ) -> Result<Self, LocalError> {
        let data = DataDir::open(data_dir)?;
        let outbox = Arc::new(Outbox::new(data.outbox_dir()));
        let store = ExecutionStore::open(data.executions_dir())?;
        let sfn = Arc::new(SfnService::new(options.region.clone(), store));
        let s3 = crate::s3::s3_service(&data.s3_root(), &options.key)?;
        let sns = Arc::new(SnsService::new(Arc::clone(&outbox)));
        let sqs = Arc::new(SqsService::open(data.sqs_dir(), options.region.clone())?);
        let notifications = PendingNotifications::open(data.notifications_dir())?;
        Ok(Self {
            data,
            options,
            model: Arc::new(FakeModel::new(behavior)),
            outbox,
            sns,
            sfn,
            sqs,
            s3,
            dynamodb: Arc::new(DynamoService::new()),
            notifications,
        })
    }

    /// The same services, with clients that use another retry policy from now on.
    pub fn with_retry_config(mut self, retry: RetryConfig) -> Self {
        self.options.retry = retry;
        self
    }

    /// The S3 event notifications recorded and not yet delivered.
    pub fn notifications(&self) -> &PendingNotifications {
        &self.notifications
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// Create a bucket (a directory under `<data-dir>/s3/`) unless it exists.
    pub fn create_bucket(&self, name: &str) -> Result<PathBuf, LocalError> {
        crate::s3::ensure_bucket(&self.data.s3_root(), name)
    }

    /// An S3 client over `<data-dir>/s3/`.
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        crate::s3::s3_client(&self.s3, &self.options)
    }

    /// The S3 service over `<data-dir>/s3/` (what [`Self::s3_client`] talks to), for serving it.
    pub fn s3_service(&self) -> &S3Service {
        &self.s3
    }

    /// A Bedrock runtime client answered by the offline model.
    pub fn bedrock_client(&self) -> aws_sdk_bedrockruntime::Client {
        bedrock_client(Arc::clone(&self.model), &self.options)
    }

    /// An SNS client whose messages land in `<data-dir>/outbox/`.
    pub fn sns_client(&self) -> aws_sdk_sns::Client {
        crate::sns::sns_client(Arc::clone(&self.sns), &self.options)
    }

    /// The SNS stand-in: register topics, read subscriptions.
    pub fn sns(&self) -> &Arc<SnsService> {
        &self.sns
    }

    /// The ARN of a local topic (any well-formed topic ARN is accepted by the local SNS).
    pub fn topic_arn(&self, name: &str) -> String {
        crate::sns::topic_arn(&self.options.region, name)
    }

    /// A Step Functions client answered by [`LocalAws::sfn`].
    pub fn sfn_client(&self) -> aws_sdk_sfn::Client {
        crate::sfn::sfn_client(Arc::clone(&self.sfn), &self.options)
    }

    /// Create a DynamoDB table keyed by the string attribute `partition_key` (in memory: see
    /// [`crate::dynamodb`]) unless it exists.
    pub fn create_table(&self, name: &str, partition_key: &str) {
        self.dynamodb.create_table(name, partition_key);
    }

    /// A DynamoDB client answered by the local stand-in.
    pub fn dynamodb_client(&self) -> aws_sdk_dynamodb::Client {
        crate::dynamodb::dynamodb_client(Arc::clone(&self.dynamodb), &self.options)
    }

    /// The DynamoDB stand-in, for serving it.
    pub fn dynamodb(&self) -> &Arc<DynamoService> {
        &self.dynamodb
    }

    /// The Step Functions stand-in: register state machines here, wait for executions, list them.
    pub fn sfn(&self) -> &Arc<SfnService> {
        &self.sfn
    }

    /// The SQS stand-in: make queues, send, receive.
    pub fn sqs(&self) -> &Arc<SqsService> {
        &self.sqs
    }

    /// The offline model, to steer its behaviour or read its counters.
    pub fn model(&self) -> &Arc<FakeModel> {
        &self.model
    }

    /// What the offline model has done so far.
    pub fn model_stats(&self) -> FakeModelStats {
        self.model.stats()
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Every message published so far, oldest first.
    pub fn list_messages(&self) -> Result<Vec<OutboxMessage>, LocalError> {
        self.outbox.list()
    }
}
