import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImagegenStack } from '../lib/imagegen-stack';

export const CRATES = [
  'start-execution',
  'validate-prompt',
  'reserve-model-slot',
  'generate-image',
  'generate-thumbnails',
  'notify-user',
  'notify-backstop',
  'http-api',
  'queue-consumer',
] as const;

let fixtureDir: string | undefined;

/**
 * A temporary functions/ dir with a minimal Cargo.toml per crate, so template tests neither need nor
 * build the Rust crates (kept out of the repo, where cargo would see stray manifests).
 */
export function fixtureFunctionsDir(): string {
  if (fixtureDir === undefined) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagegen-cdk-crates-'));
    for (const crate of CRATES) {
      fs.mkdirSync(path.join(dir, crate));
      fs.writeFileSync(path.join(dir, crate, 'Cargo.toml'), `[package]\nname = "${crate}"\nversion = "0.0.0"\n`);
    }
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    fixtureDir = dir;
  }
  return fixtureDir;
}

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
    functionsDir: fixtureFunctionsDir(),
  });
  return { app, stack, template: Template.fromStack(stack) };
}
