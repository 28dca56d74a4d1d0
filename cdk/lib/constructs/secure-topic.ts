import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface SecureTopicProps {
  readonly displayName: string;
  /** Email endpoint to subscribe; no subscription when undefined. */
  readonly email?: string;
  /** Let CloudWatch alarms in this account publish (key policy + topic policy). */
  readonly allowCloudWatchAlarms?: boolean;
}

/** An SNS topic encrypted with its own rotating KMS key, refusing non-TLS publishers. */
export class SecureTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: SecureTopicProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new kms.Key(this, 'Key', {
      description: `imagegen: encrypts the ${props.displayName} topic`,
      enableKeyRotation: true,
      // The key only protects messages in flight: scheduling its deletion with the stack loses nothing.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: props.displayName,
      masterKey: this.key,
      enforceSSL: true,
    });

    if (props.allowCloudWatchAlarms) {
      const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
      const fromOwnAlarms = {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
      };
      // Alarm actions reach an encrypted topic only if CloudWatch may use its key (the statement AWS
      // documents for CloudWatch + SSE topics, narrowed to this account's alarms).
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToUseTheKey',
          principals: [cloudwatch],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      );
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublish',
          principals: [cloudwatch],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: fromOwnAlarms,
        }),
      );
    }

    if (props.email !== undefined) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    }
  }

  /** sns:Publish on this topic plus the two key actions SNS needs from an encrypting publisher. */
  publishStatements(): iam.PolicyStatement[] {
    return [
      new iam.PolicyStatement({
        sid: 'PublishToTopic',
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
      }),
      new iam.PolicyStatement({
        sid: 'UseTopicKey',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
      }),
    ];
  }
}
