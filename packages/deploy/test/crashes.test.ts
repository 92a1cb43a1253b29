import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '@flinkfn/bundler';
import { Deployment, ObjectStore, registryKey } from '../src/index.js';
import { cli, leftovers, REPO, topicsOf } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('SIGKILL at every step of deploy and destroy, then destroy again');
const stack = useStack(test);

const EXAMPLE = path.join(REPO, 'examples', 'iot-sensors');
const { manifest } = await build({ root: EXAMPLE, write: false });
const NAME = manifest.name;
const TOPICS = topicsOf(manifest);

// Every step boundary of deploy (including between "intended" and "created" writes) ...
const DEPLOY_POINTS = [
  'deploy:after-build', 'deploy:after-connect', 'deploy:after-record', 'deploy:after-artifact', 'deploy:after-runtime-jar',
  'deploy:before-topic', 'deploy:after-topics', 'deploy:after-state', 'deploy:before-submit', 'deploy:after-submit', 'deploy:after-wait',
];
// ... and of destroy, before each kind of resource is removed.
const DESTROY_POINTS = [
  'destroy:after-begin', 'destroy:before-flink-job', 'destroy:before-kafka-consumer-group', 'destroy:before-kafka-topic',
  'destroy:before-s3-prefix', 'destroy:before-s3-object', 'destroy:before-record',
];

const leftAfterKills: Record<string, string[]> = {};

for (const point of DEPLOY_POINTS) {
  test(`a deploy killed at ${point} is cleaned up completely by destroy`, async () => {
    const { env, target } = stack();
    const killed = await cli(['deploy', '--root', EXAMPLE, '--json'], { ...env, FLINKFN_FAILPOINT: point });
    assert.is(killed.signal, 'SIGKILL', `killed at ${point}: ${killed.stderr}`);
    if (point !== 'deploy:after-build' && point !== 'deploy:after-connect') {
      const store = new ObjectStore(target.s3);
      try {
        assert.ok(await store.exists(registryKey(NAME)), 'the record was written before anything was created');
      } finally {
        store.close();
      }
    }
    const cleaned = await cli(['destroy', NAME, '--json'], env);
    assert.is(cleaned.code, 0, cleaned.stdout + cleaned.stderr);
    leftAfterKills[point] = await leftovers(target, NAME, TOPICS);
    assert.equal(leftAfterKills[point], []);
  });
}

for (const point of DESTROY_POINTS) {
  test(`a destroy killed at ${point} finishes when run again`, async () => {
    const { env, target } = stack();
    const deployed = await cli(['deploy', '--root', EXAMPLE, '--json'], env);
    assert.is(deployed.code, 0, deployed.stderr);
    const killed = await cli(['destroy', NAME, '--json'], { ...env, FLINKFN_FAILPOINT: point });
    assert.is(killed.signal, 'SIGKILL');
    const store = new ObjectStore(target.s3);
    try {
      const record = await Deployment.load(store, NAME);
      assert.ok(record, 'the record survives a killed destroy');
      assert.is(record.record.operation?.kind, 'destroy');
    } finally {
      store.close();
    }
    const again = await cli(['destroy', NAME, '--json'], env);
    assert.is(again.code, 0, again.stdout + again.stderr);
    leftAfterKills[point] = await leftovers(target, NAME, TOPICS);
    assert.equal(leftAfterKills[point], []);
  });
}

test('a deploy after a killed deploy rolls the unfinished attempt back and succeeds', async () => {
  const { env, target } = stack();
  const killed = await cli(['deploy', '--root', EXAMPLE, '--json'], { ...env, FLINKFN_FAILPOINT: 'deploy:after-submit' });
  assert.is(killed.signal, 'SIGKILL');
  const deployed = await cli(['deploy', '--root', EXAMPLE, '--json'], env);
  assert.is(deployed.code, 0, deployed.stderr);
  const result = JSON.parse(deployed.stdout) as { version: number; jobId: string; upgradedFrom: number | null };
  assert.is(result.version, 2);
  assert.is(result.upgradedFrom, null, 'the killed attempt never became a version to upgrade from');
  const cleaned = await cli(['destroy', NAME, '--json'], env);
  assert.is(cleaned.code, 0);
  assert.equal(await leftovers(target, NAME, TOPICS), []);
});

test.after(() => {
  const total = Object.values(leftAfterKills).reduce((n, l) => n + l.length, 0);
  process.stdout.write(`\n  kill tests: ${Object.keys(leftAfterKills).length} kill points, ${total} leftover resources\n`);
});

test.run();
