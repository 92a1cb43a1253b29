import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flinkfn, REPO_ROOT } from './helpers.js';

const test = suite('flinkfn local and the local target without the real services');
let scratch = '';
let nodeOnly = '';

test.before(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'flinkfn-local-'));
  // A PATH with node and nothing else: no java, no mvn.
  nodeOnly = path.join(scratch, 'bin');
  mkdirSync(nodeOnly);
  symlinkSync(process.execPath, path.join(nodeOnly, 'node'));
});
test.after(() => rmSync(scratch, { recursive: true, force: true }));

const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ HOME: process.env.HOME, FLINKFN_LOCAL_ROOT: path.join(scratch, 'stack'), ...extra });

test('local up without Java says what to install and exits 1', () => {
  const run = flinkfn(['local', 'up'], { env: env({ PATH: nodeOnly }) });
  assert.is(run.code, 1, run.stderr);
  assert.match(run.stderr, 'Java is not installed');
  assert.match(run.stderr, 'openjdk-17');
});

test('deploy to the local target without Java fails at local-stack before building anything remote, with the remedy', () => {
  const run = flinkfn(['deploy', '--root', path.join(REPO_ROOT, 'examples', 'iot-sensors'), '--json'], { env: env({ PATH: nodeOnly }) });
  assert.is(run.code, 1, run.stderr);
  const output = JSON.parse(run.stdout) as { ok: boolean; error: { message: string; step: string; hint: string } };
  assert.is(output.ok, false);
  assert.is(output.error.step, 'local-stack');
  assert.match(output.error.message, 'Java is not installed');
});

test('local status of a stack that never ran reports it down with exit code 3', () => {
  const run = flinkfn(['local', 'status', '--json'], { env: env({ PATH: process.env.PATH }) });
  assert.is(run.code, 3);
  const status = JSON.parse(run.stdout) as { up: boolean; services: Record<string, { running: boolean }> };
  assert.is(status.up, false);
  assert.equal(Object.keys(status.services).sort(), ['jobManager', 'kafka', 's3', 'taskManager']);
});

test('inspection commands on a local stack that is down say how to start it instead of starting it', () => {
  const run = flinkfn(['ls'], { env: env({ PATH: process.env.PATH }) });
  assert.is(run.code, 1);
  assert.match(run.stderr, 'is not running');
  assert.match(run.stderr, 'flinkfn local up');
});

test('local refuses a remote target', () => {
  const run = flinkfn(['local', 'up'], { env: env({ PATH: process.env.PATH, FLINKFN_FLINK_URL: 'http://f:8081', FLINKFN_KAFKA_BROKERS: 'k:9092', FLINKFN_S3_BUCKET: 'bkt', FLINKFN_SIDECAR_COMMAND: 'node s.js' }) });
  assert.is(run.code, 1);
  assert.match(run.stderr, 'is not a local stack');
});

test('deploy --help explains the exit codes and the CI use', () => {
  const run = flinkfn(['deploy', '--help']);
  assert.is(run.code, 0);
  assert.match(run.stdout, 'Exit codes: 0 deployed, 1 failed (rolled back');
  assert.match(run.stdout, '--no-wait');
  assert.match(run.stdout, '--target prod --json');
});

test.run();
