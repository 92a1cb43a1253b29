import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameSplitter, FrameReader, FrameWriter, MessageType, NO_TIMESTAMP, ProtocolError, decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../src/protocol.js';
import { REQUESTS, RESPONSES, toJsonForm } from './golden.js';

const golden = JSON.parse(readFileSync(new URL('./golden/frames.json', import.meta.url), 'utf8')) as Array<{
  name: string;
  direction: string;
  hex: string;
  message: unknown;
}>;
const find = (name: string) => golden.find((g) => g.name === name);

const frames = suite('protocol frames');

for (const [name, request] of REQUESTS) {
  frames(`the ${name} request encodes to its golden bytes and decodes back`, () => {
    const entry = find(name);
    assert.ok(entry, `no golden frame ${name}`);
    assert.is(encodeRequest(request).toString('hex'), entry?.hex);
    const [frame] = new FrameSplitter().push(Buffer.from(entry?.hex ?? '', 'hex'));
    assert.ok(frame);
    assert.equal(toJsonForm(decodeRequest(frame?.type ?? 0, frame?.id ?? 0, frame?.body ?? Buffer.alloc(0))), entry?.message);
  });
}

for (const [name, response] of RESPONSES) {
  frames(`the ${name} response encodes to its golden bytes and decodes back`, () => {
    const entry = find(name);
    assert.is(encodeResponse(response).toString('hex'), entry?.hex);
    const [frame] = new FrameSplitter().push(Buffer.from(entry?.hex ?? '', 'hex'));
    assert.equal(toJsonForm(decodeResponse(frame?.type ?? 0, frame?.id ?? 0, frame?.body ?? Buffer.alloc(0))), entry?.message);
  });
}

frames('a stream cut at every byte still yields the same frames in order', () => {
  const stream = Buffer.concat(golden.map((g) => Buffer.from(g.hex, 'hex')));
  for (const cut of [1, 3, 7, 64]) {
    const splitter = new FrameSplitter();
    const seen: number[] = [];
    for (let offset = 0; offset < stream.length; offset += cut) {
      for (const frame of splitter.push(stream.subarray(offset, offset + cut))) seen.push(frame.id);
    }
    assert.equal(seen, golden.map((g) => (g.message as { id: number }).id));
  }
});

frames('a truncated body and trailing bytes are protocol errors', () => {
  const hello = Buffer.from(find('hello')?.hex ?? '', 'hex');
  const body = hello.subarray(9);
  assert.throws(() => decodeRequest(0x01, 1, body.subarray(0, body.length - 1)), (e: unknown) => e instanceof ProtocolError);
  assert.throws(() => decodeRequest(0x01, 1, Buffer.concat([body, Buffer.from([0])])), /unexpected bytes/);
  assert.throws(() => decodeRequest(0x55, 1, body), /unknown request type 0x55/);
});

frames('i64 fields read and write every safe integer, and Long.MIN_VALUE as "no timestamp", exactly', () => {
  const values = [0, 1, -1, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 1_700_000_000_000, -1_700_000_000_001, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, NO_TIMESTAMP];
  const writer = new FrameWriter();
  for (const value of values) writer.i64(value);
  const bytes = writer.take();
  for (let i = 0; i < values.length; i++) {
    assert.is(bytes.readBigInt64BE(i * 8), BigInt(values[i] as number), `bytes of ${values[i]}`);
  }
  const reader = new FrameReader(bytes);
  assert.equal(values.map(() => reader.i64()), values);
  reader.done();
});

frames('an i64 outside the safe integer range is a protocol error, not a rounded number', () => {
  for (const value of [2n ** 53n, -(2n ** 63n) + 1n, 2n ** 63n - 1n]) {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64BE(value);
    assert.throws(() => new FrameReader(bytes).i64(), (e: unknown) => e instanceof ProtocolError && e.message.includes(String(value)), String(value));
  }
  assert.throws(() => new FrameWriter().i64(2 ** 53), /not a safe integer/);
});

frames('a FIRE request decodes every window with its mode', () => {
  const fires = [
    { key: 'k', start: 0, end: 10, mode: 0 as const, accumulator: Buffer.from('1') },
    { key: 'ü', start: -5, end: 5, mode: 1 as const, events: [Buffer.from('{}'), Buffer.from('[]')] },
  ];
  const [frame] = new FrameSplitter().push(encodeRequest({ type: MessageType.FIRE, id: 9, fires }));
  assert.equal(decodeRequest(frame?.type ?? 0, frame?.id ?? 0, frame?.body ?? Buffer.alloc(0)), { type: MessageType.FIRE, id: 9, fires });
});

frames.run();
