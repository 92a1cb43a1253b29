/**
 * Readers see committed records only, also where kafkajs 2.2.4's own read_committed filter does not
 * (src/clients/kafkajs-committed-reads.ts): two transactional producers interleave in one partition, and the
 * transaction that began first is aborted last. Kafka lists aborted transactions in the order of their abort markers,
 * and kafkajs, which expects them by first offset, delivered the first producer's aborted record — the shape Flink's
 * exactly-once sink leaves when a restored job aborts the open transactions of two subtasks writing one topic.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { committedRecords } from '../src/clients/kafkajs-committed-reads.js';
import { kafkaClient } from '../src/index.js';
import { consume } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('read_committed readers skip every aborted transaction');
const stack = useStack(test);

const record = (offset: number, producerId: string, value: string | null, control?: 'abort' | 'commit') => ({
  offset: String(offset),
  key: control ? Buffer.from([0, 0, 0, control === 'abort' ? 0 : 1]) : null,
  value,
  isControlRecord: control !== undefined,
  batchContext: { producerId, inTransaction: true },
});

test('the filter: interleaved transactions listed in abort order, the first one begun is aborted last', () => {
  const messages = [record(0, 'p1', 'a1'), record(1, 'p2', 'b1'), record(2, 'p2', null, 'abort'), record(3, 'p1', 'a2'), record(4, 'p1', null, 'abort'), record(5, 'p1', 'c1'), record(6, 'p1', null, 'commit')];
  const abortedTransactions = [{ producerId: 'p2', firstOffset: '1' }, { producerId: 'p1', firstOffset: '0' }];
  const kept = committedRecords({ messages, abortedTransactions }).filter((r) => !r.isControlRecord).map((r) => r.value);
  assert.equal(kept, ['c1']);
});

test('the filter: an abort marker without a listed transaction (an empty aborted transaction) leaves the other producers alone', () => {
  const messages = [record(10, 'p1', null, 'abort'), record(11, 'p2', 'b1'), record(12, 'p2', null, 'commit'), record(13, 'p1', 'a2'), record(14, 'p1', null, 'abort')];
  const kept = committedRecords({ messages, abortedTransactions: [{ producerId: 'p1', firstOffset: '13' }] }).filter((r) => !r.isControlRecord).map((r) => r.value);
  assert.equal(kept, ['b1']);
});

test('on a real broker: interleaved aborted transactions of two producers, then a committed one; a reader sees only the committed record', async () => {
  const { target } = stack();
  const topic = `committed-reads-${Date.now()}`;
  const kafka = kafkaClient(target, 'flinkfn-test-transactions');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  const producer = (id: string) => kafka.producer({ transactionalId: `${topic}-${id}`, idempotent: true, maxInFlightRequests: 1 });
  const first = producer('first');
  const second = producer('second');
  try {
    await first.connect();
    await second.connect();
    const a = await first.transaction();
    await a.send({ topic, messages: [{ value: 'aborted-first-1' }] });
    const b = await second.transaction();
    await b.send({ topic, messages: [{ value: 'aborted-second' }] });
    await b.abort();
    await a.send({ topic, messages: [{ value: 'aborted-first-2' }] });
    await a.abort();
    const c = await first.transaction();
    await c.send({ topic, messages: [{ value: 'committed' }] });
    await c.commit();

    const got = await consume(target, topic, 1, 60_000);
    assert.equal(got, ['committed']);
  } finally {
    await first.disconnect();
    await second.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  }
});

test.run();
