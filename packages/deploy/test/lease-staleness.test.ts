/**
 * When a lease left in `creating` or `releasing` may be taken over from its writer. A takeover races the
 * writer's own delete, so it must happen only when the writer cannot finish: its local process is gone, or
 * it was on another host and has been silent for `STALE_MS`. A slow local writer is waited for.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Leases, STALE_MS, type Lease } from '../src/leases.js';
import type { ObjectStore } from '../src/clients/object-store.js';

const test = suite('lease staleness');

// isStale reads only the lease: no bucket is touched.
const leases = new Leases({} as ObjectStore, { exists: async () => true, remove: async () => undefined });

const lease = (writer: Partial<Lease['writer']>): Lease => ({
  format: 'flinkfn-lease',
  formatVersion: 1,
  kind: 'kafka-topic',
  id: 'shared',
  createdByFlinkfn: true,
  createdBy: 'a',
  lifecycle: 'ephemeral',
  state: 'releasing',
  holders: [],
  writer: { token: 'someone-else', pid: process.pid, host: hostname(), at: new Date().toISOString(), ...writer },
});

// Computed when each test runs: uvu loads every file before the first suite runs.
const longAgo = (): string => new Date(Date.now() - 10 * STALE_MS).toISOString();
const justNow = (): string => new Date().toISOString();

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

test('a live writer on this host is never stale, however long ago it wrote (a slow topic deletion)', () => {
  assert.is(leases.isStale(lease({ at: longAgo() })), false);
});

test('a writer on this host whose process is gone is stale at once', () => {
  assert.is(leases.isStale(lease({ pid: deadPid(), at: justNow() })), true);
});

test('a writer on another host is stale only after STALE_MS', () => {
  assert.is(leases.isStale(lease({ host: 'elsewhere', at: justNow() })), false);
  assert.is(leases.isStale(lease({ host: 'elsewhere', at: longAgo() })), true);
});

test.run();
