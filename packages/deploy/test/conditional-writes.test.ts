/**
 * The compare-and-swap every lease and deployment record relies on, against the local stack's real S3
 * server: processes incrementing one counter document through conditional writes lose no increment. S3Proxy
 * checks If-Match and writes in two steps (several winners per round without the host lock), so this fails
 * unless its conditional writes are serialised (src/clients/host-lock.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { useStack } from './support/stack.js';
import { runWorker } from './support/worker.js';

const test = suite('conditional writes to the local S3 server');
const stack = useStack(test);

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'counter-worker.ts');
const PROCESSES = 6;
const ROUNDS = 40;

test(`${PROCESSES} processes × ${ROUNDS} conditional increments of one document: none is lost`, async () => {
  const { target } = stack();
  const key = 'test/counter.json';
  const store = new ObjectStore(target.s3);
  try {
    await store.delete(key);
    assert.ok(await store.putIfUnchanged(key, JSON.stringify({ count: 0 }), null), 'created with If-None-Match');
    assert.is(await store.putIfUnchanged(key, JSON.stringify({ count: -1 }), null), null, 'a second create is refused');
    const results = await Promise.all(Array.from({ length: PROCESSES }, () =>
      runWorker<{ won: number }>(WORKER, { FLINKFN_TEST_TARGET: JSON.stringify(target), KEY: key, ROUNDS: String(ROUNDS) })));
    assert.is(results.reduce((n, r) => n + r.won, 0), PROCESSES * ROUNDS, 'every process won its rounds');
    const final = await store.getVersioned(key);
    assert.is((JSON.parse(final!.text) as { count: number }).count, PROCESSES * ROUNDS, 'and every win is in the document');
    await store.delete(key);
  } finally {
    store.close();
  }
});

test('a write at an ETag whose document another writer deleted is refused (null), not an error', async () => {
  const { target } = stack();
  const key = 'test/deleted-meanwhile.json';
  const store = new ObjectStore(target.s3);
  try {
    const etag = await store.putIfUnchanged(key, JSON.stringify({ state: 'live' }), null);
    assert.ok(etag);
    await store.delete(key);
    assert.is(await store.putIfUnchanged(key, JSON.stringify({ state: 'releasing' }), etag), null);
    assert.is(await store.getVersioned(key), null, 'nothing was written');
  } finally {
    store.close();
  }
});

test.run();
