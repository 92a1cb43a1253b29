/**
 * A handler's own metrics on the real local stack: a function whose handler and window function record counters,
 * a gauge and histograms runs on Flink, and `status` shows them over the job's subtasks with the values its input
 * implies.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, destroy, kafkaClient, status, type DeploymentStatus, type HandlerMetric, type ResolvedTarget } from '../src/index.js';
import { cli, consume } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('handler metrics in status on the real local stack');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.join(HERE, '..', '.tmp-test', 'metrics-counter');
const HOUR = 3_600_000;
const PER_PARTITION = 30;

test.before(async () => {
  await rm(PROJECT, { recursive: true, force: true });
  await mkdir(PROJECT, { recursive: true });
  await copyFile(path.join(HERE, 'fixtures', 'metrics-counter.ts'), path.join(PROJECT, 'metrics-counter.ts'));
});

async function sendTo(target: ResolvedTarget, partition: number, lines: string[]): Promise<void> {
  const producer = kafkaClient(target, 'flinkfn-test-producer').producer();
  await producer.connect();
  try {
    await producer.send({ topic: 'metrics-counter-in', messages: lines.map((value) => ({ value, partition })) });
  } finally {
    await producer.disconnect();
  }
}

const event = (key: string, ts: number, w: number, batch: number): string => JSON.stringify({ key, ts, w, batch });
const find = (metrics: HandlerMetric[], stage: string, name: string): HandlerMetric | undefined => metrics.find((m) => m.stage === stage && m.name === name);

/** Polls status until `ready` holds for its handler metrics: Flink's metric store refreshes every few seconds. */
async function statusWhen(target: ResolvedTarget, ready: (metrics: HandlerMetric[]) => boolean, what: string): Promise<DeploymentStatus> {
  let shown = await status(target, 'metrics-counter');
  for (const deadline = Date.now() + 180_000; !ready(shown.handlerMetrics) && Date.now() < deadline; await new Promise((r) => setTimeout(r, 1_000))) {
    shown = await status(target, 'metrics-counter');
  }
  assert.ok(ready(shown.handlerMetrics), `${what}; status shows ${JSON.stringify(shown.handlerMetrics)}`);
  return shown;
}

test('status shows the counters, gauge and histograms the handler and window function record, over both subtasks', async () => {
  const { target, env } = stack();
  await deploy({ target, root: PROJECT, entry: 'metrics-counter.ts' });
  // Key a on partition 0, key b on partition 1 (one per subtask), weights 1..5 six times over, batch 1, all in hour 0.
  for (const [partition, key] of [[0, 'a'], [1, 'b']] as const) {
    await sendTo(target, partition, Array.from({ length: PER_PARTITION }, (_, i) => event(key, 1_000 + i, (i % 5) + 1, 1)));
  }
  // Then one event of batch 2 two hours later on each partition: the watermark passes hour 0, both windows fire.
  for (const [partition, key] of [[0, 'a'], [1, 'b']] as const) await sendTo(target, partition, [event(key, 2 * HOUR, 3, 2)]);
  assert.equal((await consume(target, 'metrics-counter-out', 2)).map((v) => JSON.parse(v) as unknown).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))), [
    { key: 'a', start: 0, count: PER_PARTITION },
    { key: 'b', start: 0, count: PER_PARTITION },
  ]);

  const sent = 2 * (PER_PARTITION + 1);
  const shown = await statusWhen(target, (m) => (find(m, 'handle', 'events') as { value?: number } | undefined)?.value === sent && find(m, 'window', 'windows') !== undefined && find(m, 'window', 'window-size') !== undefined, `the handle stage counted ${sent} events`);
  const metrics = shown.handlerMetrics;
  assert.equal(find(metrics, 'handle', 'events'), { stage: 'handle', name: 'events', kind: 'counter', value: sent }, 'the sum over both subtasks');
  assert.equal(find(metrics, 'handle', 'batch'), { stage: 'handle', name: 'batch', kind: 'gauge', value: 2 }, 'the last batch number set');
  const weight = find(metrics, 'handle', 'weight');
  assert.is(weight?.kind, 'histogram');
  if (weight?.kind !== 'histogram') return;
  // Each subtask saw 1..5 six times and one 3: mean 3, median 3, 99th percentile 5.
  assert.equal({ min: weight.min, max: weight.max, mean: weight.mean, p50: weight.p50, p99: weight.p99 }, { min: 1, max: 5, mean: 3, p50: 3, p99: 5 });
  assert.equal(find(metrics, 'window', 'windows'), { stage: 'window', name: 'windows', kind: 'counter', value: 2 }, 'one window fired per key');
  const size = find(metrics, 'window', 'window-size');
  assert.is(size?.kind, 'histogram');
  if (size?.kind === 'histogram') assert.equal([size.min, size.max, size.mean], [PER_PARTITION, PER_PARTITION, PER_PARTITION]);
  assert.equal(metrics.map((m) => `${m.stage} ${m.name}`), ['handle batch', 'handle events', 'handle weight', 'window window-size', 'window windows'], 'nothing else, ordered by stage and name');

  // The command shows the same, as text and as JSON.
  const text = await cli(['status', 'metrics-counter'], env);
  assert.is(text.code, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`handle events +counter +${sent}\\n`));
  assert.match(text.stdout, /handle batch +gauge +2\n/);
  assert.match(text.stdout, /handle weight +histogram +min 1, p50 3, mean 3, p95 5, p99 5, max 5\n/);
  assert.match(text.stdout, /window windows +counter +2\n/);
  const json = await cli(['status', 'metrics-counter', '--json'], env);
  assert.is(json.code, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as DeploymentStatus).handlerMetrics, metrics);

  // Live: more events move the counter and the gauge.
  await sendTo(target, 0, [event('a', 2 * HOUR + 1, 1, 7)]);
  await statusWhen(target, (m) => (find(m, 'handle', 'events') as { value?: number } | undefined)?.value === sent + 1 && (find(m, 'handle', 'batch') as { value?: number } | undefined)?.value === 7, 'the next event counted and its batch set');
  await destroy({ target, name: 'metrics-counter' });
});

test.run();
