import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SecureTopic } from '../lib/constructs/secure-topic';
import { synthesize } from './helpers';

type Statement = Record<string, any>;

/** The statements of the topic policy of the topic whose logical id starts with `prefix`. */
function topicStatements(template: Template, prefix: string): Statement[] {
  const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy'))
    .filter((p) => (p.Properties.Topics as Array<{ Ref: string }>)[0].Ref.startsWith(`${prefix}Topic`));
  expect(policies).toHaveLength(1);
  return policies[0].Properties.PolicyDocument.Statement as Statement[];
}

const bySid = (statements: Statement[], sid: string) => statements.find((s) => s.Sid === sid);

describe('who can mail our users: the results topic', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('nobody but the notify-user and notify-backstop roles may publish, whatever their IAM policies allow', () => {
    expect(bySid(topicStatements(template, 'Results'), 'OnlyThePipelinePublishes')).toEqual({
      Sid: 'OnlyThePipelinePublishes',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sns:Publish',
      Resource: { Ref: expect.stringMatching(/^ResultsTopic/) },
      Condition: {
        ArnNotEquals: {
          'aws:PrincipalArn': [
            { 'Fn::GetAtt': [expect.stringMatching(/^NotifyUserRole/), 'Arn'] },
            { 'Fn::GetAtt': [expect.stringMatching(/^NotifyBackstopRole/), 'Arn'] },
          ],
        },
      },
    });
  });

  test('the only subscription anyone may make is email to the configured address', () => {
    const statements = topicStatements(template, 'Results');
    const subscribe = { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sns:Subscribe', Resource: { Ref: expect.stringMatching(/^ResultsTopic/) } };
    expect(bySid(statements, 'EmailSubscriptionsOnly')).toEqual({
      Sid: 'EmailSubscriptionsOnly', ...subscribe, Condition: { StringNotEquals: { 'sns:Protocol': 'email' } },
    });
    expect(bySid(statements, 'OnlyTheConfiguredAddress')).toEqual({
      Sid: 'OnlyTheConfiguredAddress', ...subscribe,
      // The Email parameter: when it is empty, no endpoint equals it and nobody may subscribe.
      Condition: { StringNotEqualsIgnoreCase: { 'sns:Endpoint': { Ref: 'Email' } } },
    });
  });

  test('a locked topic without any address lets nobody subscribe at all', () => {
    const stack = new Stack(new App(), 'T');
    const topic = new SecureTopic(stack, 'Locked', { displayName: 'x', locked: true });
    topic.allowPublisher(new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::SNS::TopicPolicy'))[0]
      .Properties.PolicyDocument.Statement as Statement[];
    expect(bySid(statements, 'NoSubscriptions')).toMatchObject({ Effect: 'Deny', Action: 'sns:Subscribe' });
    expect(bySid(statements, 'NoSubscriptions')?.Condition).toBeUndefined();
    expect(bySid(statements, 'OnlyTheConfiguredAddress')).toBeUndefined();
  });

  test('the publisher may use the topic key only through SNS in this region', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^NotifyUserRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Sid: 'UseTopicKey',
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ResultsKey'), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': 'sns.us-east-1.amazonaws.com' } },
        }]),
      },
    });
  });

  test('the alarms topic stays open to CloudWatch (a PrincipalArn deny would shut out the service)', () => {
    const sids = topicStatements(template, 'Ops').map((s) => s.Sid);
    expect(sids).not.toContain('OnlyThePipelinePublishes');
    expect(sids).toContain('AllowCloudWatchAlarmsToPublish');
  });

  test('a locked topic with no publisher fails the synth (self-test)', () => {
    const stack = new Stack(new App(), 'T');
    new SecureTopic(stack, 'Locked', { displayName: 'x', locked: true });
    expect(() => Template.fromStack(stack)).toThrow(/a locked topic needs allowPublisher/);
  });
});
