import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FunctionHost } from '@flinkfn/host';
import { defineFunction, type AsyncDeclaration, type HandleContext } from '@flinkfn/sdk';
import { gate, startLoopbackServer, type LoopbackServer, type Reply, type Request } from '../../testing/test/support/loopback-server.js';
import { SidecarHandler } from '../src/handler.js';
import { MessageType, OutputKind, type Output, type Response } from '../src/protocol.js';
import { privateSocketPath, serve, type SidecarServer } from '../src/server.js';
import { TestClient, json, text } from './helpers.js';

/** A function that asks `server` for the square of each event's id. */
function squares(server: () => LoopbackServer, async: AsyncDeclaration) {
  return defineFunction({
    name: 'squares',
    source: { topic: 'numbers' },
    sinks: { out: { topic: 'squares' } },
    async,
    handle: async (e: { id: number }, ctx: HandleContext) => {
      const response = await fetch(`${server().url}/square?id=${e.id}`, { signal: ctx.signal });
      return { id: e.id, ...((await response.json()) as object) };
    },
  });
}

const square = (request: Request): Reply => ({ body: { square: Number(request.query.get('id')) ** 2 } });
const values = (response: Response): unknown[][] =>
  (response as Extract<Response, { type: typeof MessageType.PROCESSED }>).results.map((outputs: Output[]) =>
    outputs.map((o) => (o.kind === OutputKind.SINK ? JSON.parse(text(o.value)) : o.kind === OutputKind.DEAD_LETTER ? JSON.parse(text(o.deadLetter)) : o)));
const process = (id: number, ids: number[]) => ({ type: MessageType.PROCESS, id, records: ids.map((i) => json({ id: i })) }) as const;

const inFlight = suite('the sidecar with an async handle: work in flight');
let http: LoopbackServer;
let sidecar: SidecarServer;
let client: TestClient;
inFlight.after.each(async () => {
  client?.close();
  await sidecar?.close();
  await http?.close();
});

async function start(async: AsyncDeclaration): Promise<SidecarHandler> {
  const fn = squares(() => http, async);
  const handler = new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'id');
  sidecar = await serve(handler, await privateSocketPath());
  client = await TestClient.connect(sidecar.socketPath);
  return handler;
}

inFlight('bundles keep flowing while requests are in flight; answers keep request order (ordered)', async () => {
  const thirdBundleArrived = gate();
  http = await startLoopbackServer(async (request) => {
    const id = Number(request.query.get('id'));
    if (id < 3) await thirdBundleArrived.opened; // bundle 1 waits until a record of bundle 3 reached the server
    if (id >= 6) thirdBundleArrived.open();
    return square(request);
  });
  const handler = await start({ capacity: 8 });
  const answers = await Promise.all([client.send(process(2, [0, 1, 2])), client.send(process(3, [3, 4, 5])), client.send(process(4, [6, 7, 8]))]);
  assert.equal(client.answered, [2, 3, 4]);
  assert.equal(answers.map(values), [[0, 1, 2], [3, 4, 5], [6, 7, 8]].map((ids) => ids.map((id) => [{ id, square: id * id }])));
  assert.ok(http.maxOpen <= 8, `at most capacity requests at once, saw ${http.maxOpen}`);
  assert.is(handler.inFlight, 0);
});

inFlight('unordered: a bundle answered first is sent first, paired by its id', async () => {
  const secondAnswered = gate();
  let answered = 0;
  http = await startLoopbackServer(async (request) => {
    const id = Number(request.query.get('id'));
    if (id === 0) await secondAnswered.opened;
    else if (++answered === 2) setTimeout(secondAnswered.open, 50);
    return square(request);
  });
  await start({ ordered: false });
  const [first, second] = await Promise.all([client.send(process(2, [0, 1])), client.send(process(3, [2, 3]))]);
  assert.equal(client.answered, [3, 2]);
  assert.equal(values(first), [[{ id: 0, square: 0 }], [{ id: 1, square: 1 }]], 'records keep their order inside an answer');
  assert.equal(values(second), [[{ id: 2, square: 4 }], [{ id: 3, square: 9 }]]);
});

inFlight('capacity: records beyond it wait for a slot, in arrival order, across bundles', async () => {
  let held: Array<() => void> = [];
  const started: number[] = [];
  http = await startLoopbackServer(async (request) => {
    started.push(Number(request.query.get('id')));
    const released = gate();
    held.push(released.open);
    if (held.length === 2) {
      const batch = held;
      held = [];
      for (const release of batch) release();
    }
    await released.opened;
    return square(request);
  });
  await start({ capacity: 2 });
  const answers = await Promise.all([client.send(process(2, [0, 1, 2])), client.send(process(3, [3]))]);
  assert.equal(answers.map(values), [[[{ id: 0, square: 0 }], [{ id: 1, square: 1 }], [{ id: 2, square: 4 }]], [[{ id: 3, square: 9 }]]]);
  assert.is(http.maxOpen, 2);
  assert.equal(started.slice(0, 2).sort(), [0, 1]);
  assert.equal(started.slice(2).sort(), [2, 3]);
});

inFlight('a server that stops answering: the record is a timed-out dead letter in the answer, the others are answered', async () => {
  http = await startLoopbackServer((request) => (request.query.get('id') === '1' ? 'hang' : square(request)));
  await start({ timeout: '300ms' });
  const answer = await client.send(process(2, [0, 1, 2]));
  assert.equal(values(answer), [
    [{ id: 0, square: 0 }],
    [{ stage: 'handle', error: 'timed out after 300 ms', event: { id: 1 } }],
    [{ id: 2, square: 4 }],
  ]);
});

inFlight.run();
