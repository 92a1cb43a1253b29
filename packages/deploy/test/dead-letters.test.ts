/**
 * Dead letters on the real local stack say where they come from: an order on a 3-partition topic, read at parallelism
 * 2, whose handler throws in a helper file, reaches the dead-letter topic with the user's source-mapped stack (as the
 * embedded engine gives it), the topic, partition, offset and timestamp of its Kafka record, and when it was written.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harnessFromEntry, type DeadLetter } from '@flinkfn/testing';
import { deploy, destroy, kafkaClient } from '../src/index.js';
import { consume } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('dead letters on the real local stack');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.join(HERE, '..', '.tmp-test', 'dead-letter-origin');
const PARTITIONS = 3;
const ORDERS = 30;
/** Record timestamps the producer sets, so the dead letters' can be checked: order i was created at BASE + i s. */
const BASE = 1_700_000_000_000;

test.before(async () => {
  await rm(PROJECT, { recursive: true, force: true });
  await mkdir(PROJECT, { recursive: true });
  for (const file of ['handler.ts', 'pricing.ts']) await copyFile(path.join(HERE, 'fixtures', 'dead-letters', file), path.join(PROJECT, file));
});

/** Every fourth order has no item. Order i goes to partition i % 3 and, on a new topic, lands at offset ⌊i / 3⌋. */
const order = (i: number): { id: number; item?: { cents: number } } => (i % 4 === 1 ? { id: i } : { id: i, item: { cents: 100 + i } });

test('an order whose handler throws in a helper is a dead letter with the stack in the user\'s files, its Kafka record and the time', async () => {
  const { target } = stack();
  const expected = await harnessFromEntry('handler.ts', { root: PROJECT });
  expected.push(...Array.from({ length: ORDERS }, (_, i) => order(i)));
  const engineLetters = expected.deadLetters;
  assert.ok(engineLetters.length > 0);
  const engineStack = engineLetters[0]!.stack;
  assert.ok(engineStack !== undefined && /^priceOf \(pricing\.ts:3:\d+\)$/.test(engineStack[0]!), `the engine's stack starts in pricing.ts: ${JSON.stringify(engineStack)}`);
  assert.match(engineStack[1] ?? '', /^handle \(handler\.ts:\d+:\d+\)$/);

  const deployed = await deploy({ target, root: PROJECT, entry: 'handler.ts' });
  try {
    const producer = kafkaClient(target, 'flinkfn-test-producer').producer();
    await producer.connect();
    const sentAt = Date.now();
    try {
      await producer.send({
        topic: 'dead-letter-origin-in',
        messages: Array.from({ length: ORDERS }, (_, i) => ({ value: JSON.stringify(order(i)), partition: i % PARTITIONS, timestamp: String(BASE + i * 1_000) })),
      });
    } finally {
      await producer.disconnect();
    }

    const letters = (await consume(target, 'dead-letter-origin-dead-letter', engineLetters.length)).map((v) => JSON.parse(v) as DeadLetter);
    assert.is(letters.length, engineLetters.length, 'as many dead letters as the engine makes');
    for (const letter of letters.sort((a, b) => (a.event as { id: number }).id - (b.event as { id: number }).id)) {
      const id = (letter.event as { id: number }).id;
      const { at, source, ...made } = letter;
      assert.equal(made, engineLetters.find((l) => (l.event as { id: number }).id === id), `order ${id}: what the engine makes, stack included`);
      assert.equal(source, { topic: 'dead-letter-origin-in', partition: id % PARTITIONS, offset: Math.floor(id / PARTITIONS), timestamp: BASE + id * 1_000 }, `order ${id}: its Kafka record`);
      assert.ok(at !== undefined && Date.parse(at) >= sentAt - 60_000 && new Date(Date.parse(at)).toISOString() === at, `order ${id}: written at ${at}`);
    }
  } finally {
    await destroy({ target, name: deployed.name });
  }
});

test.run();
