#!/usr/bin/env node
// Runs every test suite of the workspace, one after another, and exits non-zero if any failed:
// the uvu suites of packages/* and examples/* (TypeScript through tsx), then the Java tests of
// packages that have a pom.xml, then the stack-free suites on Node.js 22 and 24 (scripts/node-lines.mjs).
// After the summary it repeats, for each failed suite, its failure reports (uvu's FAIL blocks, or the end of its
// output): a CI log is often read only from its end, and the failing test's name must be in that part.
// Usage: node scripts/run-tests.mjs [name-filter]
import { spawn } from 'node:child_process';
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

/** Runs one suite with its output passed through as it comes, and kept (the last lines, and every FAIL block). */
function runSuite(suite) {
  return new Promise((resolve) => {
    const child = spawn(suite.command, suite.args, { cwd: suite.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    const lines = [];
    let partial = '';
    const keep = (chunk) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
    };
    child.stdout.on('data', (chunk) => { process.stdout.write(chunk); keep(chunk); });
    child.stderr.on('data', (chunk) => { process.stderr.write(chunk); keep(chunk); });
    child.on('error', (error) => lines.push(String(error)));
    child.on('close', (code) => {
      if (partial) lines.push(partial);
      resolve({ ok: code === 0, lines });
    });
  });
}

/**
 * What a failed suite said about its failures, short enough for the end of a CI log: each of uvu's FAIL reports with
 * the test file it belongs to and the 12 lines after it (the assertion and its diff), or, where there is none (a
 * crash, a Maven failure), the suite's last 20 lines.
 */
function failureExcerpt(lines) {
  const plain = lines.map((line) => line.replace(/\u001b\[[0-9;]*m/g, ''));
  const out = [];
  let file = '';
  plain.forEach((line, i) => {
    if (/\.test\.ts$/.test(line.trim())) file = line.trim();
    if (/^\s*FAIL\s/.test(line)) out.push(`${file}:`, ...plain.slice(i, i + 13).filter((l) => l.trim() !== ''));
  });
  return out.length > 0 ? out : plain.slice(-20);
}

const results = [];
for (const suite of suites) {
  process.stdout.write(`\n━━ ${suite.label}\n`);
  const started = Date.now();
  const run = await runSuite(suite);
  results.push({ label: suite.label, ok: run.ok, seconds: (Date.now() - started) / 1000, lines: run.lines });
}

process.stdout.write('\n━━ summary\n');
for (const r of results) process.stdout.write(`${r.ok ? 'pass' : 'FAIL'}  ${r.label.padEnd(40)} ${r.seconds.toFixed(1)} s\n`);
const failed = results.filter((r) => !r.ok);
for (const r of failed) process.stdout.write(`\n━━ what failed in ${r.label}\n${failureExcerpt(r.lines).join('\n')}\n`);
if (suites.length === 0) {
  process.stdout.write('no test suites matched\n');
  process.exit(1);
}
process.exit(failed.length === 0 ? 0 : 1);
