/**
 * A live read of one deployment's result, late and dead-letter topics, as typed events for the stream
 * endpoint. Reads read_committed (the sinks are transactional: results appear at checkpoints), with a
 * consumer group of its own that is created for this reader and deleted when it closes, so a viewer that
 * leaves leaves nothing behind on the broker.
 */
import { randomBytes } from 'node:crypto';
import { Deployment, DeployError, kafkaClient, openSession, type ResolvedTarget } from '@flinkfn/deploy';
import type { Kafka } from 'kafkajs';
import { upsertKey, windowBounds, windowFieldsOf } from './upsert.js';

/** Prefix of the readers' consumer groups (`flinkfn gc` and tests can tell them apart). */
export const READER_GROUP_PREFIX = 'flinkfn-dashboard-';

export interface StreamTopics {
  results: string[];
  late: string | null;
  deadLetter: string | null;
}

interface Position {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** Kafka record timestamp (ms): when the sink wrote it, just after the window fired. */
  timestamp: number;
  /** When this server read it (ms), to tell broker and browser delays apart. */
  readAt: number;
}

export type StreamEvent =
  | (Position & { type: 'result'; upsertKey: string; window: { start: number | null; end: number | null }; value: unknown })
  | (Position & { type: 'late'; reason: string; value: unknown })
  | (Position & { type: 'dead-letter'; reason: string; value: unknown });

/** The topics of a deployment, from its record: sinks, late events, dead letters. */
export async function streamTopics(target: ResolvedTarget, name: string): Promise<StreamTopics> {
  const session = await openSession(target, { startLocal: false });
  try {
    const deployment = await Deployment.load(session.store, name);
    if (!deployment?.current) throw new DeployError(`no running deployment named "${name}"`, { hint: 'The deployments list shows what runs on this target.' });
    const topics = deployment.record.resources.filter((r) => r.kind === 'kafka-topic' && r.state !== 'deleted');
    return {
      results: topics.filter((r) => r.role?.startsWith('sink:')).map((r) => r.id),
      late: topics.find((r) => r.role === 'late')?.id ?? null,
      deadLetter: topics.find((r) => r.role === 'dead-letter')?.id ?? null,
    };
  } finally {
    await session.close();
  }
}

export interface ReaderOptions {
  target: ResolvedTarget;
  topics: StreamTopics;
  /** `beginning`: every committed record still in the topics; `now`: only new ones. */
  from: 'beginning' | 'now';
  /** Only records whose Kafka timestamp is within [since, until] (ms). */
  since?: number;
  until?: number;
  /** Result fields that name the window (see upsert.ts); default: the known names. */
  windowFields?: string[];
  onEvent: (event: StreamEvent) => void;
}

export interface Reader {
  groupId: string;
  close(): Promise<void>;
}

/** Starts reading; resolves once the reader's group has joined (from then on new records are seen). */
export async function openReader(options: ReaderOptions): Promise<Reader> {
  const kafka = kafkaClient(options.target, 'flinkfn-dashboard');
  const groupId = `${READER_GROUP_PREFIX}${randomBytes(6).toString('hex')}`;
  // maxWaitTimeInMs bounds how long a fetch waits when nothing is committed yet: results must reach the page
  // soon after their checkpoint commits them.
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  const roles = new Map<string, 'result' | 'late' | 'dead-letter'>();
  for (const t of options.topics.results) roles.set(t, 'result');
  if (options.topics.late) roles.set(options.topics.late, 'late');
  if (options.topics.deadLetter) roles.set(options.topics.deadLetter, 'dead-letter');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await consumer.disconnect().catch(() => undefined);
    await deleteGroup(kafka, groupId);
  };
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [...roles.keys()], fromBeginning: options.from === 'beginning' || options.since !== undefined });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const timestamp = Number(message.timestamp);
        if (options.since !== undefined && timestamp < options.since) return;
        if (options.until !== undefined && timestamp > options.until) return;
        const position: Position = { topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null, timestamp, readAt: Date.now() };
        const text = message.value?.toString('utf8') ?? '';
        options.onEvent(toEvent(roles.get(topic) ?? 'result', position, parse(text), options.windowFields));
      },
    });
    await joined;
    return { groupId, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function toEvent(role: 'result' | 'late' | 'dead-letter', position: Position, value: unknown, explicitWindow: string[] | undefined): StreamEvent {
  if (role === 'late') return { type: 'late', ...position, value, reason: 'too late for every window: its event time was behind the watermark by more than the allowed lateness' };
  if (role === 'dead-letter') return { type: 'dead-letter', ...position, value, reason: deadLetterReason(value) };
  const fields = windowFieldsOf(value, explicitWindow);
  return { type: 'result', ...position, upsertKey: upsertKey(position, value, fields), window: windowBounds(value, fields), value };
}

/** A dead letter is `{stage, error, event?, raw?}` (packages/host): the reason is the failed step and its error. */
function deadLetterReason(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'error' in value) {
    const { stage, error } = value as { stage?: unknown; error?: unknown };
    return `${typeof stage === 'string' ? `${stage}: ` : ''}${String(error)}`;
  }
  return 'dead letter';
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function deleteGroup(kafka: Kafka, groupId: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // A group whose member just left can still be reported non-empty for a moment.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await admin.deleteGroups([groupId]);
        return;
      } catch (error) {
        if (/does not exist|GROUP_ID_NOT_FOUND/i.test(String((error as Error).message) + JSON.stringify((error as { groups?: unknown }).groups ?? ''))) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

