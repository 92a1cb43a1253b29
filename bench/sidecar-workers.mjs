#!/usr/bin/env node
// A MEASUREMENT PROTOTYPE, not the product's sidecar: the same protocol, with the stateless path's work spread over
// N worker threads per subtask (issue 14: "if a single Node thread per subtask is still the limit, measure a second
// worker"). The main thread frames the socket and answers HELLO and SHUTDOWN; each PROCESS frame's body goes to the
// next worker in turn (a copy, transferred), which decodes, runs handle and encodes the PROCESSED frame; the main
// thread writes the answers in request order. Only for functions without windows, without metrics and with a
// synchronous handle (enough for the stateless-map benchmark); anything else answers ERROR.
//
//   ThroughputBenchmark ... --sidecar bench/sidecar-workers.mjs        (FLINKFN_BENCH_WORKERS=2 by default)
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadArtifactFile } from '@flinkfn/host';
import { FrameSplitter, FrameWriter, MessageType, SidecarHandler, decodeRequest, encodeResponse } from '@flinkfn/sidecar';

async function handlerFor(artifactFile) {
  const loaded = await loadArtifactFile(artifactFile);
  return new SidecarHandler(loaded.host, loaded.artifact.id);
}

if (!isMainThread) {
  const handler = await handlerFor(workerData.artifact);
  const writer = new FrameWriter();
  parentPort.on('message', ({ seq, type, id, body }) => {
    let frame;
    try {
      const response = handler.handleFrame(type, id, Buffer.from(body));
      if (response === undefined || response instanceof Promise) throw new Error('the worker prototype answers synchronous PROCESS only');
      if (handler.takeMetrics(id)) throw new Error('the worker prototype does not forward metrics');
      frame = encodeResponse(response, writer);
    } catch (error) {
      frame = encodeResponse({ type: MessageType.ERROR, id, message: String(error) }, writer);
    }
    const out = new Uint8Array(frame); // its own buffer, to transfer
    parentPort.postMessage({ seq, frame: out }, [out.buffer]);
  });
  parentPort.postMessage({ ready: true });
} else {
  const artifactFile = process.argv[process.argv.indexOf('--artifact') + 1];
  const count = Number(process.env.FLINKFN_BENCH_WORKERS ?? 2);
  const handler = await handlerFor(artifactFile);
  const workers = await Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { artifact: artifactFile } });
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  })));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flinkfn-bench-workers-'));
  const socketPath = path.join(dir, 'sidecar.sock');
  const stop = () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const splitter = new FrameSplitter();
    const writer = new FrameWriter();
    /** Answers in request order: a Buffer when there, null while a worker has it. */
    const answers = new Map();
    let nextSeq = 0;
    let nextToWrite = 0;
    const flush = () => {
      const out = [];
      while (answers.has(nextToWrite) && answers.get(nextToWrite) !== null) {
        out.push(answers.get(nextToWrite));
        answers.delete(nextToWrite++);
      }
      if (out.length > 0 && !socket.destroyed) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
    };
    for (const worker of workers) {
      worker.on('message', ({ seq, frame }) => {
        answers.set(seq, Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
        flush();
      });
    }
    socket.on('data', (chunk) => {
      for (const frame of splitter.push(chunk)) {
        const seq = nextSeq++;
        if (frame.type === MessageType.PROCESS) {
          answers.set(seq, null);
          const body = new Uint8Array(frame.body); // a copy, transferred to the worker
          workers[seq % count].postMessage({ seq, type: frame.type, id: frame.id, body }, [body.buffer]);
          continue;
        }
        if (frame.type === MessageType.SHUTDOWN) {
          nextSeq--;
          stop();
          return;
        }
        let response;
        try {
          const request = decodeRequest(frame.type, frame.id, frame.body);
          response = request.type === MessageType.HELLO && Object.keys(request.settings).length > 0
            ? { type: MessageType.ERROR, id: frame.id, message: 'the worker prototype takes no settings' }
            : handler.handle(request);
        } catch (error) {
          response = { type: MessageType.ERROR, id: frame.id, message: String(error) };
        }
        if (response === undefined || response instanceof Promise) response = { type: MessageType.ERROR, id: frame.id, message: 'not in the worker prototype' };
        answers.set(seq, encodeResponse(response, writer));
      }
      flush();
    });
    socket.on('error', () => socket.destroy());
  });
  server.listen(socketPath, () => process.stdout.write(`READY ${socketPath}\n`));
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.once('SIGTERM', stop);
}
