/**
 * Makes kafkajs's read_committed consumers skip every aborted transaction. Import this module before `kafkajs`.
 *
 * Why: kafkajs 2.2.4 (its last release) drops a fetch's aborted records with a queue of the response's aborted
 * transactions that it assumes is ordered by first offset, and it takes at most one transaction off that queue per
 * record. The broker lists aborted transactions in the order their abort markers were written, so when two producers'
 * transactions interleave in one partition — Flink's exactly-once sink at parallelism 2 writing one topic, after a
 * restore aborted both subtasks' open transactions — records of the transaction that began first and was aborted
 * last are delivered as if committed. The recovery test saw this as 25–125 "duplicate" windows after a JobManager
 * kill, while Kafka's Java consumer (read_committed) read every window exactly once from the same topic.
 *
 * How: kafkajs's batch module takes its filter from `require('./filterAbortedMessages')` when it is first loaded, so
 * this module loads that file and puts the filter below in its place in Node's module cache before anything loads
 * kafkajs. The filter does what Kafka's own consumer does: it orders the aborted transactions by first offset, marks
 * the producer of every transaction that has begun at a record's offset as aborting, and skips that producer's
 * transactional records until its abort marker. If kafkajs was loaded first, the filter could not take effect and
 * this module throws rather than let a reader show aborted records.
 */
import { createRequire } from 'node:module';
import path from 'node:path';

/** What kafkajs's fetch decoding gives a record (the fields the filter reads). */
export interface FetchedRecord {
  offset: string;
  key: Buffer | null;
  isControlRecord?: boolean;
  batchContext: { producerId: string | number; inTransaction: boolean };
}

/** An aborted transaction as a fetch response lists it. */
export interface AbortedTransaction {
  producerId: string | number;
  firstOffset: string | number;
}

/** The key of a control record whose type is ABORT: version 0, type 0 (a COMMIT marker has type 1). */
function isAbortMarker(record: FetchedRecord): boolean {
  return record.isControlRecord === true && record.key !== null && record.key.length >= 4 && record.key.readInt16BE(2) === 0;
}

/** The records of one fetch without those of aborted transactions (control records stay; kafkajs drops them next). */
export function committedRecords<R extends FetchedRecord>({ messages, abortedTransactions }: { messages: R[]; abortedTransactions?: AbortedTransaction[] }): R[] {
  if (!abortedTransactions || abortedTransactions.length === 0) return messages;
  const notBegun = abortedTransactions.map((t) => ({ producer: String(t.producerId), first: BigInt(t.firstOffset) })).sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const aborting = new Set<string>();
  return messages.filter((record) => {
    const offset = BigInt(record.offset);
    while (notBegun.length > 0 && notBegun[0]!.first <= offset) aborting.add(notBegun.shift()!.producer);
    const producer = String(record.batchContext.producerId);
    if (isAbortMarker(record)) {
      aborting.delete(producer);
      return true;
    }
    return !(record.batchContext.inTransaction && aborting.has(producer));
  });
}

const require = createRequire(import.meta.url);
const kafkajsFolder = path.dirname(require.resolve('kafkajs'));
const filterFile = path.join(kafkajsFolder, 'src', 'consumer', 'filterAbortedMessages.js');
/** Marks the installed filter, so that a second copy of this module in one process (dist and src) sees it is done. */
const INSTALLED = Symbol.for('flinkfn.kafkajs-committed-reads');
const installed = (exports: unknown): boolean => typeof exports === 'function' && INSTALLED in exports;

if (!installed(require.cache[filterFile]?.exports)) {
  if (require.cache[path.join(kafkajsFolder, 'src', 'consumer', 'batch.js')]) {
    throw new Error('kafkajs was loaded before its read_committed filter was corrected: import kafkajs only through packages/deploy/src/clients/kafka.ts');
  }
  require(filterFile);
  const cached = require.cache[filterFile];
  if (!cached) throw new Error(`kafkajs's ${filterFile} is not in the module cache after loading it`);
  cached.exports = Object.assign(committedRecords, { [INSTALLED]: true });
}
