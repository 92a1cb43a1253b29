/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The callbacks given to page.evaluate run in the browser.
/**
 * The dashboard page in Chromium against the real local stack: deployment states, a windowed function's
 * results arriving live (and how long after the window fired), a late event updating its window's row and
 * point in place, the function's handler metrics beside its results, late events and dead letters with their reasons, and ad-hoc queries that are torn down
 * when their panel closes or their tab goes away.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, destroy, FlinkClient, KafkaAdmin, list } from '@flinkfn/deploy';
import { useStack } from '../../deploy/test/support/stack.js';
import { QUERY_CHECKPOINT_INTERVAL_MS, READER_GROUP_PREFIX, startDashboard, type Dashboard } from '../src/index.js';
import { launchBrowser } from './support/browser.js';
import { counterSource, PROJECT, relaySource, sender, writeFunction, type Sender } from './support/project.js';
import { percentile, sleep, until } from './support/wait.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOT = path.join(HERE, '..', '..', '..', 'docs', 'images', 'dashboard.png');
const FIGURES = path.join(HERE, '..', '.tmp-test', 'figures.json');
const GRACE_MS = 3_000;

const test = suite('dashboard page in Chromium');
let dashboard: Dashboard | undefined;
let browser: Browser | undefined;
let page: Page;
let events: Sender | undefined;
const figures: Record<string, unknown> = {};
/** Uncaught errors in the page: every test ends by checking there were none. */
const pageErrors: string[] = [];
// Registered before the stack's own hooks' after: the dashboard and browser close while the stack still runs.
test.after(async () => {
  await browser?.close();
  await dashboard?.close();
  await events?.close();
  await mkdir(path.dirname(FIGURES), { recursive: true });
  await writeFile(FIGURES, JSON.stringify(figures, null, 2));
  console.log(`\n  figures: ${JSON.stringify(figures)}`);
});
const stack = useStack(test);
test.before(async () => {
  dashboard = await startDashboard({ target: stack().target, root: PROJECT, graceMs: GRACE_MS, pollMs: 1_000 });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1600, height: 1200 } });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  events = await sender(stack().target);
});

const cellText = (p: Page, name: string, field: string): Promise<string | null> =>
  p.evaluate(([n, f]) => document.querySelector(`#deployments tr[data-name="${n}"] td[data-field="${f}"]`)?.textContent ?? null, [name, field] as const);

test('the deployments list shows each deployment with its state, live', async () => {
  const { target } = stack();
  const relayA = await writeFunction('dash-relay-a.ts', relaySource('dash-relay-a', 'dash-relay-in'));
  const relayB = await writeFunction('dash-relay-b.ts', relaySource('dash-relay-b', 'dash-relay-in'));
  await deploy({ target, root: PROJECT, entry: relayA });
  const b = await deploy({ target, root: PROJECT, entry: relayB });
  await page.goto(dashboard!.url);
  await until('both relays RUNNING on the page', async () => (await cellText(page, 'dash-relay-a', 'state')) === 'RUNNING' && (await cellText(page, 'dash-relay-b', 'state')) === 'RUNNING');
  // Cancelled from outside (as from Flink's UI): the page follows without a reload.
  await new FlinkClient(target.flinkUrl).cancel(b.jobId);
  await until('dash-relay-b CANCELED on the page', async () => (await cellText(page, 'dash-relay-b', 'state')) === 'CANCELED');
  assert.is(await cellText(page, 'dash-relay-a', 'state'), 'RUNNING');
  // A created the shared source (and owns it, with B attached); B is attached to it, owned by A.
  assert.match((await cellText(page, 'dash-relay-a', 'owns')) ?? '', /kafka-topic dash-relay-in \(also dash-relay-b\)/, 'the shared source, with the other reader');
  assert.match((await cellText(page, 'dash-relay-a', 'owns')) ?? '', /kafka-topic dash-relay-a-out/);
  assert.match((await cellText(page, 'dash-relay-b', 'attached')) ?? '', /kafka-topic dash-relay-in \(source, owner dash-relay-a, also dash-relay-a\)/, 'attached to the source A owns');
  assert.not.match((await cellText(page, 'dash-relay-b', 'owns')) ?? '', /dash-relay-in/);
  await destroy({ target, name: 'dash-relay-b' });
  await destroy({ target, name: 'dash-relay-a' });
  await until('the destroyed deployments leave the page', async () => (await cellText(page, 'dash-relay-a', 'state')) === null && (await cellText(page, 'dash-relay-b', 'state')) === null);
});

const WINDOWS = 26;
let base = 0;
const tick = (key: string, ts: number): string => JSON.stringify({ key, ts });
/** One tick for each key on each source partition: the watermark of every subtask moves past the previous second. */
const sendSecond = async (topic: string, second: number): Promise<void> => {
  await events!.send(topic, 0, [tick('a', base + second * 1000 + 100)]);
  await events!.send(topic, 1, [tick('b', base + second * 1000 + 100)]);
};

test('a windowed function: results appear live, a late event updates its row and point in place, late events and dead letters show their reasons, handler metrics beside them', async () => {
  const { target } = stack();
  const entry = await writeFunction('dash-counter.ts', counterSource('dash-counter', 'dash-ticks'));
  const counter = await deploy({ target, root: PROJECT, entry });
  await until('dash-counter RUNNING on the page', async () => (await cellText(page, 'dash-counter', 'state')) === 'RUNNING');
  await page.click('#deployments tr[data-name="dash-counter"] button.view');
  const panel = '.panel[data-deployment="dash-counter"]';
  await page.waitForFunction((p) => document.querySelector(`${p} .panel-status`)?.textContent === 'live', panel, { timeout: 60_000 });

  base = Math.ceil(Date.now() / 1000) * 1000;
  const rows = (): Promise<number> => page.evaluate((p) => document.querySelectorAll(`${p} .results tbody tr`).length, panel);
  // One second of event time every 400 ms of wall time; second i fires when second i+1 arrives on both partitions.
  for (let second = 0; second < WINDOWS; second++) {
    await sendSecond('dash-ticks', second);
    await sleep(400);
  }
  const expected = 2 * (WINDOWS - 1);
  await until(`${expected} result rows`, async () => (await rows()) >= expected);
  await sleep(2_000);
  assert.is(await rows(), expected, 'one row per key and window');
  const latencies = await page.evaluate(() => (window as unknown as { __flinkfn: { latencies: Array<{ ms: number; serverMs: number }> } }).__flinkfn.latencies);
  assert.is(latencies.length, expected);
  const ms = latencies.map((l) => l.ms);
  const serverMs = latencies.map((l) => l.serverMs);
  // What bounds that delay: a result is readable (read_committed) only once the checkpoint after it completes.
  const history = ((await (await fetch(`${target.flinkUrl}/jobs/${counter.jobId}/checkpoints`)).json()) as { history: Array<{ end_to_end_duration: number }> }).history;
  figures.checkpoints = { intervalMs: target.checkpointIntervalMs, count: history.length, durationP50: percentile(history.map((h) => h.end_to_end_duration), 50), durationP95: percentile(history.map((h) => h.end_to_end_duration), 95) };
  figures.windowFireToPage = { results: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), max: Math.max(...ms), serverReadP50: percentile(serverMs, 50), serverReadP95: percentile(serverMs, 95) };

  // A tick for second 0 of key a, after that window fired (within the allowed lateness): it fires again.
  const key = JSON.stringify(['dash-counter-out', 'a', base]);
  const row = (): Promise<{ value: string; fired: string } | null> =>
    page.evaluate(([p, k]) => {
      const tr = [...document.querySelectorAll<HTMLTableRowElement>(`${p} .results tbody tr`)].find((r) => r.dataset.key === k);
      return tr ? { value: tr.querySelector('[data-field="value"]')!.textContent!, fired: tr.querySelector('[data-field="fired"]')!.textContent! } : null;
    }, [panel, key] as const);
  assert.equal(await row(), { value: JSON.stringify({ key: 'a', windowStart: base, count: 1 }), fired: '×1' });
  await events!.send('dash-ticks', 0, [tick('a', base + 500)]);
  await until('the re-fired window in its row', async () => (await row())?.fired === '×2');
  assert.equal(await row(), { value: JSON.stringify({ key: 'a', windowStart: base, count: 2 }), fired: '×2' });
  assert.is(await rows(), expected, 'updated in place: no row added');
  const points = await page.evaluate((p) => {
    const chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { data: { datasets: Array<{ label: string; data: Array<{ x: number; y: number }> }> } } } }).Chart.getChart(document.querySelector<HTMLCanvasElement>(`${p} canvas`)!);
    return chart.data.datasets.map((d) => ({ label: d.label, data: d.data.map((pt) => [pt.x, pt.y]) }));
  }, panel);
  const series = points.find((d) => d.label === 'a');
  assert.is(series?.data.length, WINDOWS - 1, 'one point per window of key a');
  assert.equal(series?.data[0], [base, 2], 'the re-fired window moved its point');

  // Two hours behind: too late for every window (late topic); a line that is not JSON (dead letter).
  await events!.send('dash-ticks', 0, [tick('a', base - 7_200_000)]);
  await events!.send('dash-ticks', 1, ['{"key": "b", "ts": ']);
  await page.waitForFunction((p) => document.querySelectorAll(`${p} .late tbody tr`).length === 1 && document.querySelectorAll(`${p} .dead-letters tbody tr`).length === 1, panel, { timeout: 60_000 });
  const late = await page.textContent(`${panel} .late tbody tr`);
  assert.match(late ?? '', /"ts":\s*\d+/, 'the late event itself');
  assert.match(late ?? '', /too late for every window/);
  assert.match((await page.textContent(`${panel} .dead-letters tbody tr`)) ?? '', /^.*decode: /, 'the failed step and its error');

  // Beside the results, the handler's metrics from Flink (pushed with each deployments snapshot): every window
  // computed, the re-fired one included; windows of one tick, and the re-fired one of two.
  const metric = (name: string): Promise<string | null> =>
    page.evaluate(([p, n]) => document.querySelector(`${p} .metrics tr[data-metric="window ${n}"] [data-field="value"]`)?.textContent ?? null, [panel, name] as const);
  await until('the window counter in the panel', async () => (await metric('windows')) === String(expected + 1), 180_000);
  assert.match((await metric('window-size')) ?? '', /^min 1, .*, max 2$/);

  // The deployments row shows the job's progress too.
  await until('watermark and rates on the page', async () => (await cellText(page, 'dash-counter', 'watermark')) !== '–' && (await cellText(page, 'dash-counter', 'in-rate')) !== '–');
  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

/** Whether nothing of a query deployment is left: its job, topics, consumer group, record, and any dashboard reader group. */
async function leftovers(name: string, jobId: string): Promise<string[]> {
  const { target } = stack();
  const left: string[] = [];
  const state = await new FlinkClient(target.flinkUrl).jobStatus(jobId);
  if (state !== null && state !== 'CANCELED' && state !== 'FINISHED' && state !== 'FAILED') left.push(`job ${state}`);
  const admin = await KafkaAdmin.connect(target);
  try {
    for (const topic of await admin.listTopics()) if (topic.startsWith(name)) left.push(`topic ${topic}`);
    for (const group of await admin.listGroups()) if (group.groupId === `flinkfn-${name}` || group.groupId.startsWith(READER_GROUP_PREFIX)) left.push(`group ${group.groupId}`);
  } finally {
    await admin.disconnect();
  }
  if ((await list(target, { all: true })).some((d) => d.name === name)) left.push('record');
  return left;
}

const QUERY = (topic: string, window: string): string => `import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';

interface Event { key: string; ts: number }

export default defineFunction({
  name: 'adhoc-test',
  source: { topic: '${topic}', format: 'json' },
  sinks: { out: { topic: 'QUERY-out' } },
  key: (e: Event) => e.key,
  time: eventTime({ timestamp: (e: Event) => e.ts, outOfOrderness: '0s' }),
  window: tumbling(${window}),
  aggregate: {
    create: () => 0,
    add: (count: number) => count + 1,
    result: (count: number, { key, window }) => ({ key, windowStart: window.start, count }),
  },
});
`;

/** Writes a query in the page's editor and deploys it; returns its deployment name once its panel is live. */
async function deployQuery(tab: Page, sinkTopic: string): Promise<{ name: string; jobId: string }> {
  await tab.fill('#query-code', QUERY('dash-ticks', "'1s'").replace('QUERY-out', sinkTopic).replace("'adhoc-test'", `'${sinkTopic.replace(/-out$/, '')}'`));
  const before = await tab.evaluate(() => [...document.querySelectorAll<HTMLElement>('.panel')].map((p) => p.dataset.deployment));
  await tab.click('#query-deploy');
  const name = await until('the query panel', () => tab.evaluate((b) => [...document.querySelectorAll<HTMLElement>('.panel')].map((p) => p.dataset.deployment).find((n) => n && !b.includes(n)) ?? null, before));
  await tab.waitForFunction((n) => document.querySelector(`.panel[data-deployment="${n}"] .panel-status`)?.textContent === 'live', name, { timeout: 60_000 });
  const summary = (await list(stack().target)).find((d) => d.name === name);
  assert.ok(summary?.jobId, 'the query runs as a deployment');
  assert.ok(summary.lifetime?.expiresAt, 'with a TTL (the backstop if the dashboard dies)');
  return { name, jobId: summary.jobId };
}

test('an ad-hoc query: build errors at their line, a failed step named, then deployed, its results seen, closed, and gone', async () => {
  await page.reload();
  await page.selectOption('#query-topic', 'dash-ticks');
  assert.match(await page.inputValue('#query-code'), /source: \{ topic: 'dash-ticks'/, 'the picked topic is in the editor');

  // A declaration error: shown at its line in the editor.
  const broken = QUERY('dash-ticks', "'-5s'");
  await page.fill('#query-code', broken);
  await page.click('#query-deploy');
  await page.waitForSelector('#query-gutter .error', { timeout: 60_000 });
  const errorLine = Number(await page.getAttribute('#query-gutter .error', 'data-line'));
  assert.is(errorLine, broken.split('\n').findIndex((l) => l.includes("tumbling('-5s')")) + 1, 'the error is marked at the window line');
  assert.match((await page.textContent('#query-errors')) ?? '', /negative/);

  // A source that does not exist: the deploy says which step failed.
  await page.fill('#query-code', QUERY('no-such-topic', "'1s'"));
  await page.click('#query-deploy');
  await page.waitForFunction(() => /deploy failed at step/.test(document.querySelector('#query-status')?.textContent ?? ''), undefined, { timeout: 60_000 });
  assert.match((await page.textContent('#query-errors')) ?? '', /no-such-topic/);

  const { name, jobId } = await deployQuery(page, 'dash-q1-out');
  const { target } = stack();
  // Queries checkpoint more often than the target (their results are read read_committed, so they show sooner).
  const config = (await (await fetch(`${target.flinkUrl}/jobs/${jobId}/checkpoints/config`)).json()) as { interval: number };
  assert.is(config.interval, QUERY_CHECKPOINT_INTERVAL_MS, "the query's checkpoint interval");
  const panel = `.panel[data-deployment="${name}"]`;
  const first = WINDOWS + 2;
  for (let second = first; second < first + WINDOWS; second++) {
    await sendSecond('dash-ticks', second);
    await sleep(400);
  }
  const queryRows = 2 * (WINDOWS - 1);
  await page.waitForFunction(([p, n]) => document.querySelectorAll(`${p} .results tbody tr`).length >= n, [panel, queryRows] as const, { timeout: 120_000 });
  assert.match((await page.textContent(`${panel} .results tbody`)) ?? '', /"count":1/);
  // The same measurement as for the windowed function, for the query's results.
  const latencies = await page.evaluate(() => (window as unknown as { __flinkfn: { latencies: Array<{ ms: number; serverMs: number; upsertKey: string }> } }).__flinkfn.latencies);
  const ms = latencies.filter((l) => l.upsertKey.startsWith('["dash-q1-out"')).map((l) => l.ms);
  const history = ((await (await fetch(`${target.flinkUrl}/jobs/${jobId}/checkpoints`)).json()) as { history: Array<{ end_to_end_duration: number }> }).history;
  figures.queryCheckpoints = { intervalMs: config.interval, count: history.length, durationP50: percentile(history.map((h) => h.end_to_end_duration), 50), durationP95: percentile(history.map((h) => h.end_to_end_duration), 95) };
  figures.queryWindowFireToPage = { results: ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95), max: Math.max(...ms) };

  const closed = Date.now();
  await page.click(`${panel} button.close`);
  const left = await until('every resource of the closed query gone', async () => ((await leftovers(name, jobId)).length === 0 ? true : null), 60_000, 50);
  figures.closeToLastResourceGoneMs = Date.now() - closed;
  assert.ok(left);
});

test('a tab closed without closing its query panel releases the query after the grace period', async () => {
  const tab = await browser!.newPage();
  await tab.goto(dashboard!.url);
  await tab.selectOption('#query-topic', 'dash-ticks');
  const { name, jobId } = await deployQuery(tab, 'dash-q2-out');
  const closed = Date.now();
  await tab.close();
  // Still there during the grace period (a reload would take it back), gone after it.
  assert.ok((await leftovers(name, jobId)).length > 0, 'not torn down at once');
  await until('every resource of the abandoned query gone', async () => ((await leftovers(name, jobId)).length === 0 ? true : null), 60_000, 50);
  figures.tabClosedToLastResourceGoneMs = Date.now() - closed;
  figures.graceMs = GRACE_MS;
});

test('cleanup: the windowed function is destroyed', async () => {
  await destroy({ target: stack().target, name: 'dash-counter' });
  assert.equal(pageErrors, [], 'no uncaught error in the page');
});

test.run();
