/**
 * Compares candidate encodings for the operator ⇄ sidecar protocol on the hot path: a PROCESS request carrying
 * a bundle of 100-byte JSON records, and its response carrying one element per record. Measures, in this process,
 * encoding the request + decoding it + encoding the response + decoding it (what the two sides spend on framing).
 *
 *   node --import tsx bench/protocol-encodings.ts
 *
 * Candidates:
 *  - binary: the chosen protocol (length-prefixed frames, records as raw bytes, JSON left untouched);
 *  - json-envelope: one JSON document per message, records embedded as JSON strings;
 *  - json-nested: one JSON document per message, records embedded as parsed JSON values (no double encoding,
 *    but both sides parse and re-serialize every record).
 */
import { FrameSplitter, MessageType, NO_TIMESTAMP, OutputKind, decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../packages/sidecar/src/protocol.js';

const BUNDLE = 1_000;
const ROUNDS = 300;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function record(i: number): string {
  // ~100 bytes, like the Flink blog's PyFlink benchmark records.
  return JSON.stringify({ id: i, user: `user-${i % 997}`, page: `/products/${i % 50}`, ts: 1_700_000_000_000 + i, referrer: 'search', ok: true });
}

const texts = Array.from({ length: BUNDLE }, (_, i) => record(i));
const bytes = texts.map((t) => encoder.encode(t));
console.log(`record size ≈ ${bytes[0]?.length} bytes, bundle ${BUNDLE}, ${ROUNDS} rounds`);

function time(label: string, round: () => number): void {
  for (let i = 0; i < 20; i++) round(); // warm-up
  let frameBytes = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) frameBytes = round();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const perSecond = (BUNDLE * ROUNDS) / seconds;
  console.log(`${label.padEnd(14)} ${(perSecond / 1e6).toFixed(2)} M records/s  (${(frameBytes / BUNDLE).toFixed(0)} bytes/record on the wire, both directions)`);
}

time('binary', () => {
  const request = encodeRequest({ type: MessageType.PROCESS, id: 1, records: bytes });
  const [frame] = new FrameSplitter().push(request);
  const decoded = decodeRequest(frame!.type, frame!.id, frame!.body);
  if (decoded.type !== MessageType.PROCESS) throw new Error();
  const response = encodeResponse({
    type: MessageType.PROCESSED,
    id: 1,
    results: decoded.records.map((r) => [{ kind: OutputKind.ELEMENT, key: 'user-1', timestamp: NO_TIMESTAMP, event: r }]),
  });
  const [back] = new FrameSplitter().push(response);
  decodeResponse(back!.type, back!.id, back!.body);
  return request.length + response.length;
});

time('json-envelope', () => {
  const request = encoder.encode(JSON.stringify({ type: 'process', id: 1, records: texts }));
  const decoded = JSON.parse(decoder.decode(request)) as { records: string[] };
  const response = encoder.encode(JSON.stringify({ id: 1, results: decoded.records.map((r) => [{ kind: 1, key: 'user-1', timestamp: null, event: r }]) }));
  JSON.parse(decoder.decode(response));
  return request.length + response.length;
});

time('json-nested', () => {
  const request = encoder.encode(`{"type":"process","id":1,"records":[${texts.join(',')}]}`);
  const decoded = JSON.parse(decoder.decode(request)) as { records: unknown[] };
  const response = encoder.encode(JSON.stringify({ id: 1, results: decoded.records.map((r) => [{ kind: 1, key: 'user-1', timestamp: null, event: r }]) }));
  JSON.parse(decoder.decode(response));
  return request.length + response.length;
});
