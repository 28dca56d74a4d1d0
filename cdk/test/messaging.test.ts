import { Match, Template } from 'aws-cdk-lib/assertions';
import { synthesize } from './helpers';

const topicRef = (prefix: string) => ({ Ref: Match.stringLikeRegexp(`^${prefix}Topic`) });

describe('topics, keys and the failed-trigger queue', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize({ email: 'user@example.com', alarmEmail: 'ops@example.com' }).template;
  });

  test('two topics, each encrypted with its own rotating key', () => {
    template.resourceCountIs('AWS::SNS::Topic', 2);
    template.resourceCountIs('AWS::KMS::Key', 2);
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

  test('email subscriptions come from context', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email', Endpoint: 'user@example.com', TopicArn: topicRef('Results'),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: topicRef('Ops'),
    });
  });

  test('no email context, no subscription; alarmEmail defaults to email', () => {
    synthesize().template.resourceCountIs('AWS::SNS::Subscription', 0);
    const onlyEmail = synthesize({ email: 'me@example.com' }).template;
    onlyEmail.resourceCountIs('AWS::SNS::Subscription', 2);
    onlyEmail.allResourcesProperties('AWS::SNS::Subscription', { Endpoint: 'me@example.com' });
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
    template.resourceCountIs('AWS::SQS::Queue', 1);
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

  test('alarms on failed/timed-out executions, start-execution errors and stuck triggers notify the ops topic', () => {
    // These four, and the two cost alarms (cost.test.ts).
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
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
      const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { MetricName: metricName },
      }))[0];
      expect(JSON.stringify(alarm.Properties.Dimensions)).toMatch(new RegExp(`"${target}`));
    };
    expectAlarm('AWS/States', 'ExecutionsFailed', 'StateMachineArn', 'Pipeline');
    expectAlarm('AWS/States', 'ExecutionsTimedOut', 'StateMachineArn', 'Pipeline');
    expectAlarm('AWS/Lambda', 'Errors', 'FunctionName', 'StartExecutionFunction');
    expectAlarm('AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', 'FailedTriggers');
  });
});
