import { ArnFormat, CfnCondition, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface SecureTopicProps {
  readonly displayName: string;
  /** Email endpoint to subscribe (a deploy-time value may be empty); no subscription when undefined. */
  readonly email?: string;
  /** When given, the subscription exists only where this holds (an address was given). */
  readonly emailCondition?: CfnCondition;
  /** Let CloudWatch alarms in this account publish (key policy + topic policy). */
  readonly allowCloudWatchAlarms?: boolean;
  /** Let this account's AWS Budgets publish (a budget action's notification). */
  readonly allowBudgets?: boolean;
  /**
   * Lock the topic to its intended use (the topic policy denies everyone else, whatever their IAM
   * policies say): only the roles given to `allowPublisher` may publish, and the only subscription
   * anyone may make is to `email`.
   */
  readonly locked?: boolean;
}

/** An SNS topic encrypted with its own rotating KMS key, refusing non-TLS publishers. */
export class SecureTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.Key;
  private readonly publishers: iam.IRole[] = [];

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
      this.allowServiceToPublish('cloudwatch.amazonaws.com', 'CloudWatchAlarms',
        stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
    }
    if (props.allowBudgets) {
      // AWS Budgets' own statement for a topic (Cost Management user guide, "Creating an Amazon SNS
      // topic for budget notifications"), narrowed to this account's budgets like the alarms'.
      this.allowServiceToPublish('budgets.amazonaws.com', 'Budgets',
        stack.formatArn({ service: 'budgets', region: '', resource: '*' }));
    }

    if (props.locked) this.lock(props.email);

    if (props.email !== undefined) {
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
      if (props.emailCondition !== undefined) {
        (subscription.node.defaultChild as sns.CfnSubscription).cfnOptions.condition = props.emailCondition;
      }
    }
  }

  /**
   * Lets an AWS service publish from this account's resources of `sourceArn`: an encrypted topic
   * takes its messages only if the service may also use the key (the statements AWS documents for
   * CloudWatch alarms and budgets on SSE topics).
   */
  private allowServiceToPublish(service: string, sidSuffix: string, sourceArn: string): void {
    const principal = new iam.ServicePrincipal(service);
    const fromOwnResources = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: { 'aws:SourceArn': sourceArn },
    };
    this.key.addToResourcePolicy(new iam.PolicyStatement({
      sid: `Allow${sidSuffix}ToUseTheKey`,
      principals: [principal],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromOwnResources,
    }));
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: `Allow${sidSuffix}ToPublish`,
      principals: [principal],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: fromOwnResources,
    }));
  }

  /**
   * Lets `role` publish: the identity statements it needs, and (on a locked topic) a place on the
   * list of the only principals the topic policy lets publish.
   */
  allowPublisher(role: iam.IRole): void {
    for (const statement of this.publishStatements()) role.addToPrincipalPolicy(statement);
    this.publishers.push(role);
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
        // Only through SNS in this region: the grant cannot decrypt anything directly.
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Stack.of(this).region}.amazonaws.com` } },
      }),
    ];
  }

  /**
   * Denies publishing to anyone but the registered publishers, and subscribing to anything but
   * `email` by email. (Explicit denies in the topic policy hold against account admins' IAM policies
   * too; a role's ARN is what `aws:PrincipalArn` carries for its sessions.)
   */
  private lock(email: string | undefined): void {
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OnlyThePipelinePublishes',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['sns:Publish'],
      resources: [this.topic.topicArn],
      conditions: {
        ArnNotEquals: {
          'aws:PrincipalArn': Lazy.list({
            produce: () => {
              if (this.publishers.length === 0) throw new Error(`${this.node.path}: a locked topic needs allowPublisher(role)`);
              return this.publishers.map((r) => r.roleArn);
            },
          }),
        },
      },
    }));
    const subscribe = { principals: [new iam.AnyPrincipal()], actions: ['sns:Subscribe'], resources: [this.topic.topicArn] };
    if (email === undefined) {
      this.topic.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'NoSubscriptions', effect: iam.Effect.DENY, ...subscribe,
      }));
      return;
    }
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'EmailSubscriptionsOnly', effect: iam.Effect.DENY, ...subscribe,
      conditions: { StringNotEquals: { 'sns:Protocol': 'email' } },
    }));
    this.topic.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'OnlyTheConfiguredAddress', effect: iam.Effect.DENY, ...subscribe,
      conditions: { StringNotEqualsIgnoreCase: { 'sns:Endpoint': email } },
    }));
  }
}
