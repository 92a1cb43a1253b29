#!/usr/bin/env node
// Runs flinkfn on the maintained Node.js LTS lines (22 and 24) besides the machine's own Node: each line's
// binary comes from the npm registry's `node` package (into .tools/node-lines/<line>), goes first on PATH, and
// then runs the suites that need no local stack (SDK, bundler, artifact, host, engine, sidecar, conformance,
// testing, CLI, examples) and the Java client's tests against the real sidecar (RealSidecarTest), so the
// sidecar that TaskManagers start is exercised on that line too.
// Usage: node scripts/node-lines.mjs [22 24 ...]. Exit 1 if any suite failed on any line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lines = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['22', '24'];
const uvu = path.join(root, 'node_modules', 'uvu', 'bin.js');
// Suites that start Flink, Kafka, S3, a registry or a browser run on the machine's Node in scripts/test.
const NEEDS_STACK = new Set(['packages/deploy', 'packages/local-stack', 'packages/create-flinkfn', 'packages/dashboard']);

/** Installs `node@<line>` from the registry (once) and returns the folder holding its `node`. */
function install(line) {
  const prefix = path.join(root, '.tools', 'node-lines', line);
  const bin = path.join(prefix, 'node_modules', '.bin');
  if (!existsSync(path.join(bin, 'node'))) {
    process.stdout.write(`› installing Node.js ${line} from the npm registry into ${path.relative(root, prefix)}\n`);
    const run = spawnSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--no-save', '--prefix', prefix, `node@${line}`], { stdio: 'inherit' });
    if (run.status !== 0) throw new Error(`npm install node@${line} failed (exit ${run.status})`);
  }
  return bin;
}

function suitesFor() {
  const suites = [];
  for (const group of ['packages', 'examples']) {
    for (const name of readdirSync(path.join(root, group)).sort()) {
      const dir = path.join(root, group, name);
      const label = `${group}/${name}`;
      if (NEEDS_STACK.has(label)) continue;
      if (existsSync(path.join(dir, 'test')) && readdirSync(path.join(dir, 'test')).some((f) => f.endsWith('.test.ts'))) {
        suites.push({ label, cwd: dir, command: 'node', args: ['--import', 'tsx', uvu, 'test', '\\.test\\.ts$'] });
      }
    }
  }
  suites.push({ label: 'packages/runtime-flink RealSidecarTest (maven)', cwd: path.join(root, 'packages', 'runtime-flink'), command: 'mvn', args: ['-B', '-q', 'test', '-Dtest=RealSidecarTest', '-Dsurefire.failIfNoSpecifiedTests=false'] });
  return suites;
}

const results = [];
for (const line of lines) {
  const bin = install(line);
  const env = { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, FORCE_COLOR: '0' };
  const version = spawnSync('node', ['--version'], { env, encoding: 'utf8' }).stdout.trim();
  if (!version.startsWith(`v${line}.`)) throw new Error(`expected Node.js ${line} first on PATH, got ${version || 'nothing'}`);
  for (const suite of suitesFor()) {
    process.stdout.write(`\n━━ Node.js ${version}: ${suite.label}\n`);
    const started = Date.now();
    const run = spawnSync(suite.command, suite.args, { cwd: suite.cwd, stdio: 'inherit', env });
    results.push({ label: `${version} ${suite.label}`, ok: run.status === 0, seconds: (Date.now() - started) / 1000 });
  }
}

process.stdout.write('\n━━ Node.js lines\n');
for (const r of results) process.stdout.write(`${r.ok ? 'pass' : 'FAIL'}  ${r.label.padEnd(64)} ${r.seconds.toFixed(1)} s\n`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
