/**
 * Small stateless functions written into a scratch project, for tests that need several deployments
 * reading and writing topics of their choosing.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCRATCH = path.join(HERE, '..', '..', '.tmp-test');

export interface RelaySpec {
  name: string;
  source: string;
  sink: string;
  /** Declare `source.create` (with this many partitions). */
  createSource?: number;
  sinkLifecycle?: 'ephemeral' | 'retain';
  /** Declare `source.until: 'latest'` (a bounded function). */
  bounded?: boolean;
  /** A handler that throws on every event whose `fail` field is true, failing the job (not a dead letter). */
  crashOn?: boolean;
  lifetime?: { ttl?: string; idleTimeout?: string };
}

/** Writes a function that copies each event to its sink, tagged with the function's name; returns its project root and entry. */
export async function writeRelay(spec: RelaySpec): Promise<{ root: string; entry: string }> {
  const root = path.join(SCRATCH, 'functions');
  await mkdir(root, { recursive: true });
  const entry = `${spec.name}.ts`;
  const source = {
    topic: spec.source,
    format: 'json',
    ...(spec.createSource ? { create: { partitions: spec.createSource } } : {}),
    ...(spec.bounded ? { until: 'latest' } : {}),
  };
  const sink = { topic: spec.sink, ...(spec.sinkLifecycle ? { lifecycle: spec.sinkLifecycle } : {}) };
  await writeFile(path.join(root, entry), `import { defineFunction } from '@flinkfn/sdk';

export default defineFunction({
  name: ${JSON.stringify(spec.name)},
  source: ${JSON.stringify(source)},
  sinks: { out: ${JSON.stringify(sink)} },
  ${spec.lifetime ? `lifetime: ${JSON.stringify(spec.lifetime)},` : ''}
  handle: (event: { id: number; fail?: boolean }) => {
    ${spec.crashOn ? "if (event.fail) process.exit(13);" : ''}
    return { ...event, by: ${JSON.stringify(spec.name)} };
  },
});
`);
  return { root, entry };
}
