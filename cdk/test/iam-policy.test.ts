import { Template } from 'aws-cdk-lib/assertions';
import { synthesize } from './helpers';

/**
 * Actions that may be granted on Resource "*". Each needs a reason a reviewer accepts; anything else on
 * "*" (or any wildcard action) fails the test.
 */
const UNSCOPED_ALLOW_LIST: Record<string, string> = {
  'xray:PutTraceSegments': 'X-Ray has no resource-level permissions; needed by Tracing.ACTIVE / state machine tracing.',
  'xray:PutTelemetryRecords': 'X-Ray has no resource-level permissions; needed by Tracing.ACTIVE / state machine tracing.',
  'xray:GetSamplingRules': 'X-Ray has no resource-level permissions; Step Functions reads sampling rules when tracing.',
  'xray:GetSamplingTargets': 'X-Ray has no resource-level permissions; Step Functions reads sampling rules when tracing.',
  'logs:CreateLogDelivery': 'Step Functions logging uses CloudWatch Logs vended delivery, whose APIs require Resource "*" (AWS docs: "IAM policies for logging to CloudWatch Logs").',
  'logs:GetLogDelivery': 'Vended log delivery, as above.',
  'logs:UpdateLogDelivery': 'Vended log delivery, as above.',
  'logs:DeleteLogDelivery': 'Vended log delivery, as above.',
  'logs:ListLogDeliveries': 'Vended log delivery, as above.',
  'logs:PutResourcePolicy': 'Vended log delivery writes the log group resource policy, as above.',
  'logs:DescribeResourcePolicies': 'Vended log delivery, as above.',
  'logs:DescribeLogGroups': 'Vended log delivery, as above.',
};

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
interface Statement {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: Json;
  NotResource?: Json;
  Sid?: string;
}
interface Located {
  readonly where: string;
  readonly statement: Statement;
}

/** Every identity-policy statement in the template: AWS::IAM::Policy, ManagedPolicy and role inline policies. */
function identityStatements(template: Record<string, any>): Located[] {
  const out: Located[] = [];
  for (const [id, resource] of Object.entries<Record<string, any>>(template.Resources ?? {})) {
    const docs: Array<[string, { Statement: Statement[] }]> = [];
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      docs.push([id, resource.Properties.PolicyDocument]);
    }
    if (resource.Type === 'AWS::IAM::Role' || resource.Type === 'AWS::IAM::User' || resource.Type === 'AWS::IAM::Group') {
      for (const inline of resource.Properties.Policies ?? []) docs.push([`${id}/${inline.PolicyName}`, inline.PolicyDocument]);
    }
    for (const [where, doc] of docs) for (const statement of doc.Statement) out.push({ where, statement });
  }
  return out;
}

/** Human-readable problems: wildcard actions, NotAction/NotResource, or "*" resources outside the allow-list. */
function wildcardProblems(statements: Located[]): string[] {
  const problems: string[] = [];
  for (const { where, statement } of statements) {
    if (statement.Effect !== 'Allow') continue;
    const label = `${where}${statement.Sid ? `#${statement.Sid}` : ''}`;
    if (statement.NotAction !== undefined) problems.push(`${label}: NotAction grants everything else`);
    if (statement.NotResource !== undefined) problems.push(`${label}: NotResource grants everything else`);
    const actions = [statement.Action ?? []].flat();
    for (const action of actions) {
      if (action.includes('*')) problems.push(`${label}: wildcard action ${action}`);
    }
    const resources = [statement.Resource ?? []].flat();
    if (resources.some((r) => r === '*')) {
      for (const action of actions) {
        if (!(action in UNSCOPED_ALLOW_LIST)) problems.push(`${label}: ${action} on Resource "*"`);
      }
    }
  }
  return problems;
}

/** Renders a resource with logical-id hashes stripped: `StoreBucket.Arn/images/*`, `ref:ResultsTopic`. */
function render(resource: Json): string {
  if (typeof resource === 'string') return resource;
  if (resource !== null && typeof resource === 'object' && !Array.isArray(resource)) {
    const strip = (id: string) => id.replace(/[0-9A-F]{8}$/, '');
    if (typeof resource.Ref === 'string') return `ref:${strip(resource.Ref)}`;
    const getAtt = resource['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `${strip(String(getAtt[0]))}.${String(getAtt[1])}`;
    const join = resource['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) return join[1].map(render).join(String(join[0]));
  }
  return JSON.stringify(resource);
}

/** role prefix -> sorted "action -> resource" grants. */
function grantsByRole(template: Template): Record<string, string[]> {
  const json = template.toJSON();
  const out: Record<string, string[]> = {};
  for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const roleRef of policy.Properties.Roles as Array<{ Ref: string }>) {
      const role = roleRef.Ref.replace(/[0-9A-F]{8}$/, '');
      for (const { statement } of identityStatements({ Resources: { [id]: json.Resources[id] } })) {
        for (const action of [statement.Action ?? []].flat()) {
          for (const resource of [statement.Resource ?? []].flat()) {
            (out[role] ??= []).push(`${action} -> ${render(resource)}`);
          }
        }
      }
    }
  }
  for (const grants of Object.values(out)) grants.sort();
  return out;
}

const logs = (prefix: string) => [
  `logs:CreateLogStream -> ${prefix}LogGroup.Arn`,
  `logs:PutLogEvents -> ${prefix}LogGroup.Arn`,
  'xray:PutTelemetryRecords -> *',
  'xray:PutTraceSegments -> *',
];

describe('IAM least privilege', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('no wildcard action and no unscoped resource outside the justified allow-list', () => {
    const statements = identityStatements(template.toJSON());
    expect(statements.length).toBeGreaterThan(10);
    expect(wildcardProblems(statements)).toEqual([]);
  });

  test('the walker catches wildcards (self-test)', () => {
    const bad = {
      Resources: {
        P: { Type: 'AWS::IAM::Policy', Properties: { PolicyDocument: { Statement: [
          { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
          { Effect: 'Allow', Action: ['s3:GetObject', 'xray:PutTraceSegments'], Resource: '*' },
          { Effect: 'Allow', Action: 'kms:GenerateDataKey*', Resource: 'arn:aws:kms:us-east-1:1:key/k' },
          { Effect: 'Deny', Action: '*', Resource: '*' },
        ] } } },
        R: { Type: 'AWS::IAM::Role', Properties: { Policies: [{ PolicyName: 'inline', PolicyDocument: { Statement: [
          { Effect: 'Allow', Action: '*', Resource: '*' },
        ] } }] } },
      },
    };
    expect(wildcardProblems(identityStatements(bad))).toEqual([
      'P: wildcard action s3:*',
      'P: s3:GetObject on Resource "*"',
      'P: wildcard action kms:GenerateDataKey*',
      'R/inline: wildcard action *',
      'R/inline: * on Resource "*"',
    ]);
  });

  test('each role holds exactly the grants its function uses', () => {
    const grants = grantsByRole(template);
    expect(grants.StartExecutionRole).toEqual([
      ...logs('StartExecution'),
      'sqs:GetQueueAttributes -> FailedTriggers.Arn',
      'sqs:GetQueueUrl -> FailedTriggers.Arn',
      'sqs:SendMessage -> FailedTriggers.Arn',
      'states:StartExecution -> ref:Pipeline',
    ].sort());
    expect(grants.ValidatePromptRole).toEqual([
      ...logs('ValidatePrompt'),
      's3:GetObject -> StoreBucket.Arn/prompts/*',
      's3:GetObjectVersion -> StoreBucket.Arn/prompts/*',
    ].sort());
    expect(grants.ReserveModelSlotRole).toEqual([
      ...logs('ReserveModelSlot'),
      'dynamodb:UpdateItem -> ModelSlotsTable.Arn',
    ].sort());
    expect(grants.GenerateImageRole).toEqual([
      ...logs('GenerateImage'),
      'bedrock:InvokeModel -> arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1',
      's3:PutObject -> StoreBucket.Arn/images/*',
    ].sort());
    expect(grants.GenerateThumbnailsRole).toEqual([
      ...logs('GenerateThumbnails'),
      's3:GetObject -> StoreBucket.Arn/images/*',
      's3:PutObject -> StoreBucket.Arn/thumbnails/*',
    ].sort());
    expect(grants.NotifyUserRole).toEqual([
      ...logs('NotifyUser'),
      'kms:Decrypt -> ResultsKey.Arn',
      'kms:GenerateDataKey -> ResultsKey.Arn',
      's3:GetObject -> StoreBucket.Arn/images/*',
      's3:GetObject -> StoreBucket.Arn/thumbnails/*',
      's3:DeleteObject -> StoreBucket.Arn/notifications/*',
      's3:PutObject -> StoreBucket.Arn/notifications/*',
      's3:GetObject -> StoreBucket.Arn/results/*',
      's3:PutObject -> StoreBucket.Arn/results/*',
      'sns:Publish -> ref:ResultsTopic',
    ].sort());
    expect(grants.NotifyBackstopRole).toEqual([
      ...logs('NotifyBackstop'),
      'kms:Decrypt -> ResultsKey.Arn',
      'kms:GenerateDataKey -> ResultsKey.Arn',
      's3:DeleteObject -> StoreBucket.Arn/notifications/*',
      's3:PutObject -> StoreBucket.Arn/notifications/*',
      'sns:Publish -> ref:ResultsTopic',
      'states:DescribeExecution -> arn:aws:states:us-east-1:123456789012:execution:Pipeline.Name:*',
    ].sort());
    expect(grants.HttpApiRole).toEqual([
      ...logs('HttpApi'),
      's3:GetObject -> StoreBucket.Arn/images/*',
      's3:GetObject -> StoreBucket.Arn/results/*',
      's3:GetObject -> StoreBucket.Arn/thumbnails/*',
      'states:DescribeExecution -> arn:aws:states:us-east-1:123456789012:execution:Pipeline.Name:*',
      'states:StartExecution -> ref:Pipeline',
    ].sort());
    // The event source mapping's grants: read and delete the queue's messages, decrypt them.
    expect(grants.QueueConsumerRole).toEqual([
      ...logs('QueueConsumer'),
      'kms:Decrypt -> PromptsKey.Arn',
      'sqs:ChangeMessageVisibility -> PromptsQueue.Arn',
      'sqs:DeleteMessage -> PromptsQueue.Arn',
      'sqs:GetQueueAttributes -> PromptsQueue.Arn',
      'sqs:GetQueueUrl -> PromptsQueue.Arn',
      'sqs:ReceiveMessage -> PromptsQueue.Arn',
      'states:StartExecution -> ref:Pipeline',
    ].sort());
    expect(grants.PipelineRole.filter((g) => !g.endsWith(' -> *'))).toEqual([
      'lambda:InvokeFunction -> GenerateImageFunction.Arn',
      'lambda:InvokeFunction -> GenerateThumbnailsFunction.Arn',
      'lambda:InvokeFunction -> NotifyUserFunction.Arn',
      'lambda:InvokeFunction -> ReserveModelSlotFunction.Arn',
      'lambda:InvokeFunction -> ValidatePromptFunction.Arn',
    ]);
  });

  test('allowing more models widens InvokeModel to exactly those models', () => {
    const grants = grantsByRole(synthesize({ allowedModelIds: 'amazon.nova-canvas-v1:0' }).template);
    expect(grants.GenerateImageRole.filter((g) => g.startsWith('bedrock:'))).toEqual([
      'bedrock:InvokeModel -> arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-canvas-v1:0',
      'bedrock:InvokeModel -> arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1',
    ]);
  });

  test('a cross-Region inference profile is granted as Bedrock authorises it: the profile, and its model only through it', () => {
    const profile = 'us.stability.stable-image-core-v1:1';
    const json = synthesize({ allowedModelIds: profile }).template.toJSON();
    const bedrock = identityStatements(json)
      .filter(({ where }) => where.startsWith('GenerateImageRoleDefaultPolicy'))
      .map(({ statement }) => statement)
      .filter((statement) => [statement.Action].flat().includes('bedrock:InvokeModel'));
    // The account and Region are known here (env), so CDK writes the ARNs out.
    const profileArn = `arn:aws:bedrock:us-west-2:123456789012:inference-profile/${profile}`;
    const model = (region: string, id: string) => `arn:aws:bedrock:${region}::foundation-model/${id}`;
    expect(bedrock).toEqual([
      { Sid: 'InvokeConfiguredModels', Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: model('us-west-2', 'stability.stable-image-core-v1:1') },
      { Sid: 'InvokeConfiguredProfiles', Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: profileArn },
      {
        Sid: 'InvokeModelsThroughProfiles',
        Effect: 'Allow',
        Action: 'bedrock:InvokeModel',
        Resource: model('*', 'stability.stable-image-core-v1:1'),
        Condition: { StringEquals: { 'bedrock:InferenceProfileArn': [profileArn] } },
      },
    ]);
  });

  test('model pools: the model in each Region pool, a profile pool as a profile, and nothing in the unused Bedrock Region', () => {
    const profile = 'us.stability.stable-image-core-v1:1';
    const { template: pooled } = synthesize({ modelPools: `us-east-1=20,us-east-2=20,${profile}=20` });
    const json = pooled.toJSON();
    const bedrock = identityStatements(json)
      .filter(({ where }) => where.startsWith('GenerateImageRoleDefaultPolicy'))
      .map(({ statement }) => statement)
      .filter((statement) => [statement.Action].flat().includes('bedrock:InvokeModel'));
    const profileArn = `arn:aws:bedrock:us-west-2:123456789012:inference-profile/${profile}`;
    const model = (region: string) => `arn:aws:bedrock:${region}::foundation-model/stability.stable-image-core-v1:1`;
    expect(bedrock).toEqual([
      { Sid: 'InvokeConfiguredModels', Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: [model('us-east-1'), model('us-east-2')] },
      { Sid: 'InvokeConfiguredProfiles', Effect: 'Allow', Action: 'bedrock:InvokeModel', Resource: profileArn },
      {
        Sid: 'InvokeModelsThroughProfiles',
        Effect: 'Allow',
        Action: 'bedrock:InvokeModel',
        Resource: model('*'),
        Condition: { StringEquals: { 'bedrock:InferenceProfileArn': [profileArn] } },
      },
    ]);
    // Several pools: a reservation reads each pool's schedule first.
    const dynamodb = (t: Template) => grantsByRole(t).ReserveModelSlotRole.filter((g) => g.startsWith('dynamodb:'));
    expect(dynamodb(pooled)).toEqual([
      expect.stringMatching(/^dynamodb:GetItem -> ModelSlotsTable\w*\.Arn$/),
      expect.stringMatching(/^dynamodb:UpdateItem -> ModelSlotsTable\w*\.Arn$/),
    ]);
    expect(dynamodb(template)).toEqual([expect.stringMatching(/^dynamodb:UpdateItem -> /)]);
  });

  test('a profile pool alone leaves the other allowed models in the Bedrock Region', () => {
    const profile = 'us.stability.stable-image-core-v1:1';
    const grants = grantsByRole(synthesize({ modelPools: `${profile}=20`, allowedModelIds: 'amazon.nova-canvas-v1:0' }).template);
    expect(grants.GenerateImageRole.filter((g) => g.includes('foundation-model') && !g.includes(':*:'))).toEqual([
      'bedrock:InvokeModel -> arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-canvas-v1:0',
      'bedrock:InvokeModel -> arn:aws:bedrock:us-west-2::foundation-model/stability.stable-image-core-v1:1',
    ]);
  });

  test('with permissionsBoundary every role carries the app\'s boundary, and without it none does', () => {
    const boundary = 'arn:aws:iam::123456789012:policy/imagegen-app-boundary-us-east-1';
    const roles = Object.entries(synthesize({ permissionsBoundary: 'true' }).template.findResources('AWS::IAM::Role'));
    expect(roles.length).toBeGreaterThan(9);
    for (const [id, role] of roles) expect([id, role.Properties.PermissionsBoundary]).toEqual([id, boundary]);
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      expect([id, role.Properties.PermissionsBoundary]).toEqual([id, undefined]);
    }
  });

  test('managed policies only on the CDK bucket-notifications handler (basic execution) and API Gateway\'s log role', () => {
    const withManaged = Object.entries(template.findResources('AWS::IAM::Role'))
      .filter(([, role]) => role.Properties.ManagedPolicyArns !== undefined)
      .map(([id, role]) => [id.replace(/[0-9A-F]{8}$/, ''), JSON.stringify(role.Properties.ManagedPolicyArns)])
      .sort(([a], [b]) => a.localeCompare(b));
    const only = (name: string) => JSON.stringify([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/service-role/${name}`]] },
    ]);
    expect(withManaged).toEqual([
      ['ApiCloudWatchRole', only('AmazonAPIGatewayPushToCloudWatchLogs')],
      [expect.stringMatching(/^BucketNotificationsHandler/), only('AWSLambdaBasicExecutionRole')],
    ]);
    // Only API Gateway may assume the log role.
    const logRole = Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith('ApiCloudWatchRole'));
    expect(logRole?.[1].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } },
    ]);
  });

  test('the bucket-notifications handler may write only this bucket\'s notification configuration', () => {
    const handlerStatements = identityStatements(template.toJSON())
      .filter(({ where }) => where.startsWith('StoreBucketNotificationsHandlerPolicy'));
    expect(handlerStatements.map(({ statement }) => [statement.Action, render(statement.Resource as Json)])).toEqual([
      ['s3:PutBucketNotification', 'StoreBucket.Arn'],
    ]);
  });
});
