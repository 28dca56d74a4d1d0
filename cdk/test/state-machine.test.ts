import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { FACTS } from '../lib/config';
import { DEFINITION_FILE } from '../lib/imagegen-stack';
import { synthesize } from './helpers';

const FUNCTION_FOR_PLACEHOLDER = {
  ValidatePromptFunctionArn: 'ValidatePromptFunction',
  ReserveModelSlotFunctionArn: 'ReserveModelSlotFunction',
  GenerateImageFunctionArn: 'GenerateImageFunction',
  GenerateThumbnailsFunctionArn: 'GenerateThumbnailsFunction',
  NotifyUserFunctionArn: 'NotifyUserFunction',
} as const;

function aslValidator(file: string): { status: number | null; output: string } {
  const bin = path.join(__dirname, '../node_modules/.bin/asl-validator');
  const result = spawnSync(bin, ['--json-path', file], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Retrier { MaxAttempts?: number; IntervalSeconds?: number; BackoffRate?: number; MaxDelaySeconds?: number }
interface State { Type: string; TimeoutSeconds?: number; Seconds?: number; Retry?: Retrier[] }

/**
 * The longest an execution can run while every state keeps to its own limits: each Task state once,
 * every attempt its retriers allow running to its TimeoutSeconds, plus the waits between attempts
 * (ASL defaults: 3 attempts, 1 s, rate 2.0). Summing all tasks bounds any path through the machine.
 */
function worstCaseSeconds(definition: { States: Record<string, State> }): number {
  let total = 0;
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Wait') { total += state.Seconds ?? Infinity; continue; }
    if (state.Type !== 'Task') {
      if (['Pass', 'Choice', 'Succeed', 'Fail'].includes(state.Type)) continue;
      throw new Error(`${name}: a ${state.Type} state; extend worstCaseSeconds to bound it`);
    }
    if (state.TimeoutSeconds === undefined) throw new Error(`${name}: a Task without TimeoutSeconds has no bound`);
    let attempts = 1;
    for (const r of state.Retry ?? []) {
      const max = r.MaxAttempts ?? 3;
      attempts += max;
      for (let i = 0; i < max; i++) total += Math.min((r.IntervalSeconds ?? 1) * (r.BackoffRate ?? 2) ** i, r.MaxDelaySeconds ?? Infinity);
    }
    total += attempts * state.TimeoutSeconds;
  }
  return total;
}

describe('state machine', () => {
  let template: Template;
  beforeAll(() => {
    template = synthesize().template;
  });

  test('Standard type, loaded from the ASL file, logs ALL events without execution data (no prompts), X-Ray on', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      DefinitionS3Location: Match.objectLike({ Key: Match.stringLikeRegexp('\\.json$') }),
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{
          CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ExecutionLogs'), 'Arn'] } },
        }],
      },
      TracingConfiguration: { Enabled: true },
    });
  });

  test('logExecutionData=true puts inputs and outputs in the log, for debugging', () => {
    synthesize({ logExecutionData: 'true' }).template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
  });

  test('definitionSubstitutions resolve each placeholder to the right function', () => {
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const substitutions = sm.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(Object.keys(FUNCTION_FOR_PLACEHOLDER).sort());
    for (const [placeholder, fnPrefix] of Object.entries(FUNCTION_FOR_PLACEHOLDER)) {
      expect(substitutions[placeholder]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${fnPrefix}`)), 'Arn'] });
    }
  });

  test('every ${Placeholder} in the ASL file has a substitution, and no substitution is unused', () => {
    const text = fs.readFileSync(DEFINITION_FILE, 'utf8');
    const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...used].sort()).toEqual(Object.keys(FUNCTION_FOR_PLACEHOLDER).sort());
  });

  test('its role may invoke exactly the five pipeline functions and nothing else in Lambda', () => {
    const sm = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0];
    const roleId = sm.Properties.RoleArn['Fn::GetAtt'][0] as string;
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
    const lambdaStatements = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('lambda:')));
    expect(lambdaStatements).toHaveLength(1);
    expect(lambdaStatements[0].Action).toBe('lambda:InvokeFunction');
    const targets = (lambdaStatements[0].Resource as Array<{ 'Fn::GetAtt': [string, string] }>)
      .map((r) => r['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, '')).sort();
    expect(targets).toEqual(Object.values(FUNCTION_FOR_PLACEHOLDER).sort());
  });

  test('every error name the definition retries or catches is AWS\'s own or one the Rust code raises (facts.json)', () => {
    const names = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) { node.forEach(walk); return; }
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'ErrorEquals' && Array.isArray(value)) value.forEach((n) => names.add(String(n)));
        else walk(value);
      }
    };
    walk(JSON.parse(fs.readFileSync(DEFINITION_FILE, 'utf8')));
    expect(names.size).toBeGreaterThan(0);
    for (const name of names) {
      if (name.startsWith('States.') || name.startsWith('Lambda.')) continue;
      expect(FACTS.errorNames).toContain(name);
    }
  });

  test('every state but the wait for a model slot is bounded, so only a queue holds a run for long', () => {
    const definition = JSON.parse(fs.readFileSync(DEFINITION_FILE, 'utf8')) as { TimeoutSeconds?: number; States: Record<string, State> };
    // The wait for a slot lasts as long as the queue ahead (count / quota): a burst of any size is
    // worked off, so nothing else may be unbounded, and no machine-wide timeout may cut the queue short.
    const { WaitForModelSlot, ...rest } = definition.States;
    expect(WaitForModelSlot).toBeDefined();
    const worst = worstCaseSeconds({ States: rest });
    expect(worst).toBeLessThan(4 * 3600);
    expect(definition.TimeoutSeconds).toBeUndefined();
  });

  test('worstCaseSeconds counts attempts, backoff caps and defaults (self-test)', () => {
    expect(worstCaseSeconds({ States: {
      A: { Type: 'Task', TimeoutSeconds: 10, Retry: [{ MaxAttempts: 2, IntervalSeconds: 5, BackoffRate: 3, MaxDelaySeconds: 10 }] },
      B: { Type: 'Task', TimeoutSeconds: 1, Retry: [{}] },
      W: { Type: 'Wait', Seconds: 7 },
      P: { Type: 'Pass' },
    } })).toBe(3 * 10 + 5 + 10 + 4 * 1 + 1 + 2 + 4 + 7);
    expect(() => worstCaseSeconds({ States: { T: { Type: 'Task' } } })).toThrow(/no bound/);
    expect(() => worstCaseSeconds({ States: { M: { Type: 'Map' } } })).toThrow(/extend/);
  });

  test('every model call waits for a slot of its own: no retry of GenerateImage calls Bedrock outside one', () => {
    interface State {
      Type: string; Next?: string; TimestampPath?: string; TimeoutSeconds?: number; ResultPath?: string;
      Retry?: Array<{ ErrorEquals: string[] }>; Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string }>;
    }
    const asl = JSON.parse(fs.readFileSync(DEFINITION_FILE, 'utf8')) as { TimeoutSeconds?: number; States: Record<string, State> };
    const s = asl.States;
    expect(s.ValidatePrompt.Next).toBe('ReserveModelSlot');
    expect(s.ReserveModelSlot).toMatchObject({ Type: 'Task', ResultPath: '$.modelSlot', Next: 'WaitForModelSlot' });
    expect(s.WaitForModelSlot).toMatchObject({ Type: 'Wait', TimestampPath: '$.modelSlot.at', Next: 'GenerateImage' });
    // Only Lambda's own invoke errors (the function did not run) are retried in place.
    for (const retry of s.GenerateImage.Retry ?? []) {
      for (const name of retry.ErrorEquals) expect(name).toMatch(/^Lambda\./);
    }
    const again = (s.GenerateImage.Catch ?? []).find((c) => c.Next === 'ReserveModelSlot');
    // A retired model goes back too: ReserveModelSlot moves the request to its fallback, or ends it.
    expect(again?.ErrorEquals.sort())
      .toEqual(['ModelRetired', 'ModelThrottled', 'ModelUnavailable', 'States.Timeout', 'StorageError']);
    expect(again?.ResultPath).toBe('$.modelSlot.lastError');
    // A long queue waits in the Wait state: no machine-wide timeout may cut it short.
    expect(asl.TimeoutSeconds).toBeUndefined();
  });

  test('asl-validator accepts the definition', () => {
    const { status, output } = aslValidator(DEFINITION_FILE);
    expect(output).toContain('is valid');
    expect(status).toBe(0);
  });

  test('asl-validator rejects a broken definition (the check is live)', () => {
    const broken = JSON.parse(fs.readFileSync(DEFINITION_FILE, 'utf8')) as { States: Record<string, { Next?: string }> };
    broken.States.ValidatePrompt.Next = 'NoSuchState';
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'asl-')), 'broken.asl.json');
    fs.writeFileSync(file, JSON.stringify(broken));
    expect(aslValidator(file).status).not.toBe(0);
  });
});
