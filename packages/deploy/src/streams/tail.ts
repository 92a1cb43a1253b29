/**
 * `flinkfn tail <name>`: the function's results as they are committed to its result topics. Reads
 * read_committed with a throw-away consumer group that it deletes again on exit.
 */
import { randomBytes } from 'node:crypto';
import type { ResolvedTarget } from '../config.js';
import { kafkaClient, kafkaConnectError } from '../clients/kafka.js';
import { DeployError } from '../errors.js';
import { artifactKey, Deployment } from '../registry.js';
import { openSession } from '../session.js';

export interface TailedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: string;
  timestamp: number;
}

export interface TailOptions {
  target: ResolvedTarget;
  name: string;
  fromBeginning?: boolean;
  /** Stop after this many records (default: run until `signal` aborts). */
  limit?: number;
  signal?: AbortSignal;
  onRecord: (record: TailedRecord) => void;
}

export async function tail(options: TailOptions): Promise<number> {
  const session = await openSession(options.target, { startLocal: false });
  let topics: string[];
  try {
    const deployment = await Deployment.load(session.store, options.name);
    if (!deployment?.current) throw new DeployError(`no running deployment named "${options.name}"`, { hint: 'flinkfn ls lists the deployments of this target.' });
    // The result topics are the sinks of the running version's manifest (not its late or dead-letter topics).
    const text = await session.store.getText(artifactKey(deployment.current.artifactId));
    if (text === null) throw new DeployError(`the artifact of "${options.name}" is missing from ${session.store.uri(artifactKey(deployment.current.artifactId))}`);
    const { decodeArtifact } = await import('@flinkfn/artifact');
    topics = decodeArtifact(Buffer.from(text, 'utf8'), artifactKey(deployment.current.artifactId), deployment.current.artifactId).manifest.sinks.map((s) => s.topic);
  } finally {
    await session.close();
  }
  const target = session.target;
  const kafka = kafkaClient(target, 'flinkfn-tail');
  const groupId = `flinkfn-tail-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  let count = 0;
  await consumer.connect().catch((error: unknown) => {
    throw kafkaConnectError(target, error);
  });
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: options.fromBeginning ?? false });
    await new Promise<void>((resolve, reject) => {
      const stop = (): void => resolve();
      options.signal?.addEventListener('abort', stop, { once: true });
      consumer
        .run({
          eachMessage: async ({ topic, partition, message }) => {
            if (options.limit !== undefined && count >= options.limit) return;
            count++;
            options.onRecord({ topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, value: message.value?.toString('utf8') ?? '', timestamp: Number(message.timestamp) });
            if (options.limit !== undefined && count >= options.limit) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return count;
}
