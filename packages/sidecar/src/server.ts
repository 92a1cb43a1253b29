/**
 * Serves the protocol on a Unix domain socket. Each connection is handled in arrival order; responses
 * are written in the same order, so the operator can pipeline requests.
 */
import { mkdtemp, chmod } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SidecarHandler } from './handler.js';
import { writeOwnerMarker } from './owner.js';
import { FrameSplitter, FrameWriter, MessageType, decodeRequest, encodeResponse } from './protocol.js';

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
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = splitter.push(chunk);
      } catch (error) {
        socket.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      const out: Buffer[] = [];
      for (const frame of frames) {
        let response;
        try {
          const request = decodeRequest(frame.type, frame.id, frame.body);
          if (request.type === MessageType.SHUTDOWN) {
            signalShutdown();
            continue;
          }
          response = handler.handle(request);
        } catch (error) {
          response = { type: MessageType.ERROR, id: frame.id, message: String(error) } as const;
        }
        const metrics = handler.takeMetrics(frame.id);
        if (metrics) out.push(encodeResponse(metrics, writer));
        if (response) out.push(encodeResponse(response, writer));
      }
      if (out.length > 0) socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out));
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
