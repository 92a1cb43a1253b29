import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FunctionHost } from '@flinkfn/host';
import { defineFunction, eventTime, to, tumbling } from '@flinkfn/sdk';
import { SidecarHandler } from '../src/handler.js';
import {
  FrameSplitter,
  FrameWriter,
  MessageType,
  OutputKind,
  ProtocolError,
  decodeRequest,
  encodeRequest,
  encodeResponse,
  processRecordBounds,
  type Output,
  type Response,
} from '../src/protocol.js';

/**
 * The server answers PROCESS from the frame itself (handleFrame: records decoded in place, no Buffer per record);
 * every answer must be the one the general path gives (decodeRequest, then handle), byte for byte.
 */
const frames = suite('PROCESS straight from the frame');

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const RECORDS: Buffer[] = [
  utf8('{"id":1,"price":12.5,"qty":2}'),
  utf8('{"id":2,"name":"Zoë","city":"東京","mood":"😀","price":1,"qty":1}'),
  utf8('{"id":3,"note":"\\"quoted\\" \\\\ \\n \\u00e9 \\ud83d\\ude00","price":0.1,"qty":3}'),
  utf8('{"id":4,"replacement":"\uFFFD","price":1,"qty":1}'),
  Buffer.concat([utf8('{"id":5,"bad":"'), Buffer.from([0xc3, 0x28]), utf8('"}')]),
  Buffer.from([0xff, 0xfe, 0xfd]),
  utf8('{"id":7,'),
  utf8(''),
  utf8('{"id":9,"route":"side","price":2,"qty":2}'),
  utf8('{"id":10,"nested":{"a":[1,{"b":[null,true]}]},"price":3,"qty":1}'),
  utf8('{"id":11,"throw":true}'),
  utf8('{"id":12,"none":true}'),
];

const fn = defineFunction({
  name: 'frame-map',
  source: { topic: 'in' },
  sinks: { out: { topic: 'out' }, side: { topic: 'side' } },
  handle: (e: { id: number; price?: number; qty?: number; route?: string; throw?: boolean; none?: boolean }) => {
    if (e.throw) throw new Error(`record ${e.id} asked to fail`);
    if (e.none) return undefined;
    const out = { ...e, total: (e.price ?? 0) * (e.qty ?? 0) };
    return e.route === 'side' ? [to('side', out), out] : out;
  },
});

function bodyOf(frame: Buffer): { type: number; id: number; body: Buffer } {
  const [split] = new FrameSplitter().push(frame);
  if (!split) throw new Error('no frame');
  return split;
}

function answer(response: Response | Promise<Response> | undefined): Buffer {
  if (!response || response instanceof Promise) throw new Error('expected a synchronous answer');
  return encodeResponse(response, new FrameWriter());
}

frames('the answer to a PROCESS frame is the general path\'s, byte for byte (non-ASCII, escapes, U+FFFD, bad UTF-8 and JSON, errors, routing)', () => {
  const frame = encodeRequest({ type: MessageType.PROCESS, id: 7, records: RECORDS });
  const { type, id, body } = bodyOf(frame);
  const general = answer(new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'a').handle(decodeRequest(type, id, body)));
  const fast = answer(new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'a').handleFrame(type, id, body));
  assert.is(fast.toString('hex'), general.toString('hex'));
  // and the answer says what it should: a dead letter for each bad record, two outputs for the routed one
  const handler = new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'a');
  const response = handler.handleFrame(type, id, body) as Extract<Response, { type: typeof MessageType.PROCESSED }>;
  const kinds = response.results.map((outputs) => outputs.map((o: Output) => o.kind));
  const { SINK, DEAD_LETTER } = OutputKind;
  assert.equal(kinds, [[SINK], [SINK], [SINK], [SINK], [DEAD_LETTER], [DEAD_LETTER], [DEAD_LETTER], [DEAD_LETTER], [SINK, SINK], [SINK], [DEAD_LETTER], []]);
});

frames('a PROCESS frame of a bytes source hands each record\'s bytes to handle', () => {
  const bytesFn = defineFunction({
    name: 'frame-bytes',
    source: { topic: 'in', format: 'bytes' },
    sinks: { out: { topic: 'out' } },
    handle: (bytes: Uint8Array) => ({ length: bytes.length, first: bytes[0] ?? null, hex: Buffer.from(bytes).toString('hex') }),
  });
  const frame = encodeRequest({ type: MessageType.PROCESS, id: 3, records: RECORDS });
  const { type, id, body } = bodyOf(frame);
  const general = answer(new SidecarHandler(new FunctionHost(bytesFn.declarations(), bytesFn.spec), 'a').handle(decodeRequest(type, id, body)));
  const fast = answer(new SidecarHandler(new FunctionHost(bytesFn.declarations(), bytesFn.spec), 'a').handleFrame(type, id, body));
  assert.is(fast.toString('hex'), general.toString('hex'));
});

frames('record bounds are decodeRequest\'s records, and a broken PROCESS body fails as decodeRequest fails', () => {
  const frame = encodeRequest({ type: MessageType.PROCESS, id: 1, records: RECORDS });
  const { body } = bodyOf(frame);
  const bounds = processRecordBounds(body);
  const request = decodeRequest(MessageType.PROCESS, 1, body) as Extract<ReturnType<typeof decodeRequest>, { type: typeof MessageType.PROCESS }>;
  assert.is(bounds.length, 2 * request.records.length);
  request.records.forEach((record, i) => assert.is(body.subarray(bounds[2 * i], bounds[2 * i + 1]).toString('hex'), Buffer.from(record).toString('hex')));
  const failure = (f: () => unknown): string => {
    try {
      f();
    } catch (error) {
      assert.ok(error instanceof ProtocolError, String(error));
      return (error as Error).message;
    }
    return 'no error';
  };
  for (let cut = 0; cut < body.length; cut++) {
    const short = body.subarray(0, cut);
    assert.is(failure(() => processRecordBounds(short)), failure(() => decodeRequest(MessageType.PROCESS, 1, short)), `cut at ${cut}`);
  }
  const longer = Buffer.concat([body, Buffer.from([1, 2, 3])]);
  assert.is(failure(() => processRecordBounds(longer)), '3 unexpected bytes at the end of a frame');
  assert.is(failure(() => processRecordBounds(longer)), failure(() => decodeRequest(MessageType.PROCESS, 1, longer)));
  const huge = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
  assert.is(failure(() => processRecordBounds(huge)), failure(() => decodeRequest(MessageType.PROCESS, 1, huge)));
});

frames('a sink output without a key is written as the general encoding writes it', () => {
  for (const sinkIndex of [0, 1, 255, 256, 65535]) {
    for (const value of ['{"a":1}', '"ünïcode ✓ 😀"', utf8('{"b":2}'), '']) {
      const fast = new FrameWriter().output({ kind: OutputKind.SINK, sinkIndex, key: null, value }).take();
      const general = new FrameWriter().u8(OutputKind.SINK).u16(sinkIndex).nstr(null).bytes(value).take();
      assert.is(fast.toString('hex'), general.toString('hex'), `sink ${sinkIndex}, ${String(value)}`);
    }
  }
  assert.throws(() => new FrameWriter().output({ kind: OutputKind.SINK, sinkIndex: 65536, key: null, value: '1' }), RangeError);
});

frames('a windowed function without handle forwards each JSON record\'s own bytes as its element, on both paths, and what key() changes is not forwarded', () => {
  const windowFn = defineFunction({
    name: 'frame-window',
    source: { topic: 'in' },
    sinks: { out: { topic: 'out' } },
    key: (e: { id: number; user?: unknown; tag?: string }) => {
      e.tag = 'changed by key';
      return e.user as string;
    },
    time: eventTime({ timestamp: (e: { id: number }) => 1_000 + e.id }),
    window: tumbling('1s'),
    aggregate: { create: () => 0, add: (n: number) => n + 1, merge: (a: number, b: number) => a + b, result: (n: number) => n },
  });
  const records = [
    utf8('{ "id": 1,  "user": "zoë",\n "price": 1.50 }'),
    utf8('{"id":2,'),
    utf8('{"id":3,"user":{"not":"a key"}}'),
    utf8('{"id":4,"user":"東京"}'),
  ];
  const frame = encodeRequest({ type: MessageType.PROCESS, id: 5, records });
  const { type, id, body } = bodyOf(frame);
  const host = (): FunctionHost => new FunctionHost(windowFn.declarations(), windowFn.spec);
  assert.ok(host().windowSeesSourceRecords);
  const general = new SidecarHandler(host(), 'a').handle(decodeRequest(type, id, body));
  const fast = new SidecarHandler(host(), 'a').handleFrame(type, id, body);
  assert.is(answer(fast).toString('hex'), answer(general).toString('hex'));
  const results = (fast as Extract<Response, { type: typeof MessageType.PROCESSED }>).results;
  const { ELEMENT, DEAD_LETTER } = OutputKind;
  assert.equal(results.map((outputs) => outputs.map((o: Output) => o.kind)), [[ELEMENT], [DEAD_LETTER], [DEAD_LETTER], [ELEMENT]]);
  const element = (i: number): Extract<Output, { kind: typeof ELEMENT }> => results[i]?.[0] as Extract<Output, { kind: typeof ELEMENT }>;
  assert.is(element(0).key, 'zoë');
  assert.is(element(0).timestamp, 1_001);
  assert.is(Buffer.from(element(0).event).toString('hex'), (records[0] as Buffer).toString('hex')); // spaces and 1.50 as they came
  assert.is(Buffer.from(element(3).event).toString('utf8'), '{"id":4,"user":"東京"}');
});

frames('with a handle, the element is the handled value serialized before key() ran', () => {
  const handledFn = defineFunction({
    name: 'frame-window-handled',
    source: { topic: 'in' },
    sinks: { out: { topic: 'out' } },
    handle: (e: { id: number; user: string }) => ({ ...e, doubled: e.id * 2 }),
    key: (e: { user: string; tag?: string }) => {
      e.tag = 'changed by key';
      return e.user;
    },
    time: eventTime({ timestamp: (e: { id: number }) => e.id }),
    window: tumbling('1s'),
    aggregate: { create: () => 0, add: (n: number) => n + 1, merge: (a: number, b: number) => a + b, result: (n: number) => n },
  });
  const host = new FunctionHost(handledFn.declarations(), handledFn.spec);
  assert.not.ok(host.windowSeesSourceRecords);
  const { type, id, body } = bodyOf(encodeRequest({ type: MessageType.PROCESS, id: 1, records: [utf8('{ "id": 3, "user": "a" }')] }));
  const response = new SidecarHandler(host, 'a').handleFrame(type, id, body) as Extract<Response, { type: typeof MessageType.PROCESSED }>;
  const element = response.results[0]?.[0] as Extract<Output, { kind: typeof OutputKind.ELEMENT }>;
  assert.is(Buffer.from(element.event).toString('utf8'), '{"id":3,"user":"a","doubled":6}');
});

frames.run();
