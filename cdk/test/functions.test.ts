import * as fs from 'fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as path from 'path';
import { FACTS } from '../lib/config';
import { DEFAULT_FUNCTIONS_DIR } from '../lib/constructs/pipeline-function';
import { DEFINITION_FILE, ImagegenStack } from '../lib/imagegen-stack';
import { synthesize } from './helpers';

/** The Lambda function resource of one PipelineFunction, found by logical-id prefix. */
function lambdaOf(template: Template, prefix: string) {
  const matches = Object.entries(template.findResources('AWS::Lambda::Function'))
    .filter(([id]) => id.startsWith(`${prefix}Function`));
  expect(matches).toHaveLength(1);
  return matches[0][1];
}

const EXPECTED = {
  StartExecution: { memory: 128, env: ['STATE_MACHINE_ARN', 'PROMPT_PREFIX'] },
  ValidatePrompt: {
    memory: 128,
    env: ['OUTPUT_BUCKET', 'PROMPT_PREFIX', 'DEFAULT_MODEL_ID', 'ALLOWED_MODEL_IDS', 'MAX_PROMPT_FILE_BYTES'],
  },
  ReserveModelSlot: { memory: 128, env: ['MODEL_SLOT_TABLE', 'MODEL_QUOTA_RPM', 'MAX_SLOT_WAIT_MINUTES'] },
  GenerateImage: { memory: 256, env: ['BEDROCK_REGION'] },
  GenerateThumbnails: { memory: 1024, env: ['THUMBNAIL_SIZES', 'THUMBNAIL_FORMATS', 'THUMBNAIL_QUALITY'] },
  NotifyUser: { memory: 128, env: ['TOPIC_ARN', 'OUTPUT_BUCKET', 'PRESIGN_EXPIRY_SECONDS'] },
  NotifyBackstop: { memory: 128, env: ['TOPIC_ARN', 'OUTPUT_BUCKET'] },
  HttpApi: {
    memory: 128,
    env: ['STATE_MACHINE_ARN', 'OUTPUT_BUCKET', 'PRESIGN_EXPIRY_SECONDS', 'DEFAULT_MODEL_ID', 'ALLOWED_MODEL_IDS', 'MAX_PROMPT_FILE_BYTES'],
  },
  QueueConsumer: { memory: 128, env: ['STATE_MACHINE_ARN', 'DEFAULT_MODEL_ID', 'ALLOWED_MODEL_IDS', 'MAX_PROMPT_FILE_BYTES'] },
} as const;

describe('the nine Rust functions', () => {
  let template: Template;
  let stack: ImagegenStack;
  beforeAll(() => {
    ({ template, stack } = synthesize({ logRetentionDays: 14 }));
  });

  test('exactly nine functions besides the CDK bucket-notifications handler', () => {
    const ours = Object.values(template.findResources('AWS::Lambda::Function'))
      .filter((f) => f.Properties.Runtime === 'provided.al2023');
    expect(ours).toHaveLength(9);
  });

  test.each(Object.entries(EXPECTED))('%s: arm64, provided.al2023, bootstrap, X-Ray, memory, env', (prefix, expected) => {
    const fn = lambdaOf(template, prefix);
    expect(fn.Properties).toMatchObject({
      Runtime: 'provided.al2023',
      Architectures: ['arm64'],
      Handler: 'bootstrap',
      TracingConfig: { Mode: 'Active' },
      MemorySize: expected.memory,
      LoggingConfig: {
        LogGroup: { Ref: expect.stringMatching(new RegExp(`^${prefix}LogGroup`)) },
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'WARN',
      },
    });
    expect(Object.keys(fn.Properties.Environment.Variables).sort()).toEqual([...expected.env].sort());
  });

  test('every variable a function is given is one the Rust code reads (facts.json)', () => {
    for (const prefix of Object.keys(EXPECTED)) {
      for (const name of Object.keys(lambdaOf(template, prefix).Properties.Environment.Variables)) {
        expect(FACTS.envVars).toContain(name);
      }
    }
  });

  test('logLevel sets the Lambda log level; rustLog adds RUST_LOG only when given', () => {
    const { template: t } = synthesize({ logLevel: 'debug', rustLog: 'generate_image=trace' });
    const fn = lambdaOf(t, 'GenerateImage');
    expect(fn.Properties.LoggingConfig.ApplicationLogLevel).toBe('DEBUG');
    expect(fn.Properties.Environment.Variables.RUST_LOG).toBe('generate_image=trace');
  });

  test.each(Object.keys(EXPECTED))('%s: its own role, its own log group with the configured retention', (prefix) => {
    const fn = lambdaOf(template, prefix);
    expect(fn.Properties.Role).toEqual({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${prefix}Role`)), 'Arn'] });
    const roleId = fn.Properties.Role['Fn::GetAtt'][0] as string;
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Sid: 'WriteOwnLogs',
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}LogGroup`), 'Arn'] },
        }]),
      },
    });
    const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(14);
  });

  test('state machine log group has the configured retention too', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'),
      RetentionInDays: 14,
    });
  });

  test('environment values follow the contract and the defaults', () => {
    const env = (prefix: string) => lambdaOf(template, prefix).Properties.Environment.Variables;
    expect(env('StartExecution')).toMatchObject({
      STATE_MACHINE_ARN: { Ref: expect.stringMatching(/^Pipeline/) },
      PROMPT_PREFIX: 'prompts/',
    });
    expect(env('ValidatePrompt')).toMatchObject({
      OUTPUT_BUCKET: { Ref: expect.stringMatching(/^StoreBucket/) },
      PROMPT_PREFIX: 'prompts/',
      DEFAULT_MODEL_ID: 'stability.stable-image-core-v1:1',
      ALLOWED_MODEL_IDS: 'stability.stable-image-core-v1:1',
      MAX_PROMPT_FILE_BYTES: '16384',
    });
    expect(env('ReserveModelSlot')).toMatchObject({
      MODEL_SLOT_TABLE: { Ref: expect.stringMatching(/^ModelSlotsTable/) },
      MODEL_QUOTA_RPM: String(FACTS.settings.modelQuotaRpm.default),
      MAX_SLOT_WAIT_MINUTES: '1440',
    });
    expect(env('GenerateImage')).toMatchObject({ BEDROCK_REGION: 'us-west-2' });
    expect(env('GenerateThumbnails')).toMatchObject({
      THUMBNAIL_SIZES: '128,256,512', THUMBNAIL_FORMATS: 'jpeg', THUMBNAIL_QUALITY: '80',
    });
    expect(env('NotifyUser')).toMatchObject({
      TOPIC_ARN: { Ref: expect.stringMatching(/^ResultsTopic/) },
      // The only bucket notify-user links to and writes in.
      OUTPUT_BUCKET: { Ref: expect.stringMatching(/^StoreBucket/) },
      PRESIGN_EXPIRY_SECONDS: '3600',
    });
  });

  test('context values reach the environment', () => {
    const custom = synthesize({
      modelId: 'amazon.nova-canvas-v1:0',
      allowedModelIds: 'amazon.titan-image-generator-v2:0',
      bedrockRegion: 'us-east-1',
      thumbnailSizes: '64, 200',
      thumbnailFormat: 'webp',
      blocklist: 'foo, bar',
      modelQuotaRpm: '60',
      modelPools: 'us-east-1=20,us-east-2',
      fallbackModelIds: 'amazon.titan-image-generator-v2:0',
    }).template;
    const env = (prefix: string) => lambdaOf(custom, prefix).Properties.Environment.Variables;
    expect(env('ValidatePrompt')).toMatchObject({
      DEFAULT_MODEL_ID: 'amazon.nova-canvas-v1:0',
      ALLOWED_MODEL_IDS: 'amazon.nova-canvas-v1:0,amazon.titan-image-generator-v2:0',
      BLOCKLIST: 'foo,bar',
    });
    expect(env('GenerateImage')).toMatchObject({ BEDROCK_REGION: 'us-east-1' });
    expect(env('ReserveModelSlot')).toMatchObject({
      MODEL_QUOTA_RPM: '60',
      MODEL_POOLS: 'us-east-1=20,us-east-2=60',
      FALLBACK_MODEL_IDS: 'amazon.titan-image-generator-v2:0',
    });
    // GenerateImage calls the pool its slot names: it does not read MODEL_POOLS.
    expect(env('GenerateImage').MODEL_POOLS).toBeUndefined();
    expect(env('GenerateThumbnails')).toMatchObject({ THUMBNAIL_SIZES: '64,200', THUMBNAIL_FORMATS: 'webp' });
    const several = synthesize({ thumbnailFormats: 'avif, webp,jpeg', thumbnailQuality: 'webp:75, avif:60' }).template;
    expect(lambdaOf(several, 'GenerateThumbnails').Properties.Environment.Variables).toMatchObject({
      THUMBNAIL_FORMATS: 'avif,webp,jpeg',
      THUMBNAIL_QUALITY: 'webp:75,avif:60',
    });
  });

  test('the front doors hold requests to ValidatePrompt\'s rules: the same values reach all three', () => {
    const custom = synthesize({ modelId: 'amazon.nova-canvas-v1:0', blocklist: 'foo', maxPromptFileBytes: '2048' }).template;
    const rules = (prefix: string) => {
      const env = lambdaOf(custom, prefix).Properties.Environment.Variables;
      return [env.DEFAULT_MODEL_ID, env.ALLOWED_MODEL_IDS, env.MAX_PROMPT_FILE_BYTES, env.BLOCKLIST];
    };
    expect(rules('ValidatePrompt')).toEqual(['amazon.nova-canvas-v1:0', 'amazon.nova-canvas-v1:0', '2048', 'foo']);
    expect(rules('HttpApi')).toEqual(rules('ValidatePrompt'));
    expect(rules('QueueConsumer')).toEqual(rules('ValidatePrompt'));
  });

  test('each function times out before the state that calls it', () => {
    const asl = JSON.parse(fs.readFileSync(DEFINITION_FILE, 'utf8')) as {
      States: Record<string, { Resource?: string; TimeoutSeconds?: number }>;
    };
    const byPlaceholder: Record<string, string> = {
      '${ValidatePromptFunctionArn}': 'ValidatePrompt',
      '${ReserveModelSlotFunctionArn}': 'ReserveModelSlot',
      '${GenerateImageFunctionArn}': 'GenerateImage',
      '${GenerateThumbnailsFunctionArn}': 'GenerateThumbnails',
      '${NotifyUserFunctionArn}': 'NotifyUser',
    };
    const tasks = Object.values(asl.States).filter((s) => s.Resource !== undefined);
    expect(tasks.length).toBeGreaterThanOrEqual(5);
    for (const state of tasks) {
      const prefix = byPlaceholder[state.Resource as string];
      expect(prefix).toBeDefined();
      expect(state.TimeoutSeconds).toBeDefined();
      expect(lambdaOf(template, prefix).Properties.Timeout).toBeLessThan(state.TimeoutSeconds as number);
    }
  });

  test('by default the model caller and the three front doors reserve concurrency, the rest none', () => {
    const expected: Record<string, number> = { GenerateImage: 10, StartExecution: 10, HttpApi: 10, QueueConsumer: 2 };
    for (const prefix of Object.keys(EXPECTED)) {
      expect([prefix, lambdaOf(template, prefix).Properties.ReservedConcurrentExecutions]).toEqual([prefix, expected[prefix]]);
    }
    // The queue consumer's reservation is its mapping's maximum concurrency: never throttled by its own cap.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    // Lambda leaves 100 unreserved: an account needs a quota above this (Lambda's usual 1,000 is; a new account's 10 is not).
    expect(total + 100).toBeLessThan(1000);
  });

  test('reservedConcurrency=none reserves nothing (an account with the initial quota of 10 can deploy)', () => {
    const none = synthesize({ reservedConcurrency: 'none' }).template;
    for (const prefix of Object.keys(EXPECTED)) {
      expect([prefix, lambdaOf(none, prefix).Properties.ReservedConcurrentExecutions]).toEqual([prefix, undefined]);
    }
  });

  test('reservedConcurrency=N reserves N for each of the four, and only those', () => {
    const capped = synthesize({ reservedConcurrency: '5' }).template;
    for (const prefix of Object.keys(EXPECTED)) {
      const reserved = lambdaOf(capped, prefix).Properties.ReservedConcurrentExecutions;
      const four = ['StartExecution', 'GenerateImage', 'HttpApi', 'QueueConsumer'];
      expect([prefix, reserved]).toEqual([prefix, four.includes(prefix) ? 5 : undefined]);
    }
  });

  test('manifest paths point at functions/<crate>/Cargo.toml by default', () => {
    expect(stack.functions.startExecution.function.node.path).toBe('Imagegen/StartExecution/Function');
    // The bin builds the stack without functionsDir: it resolves to <repo>/functions.
    expect(path.resolve(DEFAULT_FUNCTIONS_DIR)).toBe(path.resolve(__dirname, '../../functions'));
  });
});
