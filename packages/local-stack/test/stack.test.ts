/**
 * The real local stack on free ports under a temporary root, with a supervised controller process: each of its
 * processes is SIGKILLed in turn, `stackStatus` must name the one that is down, and `startStack` must start that
 * one alone, on the port it had, with its data.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Kafka, logLevel } from 'kafkajs';
import { startStack, stackStatus, stopStack, type Part, type RunningStack, type StackStatus } from '@flinkfn/local-stack/stack.mjs';

const test = suite('local stack: restart only what is down');
const HERE = path.dirname(fileURLToPath(import.meta.url));
const FREE_PORTS = { flinkRest: 0, kafka: 0, s3: 0 };
const CONTROLLER = { command: [process.execPath, '-e', 'setInterval(() => {}, 1000)'], env: { FLINKFN_TEST_CONTROLLER: 'yes' } };

let root = '';
let first: RunningStack;
const timings: Record<string, number> = {};

test.before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'flinkfn-local-stack-'));
  first = await startStack({ root, ports: FREE_PORTS, controller: CONTROLLER });
});

test.after(async () => {
  await stopStack({ root });
  await rm(root, { recursive: true, force: true });
  process.stdout.write(`\n  up after a SIGKILL: ${Object.entries(timings).map(([part, ms]) => `${part} ${(ms / 1000).toFixed(1)} s`).join(', ')}\n`);
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs = 120_000): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function rest<T>(resource: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`${first.flink.restUrl}${resource}`, init);
  if (!response.ok) throw new Error(`${resource}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function registeredTaskManagers(): Promise<string[]> {
  return (await rest<{ taskmanagers: Array<{ id: string }> }>('/taskmanagers')).taskmanagers.map((tm) => tm.id);
}

const ALL_PARTS: Part[] = ['controller', 'jobManager', 'kafka', 's3', 'taskManager'];

/**
 * SIGKILLs the process of `part`, checks that the status names it, and it alone, as down, then runs `up` (without
 * the controller option) and checks that `up` started it alone.
 */
async function killAndUp(part: Part): Promise<{ before: StackStatus; stack: RunningStack }> {
  const before = await stackStatus({ root });
  const pid = before.services[part]?.pid;
  assert.ok(pid, `${part} has a pid`);
  process.kill(pid, 'SIGKILL');
  const down = await waitFor(`${part} to be seen down`, async () => {
    const status = await stackStatus({ root });
    return status.services[part]?.running === false ? status : undefined;
  }, 30_000);
  assert.not.ok(down.up);
  assert.equal(runningParts(down), ALL_PARTS.filter((p) => p !== part));
  const started = Date.now();
  const stack = await startStack({ root, ports: FREE_PORTS });
  timings[part] = Date.now() - started;
  assert.equal(stack.started, [part]);
  return { before, stack };
}

/** No process `pid`, or only its zombie (this test process started the stack, so it reaps them). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return true;
  }
}

function runningParts(status: StackStatus): string[] {
  return Object.entries(status.services).filter(([, s]) => s.running).map(([name]) => name).sort();
}

/** Compiles test/fixtures/SlowSequenceJob.java against the cluster's own classpath, uploads and runs it. */
async function submitSlowJob(): Promise<string> {
  const build = path.join(root, 'job');
  const { classpath } = JSON.parse(readFileSync(path.join(root, 'flink', 'flink.classpath.json'), 'utf8')) as { classpath: string };
  execFileSync('javac', ['-cp', classpath, '-d', path.join(build, 'classes'), path.join(HERE, 'fixtures', 'SlowSequenceJob.java')]);
  const jar = path.join(build, 'slow-sequence.jar');
  execFileSync('jar', ['--create', '--file', jar, '--main-class', 'dev.flinkfn.localstack.test.SlowSequenceJob', '-C', path.join(build, 'classes'), '.']);
  const form = new FormData();
  form.append('jarfile', new Blob([await readFile(jar)], { type: 'application/java-archive' }), 'slow-sequence.jar');
  const uploaded = await rest<{ filename: string }>('/jars/upload', { method: 'POST', body: form });
  const { jobid } = await rest<{ jobid: string }>(`/jars/${path.basename(uploaded.filename)}/run`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  return jobid;
}

interface CheckpointStats {
  counts: { completed: number; restored: number };
  latest: { restored: { id: number } | null };
}

async function jobRunning(jobId: string): Promise<{ vertices: Array<{ status: string }> } | undefined> {
  const job = await rest<{ state: string; vertices: Array<{ status: string }> }>(`/jobs/${jobId}`);
  return job.state === 'RUNNING' && job.vertices.every((v) => v.status === 'RUNNING') ? job : undefined;
}

test('a fresh stack reports each process running, the controller included', async () => {
  assert.equal([...first.started].sort(), ALL_PARTS);
  const status = await stackStatus({ root });
  assert.ok(status.up, JSON.stringify(status));
  assert.equal(runningParts(status), ALL_PARTS);
  assert.is(status.services.controller?.pid, first.services.controller?.pid);
  assert.is(status.endpoints?.flink.restUrl, first.flink.restUrl);
  const environ = readFileSync(`/proc/${first.services.controller?.pid}/environ`, 'utf8').split('\0');
  assert.ok(environ.includes(`FLINKFN_LOCAL_ROOT=${root}`), 'the controller knows the stack root');
  assert.ok(environ.includes('FLINKFN_TEST_CONTROLLER=yes'), 'the controller gets the caller\'s environment');
});

test('a killed TaskManager alone is started again, registers with the running JobManager, and its job resumes from a checkpoint', async () => {
  const jobId = await submitSlowJob();
  await waitFor('the job to run', () => jobRunning(jobId));
  await waitFor('a completed checkpoint', async () => {
    const stats = await rest<CheckpointStats>(`/jobs/${jobId}/checkpoints`);
    return stats.counts.completed > 0 ? stats : undefined;
  });

  const { before, stack } = await killAndUp('taskManager');
  assert.is(stack.services.jobManager.pid, before.services.jobManager.pid, 'the JobManager kept running');
  assert.is.not(stack.services.taskManager.pid, before.services.taskManager.pid);
  const after = await stackStatus({ root });
  assert.ok(after.up, JSON.stringify(after.services));
  assert.ok((await registeredTaskManagers()).includes(String(after.services.taskManager.id)), 'the new TaskManager is registered');

  await waitFor('the job to run again on the new TaskManager', () => jobRunning(jobId));
  const restored = await waitFor('the job restored from its checkpoint', async () => {
    const stats = await rest<CheckpointStats>(`/jobs/${jobId}/checkpoints`);
    return stats.counts.restored > 0 && stats.latest.restored ? stats.latest.restored : undefined;
  });
  assert.ok(restored.id > 0);
});

test('a killed JobManager comes back on the same REST and RPC ports and the running TaskManager registers with it', async () => {
  const stateBefore = JSON.parse(await readFile(path.join(root, 'stack.json'), 'utf8')) as { ports: Record<string, number> };
  const { before, stack } = await killAndUp('jobManager');
  assert.is(stack.flink.restUrl, first.flink.restUrl);
  assert.is(stack.services.taskManager.pid, before.services.taskManager.pid, 'the TaskManager kept running');
  const stateAfter = JSON.parse(await readFile(path.join(root, 'stack.json'), 'utf8')) as { ports: Record<string, number> };
  assert.is(stateAfter.ports.flinkRest, stateBefore.ports.flinkRest);
  assert.is(stateAfter.ports.flinkRpc, stateBefore.ports.flinkRpc);
  assert.ok((await registeredTaskManagers()).includes(String(before.services.taskManager.id)), 'the old TaskManager re-registered');
  assert.ok((await stackStatus({ root })).up);
});

test('a killed Kafka broker comes back on the same port with its topics and records', async () => {
  const kafka = new Kafka({ brokers: [first.kafka.bootstrapServers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'survives', numPartitions: 3 }], waitForLeaders: true });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'survives', messages: [0, 1, 2].map((partition) => ({ partition, value: `record ${partition}` })) });
  await producer.disconnect();
  // (A retried send under load can write a record twice: compare with what the broker had, not with 1 each.)
  const offsetsBefore = await admin.fetchTopicOffsets('survives');
  await admin.disconnect();
  assert.ok(offsetsBefore.every((o) => Number(o.high) >= 1), 'every partition has a record');

  const { stack } = await killAndUp('kafka');
  assert.is(stack.kafka.bootstrapServers, first.kafka.bootstrapServers);

  const again = kafka.admin();
  await again.connect();
  try {
    const [metadata] = (await again.fetchTopicMetadata({ topics: ['survives'] })).topics;
    assert.is(metadata?.partitions.length, 3);
    const offsets = await again.fetchTopicOffsets('survives');
    const byPartition = (list: Array<{ partition: number; high: string }>) => list.map((o) => [o.partition, o.high]).sort();
    assert.equal(byPartition(offsets), byPartition(offsetsBefore));
  } finally {
    await again.disconnect();
  }
});

test('a killed S3Proxy comes back on the same port with its objects', async () => {
  const client = new S3Client({
    endpoint: first.s3.endpoint, region: first.s3.region, forcePathStyle: true,
    credentials: { accessKeyId: first.s3.accessKey, secretAccessKey: first.s3.secretKey },
  });
  try {
    await client.send(new PutObjectCommand({ Bucket: first.s3.bucket, Key: 'survives/object.txt', Body: 'kept' }));
    const { stack } = await killAndUp('s3');
    assert.is(stack.s3.endpoint, first.s3.endpoint);
    const object = await client.send(new GetObjectCommand({ Bucket: first.s3.bucket, Key: 'survives/object.txt' }));
    assert.is(await object.Body?.transformToString(), 'kept');
  } finally {
    client.destroy();
  }
});

test('a killed controller is started again by up without the option, from the command recorded with the stack', async () => {
  const { before, stack } = await killAndUp('controller');
  const after = await stackStatus({ root });
  assert.ok(after.up);
  assert.is(after.services.controller?.pid, stack.services.controller?.pid);
  assert.is.not(after.services.controller?.pid, before.services.controller?.pid);
  assert.equal(after.services.controller?.command, CONTROLLER.command);
});

test('up with controller: null stops the recorded controller and forgets it; up with the option again brings it back', async () => {
  const before = await stackStatus({ root });
  const pid = before.services.controller?.pid;
  assert.ok(pid);
  const without = await startStack({ root, ports: FREE_PORTS, controller: null });
  assert.equal(without.started, []);
  assert.is(without.services.controller, undefined);
  await waitFor(`controller pid ${pid} to be gone`, async () => (gone(pid) ? true : undefined), 10_000);
  const status = await stackStatus({ root });
  assert.ok(status.up, 'a stack without a controller is up');
  assert.is(status.services.controller, undefined);
  assert.equal((await startStack({ root, ports: FREE_PORTS })).started, [], 'up without the option does not bring it back');
  const again = await startStack({ root, ports: FREE_PORTS, controller: CONTROLLER });
  assert.equal(again.started, ['controller']);
});

test('down stops the controller first, then every other process', async () => {
  const before = await stackStatus({ root });
  const pids = Object.values(before.services).map((s) => s.pid);
  const { stopped } = await stopStack({ root });
  assert.is(stopped[0], 'controller');
  assert.equal([...stopped].sort(), ALL_PARTS);
  for (const pid of pids) {
    assert.ok(pid);
    await waitFor(`pid ${pid} to be gone`, async () => (gone(pid) ? true : undefined), 10_000);
  }
  const after = await stackStatus({ root });
  assert.not.ok(after.up);
  assert.equal(runningParts(after), []);
});

test.run();
