import { Node } from 'constructs';
import facts from './facts.json';

/** A thumbnail encoding the generate-thumbnails function understands (facts.json lists them). */
export type ThumbnailFormat = string;

/**
 * Deployment settings, read from CDK context (cdk.json or `-c key=value`).
 * Every field has a documented default; see DEPLOY.md.
 */
export interface ImagegenConfig {
  /** Bedrock model used when a request names none. Context `modelId`. */
  readonly modelId: string;
  /** Models a request may pick; always includes modelId. Context `allowedModelIds` (comma list). */
  readonly allowedModelIds: string[];
  /** Region whose Bedrock endpoint generate-image calls. Context `bedrockRegion`. */
  readonly bedrockRegion: string;
  /**
   * InvokeModel requests per minute the account may send each model (Service Quotas, Amazon Bedrock);
   * model slots are 60 s / this apart. Context `modelQuotaRpm` (facts.json's default, safe for a new
   * account).
   */
  readonly modelQuotaRpm: number;
  /**
   * The places each model is called, each with its own pace (MODEL_POOLS): Regions (the model called
   * there) and cross-Region inference profiles (called from bedrockRegion, for the model they are a
   * profile of). Context `modelPools`: a JSON list `[{"region": "us-west-2", "rpm": 20},
   * {"profile": "us.stability.stable-image-core-v1:1", "rpm": 20}]` or `NAME=RPM,...`. Empty (the
   * default): the model in bedrockRegion at modelQuotaRpm.
   */
  readonly modelPools: ModelPool[];
  /**
   * Models a request moves to, in this order, when Bedrock answers that its model is retired
   * (FALLBACK_MODEL_IDS; each must be an allowed model, which GenerateImage may call). Context
   * `fallbackModelIds` (comma list; none by default: a retired model's request fails with an email
   * naming the current models).
   */
  readonly fallbackModelIds: string[];
  /**
   * The longest a request may wait for its model slot, in minutes: a request the schedule cannot take
   * within it is refused at once with a "queue full" email instead of waiting. Context
   * `maxSlotWaitMinutes` (facts.json's default, a day).
   */
  readonly maxSlotWaitMinutes: number;
  /** Thumbnails' longest sides in pixels. Context `thumbnailSizes` ("128,256,512"). */
  readonly thumbnailSizes: number[];
  /**
   * Every thumbnail size is made in each of these formats (THUMBNAIL_FORMATS). Context
   * `thumbnailFormats` (comma list, e.g. `avif,webp,jpeg`), or `thumbnailFormat` (one; jpeg).
   */
  readonly thumbnailFormats: ThumbnailFormat[];
  /**
   * THUMBNAIL_QUALITY, as given: context `thumbnailQuality`, a number (JPEG's; 80 by default) or
   * `FORMAT:QUALITY` pairs such as `jpeg:80,webp:75,avif:60` (formats left out keep the function's
   * defaults). Each format's own scale: libjpeg's, libwebp's, libavif's.
   */
  readonly thumbnailQuality: string;
  /** Days before images/, thumbnails/ and results/ expire. Context `outputExpirationDays` (30). */
  readonly outputExpirationDays: number;
  /** Retention of every log group, in days. Context `logRetentionDays` (30). */
  readonly logRetentionDays: number;
  /** Lifetime of the links in the email. Context `presignExpirySeconds` (3600). */
  readonly presignExpirySeconds: number;
  /** Largest prompt file validate-prompt reads. Context `maxPromptFileBytes` (16384). */
  readonly maxPromptFileBytes: number;
  /** Comma-separated terms validate-prompt rejects. Context `blocklist` (empty). */
  readonly blocklist: string;
  /** Every function's log level (Lambda's advanced logging controls set AWS_LAMBDA_LOG_LEVEL). Context `logLevel` (INFO). */
  readonly logLevel: LogLevel;
  /** Optional per-target RUST_LOG directives on top of logLevel, e.g. "generate_image=debug". Context `rustLog`. */
  readonly rustLog?: string;
  /** Days before prompt files under prompts/ expire. Context `promptExpirationDays` (outputExpirationDays). */
  readonly promptExpirationDays: number;
  /**
   * Whether the state machine's log events carry execution data (inputs and outputs, so prompts).
   * Off by default: turn it on only to debug. Context `logExecutionData` (false).
   */
  readonly logExecutionData: boolean;
  /**
   * Reserved concurrency of the model caller and the front doors: a hard cap on parallel model calls
   * and on parallel starts through each door, so a flood cannot take the account's concurrency.
   * Context `reservedConcurrency`: unset, the defaults (`RESERVED_CONCURRENCY`); a number, that for
   * each; `none`, no reservation, for accounts whose concurrency quota is too small to reserve any (a
   * new account's 10: DEPLOY.md).
   */
  readonly reservedConcurrency?: ReservedConcurrency;
  /** Alarm when more executions than this start within an hour. Context `maxExecutionsPerHour` (100). */
  readonly maxExecutionsPerHour: number;
  /** Alarm when a model is invoked more often than this within an hour. Context `maxModelInvocationsPerHour` (200). */
  readonly maxModelInvocationsPerHour: number;
  /** Monthly AWS Budgets limit (USD) on the budgeted services; 0 = no budget. Context `monthlyBudgetUsd` (100). */
  readonly monthlyBudgetUsd: number;
  /** Cost Explorer service names the budget counts. Context `budgetServices` ("Amazon Bedrock"). */
  readonly budgetServices: string[];
  /**
   * The HTTP API's steady rate, per second, of `POST /generate-image` (each starts a model call).
   * Context `apiRateLimit` (2).
   */
  readonly apiRateLimit: number;
  /** Requests `POST /generate-image` takes at once above its rate. Context `apiBurstLimit` (5). */
  readonly apiBurstLimit: number;
  /**
   * The steady rate, per second, of `GET /images/{requestId}`: throttled apart from POST, so polling
   * (a `?wait` GET holds a function for up to 25 s) never takes the rate that starts requests.
   * Context `apiStatusRateLimit` (5).
   */
  readonly apiStatusRateLimit: number;
  /** Requests `GET /images/{requestId}` takes at once above its rate. Context `apiStatusBurstLimit` (10). */
  readonly apiStatusBurstLimit: number;
  /**
   * Whether the stack sets the account's API Gateway CloudWatch Logs role (one per account and
   * region, shared by every REST API there), which API Gateway needs to write the access logs.
   * Set false when the account has one already. Context `apiGatewayCloudWatchRole` (true).
   */
  readonly apiGatewayCloudWatchRole: boolean;
  /** Alarm when the prompt queue's oldest message is older than this. Context `queueMaxAgeSeconds` (300). */
  readonly queueMaxAgeSeconds: number;
  /** Deliveries of a message before it goes to the dead-letter queue. Context `queueMaxReceiveCount` (3). */
  readonly queueMaxReceiveCount: number;
  /**
   * Queue-consumer invocations the queue's event source mapping runs at once, so a flood of messages
   * cannot take the account's concurrency. Context `queueMaxConcurrency` (2, Lambda's minimum for SQS).
   */
  readonly queueMaxConcurrency: number;
  /**
   * Whether every role of the stack carries the permissions boundary the ImagegenDeployAccess stack
   * creates (its CloudFormation execution policy creates no role without it). Context
   * `permissionsBoundary` (false; the deploy workflow synthesizes with true).
   */
  readonly permissionsBoundary: boolean;
}

/** Reserved concurrency per function (Lambda's ReservedConcurrentExecutions). */
export interface ReservedConcurrency {
  readonly generateImage: number;
  readonly startExecution: number;
  readonly httpApi: number;
  /** Never below the queue mapping's maximum concurrency, or Lambda throttles its own poller. */
  readonly queueConsumer: number;
}

/** Lambda's application log levels. */
export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];

/**
 * The facts the Rust functions define (defaults, ranges, variable names, prefixes, error names),
 * generated from the Rust code into facts.json by `cargo xtask facts` and checked there by
 * `scripts/xtask/tests/it/generated.rs`.
 */
export const FACTS = facts;
const S = facts.settings;

export const DEFAULTS = {
  modelId: facts.defaultModelId,
  bedrockRegion: 'us-west-2',
  modelQuotaRpm: S.modelQuotaRpm.default,
  maxSlotWaitMinutes: S.maxSlotWaitMinutes.default,
  thumbnailSizes: S.thumbnailSizes.default.join(','),
  thumbnailFormat: S.thumbnailFormat.default,
  thumbnailQuality: String(S.thumbnailQuality.default),
  outputExpirationDays: 30,
  logRetentionDays: 30,
  presignExpirySeconds: S.presignExpirySeconds.default,
  maxPromptFileBytes: S.maxPromptFileBytes.default,
  logLevel: 'INFO',
  logExecutionData: false,
  maxExecutionsPerHour: 100,
  maxModelInvocationsPerHour: 200,
  monthlyBudgetUsd: 100,
  budgetServices: 'Amazon Bedrock',
  apiRateLimit: 2,
  apiBurstLimit: 5,
  apiStatusRateLimit: 5,
  apiStatusBurstLimit: 10,
  apiGatewayCloudWatchRole: true,
  queueMaxAgeSeconds: 300,
  queueMaxReceiveCount: facts.queue.maxReceiveCount.default,
  queueMaxConcurrency: 2,
  permissionsBoundary: false,
} as const;

/** Lambda's largest per-function concurrency quota we accept (a cap above it caps nothing). */
export const MAX_RESERVED_CONCURRENCY = 1000;

/**
 * The default reservations (the queue consumer's is `queueMaxConcurrency`). Lambda keeps at least 100
 * of the account's concurrency unreserved (10 in an account whose quota is 10), so these 30 plus the
 * queue consumer's need a quota of about 135: Lambda's usual 1,000, not a new account's 10
 * (`-c reservedConcurrency=none` there; DEPLOY.md).
 *   generate-image: the slots keep about modelQuotaRpm x 8 s / 60 calls in flight (2 at the default
 *     10 a minute), so 10 costs no throughput up to about 75 a minute and caps parallel model calls.
 *   start-execution, http-api: each invocation takes well under a second (a `?wait` status read up to
 *     25 s), so 10 at once is far above the API's throttling and an upload burst's need.
 */
export const RESERVED_CONCURRENCY = { generateImage: 10, startExecution: 10, httpApi: 10 } as const;

/** The context value that turns every reservation off. */
export const NO_RESERVED_CONCURRENCY = 'none';

/** The values CloudWatch Logs accepts for RetentionInDays. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const THUMBNAIL_FORMATS: readonly ThumbnailFormat[] = facts.settings.thumbnailFormat.choices;
const MODEL_ID = /^[a-z0-9-]+\.[A-Za-z0-9.:_-]+$/;

/** A geography of Bedrock's cross-Region inference profiles (facts.json, from the Rust model table). */
export interface ProfileGeography {
  /** The id's first segment: `us` in `us.stability.stable-image-core-v1:1`. */
  readonly prefix: string;
  /** The Regions a profile of this geography is called from start with this (empty: any). */
  readonly callerRegions: string;
}

/**
 * The inference-profile geography a model id names, or undefined for a foundation model id. A
 * profile id needs more than a model id in IAM: see GenerateImage's grants in imagegen-stack.ts.
 */
export function profileGeography(modelId: string): ProfileGeography | undefined {
  const prefix = modelId.split('.')[0];
  return facts.profileGeographies.find((g) => g.prefix === prefix);
}

/** What a Region's name looks like: the Rust functions' own pattern (facts.json). */
const REGION = new RegExp(facts.regionNamePattern);

/** One place a model is called, with its pace (the Rust `imagegen_core::pools::Pool`). */
export interface ModelPool {
  /** A Region, or a cross-Region inference profile id. */
  readonly name: string;
  readonly kind: 'region' | 'profile';
  /** InvokeModel requests a minute this pool takes for each model. */
  readonly rpm: number;
}

/**
 * The Regions generate-image calls models in (not through a profile pool): each Region pool, and
 * bedrockRegion when there are no pools or some allowed model has no pool to serve it (the Rust
 * `imagegen_core::pools::serving`: a Region pool serves every model, a profile pool its own).
 */
export function callRegions(config: Pick<ImagegenConfig, 'modelPools' | 'allowedModelIds' | 'bedrockRegion'>): string[] {
  const regions = config.modelPools.filter((p) => p.kind === 'region').map((p) => p.name);
  const profiles = config.modelPools.filter((p) => p.kind === 'profile').map((p) => profileModel(p.name));
  const base = (id: string) => (profileGeography(id) === undefined ? id : profileModel(id));
  const unserved = config.allowedModelIds.some((id) => regions.length === 0 && !profiles.includes(base(id)));
  return [...new Set([...regions, ...(unserved ? [config.bedrockRegion] : [])])];
}

/** MODEL_POOLS as the functions read it: `NAME=RPM,...`. */
export function modelPoolsEnv(pools: readonly ModelPool[]): string {
  return pools.map((p) => `${p.name}=${p.rpm}`).join(',');
}

/**
 * The model a profile pool serves (`stability.stable-image-core-v1:1` for
 * `us.stability.stable-image-core-v1:1`), as the Rust `Place::serves` reads it.
 */
export function profileModel(profileId: string): string {
  return profileId.slice(profileId.indexOf('.') + 1);
}

/** Context `modelPools`: a JSON list of `{region|profile, rpm}`, or `NAME=RPM,...`. */
function modelPools(node: Node, bedrockRegion: string, allowedModelIds: string[], fallbackRpm: number): ModelPool[] {
  const value: unknown = node.tryGetContext('modelPools');
  if (value === undefined || value === null || value === '') return [];
  const bad = (why: string): never => {
    throw new Error(`context modelPools: ${why}`);
  };
  let items: { name: string; kind?: 'region' | 'profile'; rpm: unknown }[];
  const text = typeof value === 'string' ? value.trim() : undefined;
  const parsed: unknown = text !== undefined && text.startsWith('[') ? JSON.parse(text) : value;
  if (Array.isArray(parsed)) {
    items = parsed.map((item: Record<string, unknown>) => {
      const region = item?.region;
      const profile = item?.profile;
      if ((region === undefined) === (profile === undefined)) bad(`${JSON.stringify(item)} needs one of "region" or "profile"`);
      return region !== undefined
        ? { name: String(region), kind: 'region' as const, rpm: item.rpm ?? fallbackRpm }
        : { name: String(profile), kind: 'profile' as const, rpm: item.rpm ?? fallbackRpm };
    });
  } else if (typeof parsed === 'string') {
    items = list(parsed).map((entry) => {
      const [name, rpm] = entry.split('=');
      return { name: name.trim(), rpm: rpm === undefined ? fallbackRpm : Number(rpm) };
    });
  } else {
    return bad(`expected a JSON list or NAME=RPM,..., got ${JSON.stringify(value)}`);
  }
  const pools: ModelPool[] = [];
  for (const item of items) {
    const rpm = Number(item.rpm);
    if (!Number.isInteger(rpm) || rpm < S.modelQuotaRpm.min || rpm > S.modelQuotaRpm.max) {
      bad(`${item.name}: rpm ${String(item.rpm)} is not an integer between ${S.modelQuotaRpm.min} and ${S.modelQuotaRpm.max}`);
    }
    const geography = profileGeography(item.name);
    const kind = item.kind ?? (geography !== undefined && item.name.includes('.') ? 'profile' : 'region');
    if (kind === 'region' && !REGION.test(item.name)) bad(`'${item.name}' is not a Region name`);
    if (kind === 'profile') {
      if (geography === undefined || !MODEL_ID.test(profileModel(item.name))) {
        bad(`'${item.name}' is not a cross-Region inference profile id`);
      }
      if (!bedrockRegion.startsWith(geography!.callerRegions)) {
        bad(`'${item.name}' is a ${geography!.prefix}. inference profile, which bedrockRegion=${bedrockRegion} cannot call`);
      }
      if (!allowedModelIds.includes(profileModel(item.name))) {
        bad(`'${item.name}' is a profile of ${profileModel(item.name)}, which is not an allowed model (allowedModelIds)`);
      }
    }
    if (kind === 'region') {
      for (const id of allowedModelIds) {
        const g = profileGeography(id);
        if (g !== undefined && !item.name.startsWith(g.callerRegions)) {
          bad(`the allowed model '${id}' is a ${g.prefix}. inference profile, which the pool ${item.name} cannot call`);
        }
      }
    }
    if (pools.some((p) => p.name === item.name)) bad(`${item.name} is listed twice`);
    pools.push({ name: item.name, kind, rpm });
  }
  return pools;
}

/** Context values arrive as strings from `-c` and as JSON values from cdk.json. */
function raw(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null) return undefined;
  const text = (Array.isArray(value) ? value.join(',') : String(value)).trim();
  return text === '' ? undefined : text;
}

function integer(node: Node, key: string, fallback: number, min: number, max: number): number {
  const text = raw(node, key);
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`context ${key}=${text}: expected an integer between ${min} and ${max}`);
  }
  return n;
}

/**
 * `thumbnailQuality`, checked as generate-thumbnails reads THUMBNAIL_QUALITY: items of `FORMAT:QUALITY`
 * for a lossy format (facts.json's list), or a bare number, which is JPEG's; each quality an integer
 * in facts.json's range. Returned as given, trimmed.
 */
function thumbnailQuality(text: string): string {
  const { min, max, lossy } = S.thumbnailQuality;
  const items = list(text);
  const wrong = (why: string) => new Error(`context thumbnailQuality=${text}: ${why}`);
  if (items.length === 0) throw wrong(`expected a quality between ${min} and ${max}, or FORMAT:QUALITY pairs`);
  for (const item of items) {
    const [name, number] = item.includes(':') ? item.split(':', 2).map((part) => part.trim()) : ['jpeg', item];
    if (!lossy.includes(name.toLowerCase())) {
      throw wrong(`'${name}' takes no quality: expected one of ${lossy.join(', ')}`);
    }
    const quality = Number(number);
    if (number === '' || !Number.isInteger(quality) || quality < min || quality > max) {
      throw wrong(`${name} quality '${number}' is not an integer between ${min} and ${max}`);
    }
  }
  return items.join(',');
}

function positiveInt(node: Node, key: string, fallback: number, max: number): number {
  return integer(node, key, fallback, 1, max);
}

function flag(node: Node, key: string, fallback: boolean): boolean {
  const text = raw(node, key);
  if (text === undefined) return fallback;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new Error(`context ${key}=${text}: expected true or false`);
}

function list(text: string): string[] {
  return [...new Set(text.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
}

/**
 * The email addresses are stack parameters (`Email`, `AlarmEmail`), not context: a synthesized
 * template (a CI artifact) then holds no address, and a deploy keeps the last values given.
 */
function refuseMovedSettings(node: Node): void {
  for (const [key, parameter] of [['email', 'Email'], ['alarmEmail', 'AlarmEmail']]) {
    const text = raw(node, key);
    if (text !== undefined) {
      throw new Error(`context ${key}=${text}: the address is a stack parameter now; deploy with --parameters ${parameter}=${text}`);
    }
  }
}

/**
 * Context `reservedConcurrency`: unset, the defaults; `none`, no reservation; a number, that for each
 * function (at least the queue's maximum concurrency, which the queue consumer's must reach).
 */
function reservedConcurrency(node: Node, queueMaxConcurrency: number): ReservedConcurrency | undefined {
  const text = raw(node, 'reservedConcurrency');
  if (text === NO_RESERVED_CONCURRENCY) return undefined;
  if (text === undefined) return { ...RESERVED_CONCURRENCY, queueConsumer: queueMaxConcurrency };
  const n = Number(text);
  if (!Number.isInteger(n) || n < queueMaxConcurrency || n > MAX_RESERVED_CONCURRENCY) {
    throw new Error(`context reservedConcurrency=${text}: expected ${NO_RESERVED_CONCURRENCY} (no reservation) or an integer `
      + `between ${queueMaxConcurrency} (queueMaxConcurrency, which the queue consumer's must reach) and ${MAX_RESERVED_CONCURRENCY}`);
  }
  return { generateImage: n, startExecution: n, httpApi: n, queueConsumer: n };
}

/** Reads and validates the configuration; throws with the offending key on bad input. */
export function loadConfig(node: Node): ImagegenConfig {
  const modelId = raw(node, 'modelId') ?? DEFAULTS.modelId;
  const allowedModelIds = list([modelId, raw(node, 'allowedModelIds') ?? ''].join(','));
  for (const id of allowedModelIds) {
    if (!MODEL_ID.test(id)) throw new Error(`context modelId/allowedModelIds: '${id}' is not a Bedrock model id`);
  }

  const bedrockRegion = raw(node, 'bedrockRegion') ?? DEFAULTS.bedrockRegion;
  if (!REGION.test(bedrockRegion)) throw new Error(`context bedrockRegion=${bedrockRegion}: not a region name`);
  for (const id of allowedModelIds) {
    const geography = profileGeography(id);
    if (geography !== undefined && !bedrockRegion.startsWith(geography.callerRegions)) {
      throw new Error(`context modelId/allowedModelIds: '${id}' is a ${geography.prefix}. inference profile, `
        + `which bedrockRegion=${bedrockRegion} cannot call (only Regions starting with '${geography.callerRegions}')`);
    }
  }

  const sizesText = raw(node, 'thumbnailSizes') ?? DEFAULTS.thumbnailSizes;
  const thumbnailSizes = list(sizesText).map(Number);
  const maxSize = S.thumbnailSizes.max;
  if (thumbnailSizes.length === 0 || thumbnailSizes.some((n) => !Number.isInteger(n) || n < 16 || n > maxSize)) {
    throw new Error(`context thumbnailSizes=${sizesText}: expected a comma list of integers between 16 and ${maxSize}`);
  }

  const formatsKey = raw(node, 'thumbnailFormats') !== undefined ? 'thumbnailFormats' : 'thumbnailFormat';
  const formatsText = raw(node, formatsKey) ?? DEFAULTS.thumbnailFormat;
  const thumbnailFormats = list(formatsText);
  const unknown = thumbnailFormats.find((f) => !THUMBNAIL_FORMATS.includes(f));
  if (unknown !== undefined || thumbnailFormats.length === 0) {
    throw new Error(`context ${formatsKey}=${formatsText}: expected one or more of ${THUMBNAIL_FORMATS.join(', ')}`);
  }

  const logRetentionDays = positiveInt(node, 'logRetentionDays', DEFAULTS.logRetentionDays, 3653);
  if (!LOG_RETENTION_DAYS.some((d) => d === logRetentionDays)) {
    throw new Error(`context logRetentionDays=${logRetentionDays}: expected one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }

  const logLevelText = (raw(node, 'logLevel') ?? DEFAULTS.logLevel).toUpperCase();
  const logLevel = LOG_LEVELS.find((l) => l === logLevelText);
  if (logLevel === undefined) {
    throw new Error(`context logLevel=${logLevelText}: expected one of ${LOG_LEVELS.join(', ')}`);
  }

  refuseMovedSettings(node);
  // Lambda's range for an SQS event source's maximum concurrency.
  const queueMaxConcurrency = integer(node, 'queueMaxConcurrency', DEFAULTS.queueMaxConcurrency, 2, 1000);
  const outputExpirationDays = positiveInt(node, 'outputExpirationDays', DEFAULTS.outputExpirationDays, 3650);
  const budgetServices = list(raw(node, 'budgetServices') ?? DEFAULTS.budgetServices);
  const modelQuotaRpm = integer(node, 'modelQuotaRpm', DEFAULTS.modelQuotaRpm, S.modelQuotaRpm.min, S.modelQuotaRpm.max);
  const fallbackModelIds = list(raw(node, 'fallbackModelIds') ?? '');
  for (const id of fallbackModelIds) {
    if (!allowedModelIds.includes(id)) {
      throw new Error(`context fallbackModelIds: '${id}' is not an allowed model (allowedModelIds), so GenerateImage may not call it`);
    }
  }
  return {
    modelId,
    allowedModelIds,
    bedrockRegion,
    modelQuotaRpm,
    modelPools: modelPools(node, bedrockRegion, allowedModelIds, modelQuotaRpm),
    fallbackModelIds,
    maxSlotWaitMinutes: integer(node, 'maxSlotWaitMinutes', DEFAULTS.maxSlotWaitMinutes,
      S.maxSlotWaitMinutes.min, S.maxSlotWaitMinutes.max),
    thumbnailSizes,
    thumbnailFormats,
    thumbnailQuality: thumbnailQuality(raw(node, 'thumbnailQuality') ?? DEFAULTS.thumbnailQuality),
    outputExpirationDays,
    logRetentionDays,
    // Presigned URLs die with the Lambda role session that signed them (hours): notify-user caps them.
    presignExpirySeconds: integer(node, 'presignExpirySeconds', DEFAULTS.presignExpirySeconds,
      S.presignExpirySeconds.min, S.presignExpirySeconds.max),
    maxPromptFileBytes: integer(node, 'maxPromptFileBytes', DEFAULTS.maxPromptFileBytes,
      S.maxPromptFileBytes.min, S.maxPromptFileBytes.max),
    blocklist: list(raw(node, 'blocklist') ?? '').join(','),
    logLevel,
    rustLog: raw(node, 'rustLog'),
    promptExpirationDays: positiveInt(node, 'promptExpirationDays', outputExpirationDays, 3650),
    logExecutionData: flag(node, 'logExecutionData', DEFAULTS.logExecutionData),
    reservedConcurrency: reservedConcurrency(node, queueMaxConcurrency),
    maxExecutionsPerHour: positiveInt(node, 'maxExecutionsPerHour', DEFAULTS.maxExecutionsPerHour, 1_000_000),
    maxModelInvocationsPerHour: positiveInt(node, 'maxModelInvocationsPerHour',
      DEFAULTS.maxModelInvocationsPerHour, 1_000_000),
    monthlyBudgetUsd: integer(node, 'monthlyBudgetUsd', DEFAULTS.monthlyBudgetUsd, 0, 1_000_000),
    budgetServices,
    // API Gateway's own account-level ceilings (10,000 requests per second, burst 5,000).
    apiRateLimit: positiveInt(node, 'apiRateLimit', DEFAULTS.apiRateLimit, 10_000),
    apiBurstLimit: positiveInt(node, 'apiBurstLimit', DEFAULTS.apiBurstLimit, 5_000),
    apiStatusRateLimit: positiveInt(node, 'apiStatusRateLimit', DEFAULTS.apiStatusRateLimit, 10_000),
    apiStatusBurstLimit: positiveInt(node, 'apiStatusBurstLimit', DEFAULTS.apiStatusBurstLimit, 5_000),
    apiGatewayCloudWatchRole: flag(node, 'apiGatewayCloudWatchRole', DEFAULTS.apiGatewayCloudWatchRole),
    // SQS keeps a message 14 days at most; an age alarm past that could never fire.
    queueMaxAgeSeconds: integer(node, 'queueMaxAgeSeconds', DEFAULTS.queueMaxAgeSeconds, 60, 14 * 24 * 3600),
    queueMaxReceiveCount: integer(node, 'queueMaxReceiveCount', DEFAULTS.queueMaxReceiveCount,
      facts.queue.maxReceiveCount.min, facts.queue.maxReceiveCount.max),
    queueMaxConcurrency,
    permissionsBoundary: flag(node, 'permissionsBoundary', DEFAULTS.permissionsBoundary),
  };
}
