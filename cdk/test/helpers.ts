import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImagegenStack } from '../lib/imagegen-stack';

/** Minimal Cargo.toml per crate, so template tests neither need nor build the Rust crates. */
export const FIXTURE_FUNCTIONS_DIR = path.join(__dirname, 'fixtures/functions');

/** The context committed in cdk.json (feature flags and imagegen defaults). */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '../cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface Synthesized {
  readonly app: App;
  readonly stack: ImagegenStack;
  readonly template: Template;
}

/** Builds the stack like bin/imagegen.ts does, minus Rust bundling; `context` overrides cdk.json. */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new ImagegenStack(app, 'Imagegen', {
    env: { account: '123456789012', region: 'us-east-1' },
    functionsDir: FIXTURE_FUNCTIONS_DIR,
  });
  return { app, stack, template: Template.fromStack(stack) };
}
