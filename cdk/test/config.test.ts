import { App } from 'aws-cdk-lib';
import { DEFAULTS, FACTS, loadConfig, modelPoolsEnv } from '../lib/config';
import { cdkJsonContext } from './helpers';

const load = (context: Record<string, unknown>) => loadConfig(new App({ context }).node);

describe('context configuration', () => {
  test('defaults without any context', () => {
    expect(load({})).toEqual({
      modelId: 'stability.stable-image-core-v1:1',
      allowedModelIds: ['stability.stable-image-core-v1:1'],
      bedrockRegion: 'us-west-2',
      modelQuotaRpm: 10,
      modelPools: [],
      fallbackModelIds: [],
      maxSlotWaitMinutes: 1440,
      thumbnailSizes: [128, 256, 512],
      thumbnailFormats: ['jpeg'],
      thumbnailQuality: '80',
      outputExpirationDays: 30,
      logRetentionDays: 30,
      presignExpirySeconds: 3600,
      maxPromptFileBytes: 16384,
      blocklist: '',
      logLevel: 'INFO',
      rustLog: undefined,
      promptExpirationDays: 30,
      logExecutionData: false,
      reservedConcurrency: { generateImage: 10, startExecution: 10, httpApi: 10, queueConsumer: 2 },
      maxExecutionsPerHour: 100,
      maxModelInvocationsPerHour: 200,
      monthlyBudgetUsd: 100,
      budgetServices: ['Amazon Bedrock'],
      apiRateLimit: 2,
      apiBurstLimit: 5,
      apiStatusRateLimit: 5,
      apiStatusBurstLimit: 10,
      apiGatewayCloudWatchRole: true,
      queueMaxAgeSeconds: 300,
      queueMaxReceiveCount: 3,
      queueMaxConcurrency: 2,
      permissionsBoundary: false,
    });
  });

  test('front-door settings are parsed, within the limits of API Gateway and SQS', () => {
    expect(load({
      apiRateLimit: '10', apiBurstLimit: '20', apiGatewayCloudWatchRole: 'false',
      queueMaxAgeSeconds: '900', queueMaxReceiveCount: '5',
    })).toMatchObject({
      apiRateLimit: 10, apiBurstLimit: 20, apiGatewayCloudWatchRole: false,
      queueMaxAgeSeconds: 900, queueMaxReceiveCount: 5,
    });
    // The queue's redrive count: the consumer's default and SQS's range, from facts.json.
    expect(DEFAULTS.queueMaxReceiveCount).toBe(FACTS.queue.maxReceiveCount.default);
    expect(() => load({ queueMaxReceiveCount: String(FACTS.queue.maxReceiveCount.max + 1) })).toThrow(/queueMaxReceiveCount/);
  });

  test('the defaults the Rust functions define come from facts.json (pinned to the code by scripts/xtask/tests/it/generated.rs)', () => {
    const settings = FACTS.settings;
    expect(DEFAULTS).toMatchObject({
      modelId: FACTS.defaultModelId,
      thumbnailSizes: settings.thumbnailSizes.default.join(','),
      thumbnailFormat: settings.thumbnailFormat.default,
      thumbnailQuality: String(settings.thumbnailQuality.default),
      presignExpirySeconds: settings.presignExpirySeconds.default,
      maxPromptFileBytes: settings.maxPromptFileBytes.default,
      modelQuotaRpm: settings.modelQuotaRpm.default,
    });
    // The ranges the functions accept are the ranges the CDK accepts.
    expect(() => load({ presignExpirySeconds: String(settings.presignExpirySeconds.min - 1) })).toThrow(/presignExpirySeconds/);
    expect(load({ presignExpirySeconds: String(settings.presignExpirySeconds.min) }).presignExpirySeconds)
      .toBe(settings.presignExpirySeconds.min);
    expect(() => load({ maxPromptFileBytes: String(settings.maxPromptFileBytes.max + 1) })).toThrow(/maxPromptFileBytes/);
    expect(() => load({ modelQuotaRpm: String(settings.modelQuotaRpm.min - 1) })).toThrow(/modelQuotaRpm/);
    expect(load({ modelQuotaRpm: String(settings.modelQuotaRpm.max) }).modelQuotaRpm).toBe(settings.modelQuotaRpm.max);
  });

  test('cdk.json documents the same defaults', () => {
    const context = cdkJsonContext();
    expect(context).toMatchObject({
      modelId: DEFAULTS.modelId,
      bedrockRegion: DEFAULTS.bedrockRegion,
      thumbnailSizes: DEFAULTS.thumbnailSizes,
      outputExpirationDays: DEFAULTS.outputExpirationDays,
      logRetentionDays: DEFAULTS.logRetentionDays,
    });
    expect(context.email).toBeUndefined();
  });

  test('-c values arrive as strings and are parsed', () => {
    const config = load({
      outputExpirationDays: '7', logRetentionDays: '90', thumbnailSizes: '64,64, 300',
      presignExpirySeconds: '600',
    });
    expect(config).toMatchObject({
      outputExpirationDays: 7, logRetentionDays: 90, thumbnailSizes: [64, 300],
      presignExpirySeconds: 600,
    });
  });

  test('thumbnail quality: a number is JPEG\'s, or one per lossy format as THUMBNAIL_QUALITY takes it', () => {
    expect(load({ thumbnailQuality: 90 }).thumbnailQuality).toBe('90');
    expect(load({ thumbnailQuality: ' jpeg:85, webp:75,avif:60 ' }).thumbnailQuality).toBe('jpeg:85,webp:75,avif:60');
    expect(load({ thumbnailQuality: '82,avif:50' }).thumbnailQuality).toBe('82,avif:50');
  });

  test('cost and privacy settings are parsed', () => {
    expect(load({
      logExecutionData: 'true', reservedConcurrency: '3', maxExecutionsPerHour: '20',
      maxModelInvocationsPerHour: '40', monthlyBudgetUsd: '0',
      budgetServices: 'Amazon Bedrock, Stable Image Core (Amazon Bedrock Edition)',
      outputExpirationDays: '9',
    })).toMatchObject({
      logExecutionData: true, reservedConcurrency: { generateImage: 3, startExecution: 3, httpApi: 3, queueConsumer: 3 },
      maxExecutionsPerHour: 20,
      maxModelInvocationsPerHour: 40, monthlyBudgetUsd: 0,
      budgetServices: ['Amazon Bedrock', 'Stable Image Core (Amazon Bedrock Edition)'],
      // Prompts go with their outputs unless told otherwise.
      outputExpirationDays: 9, promptExpirationDays: 9,
    });
    // cdk.json may hold real booleans and numbers.
    expect(load({ logExecutionData: false, reservedConcurrency: 2 })).toMatchObject({
      logExecutionData: false, reservedConcurrency: { generateImage: 2, startExecution: 2, httpApi: 2, queueConsumer: 2 },
    });
    expect(load({ promptExpirationDays: '1' }).promptExpirationDays).toBe(1);
  });

  test('reserved concurrency: defaults, none for a small account, one number for each, never below the queue\'s', () => {
    // The queue consumer's default follows the queue mapping's maximum concurrency.
    expect(load({ queueMaxConcurrency: '4' }).reservedConcurrency)
      .toEqual({ generateImage: 10, startExecution: 10, httpApi: 10, queueConsumer: 4 });
    expect(load({ reservedConcurrency: 'none' }).reservedConcurrency).toBeUndefined();
    expect(() => load({ reservedConcurrency: '3', queueMaxConcurrency: '4' }))
      .toThrow('context reservedConcurrency=3: expected none (no reservation) or an integer between 4 (queueMaxConcurrency, which the queue consumer\'s must reach) and 1000');
  });

  test('model pools: a JSON list or NAME=RPM, Regions and profiles, each with its pace', () => {
    expect(load({}).modelPools).toEqual([]);
    const profile = 'us.stability.stable-image-core-v1:1';
    const json = JSON.stringify([{ region: 'us-east-1', rpm: 20 }, { profile, rpm: 30 }, { region: 'us-east-2' }]);
    const fromJson = load({ modelPools: json, modelQuotaRpm: '15' }).modelPools;
    expect(fromJson).toEqual([
      { name: 'us-east-1', kind: 'region', rpm: 20 },
      { name: profile, kind: 'profile', rpm: 30 },
      { name: 'us-east-2', kind: 'region', rpm: 15 },
    ]);
    expect(load({ modelPools: `us-east-1=20,${profile}=30,us-east-2`, modelQuotaRpm: '15' }).modelPools).toEqual(fromJson);
    expect(modelPoolsEnv(fromJson)).toBe(`us-east-1=20,${profile}=30,us-east-2=15`);
  });

  test.each([
    ['mars=5', /'mars' is not a Region name/],
    ['us-east-1=0', /us-east-1: rpm 0 is not an integer/],
    ['us-east-1=5,us-east-1=6', /us-east-1 is listed twice/],
    ['eu.stability.stable-image-core-v1:1=5', /which bedrockRegion=us-west-2 cannot call/],
    ['us.amazon.nova-canvas-v1:0=5', /a profile of amazon.nova-canvas-v1:0, which is not an allowed model/],
    ['[{"rpm": 5}]', /needs one of "region" or "profile"/],
  ])('rejects modelPools=%s', (modelPools, message) => {
    expect(() => load({ modelPools })).toThrow(message);
  });

  test('fallback models: an ordered list of allowed models', () => {
    const allowed = 'stability.stable-image-ultra-v1:1,stability.sd3-5-large-v1:0';
    expect(load({ allowedModelIds: allowed, fallbackModelIds: 'stability.sd3-5-large-v1:0, stability.stable-image-ultra-v1:1' })
      .fallbackModelIds).toEqual(['stability.sd3-5-large-v1:0', 'stability.stable-image-ultra-v1:1']);
    expect(() => load({ fallbackModelIds: 'stability.stable-image-ultra-v1:1' }))
      .toThrow("context fallbackModelIds: 'stability.stable-image-ultra-v1:1' is not an allowed model (allowedModelIds), so GenerateImage may not call it");
  });

  test('an allowed profile id must be callable from every Region pool', () => {
    expect(() => load({ allowedModelIds: 'us.stability.stable-image-core-v1:1', modelPools: 'eu-west-1=5' }))
      .toThrow(/the allowed model 'us.stability.stable-image-core-v1:1' is a us. inference profile, which the pool eu-west-1 cannot call/);
  });

  test('email addresses are stack parameters: -c email / alarmEmail say how to pass them instead', () => {
    expect(() => load({ email: 'me@example.com' }))
      .toThrow('context email=me@example.com: the address is a stack parameter now; deploy with --parameters Email=me@example.com');
    expect(() => load({ alarmEmail: 'ops@example.com' })).toThrow(/--parameters AlarmEmail=ops@example.com/);
    expect(() => load({ email: '' })).not.toThrow();
  });

  test.each([
    [{ outputExpirationDays: '0' }, /outputExpirationDays/],
    [{ outputExpirationDays: 'soon' }, /outputExpirationDays/],
    [{ logRetentionDays: '10' }, /logRetentionDays=10/],
    [{ thumbnailSizes: '128,big' }, /thumbnailSizes/],
    [{ thumbnailFormat: 'gif' }, /thumbnailFormat/],
    [{ thumbnailFormats: 'avif,gif' }, /thumbnailFormats=avif,gif: expected one or more of jpeg, png, webp, avif/],
    [{ thumbnailQuality: '0' }, /thumbnailQuality=0: jpeg quality '0' is not an integer between 1 and 100/],
    [{ thumbnailQuality: 'webp:75,avif:high' }, /avif quality 'high'/],
    [{ thumbnailQuality: 'png:90' }, /'png' takes no quality: expected one of jpeg, webp, avif/],
    [{ thumbnailQuality: 'gif:50' }, /'gif' takes no quality/],
    [{ bedrockRegion: 'oregon' }, /bedrockRegion/],
    [{ modelId: 'no model' }, /modelId/],
    [{ allowedModelIds: 'eu.stability.stable-image-core-v1:1' }, /'eu\.stability\.stable-image-core-v1:1' is a eu\. inference profile, which bedrockRegion=us-west-2 cannot call/],
    [{ presignExpirySeconds: '604800' }, /presignExpirySeconds/],
    [{ logExecutionData: 'yes' }, /logExecutionData=yes: expected true or false/],
    [{ reservedConcurrency: '0' }, /reservedConcurrency/],
    [{ reservedConcurrency: '1' }, /reservedConcurrency/],
    [{ reservedConcurrency: 'off' }, /reservedConcurrency=off: expected none/],
    [{ reservedConcurrency: '1001' }, /reservedConcurrency/],
    [{ maxExecutionsPerHour: '0' }, /maxExecutionsPerHour/],
    [{ maxModelInvocationsPerHour: 'many' }, /maxModelInvocationsPerHour/],
    [{ monthlyBudgetUsd: '-1' }, /monthlyBudgetUsd/],
    [{ monthlyBudgetUsd: '12.5' }, /monthlyBudgetUsd/],
    [{ promptExpirationDays: '0' }, /promptExpirationDays/],
    [{ modelQuotaRpm: '2.5' }, /modelQuotaRpm/],
    [{ maxSlotWaitMinutes: '0' }, /maxSlotWaitMinutes/],
    [{ apiRateLimit: '0' }, /apiRateLimit/],
    [{ apiBurstLimit: '5001' }, /apiBurstLimit/],
    [{ apiStatusRateLimit: '0' }, /apiStatusRateLimit/],
    [{ queueMaxConcurrency: '1' }, /queueMaxConcurrency/],
    [{ permissionsBoundary: 'yes' }, /permissionsBoundary=yes: expected true or false/],
    [{ apiStatusBurstLimit: '5001' }, /apiStatusBurstLimit/],
    [{ apiGatewayCloudWatchRole: 'maybe' }, /apiGatewayCloudWatchRole/],
    [{ queueMaxAgeSeconds: '30' }, /queueMaxAgeSeconds/],
    [{ queueMaxReceiveCount: '0' }, /queueMaxReceiveCount/],
  ])('rejects %j', (context, message) => {
    expect(() => load(context)).toThrow(message);
  });
});
