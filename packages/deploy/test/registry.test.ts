import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { validateRecord, DeployError, type DeploymentRecord } from '../src/index.js';

const test = suite('deployment record schema');

const record = (): DeploymentRecord => ({
  format: 'flinkfn-deployment',
  formatVersion: 2,
  name: 'clicks',
  functionName: 'page-views',
  target: 'local',
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:01.000Z',
  operation: { kind: 'deploy', startedAt: '2026-11-23T10:00:00.000Z', version: 1, pid: 42, host: 'ci' },
  versions: [{ version: 1, artifactId: 'a'.repeat(64), jobId: 'b'.repeat(32), state: 'starting', restoredFrom: null, savepoint: null, deployedAt: '2026-11-23T10:00:00.000Z', entry: 'src/handler.ts' }],
  current: null,
  lifetime: { ttlMs: 7_200_000, idleTimeoutMs: null, expiresAt: '2026-11-23T12:00:00.000Z' },
  ended: null,
  resources: [
    { kind: 'kafka-topic', id: 'page-views', lifecycle: 'ephemeral', state: 'intended', version: 1, shared: true, role: 'sink:views', updatedAt: '2026-11-23T10:00:00.000Z' },
    { kind: 's3-object', id: `artifacts/${'a'.repeat(64)}.flinkfn`, lifecycle: 'ephemeral', state: 'created', version: 1, shared: true, updatedAt: '2026-11-23T10:00:00.000Z' },
  ],
});

function refusal(value: unknown): string {
  try {
    validateRecord(value, 's3://b/registry/clicks.json');
  } catch (error) {
    assert.instance(error, DeployError);
    return (error as Error).message;
  }
  throw new Error('the record was accepted');
}

test('a record written in the middle of a deploy is valid', () => {
  validateRecord(record(), 'here');
});

test('a resource of an unknown kind is refused, naming the record and the path', () => {
  const bad = record() as unknown as { resources: Array<Record<string, unknown>> };
  bad.resources[0]!.kind = 'lambda';
  const message = refusal(bad);
  assert.match(message, 's3://b/registry/clicks.json is not a valid deployment record');
  assert.match(message, '/resources/0/kind');
});

test('a resource without a state is refused: destroy could not tell whether it exists', () => {
  const bad = record() as unknown as { resources: Array<Record<string, unknown>> };
  delete bad.resources[0]!.state;
  assert.match(refusal(bad), "must have required property 'state'");
});

test('a job id that Flink could not have given is refused', () => {
  const bad = record();
  bad.versions[0]!.jobId = 'not-hex';
  assert.match(refusal(bad), '/versions/0/jobId');
});

test('a record of the first format is refused with the reason: its topics were not attached through leases', () => {
  const old = { ...record(), formatVersion: 1 } as unknown;
  assert.match(refusal(old), '/formatVersion');
});

test('an ending must say why', () => {
  const bad = record() as unknown as { ended: Record<string, unknown> };
  bad.ended = { at: '2026-11-23T12:00:00.000Z', reason: 'bored', detail: '' };
  assert.match(refusal(bad), '/ended');
});

test.run();
