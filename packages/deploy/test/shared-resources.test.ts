/**
 * Topics several deployments use, on the real local stack: a source two functions read, a sink another
 * function reads, a topic created outside flinkfn, a missing source.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, destroy, DeployError, status } from '../src/index.js';
import { writeRelay } from './support/functions.js';
import { consume, produce, topicExists, createTopic, leaseOf } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('shared topics: attach, detach, released at the last detach');
const stack = useStack(test);

const events = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => JSON.stringify({ id: from + i }));
const ids = (values: string[]): number[] => values.map((v) => (JSON.parse(v) as { id: number }).id).sort((a, b) => a - b);
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

test('a source topic created outside flinkfn: destroying one reader leaves it and its unread events to the other; no command deletes it', async () => {
  const { target } = stack();
  await createTopic(target, 'ext-in', 3);
  const a = await writeRelay({ name: 'ext-reader-a', source: 'ext-in', sink: 'ext-out-a' });
  const b = await writeRelay({ name: 'ext-reader-b', source: 'ext-in', sink: 'ext-out-b' });
  await deploy({ target, ...a });
  await deploy({ target, ...b });
  const dry = await destroy({ target, name: 'ext-reader-a', dryRun: true });
  const planned = dry.items.find((i) => i.kind === 'kafka-topic' && i.id === 'ext-in');
  assert.is(planned?.action, 'detach (used by another deployment)', 'the dry run says the source stays');
  assert.equal(planned?.attached, ['ext-reader-b']);

  await produce(target, 'ext-in', events(0, 500));
  assert.is((await consume(target, 'ext-out-a', 500)).length, 500);
  // While it runs, status counts its records (Flink's REST metrics refresh every few seconds) and its lag per partition.
  let running = await status(target, 'ext-reader-a');
  for (const deadline = Date.now() + 180_000; ((running.recordsIn ?? 0) < 500 || (running.recordsOut ?? 0) < 500) && Date.now() < deadline; await new Promise((r) => setTimeout(r, 1_000))) {
    running = await status(target, 'ext-reader-a');
  }
  assert.is(running.recordsIn, 500, 'records in while running');
  assert.is(running.recordsOut, 500, 'records out while running');
  assert.equal(running.lag.map((p) => p.partition), [0, 1, 2], 'lag of each of the 3 source partitions');
  assert.is(running.lag.reduce((n, p) => n + p.end, 0), 500);
  await destroy({ target, name: 'ext-reader-a' });
  assert.ok(await topicExists(target, 'ext-in'), 'the shared source survives the first destroy');
  assert.not.ok(await topicExists(target, 'ext-out-a'), 'what A alone created is gone');
  // Events B had not read when A went away: B still gets every one of them, exactly once.
  await produce(target, 'ext-in', events(500, 1500));
  assert.equal(ids(await consume(target, 'ext-out-b', 2000)), range(0, 2000));

  await destroy({ target, name: 'ext-reader-b' });
  assert.ok(await topicExists(target, 'ext-in'), 'flinkfn never deletes a topic it did not create');
  assert.is(await leaseOf(target, 'kafka-topic', 'ext-in'), null, 'and keeps no lease on it once nobody uses it');
});

test('a source declared create: the first deploy creates it, the last destroy deletes it', async () => {
  const { target } = stack();
  const a = await writeRelay({ name: 'made-reader-a', source: 'made-in', sink: 'made-out-a', createSource: 2 });
  const b = await writeRelay({ name: 'made-reader-b', source: 'made-in', sink: 'made-out-b', createSource: 2 });
  const first = await deploy({ target, ...a });
  assert.ok(first.topics.find((t) => t.topic === 'made-in')?.created, 'A created the source');
  const second = await deploy({ target, ...b });
  assert.not.ok(second.topics.find((t) => t.topic === 'made-in')?.created, 'B attached to it');
  const shown = await status(target, 'made-reader-b');
  const source = shown.resources.find((r) => r.id === 'made-in');
  assert.is(source?.owner, 'made-reader-a');
  assert.equal(source?.attached, ['made-reader-a']);

  await destroy({ target, name: 'made-reader-a' });
  assert.ok(await topicExists(target, 'made-in'), 'B still reads it');
  await produce(target, 'made-in', events(0, 300));
  assert.equal(ids(await consume(target, 'made-out-b', 300)), range(0, 300));
  await destroy({ target, name: 'made-reader-b' });
  assert.not.ok(await topicExists(target, 'made-in'), 'the last detach deleted what flinkfn created');
  assert.is(await leaseOf(target, 'kafka-topic', 'made-in'), null);
});

test('chained functions: B reads A\'s sink; destroying A keeps that topic until B is destroyed', async () => {
  const { target } = stack();
  const a = await writeRelay({ name: 'chain-first', source: 'chain-in', sink: 'chain-mid', createSource: 1 });
  const b = await writeRelay({ name: 'chain-second', source: 'chain-mid', sink: 'chain-out' });
  await deploy({ target, ...a });
  await deploy({ target, ...b });
  await produce(target, 'chain-in', events(0, 200));
  assert.equal(ids(await consume(target, 'chain-out', 200)), range(0, 200));
  await destroy({ target, name: 'chain-first' });
  assert.ok(await topicExists(target, 'chain-mid'), 'A\'s sink stays while B reads it');
  assert.not.ok(await topicExists(target, 'chain-in'), 'A\'s own source went with A');
  await destroy({ target, name: 'chain-second' });
  assert.not.ok(await topicExists(target, 'chain-mid'), 'and goes with the last reader');
  assert.not.ok(await topicExists(target, 'chain-out'));
});

test('a missing source topic is an error that names it and suggests the near miss; the deploy leaves nothing', async () => {
  const { target } = stack();
  await createTopic(target, 'sensor-data', 1);
  const typo = await writeRelay({ name: 'typo-reader', source: 'sensor-dat', sink: 'typo-out' });
  try {
    await deploy({ target, ...typo });
    assert.unreachable('the deploy should fail');
  } catch (error) {
    assert.instance(error, DeployError);
    const e = error as DeployError;
    assert.match(e.message, 'the source topic "sensor-dat" does not exist');
    assert.match(e.hint ?? '', 'Did you mean "sensor-data"?');
    assert.is(e.step, 'topics');
  }
  assert.not.ok(await topicExists(target, 'sensor-dat'), 'no topic was made up from the typo');
  assert.not.ok(await topicExists(target, 'typo-out'), 'the sink of the failed deploy is gone');
  const gone = await destroy({ target, name: 'typo-reader' });
  assert.not.ok(gone.found, 'the failed first deploy left no record');
});

test.run();
