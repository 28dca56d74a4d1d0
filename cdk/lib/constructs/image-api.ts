import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FACTS } from '../config';
import { acknowledge } from '../nag';

export interface ImageApiProps {
  /** The http-api function every route is integrated with (Lambda proxy). */
  readonly handler: lambda.IFunction;
  /**
   * Throttling of each route by its method (a route's method names it: facts.json has one route per
   * method): steady requests per second and burst. The stage as a whole takes their sum.
   */
  readonly throttling: Record<string, Throttle>;
  readonly logRetention: logs.RetentionDays;
  /** Set the account's API Gateway CloudWatch Logs role (needed for access logs; one per account and region). */
  readonly accountLogRole: boolean;
}

/** A steady rate (requests per second) and the burst taken at once above it. */
export interface Throttle {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

/** The stage the API is deployed to (the last segment of its URL). */
export const STAGE = 'prod';

/**
 * Each request's access log line: who (the IAM caller), what (route, status), how long, and why it
 * failed; `requestId` and `extendedRequestId` as AWS asks of every access log format.
 */
export const ACCESS_LOG_FIELDS = {
  requestId: apigateway.AccessLogField.contextRequestId(),
  extendedRequestId: apigateway.AccessLogField.contextExtendedRequestId(),
  requestTime: apigateway.AccessLogField.contextRequestTime(),
  caller: apigateway.AccessLogField.contextIdentityCaller(),
  userArn: apigateway.AccessLogField.contextIdentityUserArn(),
  sourceIp: apigateway.AccessLogField.contextIdentitySourceIp(),
  httpMethod: apigateway.AccessLogField.contextHttpMethod(),
  resourcePath: apigateway.AccessLogField.contextResourcePath(),
  status: apigateway.AccessLogField.contextStatus(),
  responseLength: apigateway.AccessLogField.contextResponseLength(),
  responseLatency: apigateway.AccessLogField.contextResponseLatency(),
  integrationLatency: apigateway.AccessLogField.contextIntegrationLatency(),
  errorMessage: apigateway.AccessLogField.contextErrorMessage(),
  errorType: apigateway.AccessLogField.contextErrorResponseType(),
};

/**
 * The HTTP API: a regional REST API whose routes (from the Rust side, facts.json) all use IAM
 * authorization and proxy to one function. Throttling per route caps the rate at which anyone, however
 * authorized, can start model calls, and keeps polling from taking that rate; access logs go to a log group encrypted with its own key.
 *
 * The request body limit is the function's own check (ValidatePrompt's MAX_PROMPT_FILE_BYTES, the
 * same limit as a prompt file, answered 413): API Gateway models cannot bound a body's size, and a
 * JSON Schema copy of the request rules would be a second home for them.
 */
export class ImageApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogs: logs.LogGroup;
  readonly logKey: kms.Key;
  readonly methods: apigateway.Method[] = [];

  constructor(scope: Construct, id: string, props: ImageApiProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroupName = `/aws/apigateway/${stack.stackName}-api-access`;

    this.logKey = new kms.Key(this, 'LogKey', {
      description: 'imagegen: encrypts the HTTP API access logs',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch Logs encrypts with the key only for this log group (the statement AWS documents).
    this.logKey.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsForTheAccessLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [
        'kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo',
        'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey',
      ],
      resources: ['*'],
      conditions: {
        ArnEquals: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }));
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName,
      encryptionKey: this.logKey,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const throttle = (method: string): Throttle => {
      const found = props.throttling[method];
      if (found === undefined) throw new Error(`ImageApi: no throttling for the API's ${method} route`);
      return found;
    };
    const routes = FACTS.api.routes;
    const methodOptions = Object.fromEntries(routes.map((route) => [`${route.resource}/${route.method}`, {
      throttlingRateLimit: throttle(route.method).rateLimit,
      throttlingBurstLimit: throttle(route.method).burstLimit,
    }]));
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${stack.stackName}-api`,
      description: 'imagegen: POST /generate-image, GET /images/{requestId} (IAM authorization)',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: props.accountLogRole,
      // The setting is the account's, for every REST API in the region: it stays when this stack goes.
      ...(props.accountLogRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      deployOptions: {
        stageName: STAGE,
        // The whole stage takes what its routes take together; each route is held to its own share.
        throttlingRateLimit: routes.reduce((sum, route) => sum + throttle(route.method).rateLimit, 0),
        throttlingBurstLimit: routes.reduce((sum, route) => sum + throttle(route.method).burstLimit, 0),
        methodOptions,
        metricsEnabled: true,
        tracingEnabled: true,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });
    const integration = new apigateway.LambdaIntegration(props.handler, { proxy: true });
    for (const route of routes) {
      const resource = route.resource.split('/').filter((part) => part !== '')
        .reduce<apigateway.IResource>((parent, part) => parent.getResource(part) ?? parent.addResource(part), this.api.root);
      this.methods.push(resource.addMethod(route.method, integration, {
        authorizationType: apigateway.AuthorizationType.IAM,
      }));
    }
    this.acknowledgeFindings();
  }

  /** Each acknowledgement names one finding on one construct; see DEPLOY.md for the list. */
  private acknowledgeFindings(): void {
    acknowledge(this.api, 'AwsSolutions-APIG2',
      'The function validates each request with ValidatePrompt\'s rules (one home for them) and answers 400 listing every problem, 413 over the body limit; an API Gateway model would be a second copy of the rules that drifts, answering one problem at a time.');
    const stage = this.api.deploymentStage;
    acknowledge(stage, 'AwsSolutions-APIG3',
      'IAM authorization refuses every unsigned request before the function runs, and stage throttling caps the rate of signed ones; a WAF web ACL would add per-request fees for rules that have no anonymous traffic to act on.');
    acknowledge(stage, 'AwsSolutions-APIG6',
      'Execution logs would go to a log group API Gateway creates itself (kept forever, not encrypted with our key); the access log records every request (caller, route, status, latency, integration error) in this stack\'s encrypted log group, and the function logs its own errors.');
    for (const method of this.methods) {
      acknowledge(method, 'AwsSolutions-COG4',
        'The callers are IAM principals of this account (applications, batch jobs, the imagegen CLI) signing with SigV4, not end users with Cognito accounts: IAM authorization is the API\'s authentication.');
    }
    const role = this.api.node.tryFindChild('CloudWatchRole');
    if (role !== undefined) {
      acknowledge(role, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        'The account-wide role API Gateway writes REST API logs with (access logs need it): AWS documents this managed policy for it, and it allows CloudWatch Logs only (create groups and streams, put and read events); context apiGatewayCloudWatchRole=false leaves an existing one in place.');
    }
  }

  /** The stage's URL (`https://ID.execute-api.REGION.amazonaws.com/prod/`). */
  get url(): string {
    return this.api.url;
  }

  /** `execute-api:Invoke` on one route of the deployed stage, for a caller's policy. */
  invokeArn(method: string, resource: string): string {
    return this.api.arnForExecuteApi(method, resource.replace(/\{[^}]+\}/g, '*'), STAGE);
  }
}
