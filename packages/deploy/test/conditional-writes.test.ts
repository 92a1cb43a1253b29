/**
 * The compare-and-swap every lease and deployment record relies on, against the local stack's real S3
 * server: processes incrementing one counter document through conditional writes lose no increment. S3Proxy
 * checks If-Match and writes in two steps (several winners per round without the host lock), so this fails
 * unless its conditional writes are serialised (src/clients/host-lock.ts).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ObjectStore } from '../src/index.js';
import { useStack } from './support/stack.js';

const test = suite('conditional writes to the local S3 server');
const stack = useStack(test);

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'counter-worker.ts');
const PROCESSES = 6;
const ROUNDS = 40;

function runWorker(env: Record<string, string>): Promise<{ won: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { won: number }) : reject(new Error(`worker exited ${code}: ${stderr}`))));
  });
}

test(`${PROCESSES} processes × ${ROUNDS} conditional increments of one document: none is lost`, async () => {
  const { target } = stack();
  const key = 'test/counter.json';
  const store = new ObjectStore(target.s3);
  try {
    await store.delete(key);
    assert.ok(await store.putIfUnchanged(key, JSON.stringify({ count: 0 }), null), 'created with If-None-Match');
    assert.is(await store.putIfUnchanged(key, JSON.stringify({ count: -1 }), null), null, 'a second create is refused');
    const results = await Promise.all(Array.from({ length: PROCESSES }, () =>
      runWorker({ FLINKFN_TEST_TARGET: JSON.stringify(target), KEY: key, ROUNDS: String(ROUNDS) })));
    assert.is(results.reduce((n, r) => n + r.won, 0), PROCESSES * ROUNDS, 'every process won its rounds');
    const final = await store.getVersioned(key);
    assert.is((JSON.parse(final!.text) as { count: number }).count, PROCESSES * ROUNDS, 'and every win is in the document');
    await store.delete(key);
  } finally {
    store.close();
  }
});

test.run();
