import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { FACTS } from '../config';

/**
 * The model-slot schedules: one item per model and pool, `{modelId, nextAt}` (`modelId` is the model id, or
 * `MODEL@POOL` for a pool of `modelPools`), which reserve-model-slot moves on
 * by one slot (60 s / quota) per reservation with a conditional UpdateItem, so every execution gets
 * its own time to call Bedrock. On demand (a burst of 1,000 prompts is 1,000 to 2,000 writes, then
 * nothing), encrypted with the AWS managed key, point-in-time recovery on (cdk-nag DDB3; the table
 * holds one small item per model, so it costs nothing). Destroyed with the stack: a schedule outlives
 * no execution.
 */
export class ModelSlots extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: FACTS.modelSlotTable.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  /**
   * What reserve-model-slot needs: UpdateItem on this table, and GetItem when a model has several
   * pools (a reservation reads each pool's schedule to take the earliest); no other table.
   */
  reserveStatement(readsSchedules: boolean): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'ReserveModelSlots',
      actions: readsSchedules ? ['dynamodb:UpdateItem', 'dynamodb:GetItem'] : ['dynamodb:UpdateItem'],
      resources: [this.table.tableArn],
    });
  }
}
