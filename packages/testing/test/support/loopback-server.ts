/**
 * A real HTTP server on 127.0.0.1 for tests of async handlers: each request is answered by the test's `respond`,
 * which may delay, fail, or never answer (`'hang'`: the connection stays open until the server closes). It counts
 * requests and the most that were open at once. Used by the harness, engine, dev and sidecar tests.
 *
 * A request stops being open when its answer is written (the client cannot see it earlier, so it cannot have sent
 * the request that takes its place yet), or when the client closes it unanswered. The server learns of an
 * abandonment when the socket's close reaches it, which may be after a request the client sent on another connection
 * once it gave up; so `maxOpen` may exceed a client's limit by the number of requests it abandoned.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Request {
  /** The path, without the query. */
  path: string;
  query: URLSearchParams;
  /** 1 for the first request the server received. */
  n: number;
}

export type Reply = { status?: number; body: unknown } | 'hang';

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Requests open at the same time, at most. */
  readonly maxOpen: number;
  /** Requests open now (received, not answered or abandoned). */
  readonly open: number;
  close(): Promise<void>;
}

export async function startLoopbackServer(respond: (request: Request) => Reply | Promise<Reply>): Promise<LoopbackServer> {
  let requests = 0;
  let open = 0;
  let maxOpen = 0;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    requests++;
    open++;
    maxOpen = Math.max(maxOpen, open);
    let counted = true;
    const done = (): void => {
      if (counted) open--;
      counted = false;
    };
    res.on('close', done);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    Promise.resolve(respond({ path: url.pathname, query: url.searchParams, n: requests })).then((reply) => {
      if (reply === 'hang') {
        hanging.add(res);
        return;
      }
      const body = JSON.stringify(reply.body);
      done();
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, (error: unknown) => {
      done();
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() { return requests; },
    get maxOpen() { return maxOpen; },
    get open() { return open; },
    close: () => new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A promise and the function that resolves it: a gate a responder waits at. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
