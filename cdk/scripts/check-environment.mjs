#!/usr/bin/env node
// Fails unless the GitHub environment the deploy job runs in lets only main deploy. The deploy role
// trusts any job of deploy.yml on main in that environment (cdk/lib/deploy-access-stack.ts); which
// branches may run in the environment is a setting of the repository, outside this code, so the
// workflow checks it before the approval rather than trusting it.
//
//   GH_REPO=owner/repo GH_TOKEN=... node cdk/scripts/check-environment.mjs ENVIRONMENT
//
// Reads `gh api repos/{owner}/{repo}/environments/ENVIRONMENT` (and its deployment branch policies
// when they are custom); exit 0, or 1 with a sentence saying what to set.
import { execFileSync } from 'node:child_process';

const [environment] = process.argv.slice(2);
if (environment === undefined) {
  console.error('usage: check-environment.mjs ENVIRONMENT');
  process.exit(2);
}
const MAIN = 'main';
const settings = `Settings → Environments → ${environment} → Deployment branches and tags`;

function api(path) {
  return JSON.parse(execFileSync('gh', ['api', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
}

function fail(sentence) {
  console.error(`environment ${environment}: ${sentence}`);
  process.exit(1);
}

const env = api(`repos/{owner}/{repo}/environments/${environment}`);
const rule = env.deployment_branch_policy;
if (rule === null || rule === undefined) {
  fail(`no deployment branch rule: a workflow on any branch may run in it. Set ${settings} to "Selected branches and tags" with only ${MAIN}.`);
}
if (rule.custom_branch_policies) {
  const policies = api(`repos/{owner}/{repo}/environments/${environment}/deployment-branch-policies`).branch_policies ?? [];
  // A pattern (release/*, *) or a tag rule lets more than main in; only the exact branch will do.
  const others = policies.filter((p) => (p.type ?? 'branch') !== 'branch' || p.name !== MAIN);
  if (policies.length === 0 || others.length > 0) {
    const named = others.map((p) => `${p.type ?? 'branch'} ${p.name}`).join(', ');
    fail(`its deployment branch rule must allow only the branch ${MAIN}${named === '' ? ' (it names none)' : `, not ${named}`}. Fix it under ${settings}.`);
  }
} else if (!rule.protected_branches) {
  fail(`its deployment branch rule allows neither protected branches nor named ones. Set ${settings} to "Selected branches and tags" with only ${MAIN}.`);
}
console.log(`environment ${environment}: only ${rule.custom_branch_policies ? MAIN : 'protected branches'} may deploy`);
