import { Aws, CfnCondition, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { FACTS } from '../config';

export interface CostGuardsProps {
  /** The pipeline whose started executions are counted. */
  readonly stateMachine: sfn.IStateMachine;
  /** The function that calls the model (generate-image). */
  readonly modelCaller: lambda.IFunction;
  /** Its role, which the budget action denies bedrock:InvokeModel at 100% of the budget. */
  readonly modelCallerRole: iam.IRole;
  /** The models it may call, and where. */
  readonly modelIds: readonly string[];
  readonly bedrockRegion: string;
  /** Where the alarms go, and the budget action's notice (the topic must let AWS Budgets publish). */
  readonly alarmTopic: sns.ITopic;
  readonly maxExecutionsPerHour: number;
  readonly maxModelInvocationsPerHour: number;
  /** Monthly limit in USD; 0 creates no budget. */
  readonly monthlyBudgetUsd: number;
  /** Cost Explorer service names the budget counts. */
  readonly budgetServices: readonly string[];
  /** Who the budget emails, where `budgetEmailCondition` holds; otherwise it only shows in the Billing console. */
  readonly budgetEmail: string;
  readonly budgetEmailCondition: CfnCondition;
}

/** The budget's notifications, in percent of the monthly limit. */
export const BUDGET_ACTUAL_PERCENT = 80;
export const BUDGET_FORECAST_PERCENT = 100;
/** At this percent of actual spend the budget action stops the model calls. */
export const BUDGET_ACTION_PERCENT = 100;

/**
 * What tells you the bill is running away: alarms on executions started and model invocations per
 * hour, and an AWS Budgets alert on the account's spend on the model services. What stops it: at
 * 100% of actual spend the budget's action attaches a Deny bedrock:InvokeModel policy to the model
 * caller's role, so every request after that fails at once with a BudgetSpent email (the Bedrock
 * adapter recognises the denial by the policy's path, facts.json's `budgetSpentPolicyPath`).
 *
 * CloudWatch alarms can only watch metrics of their own region. When the stack is deployed in the
 * Bedrock region the model alarm watches Bedrock's own `Invocations` per model (every caller in the
 * account, this stack or not); elsewhere it watches generate-image's invocations, one per model call
 * this stack makes.
 */
export class CostGuards extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly budget?: budgets.CfnBudget;
  /** The Deny policy the budget action attaches, the role that attaches it, and the action. */
  readonly budgetSpentPolicy?: iam.ManagedPolicy;
  readonly budgetActionRole?: iam.Role;
  readonly budgetAction?: budgets.CfnBudgetsAction;
  private readonly notify: cloudwatchActions.SnsAction;

  constructor(scope: Construct, id: string, props: CostGuardsProps) {
    super(scope, id);
    this.notify = new cloudwatchActions.SnsAction(props.alarmTopic);
    const hour = Duration.hours(1);

    this.alarm('ExecutionsStartedAlarm',
      props.stateMachine.metricStarted({ period: hour, statistic: 'Sum' }),
      props.maxExecutionsPerHour,
      `More than ${props.maxExecutionsPerHour} imagegen executions started within an hour (context maxExecutionsPerHour).`);

    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region === props.bedrockRegion) {
      for (const modelId of props.modelIds) {
        this.alarm(`ModelInvocationsAlarm-${modelId.replace(/[^A-Za-z0-9]/g, '')}`,
          new cloudwatch.Metric({
            namespace: 'AWS/Bedrock',
            metricName: 'Invocations',
            dimensionsMap: { ModelId: modelId },
            period: hour,
            statistic: 'Sum',
          }),
          props.maxModelInvocationsPerHour,
          `Bedrock model ${modelId} was invoked more than ${props.maxModelInvocationsPerHour} times within an hour (context maxModelInvocationsPerHour).`);
      }
    } else {
      this.alarm('ModelCallsAlarm',
        props.modelCaller.metricInvocations({ period: hour, statistic: 'Sum' }),
        props.maxModelInvocationsPerHour,
        `generate-image (one model call each) ran more than ${props.maxModelInvocationsPerHour} times within an hour (context maxModelInvocationsPerHour; Bedrock's own metrics are in ${props.bedrockRegion}, where alarms in this region cannot see them).`);
    }

    if (props.monthlyBudgetUsd > 0) {
      // Inside Fn::If CDK does not rename properties: these are CloudFormation's own names.
      const subscribers = [{ SubscriptionType: 'EMAIL', Address: props.budgetEmail }];
      const notify = (notificationType: string, threshold: number) => ({
        Notification: { NotificationType: notificationType, ComparisonOperator: 'GREATER_THAN', Threshold: threshold, ThresholdType: 'PERCENTAGE' },
        Subscribers: subscribers,
      });
      this.budget = new budgets.CfnBudget(this, 'Budget', {
        budget: {
          budgetType: 'COST',
          timeUnit: 'MONTHLY',
          budgetLimit: { amount: props.monthlyBudgetUsd, unit: 'USD' },
          costFilters: { Service: [...props.budgetServices] },
        },
        notificationsWithSubscribers: Fn.conditionIf(props.budgetEmailCondition.logicalId, [
          notify('ACTUAL', BUDGET_ACTUAL_PERCENT),
          notify('FORECASTED', BUDGET_FORECAST_PERCENT),
        ], Aws.NO_VALUE),
      });
      this.budgetSpentPolicy = new iam.ManagedPolicy(this, 'BudgetSpentPolicy', {
        // The path is how the Bedrock adapter tells this denial from any other: AWS names the
        // denying policy's ARN (path included) in the AccessDenied message.
        path: FACTS.budgetSpentPolicyPath,
        description: 'imagegen: attached to generate-image\'s role by the budget action when the monthly Bedrock budget is spent; detach it to resume',
        statements: [new iam.PolicyStatement({
          sid: 'MonthlyBudgetSpent',
          effect: iam.Effect.DENY,
          actions: ['bedrock:InvokeModel'],
          resources: ['*'],
        })],
      });
      this.budgetActionRole = this.actionRole(props.modelCallerRole, this.budgetSpentPolicy);
      this.budgetAction = new budgets.CfnBudgetsAction(this, 'BudgetSpentAction', {
        budgetName: this.budget.ref,
        notificationType: 'ACTUAL',
        actionThreshold: { type: 'PERCENTAGE', value: BUDGET_ACTION_PERCENT },
        actionType: 'APPLY_IAM_POLICY',
        approvalModel: 'AUTOMATIC',
        definition: {
          iamActionDefinition: {
            policyArn: this.budgetSpentPolicy.managedPolicyArn,
            roles: [props.modelCallerRole.roleName],
          },
        },
        executionRoleArn: this.budgetActionRole.roleArn,
        // Required; the alarm topic emails AlarmEmail when there is one (an address may be empty).
        subscribers: [{ type: 'SNS', address: props.alarmTopic.topicArn }],
      });
    }
  }

  /**
   * The role AWS Budgets assumes to run the action: it may attach (and, to reset the action,
   * detach) exactly the Deny policy, on exactly the model caller's role, and nothing else.
   */
  private actionRole(target: iam.IRole, policy: iam.IManagedPolicy): iam.Role {
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'BudgetActionRole', {
      description: 'imagegen: AWS Budgets attaches the budget-spent Deny policy to generate-image\'s role with it',
      // Confused-deputy guard: only this account's budgets may use it.
      assumedBy: new iam.ServicePrincipal('budgets.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'budgets', region: '', resource: 'budget', resourceName: '*' }) },
        },
      }),
    });
    role.addToPolicy(new iam.PolicyStatement({
      sid: 'AttachOnlyTheBudgetSpentPolicyToTheModelCaller',
      actions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
      resources: [target.roleArn],
      conditions: { ArnEquals: { 'iam:PolicyARN': policy.managedPolicyArn } },
    }));
    return role;
  }

  private alarm(id: string, metric: cloudwatch.IMetric, threshold: number, description: string): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      alarmDescription: description,
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.notify);
    this.alarms.push(alarm);
  }
}
