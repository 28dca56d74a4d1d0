import { App } from 'aws-cdk-lib';
import { DEFAULTS, loadConfig } from '../lib/config';
import { cdkJsonContext } from './helpers';

const load = (context: Record<string, unknown>) => loadConfig(new App({ context }).node);

describe('context configuration', () => {
  test('defaults without any context', () => {
    expect(load({})).toEqual({
      modelId: 'stability.stable-image-core-v1:1',
      allowedModelIds: ['stability.stable-image-core-v1:1'],
      bedrockRegion: 'us-west-2',
      thumbnailSizes: [128, 256, 512],
      thumbnailFormat: 'jpeg',
      thumbnailQuality: 80,
      email: undefined,
      alarmEmail: undefined,
      outputExpirationDays: 30,
      logRetentionDays: 30,
      presignExpirySeconds: 3600,
      maxPromptFileBytes: 16384,
      blocklist: '',
      rustLog: 'info',
    });
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
      email: 'a@example.com', alarmEmail: 'ops@example.com', presignExpirySeconds: '600',
    });
    expect(config).toMatchObject({
      outputExpirationDays: 7, logRetentionDays: 90, thumbnailSizes: [64, 300],
      email: 'a@example.com', alarmEmail: 'ops@example.com', presignExpirySeconds: 600,
    });
  });

  test('an empty email means no subscription', () => {
    expect(load({ email: '' }).email).toBeUndefined();
  });

  test.each([
    [{ outputExpirationDays: '0' }, /outputExpirationDays/],
    [{ outputExpirationDays: 'soon' }, /outputExpirationDays/],
    [{ logRetentionDays: '10' }, /logRetentionDays=10/],
    [{ thumbnailSizes: '128,big' }, /thumbnailSizes/],
    [{ thumbnailFormat: 'gif' }, /thumbnailFormat/],
    [{ email: 'not-an-address' }, /email/],
    [{ bedrockRegion: 'oregon' }, /bedrockRegion/],
    [{ modelId: 'no model' }, /modelId/],
    [{ presignExpirySeconds: '604800' }, /presignExpirySeconds/],
  ])('rejects %j', (context, message) => {
    expect(() => load(context)).toThrow(message);
  });
});
