import { Aws, CfnCondition, Duration, Fn, Stack, Token } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface CostGuardsProps {
  /** The pipeline whose started executions are counted. */
  readonly stateMachine: sfn.IStateMachine;
  /** The function that calls the model (generate-image). */
  readonly modelCaller: lambda.IFunction;
  /** The models it may call, and where. */
  readonly modelIds: readonly string[];
  readonly bedrockRegion: string;
  /** Where the alarms go. */
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

/**
 * What tells you the bill is running away: alarms on executions started and model invocations per
 * hour, and an AWS Budgets alert on the account's spend on the model services.
 *
 * CloudWatch alarms can only watch metrics of their own region. When the stack is deployed in the
 * Bedrock region the model alarm watches Bedrock's own `Invocations` per model (every caller in the
 * account, this stack or not); elsewhere it watches generate-image's invocations, one per model call
 * this stack makes.
 */
export class CostGuards extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly budget?: budgets.CfnBudget;
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
    }
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
