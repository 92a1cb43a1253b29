#!/usr/bin/env node
// Runs every test suite of the workspace, one after another, and exits non-zero if any failed:
// the uvu suites of packages/* and examples/* (TypeScript through tsx), then the Java tests of
// packages that have a pom.xml, then the stack-free suites on Node.js 22 and 24 (scripts/node-lines.mjs).
// Usage: node scripts/run-tests.mjs [name-filter]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const filter = process.argv[2] ?? '';
const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');

const suites = [];
for (const group of ['packages', 'examples']) {
  for (const name of readdirSync(path.join(root, group)).sort()) {
    const dir = path.join(root, group, name);
    if (!`${group}/${name}`.includes(filter)) continue;
    if (existsSync(path.join(dir, 'test')) && readdirSync(path.join(dir, 'test')).some((f) => f.endsWith('.test.ts'))) {
      suites.push({ label: `${group}/${name}`, cwd: dir, command: process.execPath, args: ['--import', 'tsx', uvu, 'test', '\\.test\\.ts$'] });
    }
    if (existsSync(path.join(dir, 'pom.xml'))) {
      suites.push({ label: `${group}/${name} (maven)`, cwd: dir, command: 'mvn', args: ['-B', '-q', 'verify'] });
    }
  }
}

// The same suites (those that need no stack) on the maintained Node.js LTS lines, 22 and 24.
if ('scripts/node-lines'.includes(filter)) {
  suites.push({ label: 'Node.js 22 and 24 (scripts/node-lines.mjs)', cwd: root, command: process.execPath, args: [path.join(root, 'scripts', 'node-lines.mjs')] });
}

const results = [];
for (const suite of suites) {
  process.stdout.write(`\n━━ ${suite.label}\n`);
  const started = Date.now();
  const run = spawnSync(suite.command, suite.args, { cwd: suite.cwd, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  results.push({ label: suite.label, ok: run.status === 0, seconds: (Date.now() - started) / 1000 });
}

process.stdout.write('\n━━ summary\n');
for (const r of results) process.stdout.write(`${r.ok ? 'pass' : 'FAIL'}  ${r.label.padEnd(40)} ${r.seconds.toFixed(1)} s\n`);
const failed = results.filter((r) => !r.ok);
if (suites.length === 0) {
  process.stdout.write('no test suites matched\n');
  process.exit(1);
}
process.exit(failed.length === 0 ? 0 : 1);
