/**
 * Serves the protocol on a Unix domain socket. Each connection's frames are handled in arrival order; responses
 * are written in the same order, so the operator can pipeline requests. An answer that is a Promise (an async
 * handle) does not stop the reading: later frames are handled meanwhile, and their answers wait behind it — except
 * for a function declared `async.ordered: false`, whose answers leave as they are ready (protocol.ts).
 */
import { lstatSync, rmSync } from 'node:fs';
import { mkdtemp, chmod } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SidecarHandler } from './handler.js';
import { writeOwnerMarker } from './owner.js';
import { FrameSplitter, FrameWriter, MessageType, decodeRequest, encodeResponse, type Response } from './protocol.js';

export interface SidecarServer {
  socketPath: string;
  close(): Promise<void>;
  /** Resolves when a SHUTDOWN request arrives. */
  shutdown: Promise<void>;
}

/** The name prefix of the sidecars' socket folders in the temporary directory; swept by `sweepLeftovers`. */
export const SOCKET_FOLDER_PREFIX = 'flinkfn-sidecar-';

/**
 * A fresh private directory (mode 0700) for the socket, so other users cannot connect, marked with this process
 * as its owner (owner.ts), so that a later sidecar removes it if this one is killed.
 */
export async function privateSocketPath(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), SOCKET_FOLDER_PREFIX));
  await chmod(dir, 0o700);
  writeOwnerMarker(dir);
  return path.join(dir, 'sidecar.sock');
}

/**
 * Makes a given socket path free to listen on. A socket file that nothing accepts connections on is a dead
 * sidecar's (killed with SIGKILL, so its exit hook never ran): in external mode the kubelet restarts the sidecar
 * container with the same shared volume and the same `--socket`, and the file would stop it from listening. It is
 * removed; a socket that answers belongs to a live sidecar and is left alone, as is any other kind of file.
 */
export async function clearDeadSocket(socketPath: string): Promise<'free' | 'removed a dead socket' | 'in use' | 'not a socket'> {
  let stat;
  try {
    stat = lstatSync(socketPath);
  } catch {
    return 'free';
  }
  if (!stat.isSocket()) return 'not a socket';
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) return 'in use';
  rmSync(socketPath, { force: true });
  return 'removed a dead socket';
}

export async function serve(handler: SidecarHandler, socketPath: string): Promise<SidecarServer> {
  let signalShutdown: () => void = () => undefined;
  const shutdown = new Promise<void>((resolve) => (signalShutdown = resolve));
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.setNoDelay(true);
    const splitter = new FrameSplitter();
    const writer = new FrameWriter();
    // Kept per connection: a restored operator's new connection must not see its predecessor's accumulators.
    const held = handler.newHeldAccumulators();
    /** Answers not written yet, in request order; `response` is null while its Promise runs. */
    const queue: Array<{ id: number; response: Response | null }> = [];
    let failed = false;
    const flush = (): void => {
      const out: Buffer[] = [];
      const write = (id: number, response: Response): void => {
        const metrics = handler.takeMetrics(id);
        if (metrics) out.push(encodeResponse(metrics, writer));
        out.push(encodeResponse(response, writer));
      };
      if (handler.unordered) {
        for (let i = 0; i < queue.length; i++) {
          const entry = queue[i] as (typeof queue)[number];
          if (entry.response === null) continue;
          write(entry.id, entry.response);
          queue.splice(i--, 1);
        }
      } else {
        while (queue.length > 0 && (queue[0] as (typeof queue)[number]).response !== null) {
          const entry = queue.shift() as (typeof queue)[number];
          write(entry.id, entry.response as Response);
        }
      }
      if (out.length > 0 && !socket.destroyed) socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
    };
    socket.on('data', (chunk: Buffer) => {
      if (failed) return;
      let frames;
      try {
        frames = splitter.push(chunk);
      } catch (error) {
        failed = true;
        socket.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      for (const frame of frames) {
        let response: Response | Promise<Response> | undefined;
        try {
          if (frame.type === MessageType.SHUTDOWN) {
            decodeRequest(frame.type, frame.id, frame.body);
            signalShutdown();
            continue;
          }
          response = handler.handleFrame(frame.type, frame.id, frame.body, held);
        } catch (error) {
          response = { type: MessageType.ERROR, id: frame.id, message: String(error) };
        }
        if (response === undefined) {
          // No answer; what user code recorded still leaves with the next one.
          continue;
        }
        if (response instanceof Promise) {
          const entry: (typeof queue)[number] = { id: frame.id, response: null };
          queue.push(entry);
          response.then(
            (settled) => (entry.response = settled),
            (error: unknown) => (entry.response = { type: MessageType.ERROR, id: frame.id, message: String(error) }),
          ).then(flush, () => undefined);
        } else {
          queue.push({ id: frame.id, response });
        }
      }
      flush();
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  return {
    socketPath,
    shutdown,
    close: () =>
      new Promise<void>((resolve) => {
        // server.close() waits for open connections; the operator may never close its own.
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
