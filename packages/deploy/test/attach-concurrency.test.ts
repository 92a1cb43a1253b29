/**
 * Attach and detach from many processes at once, on the real S3 server and Kafka broker: the lease's
 * compare-and-swap must keep a shared topic alive while anyone is attached and gone after the last detach.
 * FLINKFN_ATTACH_PROCESSES and FLINKFN_ATTACH_ROUNDS scale it (default 8 × 50).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { leaseOf, topicExists } from './support/inspect.js';
import { useStack } from './support/stack.js';
import { runWorker } from './support/worker.js';

const test = suite('attach/detach from concurrent processes');
const stack = useStack(test);

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'attach-worker.ts');
const PROCESSES = Number(process.env.FLINKFN_ATTACH_PROCESSES ?? 8);
const ROUNDS = Number(process.env.FLINKFN_ATTACH_ROUNDS ?? 50);

interface Seen { rounds: number; created: number; deleted: number; missingWhileAttached: number; traces: string[] }

test(`${PROCESSES} processes × ${ROUNDS} rounds on one topic: never deleted while attached, never left after the last detach`, async () => {
  const { target } = stack();
  const topic = 'contended-topic';
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: PROCESSES }, (_, i) =>
    runWorker<Seen>(WORKER, { FLINKFN_TEST_TARGET: JSON.stringify(target), TOPIC: topic, WORKER: `worker-${i}`, ROUNDS: String(ROUNDS) })));
  const total = results.reduce((sum, r) => ({ rounds: sum.rounds + r.rounds, created: sum.created + r.created, deleted: sum.deleted + r.deleted, missingWhileAttached: sum.missingWhileAttached + r.missingWhileAttached, traces: [...sum.traces, ...r.traces] }));
  if (total.traces.length > 0) process.stdout.write(`\n  rare paths taken:\n    ${total.traces.sort().join('\n    ')}\n`);
  process.stdout.write(`\n  ${total.rounds} attach/detach rounds in ${((performance.now() - started) / 1000).toFixed(1)} s: topic created ${total.created}×, deleted ${total.deleted}×, missing while attached ${total.missingWhileAttached}×\n`);
  assert.is(total.rounds, PROCESSES * ROUNDS);
  assert.is(total.missingWhileAttached, 0, 'the topic was deleted while a process was attached');
  assert.is(total.created, total.deleted, 'every creation was followed by exactly one deletion');
  assert.ok(total.created >= 1);
  assert.not.ok(await topicExists(target, topic), 'the last detach deleted it');
  assert.is(await leaseOf(target, 'kafka-topic', topic), null, 'and its lease');
});

test.run();
