import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FACTS } from '../config';

export interface PromptQueueProps {
  /** The queue-consumer function, fed batches by an event source mapping. */
  readonly consumer: lambda.Function;
  /** Deliveries before a message goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Alarm when the oldest message is older than this. */
  readonly maxAgeSeconds: number;
  /** Consumer invocations the mapping runs at once (2-1000, Lambda's range for SQS). */
  readonly maxConcurrency: number;
  /** Where the alarms go. */
  readonly alarmTopic: sns.ITopic;
}

/**
 * AWS's advice for a queue behind Lambda: a visibility timeout of at least six times the function's
 * timeout, so a batch that is retried inside Lambda is not delivered again meanwhile.
 */
export const VISIBILITY_PER_FUNCTION_TIMEOUT = 6;

/**
 * The queue of prompts (console JSON, one per message), encrypted with its own key, with a
 * dead-letter queue for the messages that fail `maxReceiveCount` times, read in batches by the
 * queue consumer, which reports each message that failed (ReportBatchItemFailures). Alarms: the
 * oldest message too old (the consumer is behind or failing), any message in the dead-letter queue.
 */
export class PromptQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetters: sqs.Queue;
  readonly key: kms.Key;
  readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: PromptQueueProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: 'imagegen: encrypts the prompt queue and its dead-letter queue',
      enableKeyRotation: true,
      // Messages live 14 days at most: a key scheduled for deletion with the stack loses nothing kept.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const functionTimeout = props.consumer.timeout ?? Duration.seconds(3);
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: Duration.seconds(functionTimeout.toSeconds() * VISIBILITY_PER_FUNCTION_TIMEOUT),
      deadLetterQueue: { queue: this.deadLetters, maxReceiveCount: props.maxReceiveCount },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    props.consumer.addEventSource(new lambdaEventSources.SqsEventSource(this.queue, {
      batchSize: FACTS.queue.batchSize,
      reportBatchItemFailures: true,
      // A flood of messages never takes more than this of the account's concurrency; the rest wait
      // in the queue (the age alarm says when they wait too long).
      maxConcurrency: props.maxConcurrency,
    }));

    const notify = new cloudwatchActions.SnsAction(props.alarmTopic);
    const minute = Duration.minutes(1);
    this.alarms = [
      new cloudwatch.Alarm(this, 'OldestMessageAlarm', {
        metric: this.queue.metricApproximateAgeOfOldestMessage({ period: minute, statistic: 'Maximum' }),
        threshold: props.maxAgeSeconds,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `A prompt has waited in the queue for more than ${props.maxAgeSeconds} s (context queueMaxAgeSeconds): the queue consumer is behind or failing.`,
      }),
      new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
        metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: minute, statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `A queued prompt failed ${props.maxReceiveCount} times and is in the dead-letter queue (the consumer's log says why).`,
      }),
    ];
    for (const alarm of this.alarms) alarm.addAlarmAction(notify);
  }
}
