/**
 * The dashboard's HTTP server: the page and its assets (the charting library from node_modules), the
 * deployments snapshot and its live stream, the results stream of a deployment, and the ad-hoc query
 * endpoints. The stream formats are documented in docs/dashboard.md.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KafkaAdmin, openSession, type ResolvedTarget } from '@flinkfn/deploy';
import { checkBinding, checkRequest, TOKEN_COOKIE } from './access.js';
import { DeploymentWatch } from './deployments.js';
import { DashboardError, describe } from './errors.js';
import { Queries, QueryFailed, type QueryEvent } from './queries.js';
import { openReader, streamTopics, type Reader } from './results.js';
import { openEventStream } from './sse.js';

export interface DashboardOptions {
  target: ResolvedTarget;
  /** Project directory (ad-hoc queries are written under it, promoted ones into it). */
  root: string;
  /** Default 127.0.0.1; any other address needs `token`. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  token?: string;
  /** How long an ad-hoc query runs with no viewer (default 10 s). */
  graceMs?: number;
  /** TTL of ad-hoc query deployments, the backstop if this server dies (default 1 h). */
  queryTtlMs?: number;
  /** Checkpoint interval of ad-hoc query deployments: their results show up sooner (default 500 ms; 0: the target's). */
  queryCheckpointIntervalMs?: number;
  /** Deployment table refresh (default 2 s). */
  pollMs?: number;
  onLog?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  port: number;
  queries: Queries;
  close(): Promise<void>;
}

/** Default checkpoint interval of ad-hoc queries (docs/dashboard.md has what it changes, measured). */
export const QUERY_CHECKPOINT_INTERVAL_MS = 500;

const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'page');
const require = createRequire(import.meta.url);
const ASSETS: Record<string, { file: () => string; type: string }> = {
  '/': { file: () => path.join(PAGE_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  '/app.js': { file: () => path.join(PAGE_DIR, 'app.js'), type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: () => path.join(PAGE_DIR, 'style.css'), type: 'text/css; charset=utf-8' },
  // Served from node_modules: the page loads nothing from another host.
  '/vendor/chart.umd.js': { file: () => path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js'), type: 'text/javascript; charset=utf-8' },
};

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1';
  checkBinding(host, options.token);
  const log = options.onLog ?? (() => undefined);
  // The target's endpoints as they are now (a local stack's ports), checked once: the Kafka readers connect
  // to them directly.
  const session = await openSession(options.target, { startLocal: false });
  await session.close();
  options = { ...options, target: session.target };
  const watch = new DeploymentWatch(options.target, options.pollMs ?? 2_000);
  const queryEvents = new Set<(event: QueryEvent) => void>();
  const queries = new Queries({
    target: options.target,
    root: options.root,
    graceMs: options.graceMs ?? 10_000,
    ttlMs: options.queryTtlMs ?? 3_600_000,
    checkpointIntervalMs: options.queryCheckpointIntervalMs ?? QUERY_CHECKPOINT_INTERVAL_MS,
    onEvent: (event) => {
      log(`query ${event.name}: ${event.type}${'reason' in event ? ` (${event.reason})` : ''}${'teardownMs' in event ? ` in ${event.teardownMs} ms` : ''}`);
      for (const l of queryEvents) l(event);
    },
  });
  const readers = new Set<Reader>();

  const route = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> => {
    const method = request.method ?? 'GET';
    const asset = ASSETS[url.pathname];
    if (method === 'GET' && asset) {
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' });
      response.end(await readFile(asset.file()));
      return;
    }
    if (method === 'GET' && url.pathname === '/api/deployments') return json(response, 200, await watch.poll());
    if (method === 'GET' && url.pathname === '/api/deployments/events') {
      let stop = (): void => undefined;
      const sink = openEventStream(response, () => stop());
      stop = watch.watch((snapshot) => sink.send('deployments', { ...snapshot, queries: queries.names() }));
      const onQuery = (event: QueryEvent): void => sink.send('query', event);
      queryEvents.add(onQuery);
      response.on('close', () => queryEvents.delete(onQuery));
      return;
    }
    if (method === 'GET' && url.pathname === '/api/topics') {
      const admin = await KafkaAdmin.connect(options.target);
      try {
        return json(response, 200, { topics: (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort() });
      } finally {
        await admin.disconnect();
      }
    }
    const stream = /^\/api\/results\/([a-z][a-z0-9-]*)\/events$/.exec(url.pathname);
    if (method === 'GET' && stream) return resultStream(stream[1]!, url, request, response);
    if (method === 'POST' && url.pathname === '/api/queries') {
      const body = await readJson(request);
      if (typeof body.code !== 'string' || body.code.length === 0) throw new DashboardError('the request needs "code", the handler source');
      try {
        const created = await queries.create(body.code);
        return json(response, 201, { name: created.name, jobId: created.deployment.jobId, topics: created.deployment.topics, expiresAt: created.deployment.expiresAt });
      } catch (error) {
        if (error instanceof QueryFailed) return json(response, 422, { error: error.failure });
        throw error;
      }
    }
    const query = /^\/api\/queries\/([a-z][a-z0-9-]*)(\/promote)?$/.exec(url.pathname);
    if (query && method === 'DELETE' && !query[2]) {
      const started = performance.now();
      await queries.close(query[1]!, 'panel closed');
      return json(response, 200, { name: query[1], teardownMs: Math.round(performance.now() - started) });
    }
    if (query && method === 'POST' && query[2]) {
      const body = await readJson(request);
      if (typeof body.file !== 'string') throw new DashboardError('the request needs "file", a .ts path inside the project');
      try {
        const promoted = await queries.promote(query[1]!, body.file);
        return json(response, 201, { file: promoted.file, name: promoted.deployment.name, jobId: promoted.deployment.jobId });
      } catch (error) {
        if (error instanceof QueryFailed) return json(response, 422, { error: error.failure });
        throw error;
      }
    }
    json(response, 404, { error: { message: `nothing at ${method} ${url.pathname}` } });
  };

  /** One reader per stream, with its own consumer group, closed (and its group deleted) when the viewer leaves. */
  const resultStream = async (name: string, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const release = queries.hold(name);
    let reader: Reader | undefined;
    let gone = false;
    const sink = openEventStream(response, () => {
      gone = true;
      release();
      if (reader) {
        readers.delete(reader);
        void reader.close();
      }
    });
    const number = (key: string): number | undefined => (url.searchParams.get(key) ? Number(url.searchParams.get(key)) : undefined);
    try {
      const topics = await streamTopics(options.target, name);
      const windowFields = url.searchParams.get('window')?.split(',').filter(Boolean);
      const since = number('since');
      const until = number('until');
      const opened = await openReader({
        target: options.target,
        topics,
        from: url.searchParams.get('from') === 'beginning' ? 'beginning' : 'now',
        ...(since !== undefined ? { since } : {}),
        ...(until !== undefined ? { until } : {}),
        ...(windowFields ? { windowFields } : {}),
        onEvent: (event) => sink.send(event.type, event, `${event.topic}:${event.partition}:${event.offset}`),
      });
      if (gone) return void opened.close();
      reader = opened;
      readers.add(opened);
      sink.send('ready', { name, topics, groupId: opened.groupId });
    } catch (error) {
      sink.send('failure', { message: describe(error) });
      response.end();
    }
    void request;
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const verdict = checkRequest(request, url, options.token);
    if (!verdict.ok) return json(response, verdict.status, { error: { message: verdict.message } });
    if (verdict.setCookie && options.token) response.setHeader('set-cookie', `${TOKEN_COOKIE}=${encodeURIComponent(options.token)}; HttpOnly; SameSite=Strict; Path=/`);
    route(request, response, url).catch((error: unknown) => {
      const status = error instanceof DashboardError ? error.status : 500;
      if (status === 500) log(`error on ${request.method} ${url.pathname}: ${describe(error)}`);
      if (response.headersSent) return void response.end();
      json(response, status, { error: { message: describe(error), ...(error instanceof DashboardError && error.hint ? { hint: error.hint } : {}) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;
  log(`dashboard on ${url}`);
  return {
    url,
    port,
    queries,
    async close() {
      watch.stop();
      server.closeAllConnections();
      await Promise.allSettled([...readers].map((r) => r.close()));
      await queries.closeAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

/** A JSON request body; requiring the JSON content type also keeps other sites' plain form posts out. */
async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(request.headers['content-type'] ?? '').startsWith('application/json')) throw new DashboardError('send the body as application/json', undefined, 415);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1_000_000) throw new DashboardError('the request body is larger than 1 MB', undefined, 413);
    chunks.push(chunk);
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new DashboardError('the request body is not a JSON object');
}
