import { Arn, CfnOutput, CliCredentialsStackSynthesizer, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, Node } from 'constructs';
import { FACTS } from './config';
import { acknowledge, nagRendered } from './nag';

/** GitHub's OIDC issuer and the audience configure-aws-credentials asks for. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
export const OIDC_AUDIENCE = 'sts.amazonaws.com';

/**
 * The one workflow, on the one branch, whose jobs may assume the deploy and diff roles (claim
 * `job_workflow_ref`, which AWS STS checks since January 2026): a workflow added on another branch,
 * or another workflow on main, gets no credentials even in the right environment.
 */
export const DEPLOY_WORKFLOW = '.github/workflows/deploy.yml';
export const DEPLOY_REF = 'refs/heads/main';

/** The CDK bootstrap roles a `cdk deploy` of the app assumes (no lookups, no container images). */
export const BOOTSTRAP_ROLES = ['deploy', 'file-publishing'] as const;

/**
 * The services whose resources the app stack creates (AWS::<Service>::... in its template, by IAM
 * prefix), which the CloudFormation execution policy may manage. `test/deploy-access.test.ts` fails
 * when the template gains a resource type of a service missing here.
 */
export const EXECUTION_SERVICES = [
  's3', 'lambda', 'states', 'sns', 'sqs', 'logs', 'cloudwatch', 'budgets', 'events', 'apigateway', 'dynamodb',
] as const;

/** KMS key administration without any use of keys (no Encrypt, Decrypt, GenerateDataKey). */
const KMS_ADMIN = [
  'kms:CreateKey', 'kms:DescribeKey', 'kms:EnableKeyRotation', 'kms:DisableKeyRotation', 'kms:GetKeyRotationStatus',
  'kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'kms:ListResourceTags', 'kms:TagResource', 'kms:UntagResource',
  'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion', 'kms:UpdateKeyDescription', 'kms:EnableKey', 'kms:DisableKey',
  'kms:CreateAlias', 'kms:DeleteAlias', 'kms:ListAliases',
];

/** Managing the app's roles, which are all named `<stackName>-...` by CloudFormation. */
const IAM_ROLE_ADMIN = [
  'iam:DeleteRole', 'iam:GetRole', 'iam:UpdateRole', 'iam:UpdateRoleDescription',
  'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole', 'iam:ListRoleTags',
  'iam:GetRolePolicy', 'iam:ListRolePolicies', 'iam:ListAttachedRolePolicies',
];

/**
 * Managing the app's own managed policy, the budget-spent Deny (facts.json's `budgetSpentPolicyPath`):
 * the only managed policies the app creates. A policy under the path gives no role anything by
 * itself: only the budget action's role may attach one, and the boundary still caps that role.
 */
const IAM_BUDGET_POLICY_ADMIN = [
  'iam:CreatePolicy', 'iam:DeletePolicy', 'iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions',
  'iam:CreatePolicyVersion', 'iam:DeletePolicyVersion', 'iam:ListEntitiesForPolicy', 'iam:TagPolicy',
  'iam:UntagPolicy',
];

/**
 * The role actions that IAM lets a policy tie to a permissions boundary (condition key
 * `iam:PermissionsBoundary`): CloudFormation may create a role, or change what it may do, only when
 * the role carries the app's boundary (IAM user guide, "Permissions boundaries for IAM entities":
 * delegating role management).
 */
const IAM_ROLE_ADMIN_WITH_BOUNDARY = [
  'iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:DetachRolePolicy',
  'iam:PutRolePermissionsBoundary',
];

/**
 * Everything a role of the app stack may ever be allowed, whatever policy the template gives it: the
 * calls its functions, state machine and service roles make (by service), and nothing of IAM, STS,
 * Organizations or any other service. A template that reached the pipeline and made a role trusting
 * another account could give it no more than this.
 */
export const APP_BOUNDARY_ACTIONS = [
  's3:*', 'sns:*', 'sqs:*', 'states:*', 'dynamodb:*', 'logs:*', 'xray:*',
  'lambda:InvokeFunction', 'bedrock:InvokeModel', 'kms:Decrypt', 'kms:GenerateDataKey',
] as const;

/**
 * The name of the managed policy every role of the app stack carries as its permissions boundary
 * (one per Region, as the execution policy: IAM names are account-wide). The access stack creates
 * it; the app stack applies it with context `permissionsBoundary=true`.
 */
export function appBoundaryName(region: string): string {
  return `imagegen-app-boundary-${region}`;
}

/**
 * The managed policies the app attaches: basic execution to CDK's bucket-notifications handler, and
 * the policy AWS documents for API Gateway's account-wide CloudWatch Logs role.
 */
export const ATTACHABLE_POLICIES = [
  'service-role/AWSLambdaBasicExecutionRole',
  'service-role/AmazonAPIGatewayPushToCloudWatchLogs',
] as const;

/**
 * The services the app's roles are passed to: its functions, its state machine, API Gateway's
 * logging, and AWS Budgets (the budget action's role).
 */
export const PASSED_TO_SERVICES = [
  'lambda.amazonaws.com', 'states.amazonaws.com', 'apigateway.amazonaws.com', 'budgets.amazonaws.com',
] as const;

/** What the diff job may read: the app stack's template and status, nothing else. */
export const DIFF_ACTIONS = ['cloudformation:DescribeStacks', 'cloudformation:GetTemplate'] as const;

export interface DeployAccessConfig {
  /** `OWNER/REPO`, or the immutable form `OWNER@ORG_ID/REPO@REPO_ID`. Context `githubRepo`. */
  readonly githubRepo: string;
  /** The GitHub environment the deploy job runs in. Context `githubEnvironment` (production). */
  readonly githubEnvironment: string;
  /** An existing GitHub OIDC provider (one per account); created when absent. Context `githubOidcProviderArn`. */
  readonly oidcProviderArn?: string;
  /** The CDK bootstrap qualifier. Context `cdkQualifier` (hnb659fds). */
  readonly cdkQualifier: string;
  /** The app stack's name, which prefixes its role names. Context `stackName` (Imagegen). */
  readonly appStackName: string;
}

const REPO = /^[A-Za-z0-9_.-]+(@\d+)?\/[A-Za-z0-9_.-]+(@\d+)?$/;
const ENVIRONMENT = /^[A-Za-z0-9_.-]{1,255}$/;
const QUALIFIER = /^[a-z0-9]{1,10}$/;
const PROVIDER_ARN = new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:oidc-provider/${GITHUB_OIDC_HOST.replace(/\./g, '\\.')}$`);

/** Reads the deploy-access settings; undefined when `githubRepo` is not given (no access stack). */
export function loadDeployAccessConfig(node: Node): DeployAccessConfig | undefined {
  const text = (key: string): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    const s = value === undefined || value === null ? '' : String(value).trim();
    return s === '' ? undefined : s;
  };
  const githubRepo = text('githubRepo');
  if (githubRepo === undefined) return undefined;
  const check = (key: string, value: string, pattern: RegExp, what: string): string => {
    if (!pattern.test(value)) throw new Error(`context ${key}=${value}: expected ${what}`);
    return value;
  };
  const providerArn = text('githubOidcProviderArn');
  return {
    githubRepo: check('githubRepo', githubRepo, REPO, 'OWNER/REPO (or OWNER@ORG_ID/REPO@REPO_ID)'),
    githubEnvironment: check('githubEnvironment', text('githubEnvironment') ?? 'production', ENVIRONMENT,
      'a GitHub environment name (letters, digits, ., _, -)'),
    oidcProviderArn: providerArn === undefined ? undefined
      : check('githubOidcProviderArn', providerArn, PROVIDER_ARN, `the ARN of the ${GITHUB_OIDC_HOST} OIDC provider`),
    cdkQualifier: check('cdkQualifier', text('cdkQualifier') ?? 'hnb659fds', QUALIFIER, 'a CDK bootstrap qualifier'),
    appStackName: text('stackName') ?? 'Imagegen',
  };
}

/** The `sub` claim of a job of `repo` running in `environment` (GitHub's format for environments). */
export function environmentSubject(repo: string, environment: string): string {
  return `repo:${repo}:environment:${environment}`;
}

/** The `sub` claim of a job of `repo` in no environment, run for `ref`. */
export function refSubject(repo: string, ref: string): string {
  return `repo:${repo}:ref:${ref}`;
}

/**
 * The `job_workflow_ref` claim of a job of the deploy workflow on main: `OWNER/REPO/<path>@<ref>`,
 * by name (the claim carries no ids, so the immutable `OWNER@ID/REPO@ID` form is dropped to names).
 */
export function deployWorkflowRef(repo: string): string {
  return `${repo.replace(/@\d+/g, '')}/${DEPLOY_WORKFLOW}@${DEPLOY_REF}`;
}

export interface DeployAccessStackProps extends StackProps {
  readonly config: DeployAccessConfig;
}

/**
 * What GitHub Actions needs to deploy the app, and nothing more: the account's GitHub OIDC provider,
 * a role only the deploy job of one repository's one environment can assume (StringEquals on `aud`
 * and `sub`), allowed only to assume this account's CDK deploy and file-publishing roles in this
 * region, and a CloudFormation execution policy for `cdk bootstrap --cloudformation-execution-policies`
 * that replaces the default AdministratorAccess.
 *
 * Deployed by a person, with their own credentials (the CLI-credentials synthesizer: no bootstrap
 * role, no CloudFormation execution role), so narrowing the execution policy never locks this stack
 * out of its own updates.
 */
export class DeployAccessStack extends Stack {
  readonly role: iam.Role;
  readonly diffRole: iam.Role;
  readonly executionPolicy: iam.ManagedPolicy;
  readonly appBoundary: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: DeployAccessStackProps) {
    super(scope, id, { ...props, synthesizer: new CliCredentialsStackSynthesizer() });
    const { config } = props;

    const provider = config.oidcProviderArn === undefined
      ? new iam.OidcProviderNative(this, 'GitHubOidc', {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIds: [OIDC_AUDIENCE],
        // Other repositories in the account may come to use the one provider an account can have.
        removalPolicy: RemovalPolicy.RETAIN,
      })
      : iam.OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidc', config.oidcProviderArn);

    this.role = new iam.Role(this, 'GitHubDeployRole', {
      description: `imagegen: GitHub Actions deploys from ${config.githubRepo}, environment ${config.githubEnvironment}`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        // StringEquals on all three, never StringLike: the token must name this repository's
        // environment and come from a job of deploy.yml on main.
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: OIDC_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: environmentSubject(config.githubRepo, config.githubEnvironment),
          [`${GITHUB_OIDC_HOST}:job_workflow_ref`]: deployWorkflowRef(config.githubRepo),
        },
      }),
    });
    this.role.addToPolicy(new iam.PolicyStatement({
      sid: 'AssumeCdkBootstrapRoles',
      actions: ['sts:AssumeRole', 'sts:TagSession'],
      resources: BOOTSTRAP_ROLES.map((kind) => this.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `cdk-${config.cdkQualifier}-${kind}-role-${this.account}-${this.region}`,
      })),
    }));

    // The diff job runs before the environment's approval, so it is in no environment: its token
    // names main and deploy.yml, and its role may only read the app stack's template.
    this.diffRole = new iam.Role(this, 'GitHubDiffRole', {
      description: `imagegen: GitHub Actions shows cdk diff from ${config.githubRepo}'s deploy workflow on main (read only)`,
      maxSessionDuration: Duration.hours(1),
      assumedBy: new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: {
          [`${GITHUB_OIDC_HOST}:aud`]: OIDC_AUDIENCE,
          [`${GITHUB_OIDC_HOST}:sub`]: refSubject(config.githubRepo, DEPLOY_REF),
          [`${GITHUB_OIDC_HOST}:job_workflow_ref`]: deployWorkflowRef(config.githubRepo),
        },
      }),
    });
    this.diffRole.addToPolicy(new iam.PolicyStatement({
      sid: 'ReadTheAppStackTemplate',
      actions: [...DIFF_ACTIONS],
      resources: [this.appStack(config)],
    }));

    this.appBoundary = new iam.ManagedPolicy(this, 'AppPermissionsBoundary', {
      managedPolicyName: appBoundaryName(this.region),
      description: 'imagegen: the permissions boundary of every role of the app stack (the services its roles call; of IAM only attaching the budget-spent Deny)',
      statements: [
        new iam.PolicyStatement({
          sid: 'AppServicesOnly',
          actions: [...APP_BOUNDARY_ACTIONS],
          resources: ['*'],
        }),
        // The budget action's role attaches the budget-spent Deny to generate-image's role: a Deny
        // takes permissions away, so this is the one IAM change the app's roles may make.
        new iam.PolicyStatement({
          sid: 'AttachOnlyTheBudgetSpentDeny',
          actions: ['iam:AttachRolePolicy', 'iam:DetachRolePolicy'],
          resources: [this.appRoles(config)],
          conditions: { ArnLike: { 'iam:PolicyARN': this.budgetSpentPolicies() } },
        }),
      ],
    });
    this.executionPolicy = new iam.ManagedPolicy(this, 'CfnExecutionPolicy', {
      managedPolicyName: `imagegen-cfn-execution-${this.region}`,
      description: 'imagegen: what CloudFormation may do when deploying the app (cdk bootstrap --cloudformation-execution-policies)',
      statements: this.executionStatements(config),
    });
    this.acknowledgeExecutionPolicy(config);

    new CfnOutput(this, 'DeployRoleArn', {
      value: this.role.roleArn,
      description: 'GitHub: environment secret AWS_DEPLOY_ROLE_ARN',
    });
    new CfnOutput(this, 'DiffRoleArn', {
      value: this.diffRole.roleArn,
      description: 'GitHub: repository secret AWS_DIFF_ROLE_ARN (cdk diff before the approval)',
    });
    new CfnOutput(this, 'AppBoundaryArn', {
      value: this.appBoundary.managedPolicyArn,
      description: 'The permissions boundary of the app stack\'s roles (synth the app with -c permissionsBoundary=true)',
    });
    new CfnOutput(this, 'ExecutionPolicyArn', {
      value: this.executionPolicy.managedPolicyArn,
      description: 'cdk bootstrap --cloudformation-execution-policies',
    });
  }

  /** Each wildcard of the execution policy by name, with why (DEPLOY.md explains the policy). */
  private acknowledgeExecutionPolicy(config: DeployAccessConfig): void {
    const policy = this.executionPolicy;
    for (const service of EXECUTION_SERVICES) {
      acknowledge(policy, `AwsSolutions-IAM5[Action::${service}:*]`,
        `CloudFormation execution policy: CloudFormation creates, updates and deletes the app's ${service} resources, whose names it generates at deploy time; it replaces the bootstrap default AdministratorAccess.`);
    }
    acknowledge(policy, 'AwsSolutions-IAM5[Resource::*]',
      'CloudFormation execution policy: the app services\' resources get generated names (and kms:CreateKey takes no resource), so the service, not the name, is the boundary; IAM is scoped to the app\'s roles by name.');
    acknowledge(policy, `AwsSolutions-IAM5[Resource::${nagRendered(this, this.appRoles(config))}]`,
      'CloudFormation names every role of the app stack <stackName>-<logicalId>-<suffix>; the prefix is the narrowest scope that names them all and no other role.');
    acknowledge(policy, `AwsSolutions-IAM5[Resource::${nagRendered(this, this.budgetSpentPolicies())}]`,
      'The app\'s only managed policy, the budget-spent Deny, gets a generated name under its own path; the path is the narrowest scope that names it and no other policy.');
    acknowledge(this.appBoundary, `AwsSolutions-IAM5[Resource::${nagRendered(this, this.appRoles(config))}]`,
      'The budget action may attach the budget-spent Deny to generate-image\'s role, whose name CloudFormation generates under the <stackName>- prefix; the condition allows only the Deny policies under their path.');
    acknowledge(this.diffRole, `AwsSolutions-IAM5[Resource::${nagRendered(this, this.appStack(config))}]`,
      'The app stack by name: CloudFormation appends a generated id to a stack\'s ARN, so a wildcard after the name is the narrowest grant that works.');
    for (const action of APP_BOUNDARY_ACTIONS.filter((a) => a.endsWith(':*'))) {
      acknowledge(this.appBoundary, `AwsSolutions-IAM5[Action::${action}]`,
        'A permissions boundary caps what the app\'s roles may be given, it grants nothing: each role\'s own policy names the exact actions and resources; the boundary keeps IAM, STS and every other service out of reach.');
    }
    acknowledge(this.appBoundary, 'AwsSolutions-IAM5[Resource::*]',
      'A permissions boundary caps, it grants nothing: the roles\' own policies scope every resource.');
  }

  /** The app stack, any of its incarnations (CloudFormation appends a generated id). */
  private appStack(config: DeployAccessConfig): string {
    return this.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${config.appStackName}/*` });
  }

  /** The budget-spent Deny policies, by their path (their names are generated). */
  private budgetSpentPolicies(): string {
    return this.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: `${FACTS.budgetSpentPolicyPath.slice(1)}*` });
  }

  /** Every role of the app stack: CloudFormation names them `<stackName>-<logicalId>-<suffix>`. */
  private appRoles(config: DeployAccessConfig): string {
    return this.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${config.appStackName}-*` });
  }

  private executionStatements(config: DeployAccessConfig): iam.PolicyStatement[] {
    const appRoles = this.appRoles(config);
    const boundary = this.formatArn({ service: 'iam', region: '', resource: 'policy', resourceName: appBoundaryName(this.region) });
    return [
      new iam.PolicyStatement({
        sid: 'AppServices',
        actions: EXECUTION_SERVICES.map((service) => `${service}:*`),
        resources: ['*'],
      }),
      new iam.PolicyStatement({ sid: 'KeyAdministrationOnly', actions: KMS_ADMIN, resources: ['*'] }),
      new iam.PolicyStatement({ sid: 'AppRolesOnly', actions: IAM_ROLE_ADMIN, resources: [appRoles] }),
      new iam.PolicyStatement({ sid: 'BudgetSpentPolicyOnly', actions: IAM_BUDGET_POLICY_ADMIN, resources: [this.budgetSpentPolicies()] }),
      new iam.PolicyStatement({
        sid: 'AppRolesOnlyWithTheBoundary',
        actions: IAM_ROLE_ADMIN_WITH_BOUNDARY,
        resources: [appRoles],
        conditions: { StringEquals: { 'iam:PermissionsBoundary': boundary } },
      }),
      new iam.PolicyStatement({
        sid: 'AttachOnlyTheAppsManagedPolicies',
        actions: ['iam:AttachRolePolicy'],
        resources: [appRoles],
        conditions: {
          ArnEquals: {
            'iam:PolicyARN': ATTACHABLE_POLICIES.map((name) => Arn.format({
              partition: this.partition, service: 'iam', region: '', account: 'aws', resource: 'policy', resourceName: name,
            })),
          },
          StringEquals: { 'iam:PermissionsBoundary': boundary },
        },
      }),
      // Explicit, so no later Allow (another policy on the execution role) can undo the boundary.
      new iam.PolicyStatement({
        sid: 'NeverLiftTheBoundary',
        effect: iam.Effect.DENY,
        actions: ['iam:DeleteRolePermissionsBoundary'],
        resources: [appRoles],
      }),
      new iam.PolicyStatement({
        sid: 'NeverChangeTheBoundary',
        effect: iam.Effect.DENY,
        actions: ['iam:CreatePolicyVersion', 'iam:DeletePolicy', 'iam:DeletePolicyVersion', 'iam:SetDefaultPolicyVersion'],
        resources: [boundary],
      }),
      new iam.PolicyStatement({
        sid: 'PassAppRolesToItsServices',
        actions: ['iam:PassRole'],
        resources: [appRoles],
        conditions: { StringEquals: { 'iam:PassedToService': [...PASSED_TO_SERVICES] } },
      }),
      new iam.PolicyStatement({
        sid: 'ReadBootstrapVersion',
        actions: ['ssm:GetParameters', 'ssm:GetParameter'],
        resources: [this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `cdk-bootstrap/${config.cdkQualifier}/version` })],
      }),
    ];
  }
}
