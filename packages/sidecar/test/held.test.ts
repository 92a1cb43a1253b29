import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildCase, loadCases } from '@flinkfn/conformance';
import { MessageType, PROTOCOL_VERSION, type Response } from '../src/protocol.js';
import { TestClient, json, startSidecar, text } from './helpers.js';

const held = suite('accumulators held in the sidecar (COMBINE, TAKE)');

type Of<T extends Response['type']> = Extract<Response, { type: T }>;

/** Runs `body` against a real sidecar serving case 026 (a sum whose add() throws for negative readings). */
async function withSumSidecar(body: (connect: () => Promise<TestClient>) => Promise<void>): Promise<void> {
  const found = loadCases().find((c) => c.id === '026-add-throws-dead-letter');
  if (!found) throw new Error('no case 026');
  const file = await buildCase(found);
  const running = await startSidecar(file);
  try {
    await body(() => connect(running.socketPath, path.basename(file, '.flinkfn')));
  } finally {
    await running.stop();
  }
}

async function connect(socketPath: string, artifactId: string): Promise<TestClient> {
  const client = await TestClient.connect(socketPath);
  const hello = await client.send({ type: MessageType.HELLO, id: 1, protocolVersion: PROTOCOL_VERSION, artifactId, settings: {} });
  assert.is(hello.type, MessageType.HELLO_OK);
  return client;
}

held('a window kept across bundles gives what one AGGREGATE of all its events gives, dead letters included', async () => {
  // add() throws for negative readings: the dead letter comes with the COMBINE that carried the event.
  await withSumSidecar(async (open) => {
    const client = await open();
    const a = { slot: 0 };
    const b = { slot: 1 };
    const first = (await client.send({
      type: MessageType.COMBINE,
      id: 2,
      groups: [
        { ...a, held: false, accumulator: null, events: [json({ v: 5 }), json({ v: -1 })] },
        { ...b, held: false, accumulator: json({ sum: 100 }), events: [json({ v: 1 })] },
      ],
    })) as Of<typeof MessageType.COMBINED>;
    assert.is(first.type, MessageType.COMBINED);
    assert.is(first.results[0]?.deadLetters.length, 1);
    assert.equal(JSON.parse(text(first.results[0]?.deadLetters[0] ?? '')).stage, 'add');
    assert.equal(first.results[1]?.deadLetters, []);
    const second = (await client.send({ type: MessageType.COMBINE, id: 3, groups: [{ ...a, held: true, events: [json({ v: 7 })] }] })) as Of<typeof MessageType.COMBINED>;
    assert.equal(second.results, [{ deadLetters: [] }]);

    const taken = (await client.send({ type: MessageType.TAKE, id: 4, slots: [0, 1] })) as Of<typeof MessageType.TAKEN>;
    assert.is(taken.type, MessageType.TAKEN);
    const accumulators = taken.results.map((r) => (r.accumulator === null ? null : JSON.parse(text(r.accumulator))));
    const aggregated = (await client.send({
      type: MessageType.AGGREGATE,
      id: 5,
      groups: [
        { key: 'a', start: 0, end: 10, accumulator: null, events: [json({ v: 5 }), json({ v: -1 }), json({ v: 7 })] },
        { key: 'b', start: 0, end: 10, accumulator: json({ sum: 100 }), events: [json({ v: 1 })] },
      ],
    })) as Of<typeof MessageType.AGGREGATED>;
    assert.equal(accumulators, aggregated.results.map((r) => JSON.parse(text(r.accumulator ?? 'null'))));
    assert.equal(accumulators, [{ sum: 12 }, { sum: 101 }]);

    // Taken means forgotten: continuing or taking it again is a protocol error, not a silent fresh accumulator.
    const again = await client.send({ type: MessageType.TAKE, id: 6, slots: [0] });
    assert.is(again.type, MessageType.ERROR);
    assert.match((again as Of<typeof MessageType.ERROR>).message, /keeps nothing/);
    client.close();
  });
});

held('FIRE of a kept window (mode 2) gives what FIRE of its accumulator gives, and ends the keeping', async () => {
  await withSumSidecar(async (open) => {
    const client = await open();
    const window = { key: 'k', start: 0, end: 10 };
    await client.send({ type: MessageType.COMBINE, id: 2, groups: [{ slot: 5, held: false, accumulator: json({ sum: 1 }), events: [json({ v: 2 }), json({ v: 3 })] }] });
    const kept = (await client.send({ type: MessageType.FIRE, id: 3, fires: [{ ...window, mode: 2, slot: 5 }] })) as Of<typeof MessageType.FIRED>;
    const given = (await client.send({ type: MessageType.FIRE, id: 4, fires: [{ ...window, mode: 0, accumulator: json({ sum: 6 }) }] })) as Of<typeof MessageType.FIRED>;
    const values = (fired: Of<typeof MessageType.FIRED>) => fired.results.map((outputs) => outputs.map((o) => (o.kind === 0 ? JSON.parse(text(o.value)) : o)));
    assert.equal(values(kept), [[{ key: 'k', start: 0, sum: 6 }]]);
    assert.equal(values(kept), values(given));
    const again = await client.send({ type: MessageType.TAKE, id: 5, slots: [5] });
    assert.is(again.type, MessageType.ERROR);
    client.close();
  });
});

held('each connection keeps its own accumulators: a restored operator never sees its predecessor\'s', async () => {
  await withSumSidecar(async (open) => {
    const before = await open();
    await before.send({ type: MessageType.COMBINE, id: 2, groups: [{ slot: 0, held: false, accumulator: null, events: [json({ v: 3 })] }] });
    const after = await open();
    const continued = await after.send({ type: MessageType.COMBINE, id: 2, groups: [{ slot: 0, held: true, events: [json({ v: 1 })] }] });
    assert.is(continued.type, MessageType.ERROR);
    const own = (await before.send({ type: MessageType.TAKE, id: 3, slots: [0] })) as Of<typeof MessageType.TAKEN>;
    assert.equal(JSON.parse(text(own.results[0]?.accumulator ?? 'null')), { sum: 3 });
    before.close();
    after.close();
  });
});

held.run();
