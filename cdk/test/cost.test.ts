import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FACTS } from '../lib/config';
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

describe('what stops the spend: the budget action at 100% of the Bedrock budget', () => {
  let template: Template;
  let resources: Record<string, any>;
  beforeAll(() => {
    template = synthesize().template;
    resources = template.toJSON().Resources;
  });
  const logicalId = (type: string, prefix: string): string => {
    const ids = Object.keys(resources).filter((id) => resources[id].Type === type && id.startsWith(prefix));
    expect([prefix, ids.length]).toEqual([prefix, 1]);
    return ids[0];
  };

  test('a managed Deny bedrock:InvokeModel policy under facts.json\'s path, attached to nothing by the stack', () => {
    const id = logicalId('AWS::IAM::ManagedPolicy', 'CostGuardsBudgetSpentPolicy');
    const policy = resources[id].Properties;
    expect(policy.Path).toBe(FACTS.budgetSpentPolicyPath);
    expect(policy.PolicyDocument.Statement).toEqual([
      { Sid: 'MonthlyBudgetSpent', Effect: 'Deny', Action: 'bedrock:InvokeModel', Resource: '*' },
    ]);
    // The action attaches it; the stack must not (that would stop every model call from the start).
    for (const key of ['Roles', 'Users', 'Groups']) expect(policy[key]).toBeUndefined();
    const attached = Object.values(resources)
      .flatMap((r: any) => r.Properties?.ManagedPolicyArns ?? [])
      .filter((arn: unknown) => JSON.stringify(arn).includes(id));
    expect(attached).toEqual([]);
  });

  test('an AUTOMATIC APPLY_IAM_POLICY action on the budget at 100% of actual spend, on GenerateImage\'s role', () => {
    const policy = logicalId('AWS::IAM::ManagedPolicy', 'CostGuardsBudgetSpentPolicy');
    const budget = logicalId('AWS::Budgets::Budget', 'CostGuardsBudget');
    const role = logicalId('AWS::IAM::Role', 'CostGuardsBudgetActionRole');
    template.resourceCountIs('AWS::Budgets::BudgetsAction', 1);
    template.hasResourceProperties('AWS::Budgets::BudgetsAction', {
      BudgetName: { Ref: budget },
      NotificationType: 'ACTUAL',
      ActionThreshold: { Type: 'PERCENTAGE', Value: 100 },
      ActionType: 'APPLY_IAM_POLICY',
      ApprovalModel: 'AUTOMATIC',
      Definition: {
        IamActionDefinition: {
          PolicyArn: { Ref: policy },
          Roles: [{ Ref: Match.stringLikeRegexp('^GenerateImageRole') }],
        },
      },
      ExecutionRoleArn: { 'Fn::GetAtt': [role, 'Arn'] },
      Subscribers: [{ Type: 'SNS', Address: opsTopic }],
    });
  });

  test('the execution role: only AWS Budgets of this account, attaching only that policy to only that role', () => {
    const role = logicalId('AWS::IAM::Role', 'CostGuardsBudgetActionRole');
    expect(resources[role].Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Principal: { Service: 'budgets.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: { 'aws:SourceAccount': '123456789012' },
        ArnLike: { 'aws:SourceArn': 'arn:aws:budgets::123456789012:budget/*' },
      },
    }]);
    expect(resources[role].Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(resources).filter((r: any) => r.Type === 'AWS::IAM::Policy'
      && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: role }]));
    expect(policies).toHaveLength(1);
    expect((policies[0] as any).Properties.PolicyDocument.Statement).toEqual([{
      Sid: 'AttachOnlyTheBudgetSpentPolicyToTheModelCaller',
      Effect: 'Allow',
      Action: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^GenerateImageRole/), 'Arn'] },
      Condition: { ArnEquals: { 'iam:PolicyARN': { Ref: logicalId('AWS::IAM::ManagedPolicy', 'CostGuardsBudgetSpentPolicy') } } },
    }]);
  });

  test('AWS Budgets may publish the action\'s notice to the alarm topic and use its key, from this account only', () => {
    const fromBudgets = {
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:budgets::123456789012:*' },
    };
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [opsTopic],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Sid: 'AllowBudgetsToPublish', Effect: 'Allow', Principal: { Service: 'budgets.amazonaws.com' },
        Action: 'sns:Publish', Condition: fromBudgets,
      })]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
        Sid: 'AllowBudgetsToUseTheKey', Principal: { Service: 'budgets.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: fromBudgets,
      })]) },
    });
    // Only the alarm topic: the results topic stays locked to the pipeline.
    template.resourcePropertiesCountIs('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowBudgetsToPublish' })]) },
    }, 1);
  });

  test('with the permissions boundary the execution role carries it too; no budget, no action', () => {
    synthesize({ permissionsBoundary: 'true' }).template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'budgets.amazonaws.com' } })] },
      PermissionsBoundary: Match.anyValue(),
    });
    const none = synthesize({ monthlyBudgetUsd: '0' }).template;
    none.resourceCountIs('AWS::Budgets::BudgetsAction', 0);
    none.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });
});
