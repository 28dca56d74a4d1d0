import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag finding on one construct (and its children), with the reason a reviewer
 * reads. For IAM5 pass the finding, e.g. `AwsSolutions-IAM5[Resource::<BucketArn>/images/*]`, so that
 * any new wildcard still fails the synth.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Runs the AwsSolutions pack on every synth of `app`; any unacknowledged finding fails the synth. */
export function addNagChecks(app: IConstruct): AwsSolutionsChecks {
  const checks = new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true });
  Validations.of(app).addPlugins(checks);
  return checks;
}

/**
 * The IAM5 finding cdk-nag reports for `<bucketArn>/<suffix>`: it renders the bucket ARN token as
 * `<LogicalId.Arn>`.
 */
export function iam5Resource(bucket: s3.IBucket, suffix: string): string {
  const cfn = bucket.node.defaultChild as CfnElement;
  return `Resource::<${Stack.of(bucket).getLogicalId(cfn)}.Arn>/${suffix}`;
}

/**
 * A resource string as cdk-nag prints it in an IAM5 finding: the resolved value, with each reference
 * written `<LogicalId>` (`<AWS::Partition>`, `<AWS::AccountId>`) and each attribute `<LogicalId.Attr>`.
 */
export function nagRendered(stack: Stack, value: string): string {
  const render = (part: unknown): string => {
    if (typeof part === 'string') return part;
    if (part !== null && typeof part === 'object') {
      const o = part as Record<string, unknown>;
      if (typeof o.Ref === 'string') return `<${o.Ref}>`;
      const getAtt = o['Fn::GetAtt'];
      if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
      const join = o['Fn::Join'];
      if (Array.isArray(join) && Array.isArray(join[1])) return (join[1] as unknown[]).map(render).join(String(join[0]));
    }
    throw new Error(`cannot render ${JSON.stringify(part)} as cdk-nag does`);
  };
  return render(stack.resolve(value));
}
