import * as fs from 'fs';
import * as path from 'path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { RustFunction } from 'cargo-lambda-cdk';
import { Construct } from 'constructs';

/** The Lambda crates; each builds a binary of the same name. */
export type CrateName =
  | 'start-execution'
  | 'validate-prompt'
  | 'reserve-model-slot'
  | 'generate-image'
  | 'generate-thumbnails'
  | 'notify-user'
  | 'notify-backstop'
  | 'http-api'
  | 'queue-consumer';

/** Where the crates live: <repo>/functions/<crate>/Cargo.toml. */
export const DEFAULT_FUNCTIONS_DIR = path.join(__dirname, '../../../functions');

export interface PipelineFunctionProps {
  readonly crate: CrateName;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  /** Application log level: Lambda sets AWS_LAMBDA_LOG_LEVEL, which the functions honour. */
  readonly logLevel: lambda.ApplicationLogLevel;
  /** Directory holding the crates (tests point it at fixtures). */
  readonly functionsDir?: string;
  /**
   * A directory of zips already built for arm64 by `scripts/build-lambdas.sh`
   * (`<dir>/<crate>/bootstrap.zip`): the asset is that zip, and synth builds nothing. Without it,
   * cargo-lambda-cdk builds the crate during synth.
   */
  readonly prebuiltZipsDir?: string;
  /** A cap on this function's parallel invocations (Lambda reserved concurrency); none when unset. */
  readonly reservedConcurrentExecutions?: number;
  /** Async invocation settings (only the S3-triggered function uses them). */
  readonly onFailure?: lambda.IDestination;
  readonly retryAttempts?: number;
  readonly maxEventAge?: Duration;
}

/**
 * A Rust Lambda (cargo-lambda-cdk, arm64, provided.al2023) with its own role, its own log group
 * and X-Ray tracing. The role starts empty apart from writing to that one log group: callers add
 * exactly the statements the function uses with `addToPolicy`.
 */
export class PipelineFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `imagegen ${props.crate}: only what the function uses`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const common = {
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      // JSON format is what enables Lambda's log-level controls (the functions log JSON lines).
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: props.logLevel,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      environment: props.environment,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      onFailure: props.onFailure,
      retryAttempts: props.retryAttempts,
      maxEventAge: props.maxEventAge,
    };
    if (props.prebuiltZipsDir !== undefined) {
      // The same artifact RustFunction would bundle (cargo-lambda's arm64 `bootstrap` for
      // provided.al2023), built once by scripts/build-lambdas.sh instead of again here.
      const zip = path.join(props.prebuiltZipsDir, props.crate, 'bootstrap.zip');
      if (!fs.existsSync(zip)) {
        throw new Error(`${zip} is missing: run scripts/build-lambdas.sh first, or synth without prebuilt zips`);
      }
      this.function = new lambda.Function(this, 'Function', {
        ...common,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        handler: 'bootstrap',
        code: lambda.Code.fromAsset(zip),
      });
    } else {
      const functionsDir = props.functionsDir ?? DEFAULT_FUNCTIONS_DIR;
      this.function = new RustFunction(this, 'Function', {
        ...common,
        manifestPath: path.join(functionsDir, props.crate, 'Cargo.toml'),
        binaryName: props.crate,
        runtime: 'provided.al2023',
      });
    }
  }

  /** Adds a statement to this function's role (and nothing else's). */
  addToPolicy(statement: iam.PolicyStatement): void {
    this.role.addToPolicy(statement);
  }
}
