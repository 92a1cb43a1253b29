/**
 * A handler's console output on the real local stack: a deployed function console.logs every event, and
 * `flinkfn logs --follow --json`, running as a user runs it, prints each line with its job, function and level as the
 * TaskManager logs it, goes on across a SIGKILLed and restarted TaskManager without repeating what it showed, and
 * exits 0 on SIGINT, and shows an upgraded version's lines too. `flinkfn logs --json` (no follow) shows the lines of
 * every job of the deployment.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deploy, destroy, type DeploymentLogs, type HandlerLogEntry } from '../src/index.js';
import { CLI, cli, produce } from './support/inspect.js';
import { flinkPids, healStack, useStack } from './support/stack.js';

const test = suite('handler logs on the real local stack');
const stack = useStack(test);

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROJECT = path.join(HERE, '..', '.tmp-test', 'console-logger');
const NAME = 'console-logger';
/** Generous: a loaded CI machine is several times slower; nothing is asserted about time. */
const DEADLINE_MS = 300_000;

test.before(async () => {
  await rm(PROJECT, { recursive: true, force: true });
  await mkdir(PROJECT, { recursive: true });
  await copyFile(path.join(HERE, 'fixtures', 'console-logger.ts'), path.join(PROJECT, 'console-logger.ts'));
});

/** `flinkfn logs <name> --follow --json` as a child process, its JSON lines parsed as they come. */
function follow(env: Record<string, string>): { child: ChildProcessWithoutNullStreams; entries: HandlerLogEntry[]; stdout: () => string; stderr: () => string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [CLI, 'logs', NAME, '--follow', '--json'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const entries: HandlerLogEntry[] = [];
  let stdout = '';
  let pending = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) entries.push(JSON.parse(line) as HandlerLogEntry);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, entries, stdout: () => stdout, stderr: () => stderr, exited };
}

async function until(what: string, done: () => boolean, detail: () => string): Promise<void> {
  for (const deadline = Date.now() + DEADLINE_MS; !done(); await new Promise((r) => setTimeout(r, 250))) {
    if (Date.now() > deadline) assert.unreachable(`${what} within ${DEADLINE_MS / 1000} s; ${detail()}`);
  }
}

const texts = (entries: HandlerLogEntry[]): Set<string> => new Set(entries.map((e) => `${e.level} ${e.text}`));
const expectedFor = (ids: number[], warn: (id: number) => boolean): string[] =>
  ids.flatMap((id) => [`log event ${id} { id: ${id} }`, ...(warn(id) ? [`warn careful with ${id}`] : [])]);

test('logs --follow --json prints the handler\'s console lines as they come, across a TaskManager restart, and exits 0 on SIGINT', async () => {
  const s = stack();
  const { target, env } = s;
  let follower: ReturnType<typeof follow> | undefined;
  try {
    const deployed = await deploy({ target, root: PROJECT, entry: 'console-logger.ts' });
    follower = follow(env);
    const f = follower;

    const first = Array.from({ length: 10 }, (_, i) => i);
    await produce(target, 'console-logger-in', first.map((id) => JSON.stringify({ id, warn: id % 3 === 0 })), (i) => i % 2);
    const firstExpected = expectedFor(first, (id) => id % 3 === 0);
    await until('the first events\' lines were printed', () => firstExpected.every((t) => texts(f.entries).has(t)), () => `printed ${JSON.stringify(f.entries.slice(-5))}; stderr ${f.stderr()}`);

    for (const entry of f.entries) {
      assert.is(entry.function, NAME);
      assert.is(entry.jobId, deployed.jobId, 'the job of the deployment');
      assert.match(entry.at ?? '', /^\d{2}:\d{2}:\d{2},\d{3}$/, "the local stack's log time");
      assert.ok(entry.taskManager.length > 0);
      assert.equal(Object.keys(entry).sort(), ['at', 'function', 'jobId', 'level', 'taskManager', 'text']);
    }
    assert.ok(f.entries.some((e) => e.level === 'warn' && e.text === 'careful with 3'));

    // Without --follow: the same lines in the one JSON document.
    const once = await cli(['logs', NAME, '--json'], env);
    assert.is(once.code, 0, once.stderr);
    const shown = JSON.parse(once.stdout) as DeploymentLogs & { ok: boolean };
    for (const t of firstExpected) assert.ok(texts(shown.handlerLogs).has(t), `logs --json shows "${t}"`);
    assert.ok(shown.taskManagerLines.every((line) => !line.includes('flinkfn handler log')), 'handler lines are not repeated among the other lines');

    // SIGKILL the TaskManager; `local up` starts a new one (a new id, appending to the same log file). The job
    // restarts on it; new events' lines appear, and nothing shown before is shown again from the re-read file.
    const before = (await flinkPids(s.root)).taskManager;
    process.kill(before, 'SIGKILL');
    await until('the TaskManager died', () => !alive(before), () => `pid ${before}`);
    const started = await healStack(s);
    process.stderr.write(`  local up started: ${started.join(', ')}\n`);
    assert.ok(started.includes('taskManager'), `local up started a TaskManager (it started: ${started.join(', ') || 'nothing'})`);
    const second = Array.from({ length: 6 }, (_, i) => 100 + i);
    await produce(target, 'console-logger-in', second.map((id) => JSON.stringify({ id })), (i) => i % 2);
    const secondExpected = expectedFor(second, () => false);
    await until('the lines of events sent after the restart were printed', () => secondExpected.every((t) => texts(f.entries).has(t)), () => `printed ${JSON.stringify(f.entries.slice(-5))}; stderr ${f.stderr()}`);
    // An event the restarted job replays from its checkpoint is logged again, at a later time; a line read twice
    // would repeat its time and text.
    const seen = f.entries.map((e) => `${e.at} ${e.jobId} ${e.level} ${e.text}`);
    assert.equal(seen.length, new Set(seen).size, `no log line printed twice: ${seen.join('\n')}`);
    assert.ok(new Set(f.entries.map((e) => e.taskManager)).size >= 2, 'lines from the TaskManager before and after the restart');

    // An upgrade runs a new job (from a savepoint): the follower picks up its job id and shows its lines too, and
    // logs without --follow shows the lines of both jobs.
    const upgraded = await deploy({ target, root: PROJECT, entry: 'console-logger.ts' });
    assert.is.not(upgraded.jobId, deployed.jobId);
    const third = [200, 201, 202, 203];
    await produce(target, 'console-logger-in', third.map((id) => JSON.stringify({ id })), (i) => i % 2);
    const thirdExpected = expectedFor(third, () => false);
    await until("the upgraded job's lines were printed", () => thirdExpected.every((t) => texts(f.entries.filter((e) => e.jobId === upgraded.jobId)).has(t)), () => `printed ${JSON.stringify(f.entries.slice(-5))}; stderr ${f.stderr()}`);
    assert.equal(new Set(f.entries.map((e) => e.jobId)), new Set([deployed.jobId, upgraded.jobId]));
    const both = JSON.parse((await cli(['logs', NAME, '--json', '--lines', '1000'], env)).stdout) as DeploymentLogs;
    assert.equal(new Set(both.handlerLogs.map((e) => e.jobId)), new Set([deployed.jobId, upgraded.jobId]), 'logs shows the lines of every job of the deployment');
    for (const t of [...firstExpected, ...thirdExpected]) assert.ok(texts(both.handlerLogs).has(t), `logs --json shows "${t}"`);
    process.stderr.write(`  followed ${f.entries.length} lines; stderr of the follower: ${f.stderr().trim() || '(empty)'}\n`);

    f.child.kill('SIGINT');
    const end = await f.exited;
    assert.equal(end, { code: 0, signal: null }, f.stderr());
    assert.ok(f.stdout().split('\n').filter(Boolean).every((line) => line.startsWith('{')), 'stdout is only JSON lines');
  } finally {
    if (follower && follower.child.exitCode === null && follower.child.signalCode === null) follower.child.kill('SIGKILL');
    await destroy({ target, name: NAME }).catch((error: unknown) => process.stderr.write(`  destroy failed: ${String(error)}\n`));
  }
});

/**
 * Alive until every thread of it has exited: a JVM's main thread is a zombie while its other threads still die, and
 * `local up` (local-stack's isAlive) counts such a process as running, so it would not start a new TaskManager yet.
 */
function alive(pid: number): boolean {
  let threads: string[];
  try {
    threads = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return threads.some((tid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 1).trim());
    } catch {
      return false; // that thread is gone
    }
  });
}

test.run();
