import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ImagegenStack } from '../lib/imagegen-stack';
import { CRATES, cdkJsonContext } from './helpers';

// The test command builds the arm64 zips once (scripts/build-lambdas.sh) and synthesizes with them
// as the functions' assets (IMAGEGEN_LAMBDA_ZIPS), instead of cargo-lambda-cdk building them again.
describe('functions from prebuilt zips', () => {
  function zipsDir(crates: readonly string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagegen-zips-'));
    for (const crate of crates) {
      fs.mkdirSync(path.join(dir, crate));
      // Any bytes do: the asset is staged as it is, and its hash names it.
      fs.writeFileSync(path.join(dir, crate, 'bootstrap.zip'), `zip of ${crate}`);
    }
    return dir;
  }

  function stack(prebuiltZipsDir: string): ImagegenStack {
    const app = new App({ context: cdkJsonContext(), outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'imagegen-out-')) });
    return new ImagegenStack(app, 'Imagegen', { env: { account: '123456789012', region: 'us-east-1' }, prebuiltZipsDir });
  }

  test('every function is the arm64 bootstrap from its zip, as RustFunction would bundle it', () => {
    const template = Template.fromStack(stack(zipsDir(CRATES)));
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Handler?: string; Runtime?: string; Architectures?: string[]; Code?: { S3Key?: unknown } };
    }[];
    // Nine pipeline functions, plus the CDK's own helper for S3 notifications (not ours).
    const ours = functions.filter((f) => f.Properties.Runtime === 'provided.al2023');
    expect(ours).toHaveLength(CRATES.length);
    for (const f of ours) {
      expect(f.Properties.Handler).toBe('bootstrap');
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(String(f.Properties.Code?.S3Key)).toMatch(/\.zip$/);
    }
    // Each zip its own asset: nine different hashes.
    expect(new Set(ours.map((f) => String(f.Properties.Code?.S3Key))).size).toBe(CRATES.length);
  });

  test('a missing zip stops the synth with a sentence naming it', () => {
    const dir = zipsDir(CRATES.filter((c) => c !== 'generate-image'));
    expect(() => stack(dir)).toThrow(/generate-image\/bootstrap\.zip is missing: run scripts\/build-lambdas\.sh/);
  });
});
