import { Match, Template } from 'aws-cdk-lib/assertions';
import { CONSOLE_INPUT_EXAMPLE } from '../lib/imagegen-stack';
import { synthesize } from './helpers';

describe('stack outputs (read by the Rust CLI: names are a contract)', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('BucketName, StateMachineArn, TopicArn, ConsoleInputExample', () => {
    template.hasOutput('BucketName', { Value: { Ref: Match.stringLikeRegexp('^StoreBucket') } });
    template.hasOutput('StateMachineArn', { Value: { Ref: Match.stringLikeRegexp('^Pipeline') } });
    template.hasOutput('TopicArn', { Value: { Ref: Match.stringLikeRegexp('^ResultsTopic') } });
    template.hasOutput('ConsoleInputExample', { Value: CONSOLE_INPUT_EXAMPLE });
    template.hasOutput('OpsTopicArn', { Value: { Ref: Match.stringLikeRegexp('^OpsTopic') } });
    template.hasOutput('FailedTriggersQueueUrl', { Value: { Ref: Match.stringLikeRegexp('^FailedTriggers') } });
  });

  test('the console example is ready-to-paste JSON the pipeline accepts', () => {
    expect(JSON.parse(CONSOLE_INPUT_EXAMPLE)).toEqual({ prompt: 'a lighthouse at dusk', width: 1024, height: 1024, seed: 42 });
  });
});
