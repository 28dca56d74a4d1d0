import { Match, Template } from 'aws-cdk-lib/assertions';
import { EMAIL_PATTERN } from '../lib/recipients';
import { synthesize } from './helpers';

const topicRef = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`^${prefix}Topic`) });

describe('topics, keys and the failed-trigger queue', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('two topics, each encrypted with its own rotating key', () => {
    template.resourceCountIs('AWS::SNS::Topic', 2);
    // And the keys of the API's access logs and of the prompt queue (doors.test.ts).
    template.resourceCountIs('AWS::KMS::Key', 4);
    for (const key of Object.values(template.findResources('AWS::KMS::Key'))) {
      expect(key.Properties.EnableKeyRotation).toBe(true);
      expect(key.Properties.PendingWindowInDays).toBe(7);
      expect(key.DeletionPolicy).toBe('Delete');
    }
    for (const prefix of ['Results', 'Ops']) {
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}Key`), 'Arn'] },
      });
    }
  });

  test('both topic policies deny publishing without TLS', () => {
    for (const prefix of ['Results', 'Ops']) {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topicRef(prefix)],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          })]),
        },
      });
    }
  });

  test('the addresses are stack parameters (the template holds none), checked by CloudFormation', () => {
    const parameters = template.toJSON().Parameters as Record<string, Record<string, unknown>>;
    for (const name of ['Email', 'AlarmEmail']) {
      expect(parameters[name]).toMatchObject({ Type: 'String', Default: '', AllowedPattern: EMAIL_PATTERN });
    }
    const pattern = new RegExp(EMAIL_PATTERN);
    for (const ok of ['', 'me@example.com', 'a.b+c@sub.example.org']) expect(pattern.test(ok)).toBe(true);
    for (const bad of ['me', 'me@example', 'a b@example.com', ' me@example.com']) expect(pattern.test(bad)).toBe(false);
  });

  test('each subscription exists only when its address is given; AlarmEmail falls back to Email', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResource('AWS::SNS::Subscription', {
      Properties: { Protocol: 'email', Endpoint: { Ref: 'Email' }, TopicArn: topicRef('Results') },
      Condition: 'HasEmail',
    });
    template.hasResource('AWS::SNS::Subscription', {
      Properties: {
        Protocol: 'email',
        Endpoint: { 'Fn::If': ['HasOwnAlarmEmail', { Ref: 'AlarmEmail' }, { Ref: 'Email' }] },
        TopicArn: topicRef('Ops'),
      },
      Condition: 'HasAlarmEmail',
    });
    const given = (name: string) => ({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: name }, ''] }] });
    expect(template.toJSON().Conditions).toMatchObject({
      HasEmail: given('Email'),
      HasOwnAlarmEmail: given('AlarmEmail'),
      HasAlarmEmail: { 'Fn::Or': [given('Email'), given('AlarmEmail')] },
    });
  });

  test('CloudWatch alarms may use the ops key and topic, and only theirs', () => {
    const ownAlarms = {
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:*' },
    };
    // The same two conditions on the key statement as on the topic statement.
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          Condition: ownAlarms,
        })]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef('Ops')],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Condition: ownAlarms,
        })]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [topicRef('Ops')],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Resource: topicRef('Ops'),
        })]),
      },
    });
    const resultsKey = Object.entries(template.findResources('AWS::KMS::Key'))
      .find(([id]) => id.startsWith('ResultsKey'))?.[1];
    expect(JSON.stringify(resultsKey)).not.toContain('cloudwatch.amazonaws.com');
  });

  test('failed S3 triggers land in an encrypted, TLS-only queue', () => {
    // With the prompt queue and its dead-letter queue (doors.test.ts).
    template.resourceCountIs('AWS::SQS::Queue', 3);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: Match.stringLikeRegexp('^StartExecutionFunction') },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailedTriggers'), 'Arn'] } },
      },
    });
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
  });

  test('alarms on failed executions, start-execution and backstop errors and stuck triggers notify the ops topic', () => {
    // These four, the two cost alarms (cost.test.ts) and the two queue alarms (doors.test.ts). No
    // machine-wide TimeoutSeconds: nothing to alarm on for TIMED_OUT (a long queue waits for its
    // model slot; state-machine.test.ts).
    template.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    const expectAlarm = (namespace: string, metricName: string, dimension: string, target: string) => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: namespace,
        MetricName: metricName,
        Dimensions: [Match.objectLike({ Name: dimension, Value: Match.objectLike({}) })],
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topicRef('Ops')],
      });
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { MetricName: metricName },
      })).filter((a) => JSON.stringify(a.Properties.Dimensions).includes(`"${target}`));
      expect(alarms).toHaveLength(1);
    };
    expectAlarm('AWS/States', 'ExecutionsFailed', 'StateMachineArn', 'Pipeline');
    expectAlarm('AWS/Lambda', 'Errors', 'FunctionName', 'StartExecutionFunction');
    const backstopAlarm = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
      .filter((a) => JSON.stringify(a.Properties.Dimensions).includes('"NotifyBackstopFunction'));
    expect(backstopAlarm).toHaveLength(1);
    expect(backstopAlarm[0].Properties).toMatchObject({ MetricName: 'Errors', Threshold: 1 });
    expect(backstopAlarm[0].Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^OpsTopic/) }]);
    expectAlarm('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'FailedTriggers');
  });
});
