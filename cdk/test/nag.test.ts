import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { addNagChecks } from '../lib/nag';
import { synthesize } from './helpers';

interface Ack {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

function acknowledgements(root: IConstruct): Ack[] {
  return root.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>)
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^Annotation::/i, ''), reason }))));
}

describe('cdk-nag AwsSolutions', () => {
  test('no unacknowledged errors or warnings', () => {
    const { stack } = synthesize();
    const report = new AwsSolutionsChecks().validateScope(stack);
    const findings = report.violations.map((v) =>
      `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('also with every optional resource (reserved concurrency, Bedrock-region alarms, no budget, no API log role, an inference profile, the boundary)', () => {
    const { stack } = synthesize({
      reservedConcurrency: '2', bedrockRegion: 'us-east-1', monthlyBudgetUsd: '0', apiGatewayCloudWatchRole: 'false',
      allowedModelIds: 'us.stability.stable-image-core-v1:1', permissionsBoundary: 'true',
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  test('the pack runs as a validation plugin on synth and passes', () => {
    const { app } = synthesize();
    addNagChecks(app);
    expect(() => app.synth({ force: true })).not.toThrow();
  });

  test('an unacknowledged finding fails the synth (self-test)', () => {
    const app = new App();
    new sqs.Queue(new Stack(app, 'Bad'), 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    addNagChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });

  test('every acknowledgement is one named finding on one construct, with a real reason', () => {
    const acks = acknowledgements(synthesize().app);
    for (const ack of acks) {
      expect(ack.reason.length).toBeGreaterThanOrEqual(60);
      // IAM4/IAM5 must name the finding ([Resource::...]/[Policy::...]), never the whole rule.
      if (/^AwsSolutions-IAM[45]/.test(ack.id)) expect(ack.id).toMatch(/\[.+\]$/);
      expect(ack.path).not.toBe('Imagegen');
    }
    expect(acks.map((a) => `${a.path} ${a.id}`).sort()).toEqual([
      'Imagegen/Api/Api AwsSolutions-APIG2',
      'Imagegen/Api/Api/CloudWatchRole AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'Imagegen/Api/Api/Default/generate-image/POST AwsSolutions-COG4',
      'Imagegen/Api/Api/Default/images/{requestId}/GET AwsSolutions-COG4',
      'Imagegen/Api/Api/DeploymentStage.prod AwsSolutions-APIG3',
      'Imagegen/Api/Api/DeploymentStage.prod AwsSolutions-APIG6',
      'Imagegen/BucketNotificationsHandler050a0587b7544547bf325f094a3db834 AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'Imagegen/FailedTriggers AwsSolutions-SQS3',
      'Imagegen/GenerateImage/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/GenerateImage/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/images/*]',
      'Imagegen/GenerateThumbnails/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/GenerateThumbnails/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/images/*]',
      'Imagegen/GenerateThumbnails/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/thumbnails/*]',
      'Imagegen/HttpApi/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/HttpApi/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/images/*]',
      'Imagegen/HttpApi/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/results/*]',
      'Imagegen/HttpApi/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/thumbnails/*]',
      'Imagegen/HttpApi/Role AwsSolutions-IAM5[Resource::arn:aws:states:us-east-1:123456789012:execution:<PipelineC660917D.Name>:*]',
      'Imagegen/NotifyBackstop/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/NotifyBackstop/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/notifications/*]',
      'Imagegen/NotifyBackstop/Role AwsSolutions-IAM5[Resource::arn:aws:states:us-east-1:123456789012:execution:<PipelineC660917D.Name>:*]',
      'Imagegen/NotifyUser/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/NotifyUser/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/images/*]',
      'Imagegen/NotifyUser/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/notifications/*]',
      'Imagegen/NotifyUser/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/results/*]',
      'Imagegen/NotifyUser/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/thumbnails/*]',
      'Imagegen/Pipeline/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/QueueConsumer/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/ReserveModelSlot/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/StartExecution/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/Store/AccessLogs AwsSolutions-S1',
      'Imagegen/ValidatePrompt/Role AwsSolutions-IAM5[Resource::*]',
      'Imagegen/ValidatePrompt/Role AwsSolutions-IAM5[Resource::<StoreBucket4FBDE984.Arn>/prompts/*]',
    ]);
  });
});
