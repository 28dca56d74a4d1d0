import { Template } from 'aws-cdk-lib/assertions';
import { FACTS } from '../lib/config';
import { synthesize } from './helpers';

describe('model-slot table', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('one table keyed by the model id (the key the Rust adapter writes, from facts.json)', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: FACTS.modelSlotTable.partitionKey, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: FACTS.modelSlotTable.partitionKey, AttributeType: 'S' }],
    });
    expect(FACTS.modelSlotTable.partitionKey).toBe('modelId');
  });

  test('on demand, encrypted with the AWS managed key, point-in-time recovery, destroyed with the stack', () => {
    const [table] = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(table.Properties.ProvisionedThroughput).toBeUndefined();
    expect(table.DeletionPolicy).toBe('Delete');
  });
});
