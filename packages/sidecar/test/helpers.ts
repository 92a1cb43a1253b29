import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FrameSplitter, FrameWriter, MessageType, decodeResponse, encodeRequest, type Request, type Response } from '../src/protocol.js';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(PACKAGE_ROOT, 'bin', 'flinkfn-sidecar.js');

export interface RunningSidecar {
  process: ChildProcess;
  socketPath: string;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts the real sidecar process and waits for its READY line (or its early exit). */
export function startSidecar(artifact: string, extra: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<RunningSidecar> {
  const child = spawn(process.execPath, [BIN, '--artifact', artifact, ...extra], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sidecar not ready after 20 s: ${stderr}`)), 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`sidecar exited with ${code}: ${stderr}`), { code, stderr }));
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /^READY (.+)$/m.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({
          process: child,
          socketPath: match[1],
          stdout: () => out,
          stderr: () => stderr,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.stdin.end();
            }),
        });
      }
    });
  });
}

/**
 * A minimal operator-side client: pipelined requests, responses matched by id (the sidecar answers in order, except
 * PROCESS of an unordered async function); `answered` lists response ids as they arrived, METRICS frames are kept apart.
 */
export class TestClient {
  private readonly splitter = new FrameSplitter();
  private readonly waiting = new Map<number, (response: Response) => void>();
  readonly answered: number[] = [];
  readonly metrics: Response[] = [];
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.splitter.push(chunk)) {
        const response = decodeResponse(frame.type, frame.id, frame.body);
        if (response.type === MessageType.METRICS) {
          this.metrics.push(response);
          continue;
        }
        this.answered.push(frame.id);
        const resolve = this.waiting.get(frame.id);
        this.waiting.delete(frame.id);
        resolve?.(response);
      }
    });
  }

  static connect(socketPath: string): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath, () => resolve(new TestClient(socket)));
      socket.once('error', reject);
    });
  }

  send(request: Request): Promise<Response> {
    return new Promise((resolve) => {
      this.waiting.set(request.id, resolve);
      this.socket.write(encodeRequest(request, new FrameWriter()));
    });
  }

  close(): void {
    this.socket.end();
  }
}

export const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
export const text = (bytes: Uint8Array | string): string => (typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
