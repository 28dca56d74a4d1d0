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

  test('the front doors: ApiUrl (the stage URL), the routes\' invoke ARNs, the queue, its key and dead letters', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.ApiUrl.Value)).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",\{"Ref":"Api[0-9A-F]{8}"\},"\.execute-api\.us-east-1\.".*\{"Ref":"ApiDeploymentStageprod[0-9A-F]{8}"\},"\/"\]\]\}$/);
    const arns = JSON.stringify(outputs.ApiInvokeArns.Value);
    expect(arns).toContain('/prod/POST/generate-image');
    expect(arns).toContain('/prod/GET/images/*');
    template.hasOutput('PromptQueueUrl', { Value: { Ref: Match.stringLikeRegexp('^PromptsQueue') } });
    template.hasOutput('PromptQueueKeyArn', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^PromptsKey'), 'Arn'] } });
    template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: Match.stringLikeRegexp('^PromptsDeadLetters') } });
  });

  test('the console example is ready-to-paste JSON the pipeline accepts', () => {
    expect(JSON.parse(CONSOLE_INPUT_EXAMPLE)).toEqual({ prompt: 'a lighthouse at dusk', width: 1024, height: 1024, seed: 42 });
  });
});
