/**
 * Exactly-once with an async handler on the real local stack: while 100,000 events flow into a function whose
 * `handle` makes an HTTP call per event (to a server this test runs on loopback, up to 50 calls in flight per
 * subtask), SIGKILL the sidecar, or the TaskManager (failing its tasks; `flinkfn local up` brings it back). Calls in
 * flight at a checkpoint are finished before its barrier, so after the restore nothing is lost or repeated: the
 * committed output (read_committed) must equal what the test harness computes against the same server.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { harnessFromEntry } from '@flinkfn/testing';
import { deploy, destroy } from '../src/index.js';
import { SCRATCH } from './support/functions.js';
import { canonical, consume, produce } from './support/inspect.js';
import { flinkPids, healStack, sidecarPids, useStack } from './support/stack.js';

const test = suite('async handler crash recovery: nothing lost, nothing duplicated');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.join(SCRATCH, 'async-recovery');
const EVENTS = Number(process.env.FLINKFN_ASYNC_RECOVERY_EVENTS ?? 100_000);

let requests = 0;
let open = 0;
let maxOpen = 0;
/** score = id × 7 mod 1,009, after 1–3 ms. */
const server = http.createServer((req, res) => {
  requests++;
  maxOpen = Math.max(maxOpen, ++open);
  res.on('close', () => open--);
  const id = Number((req.url ?? '').split('/').at(-1));
  setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ score: (id * 7) % 1_009 })), 1 + (id % 3));
});
const report: string[] = [];

test.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await mkdir(PROJECT, { recursive: true });
  const source = await readFile(path.join(HERE, 'fixtures', 'async-enricher.ts'), 'utf8');
  assert.is(source.split('ENRICH_URL_PLACEHOLDER').length, 2, 'the fixture names the placeholder once, where the URL goes');
  await writeFile(path.join(PROJECT, 'enricher.ts'), source.replaceAll('ENRICH_URL_PLACEHOLDER', url));
});

test.after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  process.stdout.write(`\n  ${report.join('\n  ')}\n`);
});

function input(): string[] {
  return Array.from({ length: EVENTS }, (_, i) => JSON.stringify({ id: i, key: `k${i % 10}` }));
}

async function crash(what: 'sidecar' | 'taskmanager'): Promise<string> {
  const s = stack();
  const p = await flinkPids(s.root);
  const inFlight = open;
  if (what === 'sidecar') {
    const sidecars = sidecarPids(p.taskManager);
    assert.ok(sidecars.length > 0, 'the TaskManager runs sidecars');
    for (const pid of sidecars) process.kill(pid, 'SIGKILL');
    return `killed ${sidecars.length} sidecar(s) with ${inFlight} calls open`;
  }
  process.kill(p.taskManager, 'SIGKILL');
  await sleep(1_000);
  const started = await healStack(s);
  return `SIGKILL taskmanager ${p.taskManager} with ${inFlight} calls open, local up started ${started.join(', ')}`;
}

for (const what of ['sidecar', 'taskmanager'] as const) {
  test(`SIGKILL of the ${what} while ${EVENTS} events make HTTP calls: the committed output equals the harness's`, async () => {
    const { target } = stack();
    const lines = input();
    const expected = await harnessFromEntry('enricher.ts', { root: PROJECT });
    expected.pushRaw(...lines);
    await expected.finish().settled();
    const want = expected.records.map((r) => r.json);
    assert.equal(expected.deadLetters.slice(0, 3), [], 'the harness run against the server has no dead letters');
    assert.is(want.length, EVENTS);
    requests = 0;
    maxOpen = 0;

    const deployed = await deploy({ target, root: PROJECT, entry: 'enricher.ts' });
    const started = performance.now();
    const batch = 5_000;
    let crashed = '';
    for (let i = 0; i < lines.length; i += batch) {
      await produce(target, 'async-recovery-in', lines.slice(i, i + batch));
      if (!crashed && i >= lines.length * 0.4) {
        await sleep(2_500); // a checkpoint or two with calls in flight, then the crash
        crashed = await crash(what);
      }
    }
    const got = await consume(target, 'async-recovery-out', want.length, 300_000);
    const committed = new Set<string | null>(got);
    const missing = want.filter((w) => !committed.has(w)).length;
    report.push(`${what}: ${crashed}; ${got.length} results committed, ${want.length} expected, ${requests} HTTP calls`
      + ` (at most ${maxOpen} open), ${((performance.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(canonical(got), canonical(want), `${missing} missing or different; ${got.length - want.length} extra`);
    await destroy({ target, name: deployed.name });
  });
}

test.run();
