import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FACTS } from '../config';
import { acknowledge } from '../nag';

/** The S3 key layout, from the Rust side's facts (`imagegen_core::keys`). */
export const PREFIXES = FACTS.prefixes;

/** Prefixes whose objects the pipeline writes and the lifecycle rule expires. */
export const OUTPUT_PREFIXES = [
  PREFIXES.images,
  PREFIXES.thumbnails,
  PREFIXES.results,
  PREFIXES.notifications,
] as const;

export interface ImageStoreProps {
  /** Days before generated outputs expire. */
  readonly outputExpirationDays: number;
  /** Days before uploaded prompt files expire (they hold what people asked for). */
  readonly promptExpirationDays: number;
  /** Days before server access logs expire. */
  readonly accessLogExpirationDays: number;
}

/**
 * The prompts/outputs bucket (private, TLS only, SSE-S3, prompts and outputs expire) and the separate bucket that
 * receives its server access logs.
 */
export class ImageStore extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ImageStoreProps) {
    super(scope, id);

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Server access log delivery supports SSE-S3 only, not SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(props.accessLogExpirationDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(this.accessLogBucket, 'AwsSolutions-S1',
      'This bucket is the access-log destination of the image bucket; logging it too would need a third bucket or log into itself (a delivery loop).');

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'image-bucket/',
      lifecycleRules: [
        ...OUTPUT_PREFIXES.map((prefix) => ({
          id: `Expire-${prefix.replace('/', '')}`,
          prefix,
          expiration: Duration.days(props.outputExpirationDays),
        })),
        { id: 'Expire-prompts', prefix: PREFIXES.prompts, expiration: Duration.days(props.promptExpirationDays) },
        { id: 'AbortIncompleteUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** ARN pattern for the objects under one prefix, e.g. `<bucketArn>/images/*`. */
  objectsUnder(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }
}
