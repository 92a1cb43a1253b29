/**
 * A scratch project for the dashboard's tests: functions written into it, deployed to the test stack, and
 * events written to their topics.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaClient, type ResolvedTarget } from '@flinkfn/deploy';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Inside packages/dashboard, so that `@flinkfn/sdk` resolves from its node_modules. */
export const PROJECT = path.join(HERE, '..', '..', '.tmp-test', 'project');

export async function writeFunction(file: string, source: string): Promise<string> {
  await mkdir(PROJECT, { recursive: true });
  await writeFile(path.join(PROJECT, file), source);
  return file;
}

/**
 * Counts ticks per key in 1 s event-time windows (parallelism 2, a two-partition source it creates),
 * keeps windows open for late ticks for an hour, and sends older ticks to its late topic. Its window function
 * counts the windows it computes and records their sizes (handler metrics).
 */
export function counterSource(name: string, topic: string): string {
  return `import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';

interface Tick { key: string; ts: number }

export default defineFunction({
  name: ${JSON.stringify(name)},
  parallelism: 2,
  source: { topic: ${JSON.stringify(topic)}, format: 'json', create: { partitions: 2 } },
  sinks: { counts: { topic: ${JSON.stringify(`${name}-out`)} } },
  late: { topic: ${JSON.stringify(`${name}-late`)} },
  key: (tick: Tick) => tick.key,
  time: eventTime({ timestamp: (tick: Tick) => tick.ts, outOfOrderness: '0s' }),
  window: tumbling('1s'),
  allowedLateness: '1h',
  aggregate: {
    create: () => 0,
    add: (count: number) => count + 1,
    result: (count: number, { key, window, metrics }) => {
      metrics.counter('windows').inc();
      metrics.histogram('window-size').update(count);
      return { key, windowStart: window.start, count };
    },
  },
});
`;
}

/** Copies each event to its sink (a stateless function on an existing topic). */
export function relaySource(name: string, topic: string): string {
  return `import { defineFunction } from '@flinkfn/sdk';

export default defineFunction({
  name: ${JSON.stringify(name)},
  source: { topic: ${JSON.stringify(topic)}, format: 'json', create: { partitions: 2 } },
  sinks: { out: { topic: ${JSON.stringify(`${name}-out`)} } },
  handle: (event: { id: number }) => ({ ...event, by: ${JSON.stringify(name)} }),
});
`;
}

export interface Sender {
  /** Writes raw lines to one partition of a topic. */
  send(topic: string, partition: number, lines: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function sender(target: ResolvedTarget): Promise<Sender> {
  const producer = kafkaClient(target, 'dashboard-test').producer();
  await producer.connect();
  return {
    async send(topic, partition, lines) {
      await producer.send({ topic, messages: lines.map((value) => ({ value, partition })) });
    },
    close: () => producer.disconnect(),
  };
}
