/**
 * The destructor and lifetimes on the real local stack, with no flinkfn command alive: a controller process
 * (`flinkfn controller`) notices a job that finished, was cancelled through Flink's REST API or failed for
 * good, or a deployment whose TTL or idle timeout passed, and releases everything but `retain` resources.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, FlinkClient, list, ObjectStore, registryKey, type ResolvedTarget } from '../src/index.js';
import { writeRelay } from './support/functions.js';
import { CLI, consume, createTopic, leftovers, produce, topicExists } from './support/inspect.js';
import { useStack } from './support/stack.js';

const test = suite('destructor, TTL and idle timeout through the controller');
const stack = useStack(test);

let controller: ChildProcess | undefined;
const releaseTimes: Record<string, number> = {};

test.before(async () => {
  const { env } = stack();
  controller = spawn(process.execPath, [CLI, 'controller', '--interval', '1', '--json'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
});

test.after(() => {
  controller?.kill('SIGTERM');
  const rows = Object.entries(releaseTimes).map(([what, ms]) => `${what} ${(ms / 1000).toFixed(1)} s`);
  process.stdout.write(`\n  from the job's end (or the limit) to its last resource gone: ${rows.join(', ')}\n`);
});

const events = (count: number, extra: Record<string, unknown> = {}): string[] => Array.from({ length: count }, (_, i) => JSON.stringify({ id: i, ...extra }));

/**
 * Polls until nothing of the deployment is left; returns how long after `since` that was (reported, not
 * asserted: a loaded CI machine is slower). The deadline only keeps a broken destructor from hanging the suite.
 */
async function releasedAfter(target: ResolvedTarget, name: string, topics: string[], since: number): Promise<number> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const left = await leftovers(target, name, topics, { scoped: true });
    const store = new ObjectStore(target.s3);
    const recordLeft = await store.exists(registryKey(name)).finally(() => store.close());
    if (left.length === 0 && !recordLeft) return Date.now() - since;
    if (Date.now() > deadline) assert.unreachable(`still there after 5 minutes: ${[...left, ...(recordLeft ? ['record'] : [])].join(', ')}`);
    await sleep(250);
  }
}

async function jobEnd(target: ResolvedTarget, jobId: string): Promise<number> {
  const flink = new FlinkClient(target.flinkUrl);
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(200)) {
    const job = (await flink.jobs()).find((j) => j.jid === jobId);
    if (job && job['end-time'] > 0) return job['end-time'];
  }
  throw new Error(`job ${jobId} did not end`);
}

test('a bounded function that finishes is released; its retain sink stays with every result', async () => {
  const { target } = stack();
  await createTopic(target, 'bounded-in', 2);
  await produce(target, 'bounded-in', events(1000));
  const fn = await writeRelay({ name: 'bounded-copy', source: 'bounded-in', sink: 'bounded-kept', sinkLifecycle: 'retain', bounded: true });
  const deployed = await deploy({ target, ...fn });
  const ended = await jobEnd(target, deployed.jobId);
  releaseTimes['finished'] = await releasedAfter(target, 'bounded-copy', ['bounded-copy-dead-letter'], ended);
  assert.ok(await topicExists(target, 'bounded-kept'), 'the retain sink was not touched');
  assert.is((await consume(target, 'bounded-kept', 1000)).length, 1000, 'and holds every result');
  assert.ok(await topicExists(target, 'bounded-in'), 'the source, not created by flinkfn, stays');
  const ended_ = (await list(target, { all: true })).find((d) => d.name === 'bounded-copy');
  assert.is(ended_, undefined, 'a retain topic is not tracked after the end: its record went');
});

test('a job cancelled through Flink\'s REST API is released', async () => {
  const { target } = stack();
  const fn = await writeRelay({ name: 'cancelled-copy', source: 'cancelled-in', sink: 'cancelled-out', createSource: 2 });
  const deployed = await deploy({ target, ...fn });
  await produce(target, 'cancelled-in', events(100));
  assert.is((await consume(target, 'cancelled-out', 100)).length, 100);
  await new FlinkClient(target.flinkUrl).cancel(deployed.jobId);
  const ended = await jobEnd(target, deployed.jobId);
  releaseTimes['cancelled'] = await releasedAfter(target, 'cancelled-copy', ['cancelled-in', 'cancelled-out', 'cancelled-copy-dead-letter'], ended);
});

test('a job that fails for good (restarts exhausted) is released', async () => {
  const { target } = stack();
  const fn = await writeRelay({ name: 'failing-copy', source: 'failing-in', sink: 'failing-out', createSource: 1, crashOn: true });
  const deployed = await deploy({ target, ...fn, maxRestarts: 1 });
  await produce(target, 'failing-in', events(1, { fail: true }));
  const ended = await jobEnd(target, deployed.jobId);
  releaseTimes['failed'] = await releasedAfter(target, 'failing-copy', ['failing-in', 'failing-out', 'failing-copy-dead-letter'], ended);
});

test('a TTL passes: the function is stopped and released', async () => {
  const { target } = stack();
  const fn = await writeRelay({ name: 'short-lived', source: 'short-lived-in', sink: 'short-lived-out', createSource: 1 });
  const deployed = await deploy({ target, ...fn, ttlMs: 4_000 });
  assert.ok(deployed.expiresAt);
  releaseTimes['ttl'] = await releasedAfter(target, 'short-lived', ['short-lived-in', 'short-lived-out', 'short-lived-dead-letter'], Date.parse(deployed.expiresAt!));
});

test('an idle timeout (declared by the function) passes without input: released; input keeps another alive', async () => {
  const { target } = stack();
  const idle = await writeRelay({ name: 'idle-copy', source: 'idle-in', sink: 'idle-out', createSource: 1, lifetime: { idleTimeout: '5s' } });
  const busy = await writeRelay({ name: 'busy-copy', source: 'busy-in', sink: 'busy-out', createSource: 1, lifetime: { idleTimeout: '5s' } });
  const deployed = await deploy({ target, ...idle });
  assert.is(deployed.idleTimeoutMs, 5_000);
  // It has had no input since it started: the timeout passes 5 s after that at the earliest.
  const idleSince = Date.now();
  await deploy({ target, ...busy });
  const started = Date.now();
  let lastInput = started;
  // Fed once a second until the check below: checked after the feeding stopped, a slow release of the idle
  // one (a loaded machine) would leave the fed one idle for longer than its timeout before the check.
  let feed = true;
  const feeding = (async () => {
    while (feed) {
      await produce(target, 'busy-in', events(1));
      lastInput = Date.now();
      await sleep(1_000);
    }
  })();
  releaseTimes['idle'] = await releasedAfter(target, 'idle-copy', ['idle-in', 'idle-out', 'idle-copy-dead-letter'], idleSince + 5_000);
  // At least twice its timeout of being fed, so its survival means something.
  while (Date.now() - started < 12_000) await sleep(500);
  assert.ok((await list(target)).some((d) => d.name === 'busy-copy' && d.jobState === 'RUNNING'), 'the fed function still runs');
  feed = false;
  await feeding;
  releaseTimes['idle (after input stopped)'] = await releasedAfter(target, 'busy-copy', ['busy-in', 'busy-out', 'busy-copy-dead-letter'], lastInput + 5_000);
});

test.run();
