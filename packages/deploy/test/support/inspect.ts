/**
 * Looks at the real services directly (not through flinkfn) to say what a deployment left behind, and
 * moves test data in and out of Kafka.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '@flinkfn/sdk';
import { FlinkClient, ObjectStore, kafkaClient, leaseKey, type Lease, type ResolvedTarget, type SharedKind } from '../../src/index.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const CLI = path.join(REPO, 'packages', 'cli', 'bin', 'flinkfn.js');

/** Topics a deployment of the function creates and destroy deletes: ephemeral sinks and side outputs, and the source. */
export function topicsOf(manifest: Manifest): string[] {
  const outputs = [...manifest.sinks, ...(manifest.sideOutputs.late ? [manifest.sideOutputs.late] : []), manifest.sideOutputs.deadLetter];
  return [...outputs.filter((t) => t.lifecycle === 'ephemeral').map((t) => t.topic), manifest.source.topic];
}

/** Topics declared `retain`: destroy keeps them. */
export function retainedTopicsOf(manifest: Manifest): string[] {
  return manifest.sinks.filter((t) => t.lifecycle === 'retain').map((t) => t.topic);
}

/**
 * Everything of deployment `name` that still exists: running jobs, topics, groups, S3 objects. With
 * `scoped`, only S3 objects that are its own (record, state, leases it holds), so that other deployments
 * running at the same time do not count.
 */
export async function leftovers(target: ResolvedTarget, name: string, topics: string[], options: { scoped?: boolean } = {}): Promise<string[]> {
  const found: string[] = [];
  const flink = new FlinkClient(target.flinkUrl);
  for (const job of await flink.jobs()) {
    if (job.name === `flinkfn: ${name}` && !['FINISHED', 'CANCELED', 'FAILED'].includes(job.state)) found.push(`job ${job.jid} ${job.state}`);
  }
  const admin = kafkaClient(target).admin();
  await admin.connect();
  try {
    const existing = await admin.listTopics();
    for (const topic of topics) if (existing.includes(topic)) found.push(`topic ${topic}`);
    const { groups } = await admin.listGroups();
    for (const group of groups) if (group.groupId === `flinkfn-${name}` || group.groupId.startsWith('flinkfn-tail-')) found.push(`group ${group.groupId}`);
  } finally {
    await admin.disconnect();
  }
  const store = new ObjectStore(target.s3);
  try {
    for (const key of await store.list('')) {
      if (!options.scoped) found.push(`s3 ${key}`);
      else if (key === `registry/${name}.json` || key.startsWith(`deployments/${name}/`)) found.push(`s3 ${key}`);
      else if (key.startsWith('leases/') && ((JSON.parse((await store.getText(key)) ?? '{}') as Partial<Lease>).holders ?? []).some((h) => h.deployment === name)) found.push(`s3 ${key}`);
    }
  } finally {
    store.close();
  }
  return found;
}

export async function topicExists(target: ResolvedTarget, topic: string): Promise<boolean> {
  const admin = kafkaClient(target).admin();
  await admin.connect();
  try {
    return (await admin.listTopics()).includes(topic);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic directly on the broker, as a user outside flinkfn would. */
export async function createTopic(target: ResolvedTarget, topic: string, partitions: number): Promise<void> {
  const admin = kafkaClient(target).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

/** The lease document of a shared resource, as stored (null when there is none). */
export async function leaseOf(target: ResolvedTarget, kind: SharedKind, id: string): Promise<Lease | null> {
  const store = new ObjectStore(target.s3);
  try {
    const text = await store.getText(leaseKey(kind, id));
    return text === null ? null : (JSON.parse(text) as Lease);
  } finally {
    store.close();
  }
}

/** Writes lines to a topic as one record each (no key). */
export async function produce(target: ResolvedTarget, topic: string, lines: string[], partitionOf?: (index: number) => number): Promise<void> {
  const producer = kafkaClient(target, 'flinkfn-test-producer').producer();
  await producer.connect();
  try {
    for (let i = 0; i < lines.length; i += 500) {
      await producer.send({ topic, messages: lines.slice(i, i + 500).map((value, j) => (partitionOf ? { value, partition: partitionOf(i + j) } : { value })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads committed records of `topic` from the start until `count` arrived (or the time is up), then a little longer
 * to catch extras. Records are kept by partition and offset: a consumer group may deliver a batch again after it
 * rejoins, which is the reader's repetition, not a duplicate in the topic.
 */
export async function consume(target: ResolvedTarget, topic: string, count: number, timeoutMs = 120_000): Promise<string[]> {
  const kafka = kafkaClient(target, 'flinkfn-test-consumer');
  const groupId = `flinkfn-test-${Math.random().toString(16).slice(2)}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  const records = new Map<string, string>();
  let again = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const at = `${partition}:${message.offset}`;
        if (records.has(at)) again++;
        records.set(at, message.value?.toString('utf8') ?? '');
      },
    });
    const deadline = Date.now() + timeoutMs;
    while (records.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    // Extras would show up within the next checkpoints.
    await new Promise((r) => setTimeout(r, 2_500));
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  // Worth knowing when a count looks wrong: kafkajs delivered this many records a second time.
  if (again > 0) process.stderr.write(`  consume ${topic}: ${again} record(s) delivered again by the consumer group (counted once)\n`);
  return [...records.values()];
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the flinkfn CLI in a child process. */
export function cli(args: string[], env: Record<string, string>, cwd = REPO): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Values as sorted canonical JSON, to compare outputs whose order across keys may differ. */
export function canonical(values: Array<string | null>): string[] {
  return values.map((v) => (v === null ? 'null' : JSON.stringify(sortKeys(JSON.parse(v))))).sort();
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, sortKeys(v)]));
  return value;
}
