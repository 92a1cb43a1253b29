/**
 * `flinkfn gc` on the real local stack: it finds what carries flinkfn's marks but is in no record (and a
 * deployment half created by a killed deploy), says why with --dry-run, removes it, and leaves a live
 * deployment alone.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, destroy, kafkaClient, Leases, ObjectStore, registryKey, status, type GcItem, type ResolvedTarget } from '../src/index.js';
import { writeRelay } from './support/functions.js';
import { cli, leaseOf, topicExists } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('flinkfn gc');
const stack = useStack(test);

/** Leftovers as a crash would leave them, made directly in S3 and Kafka. */
async function plantOrphans(target: ResolvedTarget): Promise<void> {
  const store = new ObjectStore(target.s3);
  const admin = kafkaClient(target).admin();
  await admin.connect();
  try {
    await store.putText('deployments/ghost/checkpoints/0123/chk-1/_metadata', 'state');
    await store.putText(`artifacts/${'e'.repeat(64)}.flinkfn`, '{}');
    // A topic flinkfn created for a deployment whose record is gone (its destroy was killed after the record).
    await admin.createTopics({ topics: [{ topic: 'ghost-out', numPartitions: 1 }], waitForLeaders: true });
    const leases = new Leases(store, { exists: async () => true, remove: async () => undefined });
    await leases.attach({ kind: 'kafka-topic', id: 'ghost-out', deployment: 'ghost', role: 'sink:out', lifecycle: 'ephemeral', adopt: true });
    // Committed offsets of the ghost's source: an empty consumer group.
    const consumer = kafkaClient(target, 'ghost').consumer({ groupId: 'flinkfn-ghost' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ghost-out', fromBeginning: true });
    await consumer.run({ eachMessage: async () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await consumer.disconnect();
  } finally {
    await admin.disconnect();
    store.close();
  }
}

test('--dry-run lists every orphan with its reason and changes nothing; gc then removes them and leaves a live deployment alone', async () => {
  const { target, env } = stack();
  const live = await writeRelay({ name: 'gc-survivor', source: 'gc-survivor-in', sink: 'gc-survivor-out', createSource: 1 });
  const deployed = await deploy({ target, ...live });
  await plantOrphans(target);

  const dry = await cli(['gc', '--dry-run', '--json'], env);
  assert.is(dry.code, 0, dry.stderr);
  const planned = (JSON.parse(dry.stdout) as { items: GcItem[] }).items;
  const ids = planned.map((i) => `${i.kind} ${i.id}`).sort();
  assert.equal(ids, [
    `kafka-consumer-group flinkfn-ghost`,
    `lease kafka-topic ghost-out`,
    `s3-object artifacts/${'e'.repeat(64)}.flinkfn`,
    `s3-prefix deployments/ghost/`,
  ]);
  for (const item of planned) assert.match(item.action, /^would /);
  assert.ok(planned.every((i) => i.reason.length > 0));
  assert.ok(await topicExists(target, 'ghost-out'), 'a dry run deletes nothing');

  const real = await cli(['gc', '--json'], env);
  assert.is(real.code, 0, real.stderr);
  assert.not.ok(await topicExists(target, 'ghost-out'), 'the orphan topic went with its last (dead) holder');
  assert.is(await leaseOf(target, 'kafka-topic', 'ghost-out'), null);
  const store = new ObjectStore(target.s3);
  try {
    assert.equal((await store.list('deployments/ghost/')), []);
    assert.not.ok(await store.exists(`artifacts/${'e'.repeat(64)}.flinkfn`));
    assert.ok(await store.exists(registryKey('gc-survivor')), 'the live deployment keeps its record');
  } finally {
    store.close();
  }
  const alive = await status(target, 'gc-survivor');
  assert.is(alive.jobState, 'RUNNING', 'and keeps running');
  assert.is(alive.jobId, deployed.jobId);
  const again = await cli(['gc', '--json'], env);
  assert.equal((JSON.parse(again.stdout) as { items: GcItem[] }).items, [], 'a second gc finds nothing');
  await destroy({ target, name: 'gc-survivor' });
});

test('a deploy killed half way (its process is gone) is released by gc', async () => {
  const { target, env } = stack();
  const fn = await writeRelay({ name: 'gc-half', source: 'gc-half-in', sink: 'gc-half-out', createSource: 1 });
  const killed = await cli(['deploy', fn.entry, '--root', fn.root, '--json'], { ...env, FLINKFN_FAILPOINT: 'deploy:after-topics' });
  assert.is(killed.signal, 'SIGKILL');
  assert.ok(await topicExists(target, 'gc-half-out'), 'the killed deploy had created its topics');
  const collected = await cli(['gc', '--json'], env);
  assert.is(collected.code, 0, collected.stderr);
  const items = (JSON.parse(collected.stdout) as { items: GcItem[] }).items;
  assert.ok(items.some((i) => i.kind === 'deployment' && i.id === 'gc-half'), JSON.stringify(items));
  assert.not.ok(await topicExists(target, 'gc-half-out'));
  assert.not.ok(await topicExists(target, 'gc-half-in'));
  const store = new ObjectStore(target.s3);
  try {
    assert.not.ok(await store.exists(registryKey('gc-half')), 'nothing of it ever ran: its record went too');
  } finally {
    store.close();
  }
});

test.run();
