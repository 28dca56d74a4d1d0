import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  APP_BOUNDARY_ACTIONS, DEPLOY_REF, DEPLOY_WORKFLOW, DeployAccessConfig, DeployAccessStack, EXECUTION_SERVICES,
  deployWorkflowRef, loadDeployAccessConfig,
} from '../lib/deploy-access-stack';
import { FACTS } from '../lib/config';
import { synthesize } from './helpers';

const CONFIG: DeployAccessConfig = {
  githubRepo: 'octo-org/imagegen',
  githubEnvironment: 'production',
  cdkQualifier: 'hnb659fds',
  appStackName: 'Imagegen',
};

function accessStack(config: Partial<DeployAccessConfig> = {}): { stack: DeployAccessStack; template: Template } {
  const stack = new DeployAccessStack(new App(), 'ImagegenDeployAccess', {
    env: { account: '123456789012', region: 'us-east-1' },
    config: { ...CONFIG, ...config },
  });
  return { stack, template: Template.fromStack(stack) };
}

const load = (context: Record<string, unknown>) => loadDeployAccessConfig(new App({ context }).node);

/** The access stack's managed policy of this name (the execution policy, the app's boundary). */
function managedPolicy(template: Template, name: string): Record<string, any> {
  const found = Object.values(template.findResources('AWS::IAM::ManagedPolicy'))
    .find((p) => p.Properties.ManagedPolicyName === name);
  if (found === undefined) throw new Error(`no managed policy ${name}`);
  return found;
}
const EXECUTION_POLICY = 'imagegen-cfn-execution-us-east-1';
const BOUNDARY = 'imagegen-app-boundary-us-east-1';
const BOUNDARY_ARN = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:policy/${BOUNDARY}`]] };

/** IAM service prefix of each resource type's service in the app template (null: nothing to manage). */
const SERVICE_OF: Record<string, string | null> = {
  S3: 's3', Lambda: 'lambda', StepFunctions: 'states', SNS: 'sns', SQS: 'sqs', Logs: 'logs',
  CloudWatch: 'cloudwatch', Budgets: 'budgets', KMS: 'kms', IAM: 'iam', DynamoDB: 'dynamodb', Events: 'events',
  ApiGateway: 'apigateway',
  CDK: null,
};

describe('the GitHub deploy role (ImagegenDeployAccess)', () => {
  let template: Template;
  beforeAll(() => {
    template = accessStack().template;
  });

  /** The role whose trust names `sub` (the deploy role: an environment; the diff role: main). */
  const roleTrusting = (sub: string): Record<string, any> => {
    const found = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
      r.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['token.actions.githubusercontent.com:sub'] === sub);
    expect([sub, found.length]).toEqual([sub, 1]);
    return found[0];
  };
  const policyOf = (roleId: string): Array<Record<string, any>> => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]));
    expect(policies).toHaveLength(1);
    return policies[0].Properties.PolicyDocument.Statement;
  };
  const roleId = (sub: string): string => Object.keys(template.findResources('AWS::IAM::Role'))
    .find((id) => template.toJSON().Resources[id] === roleTrusting(sub)) ?? '';

  test('only the deploy job of this repository\'s production environment, in deploy.yml on main, can assume it', () => {
    expect(Object.keys(template.findResources('AWS::IAM::Role'))).toHaveLength(2);
    const role = roleTrusting('repo:octo-org/imagegen:environment:production');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Principal: { Federated: { Ref: expect.stringMatching(/^GitHubOidc/) } },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': 'repo:octo-org/imagegen:environment:production',
          'token.actions.githubusercontent.com:job_workflow_ref': 'octo-org/imagegen/.github/workflows/deploy.yml@refs/heads/main',
        },
      },
    }]);
    expect(role.Properties.MaxSessionDuration).toBe(3600);
  });

  test('the job_workflow_ref names the workflow by name, also for the immutable OWNER@ID/REPO@ID form', () => {
    expect(deployWorkflowRef('octo-org@123/imagegen@456')).toBe(`octo-org/imagegen/${DEPLOY_WORKFLOW}@${DEPLOY_REF}`);
    const immutable = accessStack({ githubRepo: 'octo-org@123/imagegen@456' }).template;
    for (const role of Object.values(immutable.findResources('AWS::IAM::Role'))) {
      expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['token.actions.githubusercontent.com:job_workflow_ref'])
        .toBe('octo-org/imagegen/.github/workflows/deploy.yml@refs/heads/main');
    }
  });

  test('it may assume only this account\'s CDK deploy and file-publishing roles in this region', () => {
    const arn = (kind: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:role/cdk-hnb659fds-${kind}-role-123456789012-us-east-1`]],
    });
    expect(policyOf(roleId('repo:octo-org/imagegen:environment:production'))).toEqual([{
      Sid: 'AssumeCdkBootstrapRoles',
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      Resource: [arn('deploy'), arn('file-publishing')],
    }]);
  });

  test('the diff role: only a job of deploy.yml on main (no environment: before the approval), reading only the app stack\'s template', () => {
    const role = roleTrusting('repo:octo-org/imagegen:ref:refs/heads/main');
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
        'token.actions.githubusercontent.com:sub': 'repo:octo-org/imagegen:ref:refs/heads/main',
        'token.actions.githubusercontent.com:job_workflow_ref': 'octo-org/imagegen/.github/workflows/deploy.yml@refs/heads/main',
      },
    });
    expect(policyOf(roleId('repo:octo-org/imagegen:ref:refs/heads/main'))).toEqual([{
      Sid: 'ReadTheAppStackTemplate',
      Effect: 'Allow',
      Action: ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'],
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudformation:us-east-1:123456789012:stack/Imagegen/*']] },
    }]);
    template.hasOutput('DiffRoleArn', {});
  });

  test('the account\'s GitHub OIDC provider is created (kept on delete), or an existing one is used', () => {
    template.hasResource('AWS::IAM::OIDCProvider', {
      Properties: { Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] },
      DeletionPolicy: 'Retain',
    });
    const existing = 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com';
    const reused = accessStack({ oidcProviderArn: existing }).template;
    reused.resourceCountIs('AWS::IAM::OIDCProvider', 0);
    reused.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Federated: existing } })] },
    });
  });

  test('deployed with the deployer\'s own credentials, never through the execution role it narrows', () => {
    const app = new App();
    new DeployAccessStack(app, 'ImagegenDeployAccess', { env: { account: '123456789012', region: 'us-east-1' }, config: CONFIG });
    const artifact = app.synth().getStackArtifact('ImagegenDeployAccess');
    expect(artifact.assumeRoleArn).toBeUndefined();
    expect(artifact.cloudFormationExecutionRoleArn).toBeUndefined();
    template.hasOutput('DeployRoleArn', {});
    template.hasOutput('ExecutionPolicyArn', {});
  });

  test('the CloudFormation execution policy can manage every service the app template uses', () => {
    const statements = managedPolicy(template, EXECUTION_POLICY)
      .Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>;
    const actions = statements.flatMap((s) => [s.Action].flat());
    const types = new Set([
      ...Object.values(synthesize().template.toJSON().Resources as Record<string, { Type: string }>)
        .map((r) => r.Type),
    ]);
    for (const type of types) {
      const service = type.startsWith('Custom::') ? 'lambda' : SERVICE_OF[type.split('::')[1]];
      expect([type, service]).not.toEqual([type, undefined]);
      if (service === null) continue;
      expect([type, actions.some((a) => a.startsWith(`${service}:`))]).toEqual([type, true]);
    }
    expect(EXECUTION_SERVICES.length).toBeGreaterThan(0);
  });

  test('the execution policy is no AdministratorAccess: no key use, IAM only on the app\'s roles', () => {
    const policy = managedPolicy(template, EXECUTION_POLICY);
    const statements = (policy.Properties.PolicyDocument.Statement as Array<Record<string, any>>)
      .filter((s) => s.Effect === 'Allow');
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]);
    expect(actions).not.toContain('*');
    for (const forbidden of ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:*', 'iam:*', 'iam:CreateUser']) {
      expect(actions).not.toContain(forbidden);
    }
    // Policies may be made and changed only under the budget-spent path.
    const budgetPolicies = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::123456789012:policy${FACTS.budgetSpentPolicyPath}*`]] };
    for (const action of ['iam:CreatePolicy', 'iam:CreatePolicyVersion', 'iam:DeletePolicy']) {
      const allowing = statements.filter((s) => [s.Action].flat().includes(action));
      expect([action, allowing.map((s) => s.Resource)]).toEqual([action, [budgetPolicies]]);
    }
    // IAM on the app's roles, and on the app's one managed policy (the budget-spent Deny) by its path.
    for (const s of statements.filter((st) => [st.Action].flat().some((a: string) => a.startsWith('iam:')))) {
      const resource = JSON.stringify(s.Resource);
      expect([s.Sid, resource.includes(':role/Imagegen-*') || resource.includes(`:policy${FACTS.budgetSpentPolicyPath}*`)])
        .toEqual([s.Sid, true]);
    }
    const managed = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::aws:policy/service-role/${name}`]] });
    expect(statements.find((s) => s.Sid === 'AttachOnlyTheAppsManagedPolicies')?.Condition).toEqual({
      ArnEquals: { 'iam:PolicyARN': [managed('AWSLambdaBasicExecutionRole'), managed('AmazonAPIGatewayPushToCloudWatchLogs')] },
      StringEquals: { 'iam:PermissionsBoundary': BOUNDARY_ARN },
    });
    expect(statements.find((s) => s.Sid === 'PassAppRolesToItsServices')?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': ['lambda.amazonaws.com', 'states.amazonaws.com', 'apigateway.amazonaws.com', 'budgets.amazonaws.com'] },
    });
    expect(policy.Properties.ManagedPolicyName).toBe('imagegen-cfn-execution-us-east-1');
  });

  test('cdk-nag finds nothing', () => {
    expect(new AwsSolutionsChecks().validateScope(accessStack().stack).violations).toEqual([]);
  });

  test('no role of the app can be made or widened without the app\'s boundary, and the boundary stays', () => {
    const statements = managedPolicy(template, EXECUTION_POLICY).Properties.PolicyDocument.Statement as Array<Record<string, any>>;
    const allows = (action: string) => statements.filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action));
    // Every Allow of an action that makes a role or changes its permissions requires the boundary.
    for (const action of ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:AttachRolePolicy', 'iam:DeleteRolePolicy',
      'iam:DetachRolePolicy', 'iam:PutRolePermissionsBoundary']) {
      expect([action, allows(action).length]).toEqual([action, 1]);
      for (const s of allows(action)) {
        expect([action, s.Condition?.StringEquals?.['iam:PermissionsBoundary']]).toEqual([action, BOUNDARY_ARN]);
      }
    }
    const denied = statements.filter((s) => s.Effect === 'Deny').flatMap((s) => [s.Action].flat());
    expect(denied).toEqual(expect.arrayContaining([
      'iam:DeleteRolePermissionsBoundary', 'iam:CreatePolicyVersion', 'iam:SetDefaultPolicyVersion', 'iam:DeletePolicy',
    ]));
  });

  test('the boundary allows only the services the app\'s roles call, and of IAM only attaching the budget-spent Deny', () => {
    const boundary = managedPolicy(template, BOUNDARY);
    const partition = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });
    expect(boundary.Properties.PolicyDocument.Statement).toEqual([
      { Sid: 'AppServicesOnly', Effect: 'Allow', Action: [...APP_BOUNDARY_ACTIONS], Resource: '*' },
      {
        Sid: 'AttachOnlyTheBudgetSpentDeny',
        Effect: 'Allow',
        Action: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
        Resource: partition(':iam::123456789012:role/Imagegen-*'),
        Condition: { ArnLike: { 'iam:PolicyARN': partition(`:iam::123456789012:policy${FACTS.budgetSpentPolicyPath}*`) } },
      },
    ]);
    for (const action of APP_BOUNDARY_ACTIONS) expect(action).not.toMatch(/^(iam|sts|organizations):/);
    // Every action any role of the app is granted falls under the boundary.
    const app = synthesize({ permissionsBoundary: 'true' }).template.toJSON().Resources as Record<string, any>;
    const granted = Object.values(app)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((r) => r.Properties.PolicyDocument.Statement.flatMap((st: Record<string, any>) => [st.Action].flat() as string[]));
    const budgetAttach = ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'];
    const covered = (action: string) => budgetAttach.includes(action)
      || APP_BOUNDARY_ACTIONS.some((b) => b === action || (b.endsWith(':*') && action.startsWith(b.slice(0, -1))));
    expect(granted.filter((a) => !covered(a))).toEqual([]);
  });
});

describe('deploy-access settings', () => {
  test('absent without githubRepo, so the app stays a single stack', () => {
    expect(load({})).toBeUndefined();
  });

  test('defaults, and the immutable OWNER@ID/REPO@ID form', () => {
    expect(load({ githubRepo: 'octo-org/imagegen' })).toEqual({ ...CONFIG, oidcProviderArn: undefined });
    expect(load({ githubRepo: 'octo-org@123/imagegen@456', githubEnvironment: 'prod-eu', stackName: 'Img' }))
      .toMatchObject({ githubRepo: 'octo-org@123/imagegen@456', githubEnvironment: 'prod-eu', appStackName: 'Img' });
  });

  test.each([
    [{ githubRepo: 'octo-org/*' }, /githubRepo/],
    [{ githubRepo: 'repo:octo-org/imagegen:*' }, /githubRepo/],
    [{ githubRepo: 'imagegen' }, /githubRepo/],
    [{ githubRepo: 'o/r', githubEnvironment: 'prod*' }, /githubEnvironment/],
    [{ githubRepo: 'o/r', githubEnvironment: 'a:b' }, /githubEnvironment/],
    [{ githubRepo: 'o/r', githubOidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/example.com' }, /githubOidcProviderArn/],
    [{ githubRepo: 'o/r', cdkQualifier: 'BAD-Q' }, /cdkQualifier/],
  ])('rejects %j (no wildcard can widen the trust)', (context, message) => {
    expect(() => load(context)).toThrow(message);
  });
});

describe('the access stack as the app synthesizes it (no account known)', () => {
  test('cdk-nag finds nothing unacknowledged there either', () => {
    const stack = new DeployAccessStack(new App(), 'ImagegenDeployAccess', {
      env: { region: 'us-east-1' },
      config: CONFIG,
    });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });
});
