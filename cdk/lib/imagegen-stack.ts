import * as path from 'path';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FACTS, ImagegenConfig, callRegions, loadConfig, modelPoolsEnv, profileGeography, profileModel } from './config';
import { CostGuards } from './constructs/cost-guards';
import { ImageApi } from './constructs/image-api';
import { ImageStore, PREFIXES } from './constructs/image-store';
import { ModelSlots } from './constructs/model-slots';
import { PipelineFunction } from './constructs/pipeline-function';
import { PromptQueue } from './constructs/prompt-queue';
import { SecureTopic } from './constructs/secure-topic';
import { appBoundaryName } from './deploy-access-stack';
import { acknowledge, iam5Resource, nagRendered } from './nag';
import { addRecipients } from './recipients';

/** The Amazon States Language definition shared with the Rust side. */
export const DEFINITION_FILE = path.join(__dirname, '../../statemachine/image-pipeline.asl.json');

/** The statuses after which an execution may have ended without an email (the backstop's rule). */
export const BACKSTOP_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

/** What the console's "Start execution" box accepts (see DEPLOY.md); defined on the Rust side. */
export const CONSOLE_INPUT_EXAMPLE: string = FACTS.consoleInputExample;

export interface ImagegenStackProps extends StackProps {
  /** Overrides the context-derived configuration (tests). */
  readonly config?: ImagegenConfig;
  /** Directory holding the Lambda crates (tests point it at fixtures). */
  readonly functionsDir?: string;
  /** Prebuilt arm64 zips (`<dir>/<crate>/bootstrap.zip`) to use instead of building during synth. */
  readonly prebuiltZipsDir?: string;
}

export class ImagegenStack extends Stack {
  readonly store: ImageStore;
  readonly resultsTopic: SecureTopic;
  readonly opsTopic: SecureTopic;
  readonly failedTriggers: sqs.Queue;
  readonly modelSlots: ModelSlots;
  readonly functions: Record<
    'startExecution' | 'validatePrompt' | 'reserveModelSlot' | 'generateImage' | 'generateThumbnails' | 'notifyUser'
      | 'notifyBackstop' | 'httpApi' | 'queueConsumer',
    PipelineFunction
  >;
  readonly api: ImageApi;
  readonly promptQueue: PromptQueue;
  readonly stateMachine: sfn.StateMachine;
  readonly backstopRule: events.Rule;
  readonly costGuards: CostGuards;

  constructor(scope: Construct, id: string, props: ImagegenStackProps = {}) {
    super(scope, id, props);
    const config = props.config ?? loadConfig(this.node);
    const recipients = addRecipients(this);
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    // ---- storage and notification channels -------------------------------------------------
    this.store = new ImageStore(this, 'Store', {
      outputExpirationDays: config.outputExpirationDays,
      promptExpirationDays: config.promptExpirationDays,
      accessLogExpirationDays: 90,
    });
    const bucket = this.store.bucket;

    // Only notify-user publishes, and only the configured address subscribes: nobody else in the
    // account can mail our users or read their results.
    this.resultsTopic = new SecureTopic(this, 'Results', {
      displayName: 'imagegen results',
      email: recipients.email,
      emailCondition: recipients.hasEmail,
      locked: true,
    });
    this.opsTopic = new SecureTopic(this, 'Ops', {
      displayName: 'imagegen alarms',
      email: recipients.alarmEmail,
      emailCondition: recipients.hasAlarmEmail,
      allowCloudWatchAlarms: true,
      // The budget action's notice (the action stops the model calls at 100% of the budget).
      allowBudgets: true,
    });

    this.failedTriggers = new sqs.Queue(this, 'FailedTriggers', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(this.failedTriggers, 'AwsSolutions-SQS3',
      'This queue is itself the dead-letter (on-failure) destination of the S3-triggered start-execution function; a queue for its own failures would never be read.');

    this.modelSlots = new ModelSlots(this, 'ModelSlots');

    // ---- functions -------------------------------------------------------------------------
    const common = {
      logRetention,
      logLevel: config.logLevel as lambda.ApplicationLogLevel,
      functionsDir: props.functionsDir,
      prebuiltZipsDir: props.prebuiltZipsDir,
    };
    // Only when asked for: per-target directives on top of the log level (see the README).
    const rustLog: Record<string, string> = config.rustLog === undefined ? {} : { RUST_LOG: config.rustLog };
    // ValidatePrompt's rules, which the front doors apply too before they start anything.
    const requestRules: Record<string, string> = {
      DEFAULT_MODEL_ID: config.modelId,
      ALLOWED_MODEL_IDS: config.allowedModelIds.join(','),
      MAX_PROMPT_FILE_BYTES: String(config.maxPromptFileBytes),
      ...(config.blocklist === '' ? {} : { BLOCKLIST: config.blocklist }),
    };

    const validatePrompt = new PipelineFunction(this, 'ValidatePrompt', {
      ...common,
      crate: 'validate-prompt',
      description: 'imagegen: normalise and validate a prompt (console JSON or S3 prompt file)',
      memorySize: 128,
      timeout: Duration.seconds(20),
      environment: {
        ...rustLog,
        OUTPUT_BUCKET: bucket.bucketName,
        PROMPT_PREFIX: PREFIXES.prompts,
        ...requestRules,
      },
    });
    validatePrompt.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadPromptFiles',
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [this.store.objectsUnder(PREFIXES.prompts)],
    }));

    const pools: Record<string, string> = {
      ...(config.modelPools.length > 0 ? { MODEL_POOLS: modelPoolsEnv(config.modelPools) } : {}),
      ...(config.fallbackModelIds.length > 0 ? { FALLBACK_MODEL_IDS: config.fallbackModelIds.join(',') } : {}),
    };
    const reserveModelSlot = new PipelineFunction(this, 'ReserveModelSlot', {
      ...common,
      crate: 'reserve-model-slot',
      description: 'imagegen: reserve the next slot of the model quota (DynamoDB), so a burst reaches Bedrock at the quota',
      memorySize: 128,
      timeout: Duration.seconds(10),
      environment: {
        ...rustLog,
        MODEL_SLOT_TABLE: this.modelSlots.table.tableName,
        MODEL_QUOTA_RPM: String(config.modelQuotaRpm),
        MAX_SLOT_WAIT_MINUTES: String(config.maxSlotWaitMinutes),
        ...pools,
      },
    });
    // With several pools a reservation first reads each pool's schedule.
    reserveModelSlot.addToPolicy(this.modelSlots.reserveStatement(config.modelPools.length > 1));

    const generateImage = new PipelineFunction(this, 'GenerateImage', {
      ...common,
      crate: 'generate-image',
      description: 'imagegen: generate images with Amazon Bedrock and store them under images/',
      memorySize: 256,
      // The state's TimeoutSeconds is 300: the function gives up first and reports its own error.
      timeout: Duration.seconds(180),
      reservedConcurrentExecutions: config.reservedConcurrency?.generateImage,
      // The pool to call comes with each slot (ReserveModelSlot's output), not from MODEL_POOLS.
      environment: { ...rustLog, BEDROCK_REGION: config.bedrockRegion },
    });
    this.grantInvokeModels(generateImage, config);
    generateImage.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteImages',
      actions: ['s3:PutObject'],
      resources: [this.store.objectsUnder(PREFIXES.images)],
    }));

    const generateThumbnails = new PipelineFunction(this, 'GenerateThumbnails', {
      ...common,
      crate: 'generate-thumbnails',
      description: 'imagegen: resize generated images into thumbnails/',
      // Decoding and encoding is CPU-bound; Lambda CPU scales with memory (1,769 MB = 1 vCPU).
      // Memory: the worst case the function accepts (a 64 Mpx source made into 4096, 2048 and
      // 1024 px thumbnails in AVIF, WebP and JPEG) peaks at about 680 MB, AVIF's encoder the
      // largest part (bench/extra/memory.md), which 1,024 MB holds with a third to spare.
      memorySize: 1024,
      timeout: Duration.seconds(60),
      environment: {
        ...rustLog,
        THUMBNAIL_SIZES: config.thumbnailSizes.join(','),
        THUMBNAIL_FORMATS: config.thumbnailFormats.join(','),
        THUMBNAIL_QUALITY: config.thumbnailQuality,
      },
    });
    generateThumbnails.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadImages',
      actions: ['s3:GetObject'],
      resources: [this.store.objectsUnder(PREFIXES.images)],
    }));
    generateThumbnails.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteThumbnails',
      actions: ['s3:PutObject'],
      resources: [this.store.objectsUnder(PREFIXES.thumbnails)],
    }));

    const notifyUser = new PipelineFunction(this, 'NotifyUser', {
      ...common,
      crate: 'notify-user',
      description: 'imagegen: write the result manifest and email the user (success or failure)',
      memorySize: 128,
      timeout: Duration.seconds(20),
      environment: {
        ...rustLog,
        TOPIC_ARN: this.resultsTopic.topic.topicArn,
        OUTPUT_BUCKET: bucket.bucketName,
        PRESIGN_EXPIRY_SECONDS: String(config.presignExpirySeconds),
      },
    });
    this.resultsTopic.allowPublisher(notifyUser.role);
    notifyUser.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadOutputsForPresignedLinks',
      actions: ['s3:GetObject'],
      resources: [this.store.objectsUnder(PREFIXES.images), this.store.objectsUnder(PREFIXES.thumbnails)],
    }));
    notifyUser.addToPolicy(new iam.PolicyStatement({
      sid: 'WriteResultManifest',
      // Written create-only; a manifest found in its place is read to see which execution wrote it.
      actions: ['s3:PutObject', 's3:GetObject'],
      resources: [this.store.objectsUnder(PREFIXES.results)],
    }));
    notifyUser.addToPolicy(this.claimEmailsStatement());

    // ---- state machine ---------------------------------------------------------------------
    const executionLogs = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `/aws/vendedlogs/states/${this.stackName}-pipeline`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const pipeline = [validatePrompt, reserveModelSlot, generateImage, generateThumbnails, notifyUser];
    this.stateMachine = new sfn.StateMachine(this, 'Pipeline', {
      comment: 'imagegen: validate prompt -> model slot -> Bedrock image -> thumbnails -> email',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromFile(DEFINITION_FILE),
      definitionSubstitutions: {
        ValidatePromptFunctionArn: validatePrompt.function.functionArn,
        ReserveModelSlotFunctionArn: reserveModelSlot.function.functionArn,
        GenerateImageFunctionArn: generateImage.function.functionArn,
        GenerateThumbnailsFunctionArn: generateThumbnails.function.functionArn,
        NotifyUserFunctionArn: notifyUser.function.functionArn,
      },
      // Every event, but inputs and outputs (the prompts) only when asked for (DEPLOY.md).
      logs: { destination: executionLogs, level: sfn.LogLevel.ALL, includeExecutionData: config.logExecutionData },
      tracingEnabled: true,
    });
    // The ASL names unqualified function ARNs, so exactly these five ARNs suffice.
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({
      sid: 'InvokePipelineFunctions',
      actions: ['lambda:InvokeFunction'],
      resources: pipeline.map((f) => f.function.functionArn),
    }));

    // ---- S3 trigger ------------------------------------------------------------------------
    const startExecution = new PipelineFunction(this, 'StartExecution', {
      ...common,
      crate: 'start-execution',
      description: 'imagegen: start the pipeline for a prompt file uploaded under prompts/',
      memorySize: 128,
      timeout: Duration.seconds(15),
      environment: {
        ...rustLog,
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        PROMPT_PREFIX: PREFIXES.prompts,
      },
      reservedConcurrentExecutions: config.reservedConcurrency?.startExecution,
      onFailure: new lambdaDestinations.SqsDestination(this.failedTriggers),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    startExecution.addToPolicy(this.startPipelineStatement());
    for (const suffix of FACTS.promptExtensions) {
      bucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.LambdaDestination(startExecution.function),
        { prefix: PREFIXES.prompts, suffix },
      );
    }

    // ---- backstop: the email for executions that ended outside the pipeline's catches ---------
    const notifyBackstop = new PipelineFunction(this, 'NotifyBackstop', {
      ...common,
      crate: 'notify-backstop',
      description: 'imagegen: email executions that ended FAILED/TIMED_OUT/ABORTED without an email',
      memorySize: 128,
      timeout: Duration.seconds(20),
      environment: {
        ...rustLog,
        TOPIC_ARN: this.resultsTopic.topic.topicArn,
        OUTPUT_BUCKET: bucket.bucketName,
      },
    });
    this.resultsTopic.allowPublisher(notifyBackstop.role);
    notifyBackstop.addToPolicy(this.claimEmailsStatement());
    notifyBackstop.addToPolicy(this.describeExecutionsStatement());
    this.backstopRule = new events.Rule(this, 'BackstopRule', {
      description: 'imagegen: executions of the pipeline that ended FAILED, TIMED_OUT or ABORTED go to notify-backstop',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: [this.stateMachine.stateMachineArn],
          status: [...BACKSTOP_STATUSES],
        },
      },
      targets: [new eventsTargets.LambdaFunction(notifyBackstop.function, {
        retryAttempts: 4,
        maxEventAge: Duration.hours(2),
      })],
    });
    // ---- front doors: the HTTP API and the prompt queue (they start executions, nothing else) --
    const httpApi = new PipelineFunction(this, 'HttpApi', {
      ...common,
      crate: 'http-api',
      description: 'imagegen: the HTTP API (POST /generate-image, GET /images/{requestId})',
      memorySize: 128,
      // API Gateway gives an integration 29 s; a status answer waits 25 s at most.
      timeout: Duration.seconds(28),
      reservedConcurrentExecutions: config.reservedConcurrency?.httpApi,
      environment: {
        ...rustLog,
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        OUTPUT_BUCKET: bucket.bucketName,
        PRESIGN_EXPIRY_SECONDS: String(config.presignExpirySeconds),
        ...requestRules,
      },
    });
    httpApi.addToPolicy(this.startPipelineStatement());
    httpApi.addToPolicy(this.describeExecutionsStatement());
    httpApi.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadManifestsAndPresignOutputs',
      actions: ['s3:GetObject'],
      resources: [PREFIXES.results, PREFIXES.images, PREFIXES.thumbnails].map((p) => this.store.objectsUnder(p)),
    }));
    this.api = new ImageApi(this, 'Api', {
      handler: httpApi.function,
      throttling: {
        POST: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
        GET: { rateLimit: config.apiStatusRateLimit, burstLimit: config.apiStatusBurstLimit },
      },
      logRetention,
      accountLogRole: config.apiGatewayCloudWatchRole,
    });

    const queueConsumer = new PipelineFunction(this, 'QueueConsumer', {
      ...common,
      crate: 'queue-consumer',
      description: 'imagegen: start the pipeline for each prompt in the queue (console JSON per message)',
      memorySize: 128,
      timeout: Duration.seconds(30),
      reservedConcurrentExecutions: config.reservedConcurrency?.queueConsumer,
      environment: {
        ...rustLog,
        STATE_MACHINE_ARN: this.stateMachine.stateMachineArn,
        ...requestRules,
      },
    });
    queueConsumer.addToPolicy(this.startPipelineStatement());
    this.promptQueue = new PromptQueue(this, 'Prompts', {
      consumer: queueConsumer.function,
      maxReceiveCount: config.queueMaxReceiveCount,
      maxAgeSeconds: config.queueMaxAgeSeconds,
      maxConcurrency: config.queueMaxConcurrency,
      alarmTopic: this.opsTopic.topic,
    });

    this.functions = {
      startExecution, validatePrompt, reserveModelSlot, generateImage, generateThumbnails, notifyUser, notifyBackstop,
      httpApi, queueConsumer,
    };

    this.acknowledgeFindings();
    if (config.permissionsBoundary) {
      // Every role, also those CDK adds (the bucket-notifications handler's, API Gateway's log role).
      iam.PermissionsBoundary.of(this).apply(
        iam.ManagedPolicy.fromManagedPolicyName(this, 'AppPermissionsBoundary', appBoundaryName(this.region)));
    }
    this.addAlarms();
    this.costGuards = new CostGuards(this, 'CostGuards', {
      stateMachine: this.stateMachine,
      modelCaller: generateImage.function,
      modelCallerRole: generateImage.role,
      modelIds: config.allowedModelIds,
      bedrockRegion: config.bedrockRegion,
      alarmTopic: this.opsTopic.topic,
      maxExecutionsPerHour: config.maxExecutionsPerHour,
      maxModelInvocationsPerHour: config.maxModelInvocationsPerHour,
      monthlyBudgetUsd: config.monthlyBudgetUsd,
      budgetServices: config.budgetServices,
      budgetEmail: recipients.alarmEmail,
      budgetEmailCondition: recipients.hasAlarmEmail,
    });

    // ---- outputs (names are read by the Rust CLI: keep them stable) -------------------------
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName, description: 'Upload prompt files under prompts/' });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'TopicArn', { value: this.resultsTopic.topic.topicArn, description: 'Result emails' });
    new CfnOutput(this, 'OpsTopicArn', { value: this.opsTopic.topic.topicArn, description: 'Alarm emails' });
    new CfnOutput(this, 'FailedTriggersQueueUrl', { value: this.failedTriggers.queueUrl });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'imagegen aws post/get --api-url (IAM-signed: execute-api:Invoke)',
    });
    new CfnOutput(this, 'ApiInvokeArns', {
      value: FACTS.api.routes.map((r) => this.api.invokeArn(r.method, r.resource)).join(','),
      description: 'Grant execute-api:Invoke on these to the callers of the API',
    });
    new CfnOutput(this, 'PromptQueueUrl', {
      value: this.promptQueue.queue.queueUrl,
      description: 'Console JSON per message (senders need sqs:SendMessage here and kms:GenerateDataKey on PromptQueueKeyArn)',
    });
    new CfnOutput(this, 'PromptQueueKeyArn', { value: this.promptQueue.key.keyArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.promptQueue.deadLetters.queueUrl });
    new CfnOutput(this, 'ConsoleInputExample', {
      value: CONSOLE_INPUT_EXAMPLE,
      description: 'Paste into Step Functions > Start execution',
    });
  }

  /** StartExecution of this state machine only (what every function that starts work needs). */
  private startPipelineStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'StartPipeline',
      actions: ['states:StartExecution'],
      resources: [this.stateMachine.stateMachineArn],
    });
  }

  /** Claim (If-None-Match) and release an execution's one-email record under notifications/. */
  private claimEmailsStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'ClaimExecutionEmail',
      actions: ['s3:PutObject', 's3:DeleteObject'],
      resources: [this.store.objectsUnder(PREFIXES.notifications)],
    });
  }

  /** `arn:<partition>:states:<region>:<account>:execution:<state machine name>:*` */
  /** DescribeExecution on the executions of the pipeline (the backstop, the status answers). */
  private describeExecutionsStatement(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'DescribePipelineExecutions',
      actions: ['states:DescribeExecution'],
      resources: [this.executionsArn()],
    });
  }

  private executionsArn(): string {
    return this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  private addAlarms(): void {
    const notify = new cloudwatchActions.SnsAction(this.opsTopic.topic);
    const period = Duration.minutes(5);
    const alarms: Array<[string, cloudwatch.IMetric, string]> = [
      ['ExecutionsFailedAlarm', this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
        'An imagegen execution failed (the user got a failure email).'],
      ['StartExecutionErrorsAlarm', this.functions.startExecution.function.metricErrors({ period, statistic: 'Sum' }),
        'start-execution failed on an S3 prompt upload.'],
      ['BackstopErrorsAlarm', this.functions.notifyBackstop.function.metricErrors({ period, statistic: 'Sum' }),
        'notify-backstop failed: an execution that ended without an email may still have none.'],
      ['FailedTriggersAlarm', this.failedTriggers.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        'An S3 prompt upload exhausted its retries and sits in the failed-triggers queue.'],
    ];
    for (const [id, metric, description] of alarms) {
      const alarm = new cloudwatch.Alarm(this, id, {
        metric,
        alarmDescription: description,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
    }
  }

  /**
   * bedrock:InvokeModel on exactly the allowed models, in exactly the places they are called (the
   * model pools, `callRegions`). A foundation model id: that model's ARN in each Region it is called
   * in. A cross-Region inference profile (an allowed id like `us.stability...`, called in each of
   * those Regions, or a profile pool, called from the Bedrock Region): Bedrock authorises the
   * profile's ARN and then the model in whichever Region of the profile's geography it routes the
   * request to, so the grant is the profile, and the model in any Region but only when the request came
   * through that profile (condition `bedrock:InferenceProfileArn`; which Regions a profile routes to
   * is Bedrock's to change). Bedrock user guide, "Prerequisites for inference profiles".
   */
  private grantInvokeModels(fn: PipelineFunction, config: ImagegenConfig): void {
    const model = (region: string, id: string) =>
      this.formatArn({ service: 'bedrock', region, account: '', resource: 'foundation-model', resourceName: id });
    const profileArn = (region: string, id: string) =>
      this.formatArn({ service: 'bedrock', region, resource: 'inference-profile', resourceName: id });
    const regions = callRegions(config);
    const models = config.allowedModelIds.filter((id) => profileGeography(id) === undefined);
    if (models.length > 0 && regions.length > 0) {
      fn.addToPolicy(new iam.PolicyStatement({
        sid: 'InvokeConfiguredModels',
        actions: ['bedrock:InvokeModel'],
        resources: regions.flatMap((region) => models.map((id) => model(region, id))),
      }));
    }
    const allowedProfiles = config.allowedModelIds.filter((id) => profileGeography(id) !== undefined);
    const poolProfiles = config.modelPools.filter((p) => p.kind === 'profile').map((p) => p.name);
    const profileArns = [
      ...regions.flatMap((region) => allowedProfiles.map((id) => profileArn(region, id))),
      ...poolProfiles.map((id) => profileArn(config.bedrockRegion, id)),
    ];
    if (profileArns.length === 0) return;
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'InvokeConfiguredProfiles',
      actions: ['bedrock:InvokeModel'],
      resources: profileArns,
    }));
    const routedTo = [...new Set([...allowedProfiles, ...poolProfiles].map((id) => model('*', profileModel(id))))];
    fn.addToPolicy(new iam.PolicyStatement({
      sid: 'InvokeModelsThroughProfiles',
      actions: ['bedrock:InvokeModel'],
      resources: routedTo,
      conditions: { StringEquals: { 'bedrock:InferenceProfileArn': profileArns } },
    }));
    for (const arn of routedTo) {
      acknowledge(fn.role, `AwsSolutions-IAM5[Resource::${nagRendered(this, arn)}]`,
        'The model behind an allowed cross-Region inference profile, in whichever Region Bedrock routes the request to, and only through that profile (condition bedrock:InferenceProfileArn).');
    }
  }

  /** Each acknowledgement names one finding on one construct; see DEPLOY.md for the list. */
  private acknowledgeFindings(): void {
    const xray =
      'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (Resource must be "*"); added by Tracing.ACTIVE.';
    for (const fn of Object.values(this.functions)) {
      acknowledge(fn.role, 'AwsSolutions-IAM5[Resource::*]', xray);
    }
    const objects = (construct: Construct, prefix: string, why: string): void => {
      acknowledge(construct, `AwsSolutions-IAM5[${iam5Resource(this.store.bucket, `${prefix}*`)}]`,
        `Objects under ${prefix} only: ${why}, so a prefix wildcard is the narrowest grant that works.`);
    };
    const perRequest = 'keys are made per request ({requestId}/...) at run time';
    const f = this.functions;
    objects(f.validatePrompt.role, PREFIXES.prompts, 'reads prompt files whose names the uploader chooses');
    objects(f.generateImage.role, PREFIXES.images, `writes generated images; ${perRequest}`);
    objects(f.generateThumbnails.role, PREFIXES.images, `reads generated images; ${perRequest}`);
    objects(f.generateThumbnails.role, PREFIXES.thumbnails, `writes thumbnails; ${perRequest}`);
    objects(f.notifyUser.role, PREFIXES.images, `presigns GET links to images; ${perRequest}`);
    objects(f.notifyUser.role, PREFIXES.thumbnails, `presigns GET links to thumbnails; ${perRequest}`);
    objects(f.notifyUser.role, PREFIXES.results, `writes the result manifest create-only and reads one found in its place; ${perRequest}`);
    objects(f.httpApi.role, PREFIXES.results, `reads the manifest a status answer lists; ${perRequest}`);
    objects(f.httpApi.role, PREFIXES.images, `presigns GET links to images; ${perRequest}`);
    objects(f.httpApi.role, PREFIXES.thumbnails, `presigns GET links to thumbnails; ${perRequest}`);
    const perExecution = 'one record per execution, named after it at run time';
    objects(f.notifyUser.role, PREFIXES.notifications, `claims an execution's one email; ${perExecution}`);
    objects(f.notifyBackstop.role, PREFIXES.notifications, `claims an execution's one email; ${perExecution}`);
    const executions = nagRendered(this, this.executionsArn());
    for (const role of [f.notifyBackstop.role, f.httpApi.role]) {
      acknowledge(role, `AwsSolutions-IAM5[Resource::${executions}]`,
        'DescribeExecution on the executions of this one state machine: execution names are made at run time, so a wildcard after the state machine name is the narrowest grant that works.');
    }

    // CDK's singleton Lambda behind Custom::S3BucketNotifications (its role is not configurable).
    const notificationsHandler = this.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (notificationsHandler === undefined) throw new Error('BucketNotificationsHandler not found');
    acknowledge(notificationsHandler,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-managed handler that writes the bucket notification configuration during deployments only (its role is not configurable). The managed policy allows logs:CreateLogGroup, logs:CreateLogStream and logs:PutLogEvents on any log group ("*"), no reads and nothing outside CloudWatch Logs; its only other permission is s3:PutBucketNotification on this bucket.');

    const sfnRole = this.stateMachine.role;
    acknowledge(sfnRole, 'AwsSolutions-IAM5[Resource::*]',
      'Added by CDK for logging and tracing: the CloudWatch Logs vended-delivery actions (logs:CreateLogDelivery, ...) and X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions.');
  }
}
