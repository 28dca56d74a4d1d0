import { Match, Template } from 'aws-cdk-lib/assertions';
import { BACKSTOP_STATUSES } from '../lib/imagegen-stack';
import { synthesize } from './helpers';

// Executions that end outside the state machine's catches (States.DataLimitExceeded, a machine-level
// time-out, an abort) still get their email: an EventBridge rule sends this state machine's
// FAILED/TIMED_OUT/ABORTED status changes to notify-backstop, which emails unless notify-user did.
describe('the backstop rule', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synthesize());
  });

  test('matches this state machine\'s executions that ended FAILED, TIMED_OUT or ABORTED', () => {
    expect([...BACKSTOP_STATUSES]).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        'source': ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        'detail': {
          stateMachineArn: [{ Ref: Match.stringLikeRegexp('^Pipeline') }],
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
        },
      },
    });
  });

  test('targets notify-backstop, with retries, and EventBridge may invoke only that function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotifyBackstopFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
      })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NotifyBackstopFunction'), 'Arn'] },
      SourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BackstopRule'), 'Arn'] },
    });
  });

  test('notify-user and notify-backstop share the notifications/ records in the same bucket', () => {
    const env = (prefix: string) => Object.entries(template.findResources('AWS::Lambda::Function'))
      .find(([id]) => id.startsWith(`${prefix}Function`))?.[1].Properties.Environment.Variables;
    expect(env('NotifyUser').OUTPUT_BUCKET).toEqual(env('NotifyBackstop').OUTPUT_BUCKET);
    expect(env('NotifyUser').TOPIC_ARN).toEqual(env('NotifyBackstop').TOPIC_ARN);
    expect(env('NotifyBackstop').OUTPUT_BUCKET).toEqual({ Ref: expect.stringMatching(/^StoreBucket/) });
  });
});
