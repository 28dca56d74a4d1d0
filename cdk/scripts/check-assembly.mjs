#!/usr/bin/env node
// Refuses a cloud assembly whose publishing would run anything: the deploy job publishes assets with
// the deploy role's credentials, and cdk-assets runs a file asset's `source.executable` command or
// builds a docker image's context there. The app's assets are plain files (the functions' zips and
// CDK's own handlers), so any command or image means the assembly came from somewhere else.
//
//   node cdk/scripts/check-assembly.mjs [cdk.out]     exit 0, or 1 naming each offending asset
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2] ?? 'cdk.out';
const problems = [];
const manifests = readdirSync(dir).filter((name) => name.endsWith('.assets.json'));
if (manifests.length === 0) problems.push(`${dir}: no *.assets.json (not a cloud assembly?)`);
for (const name of manifests) {
  const manifest = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
  for (const id of Object.keys(manifest.dockerImages ?? {})) {
    problems.push(`${name}: docker image asset ${id} (its build would run in the deploy job)`);
  }
  for (const [id, asset] of Object.entries(manifest.files ?? {})) {
    if (asset.source?.executable !== undefined) {
      problems.push(`${name}: file asset ${id} runs a command while publishing (${JSON.stringify(asset.source.executable)})`);
    }
  }
}
if (problems.length > 0) {
  console.error(`refusing the cloud assembly in ${dir}:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${dir}: ${manifests.length} asset manifest(s), plain files only`);
