import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FrameSplitter, ProtocolError, decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../src/protocol.js';
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

frames.run();
