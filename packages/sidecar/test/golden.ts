/**
 * The golden frames both sides of the protocol test against. Each entry is a message in a JSON form
 * (bytes as UTF-8 text, 64-bit integers as decimal strings) and its exact encoding in hex. The TS test
 * checks encode(message) == hex and decode(hex) == message; the Java test does the same with its codec.
 * `node --import tsx test/golden.ts` rewrites test/golden/frames.json after a deliberate protocol change.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageType, MetricKind, NO_TIMESTAMP, OutputKind, encodeRequest, encodeResponse, type Request, type Response } from '../src/protocol.js';

const b = (text: string): Uint8Array => new TextEncoder().encode(text);

export const REQUESTS: Array<[string, Request]> = [
  ['hello', { type: MessageType.HELLO, id: 1, protocolVersion: 1, artifactId: 'a3f1', settings: { customersUrl: 'http://api:8080', apiToken: 'ünï ✓' } }],
  ['hello-no-settings', { type: MessageType.HELLO, id: 2, protocolVersion: 4, artifactId: 'b7', settings: {} }],
  ['process', { type: MessageType.PROCESS, id: 2, records: [b('{"id":1}'), b(''), b('ünïcode ✓')] }],
  ['aggregate', {
    type: MessageType.AGGREGATE,
    id: 3,
    groups: [
      { key: 'user-1', start: 0, end: 60_000, accumulator: null, events: [b('{"n":1}'), b('{"n":2}')] },
      { key: '', start: -10, end: 1_700_000_000_000, accumulator: b('{"sum":3}'), events: [] },
    ],
  }],
  ['combine', {
    type: MessageType.COMBINE,
    id: 10,
    groups: [
      { slot: 0, held: false, accumulator: null, events: [b('{"n":1}')] },
      { slot: 16_777_215, held: false, accumulator: b('{"sum":3}'), events: [] },
      { slot: 7, held: true, events: [b('{"n":2}'), b('ü')] },
    ],
  }],
  ['take', { type: MessageType.TAKE, id: 11, slots: [7, 0, 16_777_215] }],
  ['merge', { type: MessageType.MERGE, id: 4, merges: [{ key: 'k', start: 5, end: 40, accumulators: [b('1'), b('2'), b('3')] }] }],
  ['fire', {
    type: MessageType.FIRE,
    id: 4_294_967_295,
    fires: [
      { key: 'k', start: 0, end: 10, mode: 0, accumulator: b('{"ids":[1]}') },
      { key: 'p', start: 10, end: 20, mode: 1, events: [b('{"v":1}'), b('{"v":2}')] },
      { key: 'q', start: 20, end: 30, mode: 2, slot: 3 },
    ],
  }],
  ['shutdown', { type: MessageType.SHUTDOWN, id: 9 }],
];

export const RESPONSES: Array<[string, Response]> = [
  ['hello-ok', { type: MessageType.HELLO_OK, id: 1, protocolVersion: 1, functionName: 'page-views' }],
  ['processed', {
    type: MessageType.PROCESSED,
    id: 2,
    results: [
      [{ kind: OutputKind.ELEMENT, key: 'a', timestamp: 1_000, event: b('{"id":1}') }],
      [],
      [
        { kind: OutputKind.SINK, sinkIndex: 1, key: null, value: b('"x"') },
        { kind: OutputKind.ELEMENT, key: 'b', timestamp: NO_TIMESTAMP, event: b('{}') },
        { kind: OutputKind.DEAD_LETTER, deadLetter: b('{"stage":"handle","error":"Error: boom"}') },
      ],
    ],
  }],
  ['aggregated', {
    type: MessageType.AGGREGATED,
    id: 3,
    results: [
      { accumulator: b('{"sum":3}'), deadLetters: [] },
      { accumulator: null, deadLetters: [b('{"stage":"create","error":"Error: no"}')] },
    ],
  }],
  ['combined', { type: MessageType.COMBINED, id: 10, results: [{ deadLetters: [] }, { deadLetters: [b('{"stage":"add","error":"Error: no"}'), b('x')] }] }],
  ['taken', {
    type: MessageType.TAKEN,
    id: 11,
    results: [
      { accumulator: b('{"sum":6}'), deadLetters: [] },
      { accumulator: null, deadLetters: [b('{"stage":"create","error":"Error: no"}')] },
    ],
  }],
  ['merged', { type: MessageType.MERGED, id: 4, results: [{ accumulator: b('6'), deadLetters: [] }] }],
  ['fired', { type: MessageType.FIRED, id: 5, results: [[{ kind: OutputKind.SINK, sinkIndex: 0, key: 'k', value: b('{"count":2}') }], []] }],
  ['metrics', {
    type: MessageType.METRICS,
    id: 7,
    metrics: [
      { kind: MetricKind.COUNTER, name: 'orders', increment: 3 },
      { kind: MetricKind.GAUGE, name: 'queue-depth', value: -2.5 },
      { kind: MetricKind.HISTOGRAM, name: 'basket_size', values: [1, -4, 1_700_000_000_000] },
      { kind: MetricKind.HISTOGRAM, name: 'empty', values: [] },
    ],
  }],
  ['error', { type: MessageType.ERROR, id: 6, message: 'frame ends in the middle of a field' }],
];

const I64_FIELDS = new Set(['start', 'end', 'timestamp', 'increment']);
const TYPE_NAMES = Object.fromEntries(Object.entries(MessageType).map(([name, code]) => [code, name]));

/** The JSON form of a message: type names, bytes as text, i64 fields (window bounds, timestamps) as decimal strings. */
export function toJsonForm(message: Request | Response): unknown {
  return JSON.parse(
    JSON.stringify(message, function (this: Record<string, unknown>, key: string, value: unknown) {
      // `this[key]` is the value before Buffer.prototype.toJSON ran.
      const original = this[key];
      if (key === 'type' && typeof value === 'number') return TYPE_NAMES[value];
      if (I64_FIELDS.has(key) && typeof original === 'number') return BigInt(original).toString();
      // a histogram's values are i64 too
      if (key === 'values' && Array.isArray(original)) return original.map((v: number) => BigInt(v).toString());
      if (original instanceof Uint8Array) return new TextDecoder().decode(original);
      return value;
    }),
  );
}

export function goldenFrames(): Array<{ name: string; direction: 'request' | 'response'; hex: string; message: unknown }> {
  return [
    ...REQUESTS.map(([name, m]) => ({ name, direction: 'request' as const, hex: encodeRequest(m).toString('hex'), message: toJsonForm(m) })),
    ...RESPONSES.map(([name, m]) => ({ name, direction: 'response' as const, hex: encodeResponse(m).toString('hex'), message: toJsonForm(m) })),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = fileURLToPath(new URL('./golden/frames.json', import.meta.url));
  writeFileSync(file, JSON.stringify(goldenFrames(), null, 2) + '\n');
  process.stdout.write(`wrote ${file}\n`);
}
