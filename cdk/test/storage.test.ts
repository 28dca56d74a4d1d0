import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthesize } from './helpers';

describe('image bucket and access-log bucket', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize({ outputExpirationDays: 7 }).template;
  });

  const blockAll = {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  };

  test('two buckets, both private and encrypted', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    const buckets = template.findResources('AWS::S3::Bucket');
    for (const bucket of Object.values(buckets)) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual(blockAll);
      expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0]
        .ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
      expect(bucket.DeletionPolicy).toBe('Retain');
    }
  });

  test('the image bucket logs to the access-log bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: {
        DestinationBucketName: { Ref: Match.stringLikeRegexp('^StoreAccessLogs') },
        LogFilePrefix: 'image-bucket/',
      },
    });
  });

  test('outputs expire after outputExpirationDays, prompts/ after promptExpirationDays (default: the same)', () => {
    const rules = template.findResources('AWS::S3::Bucket', {
      Properties: { LoggingConfiguration: Match.anyValue() },
    });
    const [bucket] = Object.values(rules);
    const lifecycle = bucket.Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    const expiring = lifecycle.filter((r) => r.ExpirationInDays !== undefined);
    expect(expiring.map((r) => [r.Prefix, r.ExpirationInDays, r.Status]).sort()).toEqual([
      ['images/', 7, 'Enabled'],
      ['notifications/', 7, 'Enabled'],
      ['prompts/', 7, 'Enabled'],
      ['results/', 7, 'Enabled'],
      ['thumbnails/', 7, 'Enabled'],
    ]);
    const own = synthesize({ outputExpirationDays: 7, promptExpirationDays: 2 }).template;
    const [ownBucket] = Object.values(own.findResources('AWS::S3::Bucket', {
      Properties: { LoggingConfiguration: Match.anyValue() },
    }));
    expect(ownBucket.Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Prefix: 'prompts/', ExpirationInDays: 2, Status: 'Enabled' }));
    expect(lifecycle).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }));
  });

  test('both bucket policies deny non-TLS requests', () => {
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        Principal: { AWS: '*' },
      }));
    }
  });

  test('prompts/*.txt and prompts/*.json uploads invoke start-execution', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: Match.stringLikeRegexp('^StoreBucket') },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: Match.arrayWith(['.txt', '.json'].map((suffix) => ({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'suffix', Value: suffix }, { Name: 'prefix', Value: 'prompts/' }] } },
          LambdaFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StartExecutionFunction'), 'Arn'] },
        }))),
      },
    });
    const config = Object.values(template.findResources('Custom::S3BucketNotifications'))[0];
    expect(config.Properties.NotificationConfiguration.LambdaFunctionConfigurations).toHaveLength(2);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StartExecutionFunction'), 'Arn'] },
      SourceAccount: '123456789012',
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreBucket'), 'Arn'] },
    });
  });
});
