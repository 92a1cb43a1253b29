import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCase, loadCases } from '@flinkfn/conformance';
import { MessageType, NO_TIMESTAMP, OutputKind, PROTOCOL_VERSION, type Output, type Response } from '../src/protocol.js';
import { TestClient, json, startSidecar, text } from './helpers.js';

const cases = loadCases();
const byId = (id: string) => {
  const found = cases.find((c) => c.id === id);
  if (!found) throw new Error(`no case ${id}`);
  return found;
};

/** An output with its byte fields as text, for comparisons. */
const plain = (output: Output): Record<string, unknown> =>
  output.kind === OutputKind.ELEMENT ? { ...output, event: text(output.event) }
    : output.kind === OutputKind.SINK ? { ...output, value: text(output.value) }
    : { ...output, deadLetter: text(output.deadLetter) };

const sidecar = suite('the sidecar process');

sidecar('serves a windowed function: elements with key and timestamp, then aggregate and fire in batches', async () => {
  const file = await buildCase(byId('022-handle-throws-dead-letter'));
  const running = await startSidecar(file);
  try {
    assert.is(statSync(path.dirname(running.socketPath)).mode & 0o777, 0o700, 'socket directory is private');
    const client = await TestClient.connect(running.socketPath);
    const id = path.basename(file, '.flinkfn');
    const hello = await client.send({ type: MessageType.HELLO, id: 1, protocolVersion: PROTOCOL_VERSION, artifactId: id, settings: {} });
    assert.equal(hello, { type: MessageType.HELLO_OK, id: 1, protocolVersion: PROTOCOL_VERSION, functionName: 'case-022-handle-throws-dead-letter' });

    // Pipelined: three requests in flight before the first answer is read.
    const [processed, aggregated, fired] = await Promise.all([
      client.send({ type: MessageType.PROCESS, id: 2, records: [json({ id: 1, key: 'a', ts: 5 }), json({ id: 2, key: 'a', ts: 6, bad: true }), new TextEncoder().encode('{oops')] }),
      client.send({ type: MessageType.AGGREGATE, id: 3, groups: [{ key: 'a', start: 0, end: 10, accumulator: null, events: [json({ id: 1 }), json({ id: 3 })] }] }),
      client.send({ type: MessageType.FIRE, id: 4, fires: [{ key: 'a', start: 0, end: 10, mode: 0, accumulator: json({ ids: [3, 1] }) }] }),
    ]);
    assert.is(processed.type, MessageType.PROCESSED);
    const results = (processed as Extract<Response, { type: typeof MessageType.PROCESSED }>).results;
    assert.equal(results[0]?.map(plain), [{ kind: OutputKind.ELEMENT, key: 'a', timestamp: 5, event: '{"id":1,"key":"a","ts":5}' }]);
    const [handleFailure] = results[1] ?? [];
    assert.is(handleFailure?.kind, OutputKind.DEAD_LETTER);
    assert.equal(JSON.parse(text((handleFailure as { deadLetter: Uint8Array }).deadLetter)), {
      stage: 'handle',
      error: 'Error: bad event 2',
      // The sidecar process imports the bundle as the engine does: the stack is in the case's own source.
      stack: ['handle (src/handler.ts:9:37)'],
      event: { id: 2, key: 'a', ts: 6, bad: true },
    });
    assert.match(text((results[2]?.[0] as { deadLetter: Uint8Array }).deadLetter), /"stage":"decode"/);

    const aggregate = (aggregated as Extract<Response, { type: typeof MessageType.AGGREGATED }>).results[0];
    assert.equal(JSON.parse(text(aggregate?.accumulator ?? new Uint8Array())), { ids: [1, 3] });
    assert.equal(aggregate?.deadLetters, []);

    const fire = (fired as Extract<Response, { type: typeof MessageType.FIRED }>).results[0];
    assert.equal(fire?.map((o) => (o.kind === OutputKind.SINK ? [o.sinkIndex, o.key, JSON.parse(text(o.value))] : o)), [
      [0, 'a', { key: 'a', start: 0, end: 10, ids: [1, 3] }],
    ]);
    client.close();
  } finally {
    await running.stop();
  }
});

sidecar('processing-time functions send elements without a timestamp', async () => {
  const running = await startSidecar(await buildCase(byId('032-processing-time-tumbling')));
  try {
    const client = await TestClient.connect(running.socketPath);
    const processed = await client.send({ type: MessageType.PROCESS, id: 1, records: [json({ id: 1, key: 'k' })] });
    assert.equal((processed as Extract<Response, { type: typeof MessageType.PROCESSED }>).results[0]?.map(plain), [
      { kind: OutputKind.ELEMENT, key: 'k', timestamp: NO_TIMESTAMP, event: '{"id":1,"key":"k"}' },
    ]);
    client.close();
  } finally {
    await running.stop();
  }
});

sidecar('a hello for another artifact or protocol version is answered with an error', async () => {
  const running = await startSidecar(await buildCase(byId('001-tumbling-basic')));
  try {
    const client = await TestClient.connect(running.socketPath);
    const wrong = await client.send({ type: MessageType.HELLO, id: 7, protocolVersion: PROTOCOL_VERSION, artifactId: 'f'.repeat(64), settings: {} });
    assert.is(wrong.type, MessageType.ERROR);
    assert.match((wrong as { message: string }).message, /serves artifact .* expects f{64}/);
    const version = await client.send({ type: MessageType.HELLO, id: 8, protocolVersion: 99, artifactId: 'x', settings: {} });
    assert.match((version as { message: string }).message, new RegExp(`speaks protocol ${PROTOCOL_VERSION}, the operator 99`));
    client.close();
  } finally {
    await running.stop();
  }
});

sidecar('an artifact that does not exist fails at start with the reason and exit code 3', async () => {
  await startSidecar('/nonexistent/abc.flinkfn').then(
    () => assert.unreachable('started'),
    (error: { code?: number; stderr?: string }) => {
      assert.is(error.code, 3);
      assert.match(error.stderr ?? '', /cannot read artifact \/nonexistent\/abc\.flinkfn: it does not exist/);
    },
  );
});

sidecar('the sidecar exits when its stdin closes (its TaskManager is gone)', async () => {
  const running = await startSidecar(await buildCase(byId('001-tumbling-basic')));
  const exited = new Promise<number | null>((resolve) => running.process.once('exit', resolve));
  running.process.stdin?.end();
  assert.is(await exited, 0);
});

sidecar('external mode: the given socket is owner-only; after a SIGKILL the same command line starts again over the dead socket, and a live one is not taken over', async () => {
  const file = await buildCase(byId('022-handle-throws-dead-letter'));
  const folder = mkdtempSync(path.join(tmpdir(), 'flinkfn-external-'));
  const socket = path.join(folder, 'sidecar.sock');
  const args = ['--socket', socket, '--external'];
  try {
    const first = await startSidecar(file, args);
    assert.is(first.socketPath, socket);
    assert.is(statSync(socket).mode & 0o777, 0o600, 'owner-only in a shared folder');
    first.process.kill('SIGKILL');
    await new Promise((resolve) => first.process.once('exit', resolve));
    assert.ok(statSync(socket).isSocket(), 'a SIGKILL leaves the socket file behind');

    // What the kubelet does with a native sidecar: the same container, the same volume, started again.
    const second = await startSidecar(file, args);
    try {
      assert.match(second.stderr(), `removed the socket a killed sidecar left at ${socket}`);
      const client = await TestClient.connect(socket);
      const hello = await client.send({ type: MessageType.HELLO, id: 1, protocolVersion: PROTOCOL_VERSION, artifactId: path.basename(file, '.flinkfn'), settings: {} });
      assert.is(hello.type, MessageType.HELLO_OK);
      client.close();
      const third = await startSidecar(file, args).then(() => null, (error: { code: number; stderr: string }) => error);
      assert.is(third?.code, 3);
      assert.match(third?.stderr ?? '', 'is in use by a running sidecar');
      assert.ok(statSync(socket).isSocket(), 'the live sidecar keeps its socket');
    } finally {
      second.process.kill('SIGTERM');
      await new Promise((resolve) => second.process.once('exit', resolve));
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

sidecar.run();
