import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { build } from '@flinkfn/bundler';
import { harnessFromEntry } from '@flinkfn/testing';
import { deploy, destroy } from '../src/index.js';
import { canonical, consume, leftovers, produce, REPO, retainedTopicsOf, topicsOf } from './support/inspect.js';
import { kafkaClient, type ResolvedTarget } from '../src/index.js';
import { useStack } from './support/stack.js';

const test = suite('examples on the real local stack');
const stack = useStack(test);

// FLINKFN_EXAMPLES=a,b runs only those (the full list takes minutes per example).
const ONLY = process.env['FLINKFN_EXAMPLES']?.split(',').filter(Boolean);
const EXAMPLES = (await readdir(path.join(REPO, 'examples'))).sort().filter((e) => !ONLY || ONLY.includes(e));

for (const example of EXAMPLES) {
  test(`${example}: a deployed example writes what the embedded engine computes from the same events, and destroy leaves nothing`, async () => {
    const { target } = stack();
    const root = path.join(REPO, 'examples', example);
    const service = await startService(root);
    try {
      await runExample(target, root, service?.settings ?? {});
    } finally {
      service?.child.kill('SIGKILL');
    }
  });
}

async function runExample(target: ResolvedTarget, root: string, settings: Record<string, string>): Promise<void> {
  const built = await build({ root, write: false });
  const manifest = built.manifest;
  const all = (await readFile(path.join(root, 'data', 'events.jsonl'), 'utf8')).split('\n').filter((l) => l.length > 0);
  const lines = withinBound(all, manifest.window?.time.kind === 'event' ? manifest.window.time.outOfOrdernessMs : null);

  const expected = await harnessFromEntry(manifest.bundle.entry, { root, settings });
  await expected.pushRaw(...lines).settled();

  const deployed = await deploy({ target, root, settings });
  assert.is(deployed.state, 'RUNNING');
  assert.is(deployed.version, 1);
  await produce(target, manifest.source.topic, lines);

  for (const sink of manifest.sinks) {
    const want = expected.records.filter((r) => r.sink === sink.name).map((r) => r.json);
    assert.ok(want.length > 0, `the engine produced results for ${sink.name}`);
    const got = await consume(target, sink.topic, want.length);
    assert.equal(canonical(got), canonical(want), `results on ${sink.topic}`);
  }

  const destroyed = await destroy({ target, name: deployed.name });
  assert.ok(destroyed.found);
  assert.ok(destroyed.items.some((i) => i.kind === 'flink-job' && i.action === 'delete'));
  assert.equal(await leftovers(target, deployed.name, topicsOf(manifest)), []);

  // Topics declared `retain` outlive the deployment; this test removes them itself.
  const retained = retainedTopicsOf(manifest);
  if (retained.length > 0) {
    const admin = kafkaClient(target).admin();
    await admin.connect();
    const existing = await admin.listTopics();
    for (const topic of retained) assert.ok(existing.includes(topic), `retained topic ${topic} was kept`);
    await admin.deleteTopics({ topics: retained });
    await admin.disconnect();
  }
}

/**
 * An example whose handler calls a service ships it as its `customers` script (order-enrichment's customer API). It
 * runs as users run it, on a free port, and both the embedded engine here and the sidecar on the TaskManager call it
 * at the address given as the function's `customersUrl` setting (deploy --set, harness settings). Resolves once it
 * listens; undefined for an example without one.
 */
async function startService(root: string): Promise<{ child: ChildProcess; settings: Record<string, string> } | undefined> {
  const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  if (manifest.scripts?.['customers'] === undefined) return undefined;
  // One process (tsx's CLI would run the server in a child that outlives a kill of its parent).
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/customers.ts'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PORT: '0' } });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const listening = new Promise<string>((resolve) => child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    const url = /customers on (http:\/\/\S+)/.exec(output)?.[1];
    if (url) resolve(url);
  }));
  const exited = once(child, 'exit').then(([code]): never => {
    throw new Error(`${path.basename(root)}: its customer API exited (${String(code)}) before listening\n${output}`);
  });
  exited.catch(() => undefined); // after it listened, an exit is the test stopping it
  const url = await Promise.race([listening, exited]);
  return { child, settings: { customersUrl: url } };
}

/**
 * The events no watermark schedule can treat as late: each is at most the out-of-orderness bound older than
 * the newest before it. The engine advances the watermark after every record, Flink every 200 ms, so late
 * events (and late firings) depend on timing on Flink; the conformance suite covers lateness with explicit
 * watermarks. Malformed lines stay (they become dead letters either way). The examples' events carry `ts`.
 */
function withinBound(lines: string[], boundMs: number | null): string[] {
  if (boundMs === null) return lines;
  let newest = -Infinity;
  return lines.filter((line) => {
    let ts: unknown;
    try {
      ts = (JSON.parse(line) as { ts?: unknown }).ts;
    } catch {
      return true;
    }
    if (typeof ts !== 'number') return true;
    if (ts < newest - boundMs) return false;
    newest = Math.max(newest, ts);
    return true;
  });
}

test.run();
