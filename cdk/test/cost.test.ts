import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ImagegenStack } from '../lib/imagegen-stack';
import { cdkJsonContext, fixtureFunctionsDir, synthesize } from './helpers';

const opsTopic = { Ref: Match.stringLikeRegexp('^OpsTopic') };

/** The stack deployed in `region` (the Bedrock alarms depend on it). */
function inRegion(region: string, context: Record<string, unknown> = {}): Template {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new ImagegenStack(app, 'Imagegen', {
    env: { account: '123456789012', region },
    functionsDir: fixtureFunctionsDir(),
  });
  return Template.fromStack(stack);
}

describe('what caps and watches the bill', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('an alarm when more executions start within an hour than maxExecutionsPerHour', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsStarted',
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: Match.stringLikeRegexp('^Pipeline') } }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 1,
      Threshold: 100,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [opsTopic],
    });
    synthesize({ maxExecutionsPerHour: '7' }).template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ExecutionsStarted', Threshold: 7,
    });
  });

  test('in the Bedrock region: an alarm on Bedrock Invocations of each allowed model per hour', () => {
    const t = inRegion('us-west-2', { allowedModelIds: 'amazon.nova-canvas-v1:0', maxModelInvocationsPerHour: '50' });
    for (const modelId of ['stability.stable-image-core-v1:1', 'amazon.nova-canvas-v1:0']) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Bedrock',
        MetricName: 'Invocations',
        Dimensions: [{ Name: 'ModelId', Value: modelId }],
        Statistic: 'Sum',
        Period: 3600,
        Threshold: 50,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [opsTopic],
      });
    }
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/Bedrock' } })))
      .toHaveLength(2);
  });

  test('elsewhere (alarms cannot see another region\'s metrics): an alarm on generate-image\'s model calls', () => {
    expect(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/Bedrock' } })).toEqual({});
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^GenerateImageFunction') } }],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 200,
      AlarmActions: [opsTopic],
    });
  });

  test('a monthly AWS Budgets alert on the Bedrock spend, emailed to the alarm address when there is one', () => {
    template.resourceCountIs('AWS::Budgets::Budget', 1);
    const subscribers = [{
      SubscriptionType: 'EMAIL',
      Address: { 'Fn::If': ['HasOwnAlarmEmail', { Ref: 'AlarmEmail' }, { Ref: 'Email' }] },
    }];
    template.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 100, Unit: 'USD' },
        CostFilters: { Service: ['Amazon Bedrock'] },
      },
      NotificationsWithSubscribers: {
        'Fn::If': ['HasAlarmEmail', [
          {
            Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: 80, ThresholdType: 'PERCENTAGE' },
            Subscribers: subscribers,
          },
          {
            Notification: { NotificationType: 'FORECASTED', ComparisonOperator: 'GREATER_THAN', Threshold: 100, ThresholdType: 'PERCENTAGE' },
            Subscribers: subscribers,
          },
        ], { Ref: 'AWS::NoValue' }],
      },
    });
  });

  test('budget settings: limit, services, none at 0', () => {
    const custom = synthesize({
      monthlyBudgetUsd: '25',
      budgetServices: 'Amazon Bedrock,Stable Image Core (Amazon Bedrock Edition)',
    }).template;
    custom.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({
        BudgetLimit: { Amount: 25, Unit: 'USD' },
        CostFilters: { Service: ['Amazon Bedrock', 'Stable Image Core (Amazon Bedrock Edition)'] },
      }),
    });
    synthesize({ monthlyBudgetUsd: '0' }).template.resourceCountIs('AWS::Budgets::Budget', 0);
  });
});
