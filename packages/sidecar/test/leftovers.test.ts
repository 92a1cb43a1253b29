import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCase, loadCases } from '@flinkfn/conformance';
import { isOwnerAlive, readOwnerMarker } from '../src/owner.js';
import { MessageType, PROTOCOL_VERSION } from '../src/protocol.js';
import { PACKAGE_ROOT, TestClient, startSidecar, type RunningSidecar } from './helpers.js';

const leftovers = suite('what a sidecar leaves on the host');

const artifactOf = async (): Promise<string> => {
  const found = loadCases().find((c) => c.id === '001-tumbling-basic');
  if (!found) throw new Error('no case 001');
  return buildCase(found);
};

/** Each test gets its own temporary directory, as the sidecar's TMPDIR, so it sees only its own sidecars. */
const freshTmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'sidecar-leftovers-'));
const inTmp = (tmp: string): NodeJS.ProcessEnv => ({ ...process.env, TMPDIR: tmp });
const socketFolders = (tmp: string): string[] => readdirSync(tmp).filter((n) => n.startsWith('flinkfn-sidecar-')).sort();
const folderName = (running: RunningSidecar): string => path.basename(path.dirname(running.socketPath));

const exitOf = (running: RunningSidecar): Promise<number | null> =>
  new Promise((resolve) => {
    if (running.process.exitCode !== null || running.process.signalCode !== null) resolve(running.process.exitCode);
    else running.process.once('exit', (code) => resolve(code));
  });

async function eventually(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.unreachable(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const cleanExits: Array<[string, (running: RunningSidecar) => Promise<void>]> = [
  ['its stdin closes', async (running) => void running.process.stdin?.end()],
  ['SIGTERM', async (running) => void running.process.kill('SIGTERM')],
  ['a SHUTDOWN request', async (running) => {
    const client = await TestClient.connect(running.socketPath);
    void client.send({ type: MessageType.SHUTDOWN, id: 1 });
  }],
];

for (const [how, stop] of cleanExits) {
  leftovers(`the socket folder, marked with the sidecar as owner, is gone after it exits because ${how}`, async () => {
    const tmp = freshTmp();
    try {
      const running = await startSidecar(await artifactOf(), [], inTmp(tmp));
      assert.equal(socketFolders(tmp), [folderName(running)]);
      const owner = readOwnerMarker(path.dirname(running.socketPath));
      assert.is(owner?.pid, running.process.pid);
      assert.ok(owner && isOwnerAlive(owner));
      await stop(running);
      assert.is(await exitOf(running), 0);
      assert.equal(readdirSync(tmp), [], 'nothing left in the temporary directory');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

leftovers('a sidecar that fails to start leaves nothing behind', async () => {
  const tmp = freshTmp();
  try {
    const failure = await startSidecar('/nonexistent/abc.flinkfn', [], inTmp(tmp)).then(
      () => null,
      (error: { code?: number }) => error,
    );
    assert.is(failure?.code, 3, 'the start failed');
    assert.equal(readdirSync(tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

leftovers('a SIGKILLed sidecar leaves its folder; the next sidecar to start removes it and keeps a live one’s', async () => {
  const tmp = freshTmp();
  const artifact = await artifactOf();
  const started: RunningSidecar[] = [];
  try {
    const killed = await startSidecar(artifact, [], inTmp(tmp));
    const live = await startSidecar(artifact, [], inTmp(tmp));
    started.push(killed, live);
    killed.process.kill('SIGKILL');
    await exitOf(killed);
    assert.ok(existsSync(path.dirname(killed.socketPath)), 'SIGKILL leaves the folder');

    const next = await startSidecar(artifact, [], inTmp(tmp));
    started.push(next);
    assert.equal(socketFolders(tmp), [folderName(live), folderName(next)].sort());
    const client = await TestClient.connect(live.socketPath);
    const hello = await client.send({ type: MessageType.HELLO, id: 1, protocolVersion: PROTOCOL_VERSION, artifactId: path.basename(artifact, '.flinkfn'), settings: {} });
    assert.is(hello.type, MessageType.HELLO_OK, 'the live sidecar still serves on its socket');
    client.close();

    await live.stop();
    await next.stop();
    assert.equal(readdirSync(tmp), []);
  } finally {
    for (const running of started) running.process.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});

leftovers('when its TaskManager is SIGKILLed, the sidecar sees its stdin close and removes its folder', async () => {
  const tmp = freshTmp();
  // Stands in for the TaskManager: spawns the sidecar with a stdin pipe, as SidecarProcess does, and relays its stdout.
  const taskManager = spawn(process.execPath, ['-e', `
    const { spawn } = require('node:child_process');
    const sidecar = spawn(process.execPath, ${JSON.stringify([path.join(PACKAGE_ROOT, 'bin', 'flinkfn-sidecar.js'), '--artifact', await artifactOf()])}, { stdio: ['pipe', 'pipe', 'inherit'] });
    sidecar.stdout.pipe(process.stdout);
    setInterval(() => {}, 1000);
  `], { stdio: ['ignore', 'pipe', 'inherit'], env: inTmp(tmp) });
  try {
    const folder = await new Promise<string>((resolve, reject) => {
      let out = '';
      taskManager.stdout?.on('data', (d: Buffer) => {
        const match = /^READY (.+)$/m.exec((out += d.toString()));
        if (match?.[1]) resolve(path.dirname(match[1]));
      });
      taskManager.once('exit', (code) => reject(new Error(`the stand-in TaskManager exited with ${code}`)));
    });
    const owner = readOwnerMarker(folder);
    assert.ok(owner && isOwnerAlive(owner), 'the sidecar runs');
    taskManager.kill('SIGKILL');
    await eventually('the sidecar exits', () => owner !== null && !isOwnerAlive(owner));
    await eventually('its folder is removed', () => !existsSync(folder));
    assert.equal(readdirSync(tmp), []);
  } finally {
    taskManager.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
});

leftovers.run();
