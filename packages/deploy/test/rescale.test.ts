/**
 * Rescaling through `flinkfn deploy --parallelism`, on the real local stack: a windowed function on a
 * 4-partition topic is upgraded 1 → 2 → 1 subtasks in the middle of its input; its window state moves through
 * the savepoints, and the committed output equals what the embedded engine computes with the same partitions.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harnessFromEntry } from '@flinkfn/testing';
import { deploy, destroy, kafkaClient, status, type ResolvedTarget } from '../src/index.js';
import { SCRATCH } from './support/functions.js';
import { canonical, consume } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('rescale 1 → 2 → 1 through deploy --parallelism');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.join(SCRATCH, 'rescale');
const PARTITIONS = 4;
const EVENTS = 30_000;

test.before(async () => {
  await mkdir(PROJECT, { recursive: true });
  const source = await readFile(path.join(HERE, 'fixtures', 'recovery-counter.ts'), 'utf8');
  await writeFile(path.join(PROJECT, 'counter.ts'), source
    .replace("name: 'recovery-counter'", "name: 'rescale-counter'")
    .replace("topic: 'recovery-in', format: 'json', create: true", `topic: 'rescale-in', format: 'json', create: { partitions: ${PARTITIONS} }`)
    .replace("topic: 'recovery-out'", "topic: 'rescale-out'"));
});

/** Event i goes to partition i % 4, so each partition is in event-time order and the engine can be told the same. */
const event = (i: number): { key: string; ts: number } => ({ key: `k${i % 10}`, ts: 1_000_000 + i * 10 });

async function produceRange(target: ResolvedTarget, from: number, to: number): Promise<void> {
  const producer = kafkaClient(target, 'rescale-test').producer();
  await producer.connect();
  try {
    for (let i = from; i < to; i += 1_000) {
      const messages = [];
      for (let j = i; j < Math.min(to, i + 1_000); j++) messages.push({ partition: j % PARTITIONS, value: JSON.stringify(event(j)) });
      await producer.send({ topic: 'rescale-in', messages });
    }
  } finally {
    await producer.disconnect();
  }
}

test('the output of a function rescaled 1 → 2 → 1 mid-stream is exactly what the input gives', async () => {
  const { target } = stack();
  const expected = await harnessFromEntry('counter.ts', { root: PROJECT, partitions: PARTITIONS });
  for (let i = 0; i < EVENTS; i++) expected.pushTo(i % PARTITIONS, event(i));
  const want = expected.records.map((r) => r.json);

  const v1 = await deploy({ target, root: PROJECT, entry: 'counter.ts', parallelism: 1 });
  await produceRange(target, 0, EVENTS / 3);
  await consume(target, 'rescale-out', 1, 60_000);
  const v2 = await deploy({ target, root: PROJECT, entry: 'counter.ts', parallelism: 2 });
  assert.ok(v2.restoredFrom, 'the upgrade restored from a savepoint');
  await produceRange(target, EVENTS / 3, (2 * EVENTS) / 3);
  // While two subtasks run, status shows each of the 4 partitions' watermarks (REST metrics refresh every few seconds).
  let running = await status(target, 'rescale-counter');
  for (const deadline = Date.now() + 60_000; running.partitions.filter((p) => p.watermark !== null).length < PARTITIONS && Date.now() < deadline; await new Promise((r) => setTimeout(r, 1_000))) {
    running = await status(target, 'rescale-counter');
  }
  assert.equal(running.partitions.map((p) => p.partition), [0, 1, 2, 3], 'a watermark per source partition');
  assert.ok(running.partitions.every((p) => p.watermark !== null && p.watermark >= 1_000_000), JSON.stringify(running.partitions));
  const v3 = await deploy({ target, root: PROJECT, entry: 'counter.ts', parallelism: 1 });
  assert.ok(v3.restoredFrom);
  await produceRange(target, (2 * EVENTS) / 3, EVENTS);

  const got = await consume(target, 'rescale-out', want.length, 180_000);
  const committed = new Set<string | null>(got);
  process.stdout.write(`\n  rescale 1 → 2 → 1 (v${v1.version}..v${v3.version}): ${got.length} results, ${want.length} expected, ${want.filter((w) => !committed.has(w)).length} missing\n`);
  assert.equal(canonical(got), canonical(want));
  const s = await status(target, 'rescale-counter');
  assert.is(s.versions.find((v) => v.version === 2)?.parallelism, 2);
  await destroy({ target, name: 'rescale-counter' });
});

test.run();
