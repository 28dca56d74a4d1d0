import { Match, Template } from 'aws-cdk-lib/assertions';
import { FACTS } from '../lib/config';
import { ACCESS_LOG_FIELDS, STAGE } from '../lib/constructs/image-api';
import { VISIBILITY_PER_FUNCTION_TIMEOUT } from '../lib/constructs/prompt-queue';
import { synthesize } from './helpers';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DependsOn?: string[] }>;

/** The one resource of `type` whose logical id starts with `prefix`. */
function one(template: Template, type: string, prefix: string) {
  const found = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(prefix));
  expect(found.map(([id]) => id)).toHaveLength(1);
  return found[0];
}

describe('the HTTP API', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('every route of the Rust side is a method with IAM authorization, proxying to http-api; nothing else', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
    expect(methods).toHaveLength(FACTS.api.routes.length);
    for (const method of methods) {
      expect(method.Properties).toMatchObject({
        AuthorizationType: 'AWS_IAM',
        Integration: {
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          Uri: { 'Fn::Join': ['', expect.arrayContaining([{ 'Fn::GetAtt': [expect.stringMatching(/^HttpApiFunction/), 'Arn'] }])] },
        },
      });
    }
    const resources = template.toJSON().Resources as Resources;
    const pathOf = (ref: any): string => {
      if (ref['Fn::GetAtt']) return '';
      const resource = resources[ref.Ref].Properties;
      return `${pathOf(resource.ParentId)}/${resource.PathPart}`;
    };
    const routes = methods.map((m) => `${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId)}`).sort();
    expect(routes).toEqual(FACTS.api.routes.map((r) => `${r.method} ${r.resource}`).sort());
  });

  test('unauthenticated requests cannot reach it: no method without authorization, a regional endpoint', () => {
    template.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'NONE' }, 0);
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    // API Gateway may invoke the function for these routes of this API's stages only.
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'))
      .filter((p) => p.Properties.Principal === 'apigateway.amazonaws.com');
    expect(permissions.length).toBeGreaterThan(0);
    for (const permission of permissions) {
      expect(JSON.stringify(permission.Properties.FunctionName)).toContain('HttpApiFunction');
      expect(JSON.stringify(permission.Properties.SourceArn)).toMatch(/\/(\*\/|test-invoke-stage\/)?(POST|GET)\/(generate-image|images\/\*)"\]\]\}$/);
    }
  });

  test('throttling per route: POST (model calls) and GET (polling) apart, the stage their sum', () => {
    const stage = (t: Template) => one(t, 'AWS::ApiGateway::Stage', 'ApiDeploymentStage')[1].Properties;
    const settings = (t: Template) => Object.fromEntries((stage(t).MethodSettings as Array<Record<string, unknown>>)
      .map((m) => [`${String(m.ResourcePath)} ${String(m.HttpMethod)}`, [m.ThrottlingRateLimit, m.ThrottlingBurstLimit]]));
    expect(stage(template)).toMatchObject({ StageName: STAGE, TracingEnabled: true });
    expect(settings(template)).toEqual({
      '/* *': [7, 15],
      '/~1generate-image POST': [2, 5],
      '/~1images~1{requestId} GET': [5, 10],
    });
    const custom = synthesize({ apiRateLimit: '20', apiBurstLimit: '40', apiStatusRateLimit: '3', apiStatusBurstLimit: '4' }).template;
    expect(settings(custom)).toEqual({
      '/* *': [23, 44],
      '/~1generate-image POST': [20, 40],
      '/~1images~1{requestId} GET': [3, 4],
    });
  });

  test('access logs: every request as JSON into a log group encrypted with its own rotating key', () => {
    const [logGroupId, logGroup] = one(template, 'AWS::Logs::LogGroup', 'ApiAccessLogs');
    expect(logGroup.Properties).toMatchObject({
      LogGroupName: '/aws/apigateway/Imagegen-api-access',
      RetentionInDays: 30,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^ApiLogKey/), 'Arn'] },
    });
    const stage = one(template, 'AWS::ApiGateway::Stage', 'ApiDeploymentStage')[1].Properties;
    expect(stage.AccessLogSetting.DestinationArn).toEqual({
      'Fn::Join': ['', ['arn:aws:logs:us-east-1:123456789012:log-group:', { Ref: logGroupId }]],
    });
    const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', userArn: '$context.identity.userArn', status: '$context.status' });
    expect(Object.keys(format)).toEqual(Object.keys(ACCESS_LOG_FIELDS));
    // The key: rotating, and usable by CloudWatch Logs for this one log group only.
    const [, key] = one(template, 'AWS::KMS::Key', 'ApiLogKey');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const logs = key.Properties.KeyPolicy.Statement.find((s: any) => s.Sid === 'AllowCloudWatchLogsForTheAccessLogs');
    expect(logs.Principal).toEqual({ Service: 'logs.us-east-1.amazonaws.com' });
    expect(JSON.stringify(logs.Condition.ArnEquals)).toContain(':log-group:/aws/apigateway/Imagegen-api-access');
  });

  test('the account\'s API Gateway log role is set (retained), unless the account has one', () => {
    template.hasResource('AWS::ApiGateway::Account', { DeletionPolicy: 'Retain' });
    const without = synthesize({ apiGatewayCloudWatchRole: 'false' }).template;
    without.resourceCountIs('AWS::ApiGateway::Account', 0);
    expect(Object.keys(without.findResources('AWS::IAM::Role')).filter((id) => id.startsWith('ApiCloudWatchRole'))).toEqual([]);
  });
});

describe('the prompt queue', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('the queue and its dead-letter queue are encrypted with their own rotating key and refuse plain HTTP', () => {
    const [keyId, key] = one(template, 'AWS::KMS::Key', 'PromptsKey');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    for (const prefix of ['PromptsQueue', 'PromptsDeadLetters']) {
      const [queueId, queue] = one(template, 'AWS::SQS::Queue', prefix);
      expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          })]),
        },
      });
    }
  });

  test('messages that fail maxReceiveCount times go to the dead-letter queue, kept 14 days', () => {
    const [deadId, dead] = one(template, 'AWS::SQS::Queue', 'PromptsDeadLetters');
    expect(dead.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const [, queue] = one(template, 'AWS::SQS::Queue', 'PromptsQueue');
    expect(queue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [deadId, 'Arn'] },
      maxReceiveCount: FACTS.queue.maxReceiveCount.default,
    });
    const custom = synthesize({ queueMaxReceiveCount: '7' }).template;
    expect(one(custom, 'AWS::SQS::Queue', 'PromptsQueue')[1].Properties.RedrivePolicy.maxReceiveCount).toBe(7);
  });

  test('the consumer reads batches of the consumer\'s size and reports failed messages one by one', () => {
    const [queueId, queue] = one(template, 'AWS::SQS::Queue', 'PromptsQueue');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: Match.stringLikeRegexp('^QueueConsumerFunction') },
      BatchSize: FACTS.queue.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    synthesize({ queueMaxConcurrency: '7' }).template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 7 },
    });
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    const [, consumer] = one(template, 'AWS::Lambda::Function', 'QueueConsumerFunction');
    expect(queue.Properties.VisibilityTimeout).toBe(consumer.Properties.Timeout * VISIBILITY_PER_FUNCTION_TIMEOUT);
  });

  test('alarms to the ops topic: the oldest message over the setting, any message in the dead-letter queue', () => {
    const alarm = (t: Template, metric: string) => Object.values(t.findResources('AWS::CloudWatch::Alarm', {
      Properties: { Namespace: 'AWS/SQS', MetricName: metric },
    }));
    const [age] = alarm(template, 'ApproximateAgeOfOldestMessage');
    expect(age.Properties).toMatchObject({
      Threshold: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Statistic: 'Maximum',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^PromptsQueue/), 'QueueName'] } }],
      AlarmActions: [{ Ref: expect.stringMatching(/^OpsTopic/) }],
    });
    const dead = alarm(template, 'ApproximateNumberOfMessagesVisible')
      .filter((a) => JSON.stringify(a.Properties.Dimensions).includes('PromptsDeadLetters'));
    expect(dead).toHaveLength(1);
    expect(dead[0].Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: expect.stringMatching(/^OpsTopic/) }],
    });
    expect(alarm(synthesize({ queueMaxAgeSeconds: '900' }).template, 'ApproximateAgeOfOldestMessage')[0].Properties.Threshold)
      .toBe(900);
  });
});
