#!/usr/bin/env node
// After `npm install`, run this to keep `npm ci` working everywhere.
//
// The npm registry mirror reachable here serves only some platforms' builds of optional native
// bindings (e.g. @unrs/resolver-binding-* used by jest), so `npm install` leaves the others out of
// package-lock.json and `npm ci` then fails with "Missing: ... from lock file". This adds each
// missing optional binding as an os/cpu-restricted optional entry: npm skips it on other platforms
// and fetches it by version on its own platform.
'use strict';
const fs = require('fs');
const path = require('path');

const lockPath = path.join(__dirname, '../package-lock.json');
const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const packages = lock.packages;

const OS = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32'];
const CPU = { arm: 'arm', 'arm64': 'arm64', x64: 'x64', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x' };

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find((p) => OS.includes(p));
  const cpu = parts.map((p) => CPU[p]).find(Boolean);
  if (!os || !cpu) return undefined;
  const entry = { os: [os], cpu: [cpu] };
  if (os === 'linux') entry.libc = [parts.some((p) => p.startsWith('musl')) ? 'musl' : 'glibc'];
  return entry;
}

let added = 0;
for (const [key, pkg] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    if (packages[depKey] || packages[`${key}/${depKey}`]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+$/.test(version)) continue;
    packages[depKey] = { version, ...platform, dev: pkg.dev === true ? true : undefined, optional: true };
    added += 1;
  }
}

const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)));
lock.packages = sorted;
fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lock-platform-bindings: added ${added} optional platform entries`);
