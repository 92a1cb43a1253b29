/**
 * Server-Sent Events on a plain HTTP response: `event:`, `id:` and one `data:` line of JSON per event, and a
 * comment every 15 s so that proxies keep the connection open.
 */
import type { ServerResponse } from 'node:http';

export interface EventSink {
  send(event: string, data: unknown, id?: string): void;
  readonly closed: boolean;
}

export function openEventStream(response: ServerResponse, onClose: () => void): EventSink {
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  response.flushHeaders();
  let closed = false;
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
  response.on('close', () => {
    closed = true;
    clearInterval(keepAlive);
    onClose();
  });
  return {
    send(event, data, id) {
      if (closed) return;
      response.write(`event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
    },
    get closed() {
      return closed;
    },
  };
}
