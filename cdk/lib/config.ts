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
  /** Thumbnails' longest sides in pixels. Context `thumbnailSizes` ("128,256,512"). */
  readonly thumbnailSizes: number[];
  /** Context `thumbnailFormat` (jpeg). */
  readonly thumbnailFormat: ThumbnailFormat;
  /** Context `thumbnailQuality` (80). */
  readonly thumbnailQuality: number;
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
   * Reserved concurrency of the two functions that start work (start-execution, generate-image): a
   * hard cap on parallel executions started from uploads and on parallel model calls. Unset by default,
   * because reserving any fails the deploy in accounts with the initial 10-execution limit (DEPLOY.md).
   * Context `reservedConcurrency`.
   */
  readonly reservedConcurrency?: number;
  /** Alarm when more executions than this start within an hour. Context `maxExecutionsPerHour` (100). */
  readonly maxExecutionsPerHour: number;
  /** Alarm when a model is invoked more often than this within an hour. Context `maxModelInvocationsPerHour` (200). */
  readonly maxModelInvocationsPerHour: number;
  /** Monthly AWS Budgets limit (USD) on the budgeted services; 0 = no budget. Context `monthlyBudgetUsd` (100). */
  readonly monthlyBudgetUsd: number;
  /** Cost Explorer service names the budget counts. Context `budgetServices` ("Amazon Bedrock"). */
  readonly budgetServices: string[];
  /**
   * The HTTP API stage's steady request rate, per second, for all its methods together (each POST
   * starts a model call). Context `apiRateLimit` (2).
   */
  readonly apiRateLimit: number;
  /** The HTTP API stage's burst: requests taken at once above the rate. Context `apiBurstLimit` (5). */
  readonly apiBurstLimit: number;
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
  thumbnailSizes: S.thumbnailSizes.default.join(','),
  thumbnailFormat: S.thumbnailFormat.default,
  thumbnailQuality: S.thumbnailQuality.default,
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
  apiGatewayCloudWatchRole: true,
  queueMaxAgeSeconds: 300,
  queueMaxReceiveCount: facts.queue.maxReceiveCount.default,
} as const;

/** Lambda's largest per-function concurrency quota we accept (a cap above it caps nothing). */
export const MAX_RESERVED_CONCURRENCY = 1000;

/** The values CloudWatch Logs accepts for RetentionInDays. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const THUMBNAIL_FORMATS: readonly ThumbnailFormat[] = facts.settings.thumbnailFormat.choices;
const MODEL_ID = /^[a-z0-9-]+\.[A-Za-z0-9.:_-]+$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

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

/** Reads and validates the configuration; throws with the offending key on bad input. */
export function loadConfig(node: Node): ImagegenConfig {
  const modelId = raw(node, 'modelId') ?? DEFAULTS.modelId;
  const allowedModelIds = list([modelId, raw(node, 'allowedModelIds') ?? ''].join(','));
  for (const id of allowedModelIds) {
    if (!MODEL_ID.test(id)) throw new Error(`context modelId/allowedModelIds: '${id}' is not a Bedrock model id`);
  }

  const bedrockRegion = raw(node, 'bedrockRegion') ?? DEFAULTS.bedrockRegion;
  if (!REGION.test(bedrockRegion)) throw new Error(`context bedrockRegion=${bedrockRegion}: not a region name`);

  const sizesText = raw(node, 'thumbnailSizes') ?? DEFAULTS.thumbnailSizes;
  const thumbnailSizes = list(sizesText).map(Number);
  const maxSize = S.thumbnailSizes.max;
  if (thumbnailSizes.length === 0 || thumbnailSizes.some((n) => !Number.isInteger(n) || n < 16 || n > maxSize)) {
    throw new Error(`context thumbnailSizes=${sizesText}: expected a comma list of integers between 16 and ${maxSize}`);
  }

  const format = raw(node, 'thumbnailFormat') ?? DEFAULTS.thumbnailFormat;
  const thumbnailFormat = THUMBNAIL_FORMATS.find((f) => f === format);
  if (thumbnailFormat === undefined) {
    throw new Error(`context thumbnailFormat=${format}: expected one of ${THUMBNAIL_FORMATS.join(', ')}`);
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
  const outputExpirationDays = positiveInt(node, 'outputExpirationDays', DEFAULTS.outputExpirationDays, 3650);
  const reservedText = raw(node, 'reservedConcurrency');
  const budgetServices = list(raw(node, 'budgetServices') ?? DEFAULTS.budgetServices);
  return {
    modelId,
    allowedModelIds,
    bedrockRegion,
    modelQuotaRpm: integer(node, 'modelQuotaRpm', DEFAULTS.modelQuotaRpm, S.modelQuotaRpm.min, S.modelQuotaRpm.max),
    thumbnailSizes,
    thumbnailFormat,
    thumbnailQuality: integer(node, 'thumbnailQuality', DEFAULTS.thumbnailQuality,
      S.thumbnailQuality.min, S.thumbnailQuality.max),
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
    reservedConcurrency: reservedText === undefined
      ? undefined
      : integer(node, 'reservedConcurrency', 0, 1, MAX_RESERVED_CONCURRENCY),
    maxExecutionsPerHour: positiveInt(node, 'maxExecutionsPerHour', DEFAULTS.maxExecutionsPerHour, 1_000_000),
    maxModelInvocationsPerHour: positiveInt(node, 'maxModelInvocationsPerHour',
      DEFAULTS.maxModelInvocationsPerHour, 1_000_000),
    monthlyBudgetUsd: integer(node, 'monthlyBudgetUsd', DEFAULTS.monthlyBudgetUsd, 0, 1_000_000),
    budgetServices,
    // API Gateway's own account-level ceilings (10,000 requests per second, burst 5,000).
    apiRateLimit: positiveInt(node, 'apiRateLimit', DEFAULTS.apiRateLimit, 10_000),
    apiBurstLimit: positiveInt(node, 'apiBurstLimit', DEFAULTS.apiBurstLimit, 5_000),
    apiGatewayCloudWatchRole: flag(node, 'apiGatewayCloudWatchRole', DEFAULTS.apiGatewayCloudWatchRole),
    // SQS keeps a message 14 days at most; an age alarm past that could never fire.
    queueMaxAgeSeconds: integer(node, 'queueMaxAgeSeconds', DEFAULTS.queueMaxAgeSeconds, 60, 14 * 24 * 3600),
    queueMaxReceiveCount: integer(node, 'queueMaxReceiveCount', DEFAULTS.queueMaxReceiveCount,
      facts.queue.maxReceiveCount.min, facts.queue.maxReceiveCount.max),
  };
}
