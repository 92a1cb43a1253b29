import { isUtf8 } from 'node:buffer';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineFunction } from '@flinkfn/sdk';
import { FunctionHost, type DeadLetter, type Step } from '../src/index.js';

/**
 * `decodeRange` (records straight from a request frame, UTF-8 checked only when the text holds U+FFFD) and `decode`
 * against the general path they replace: isUtf8 on the record's own bytes, then toString, then JSON.parse.
 */
const decoding = suite('decoding records');

type Format = 'json' | 'string' | 'bytes';

function hostFor(format: Format): FunctionHost {
  const fn = defineFunction({ name: `decode-${format}`, source: { topic: 'in', format }, sinks: { out: { topic: 'out' } }, handle: (e: unknown) => e });
  return new FunctionHost(fn.declarations(), fn.spec);
}

/** The general path, as the host decoded every record before the fast path. */
function general(format: Format, bytes: Buffer): Step<unknown> {
  if (format === 'bytes') return { ok: true, value: bytes };
  if (!isUtf8(bytes)) return { ok: false, deadLetter: { stage: 'decode', error: 'record is not valid UTF-8', raw: bytes.toString('base64') } };
  const text = bytes.toString('utf8');
  if (format === 'string') return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, deadLetter: { stage: 'decode', error: 'record is not valid JSON', raw: text } };
  }
}

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const RECORDS: Array<[string, Buffer]> = [
  ['plain ASCII JSON', utf8('{"id":1,"user":"u1","price":12.5,"ts":1700000000000}')],
  ['Latin-1 letters', utf8('{"name":"Zoë Müller","city":"Besançon"}')],
  ['letters beyond Latin-1, emoji and CJK', utf8('{"price":"12 €","mood":"😀","city":"東京"}')],
  ['escapes of every kind', utf8('{"q":"\\"quoted\\"","b":"back\\\\slash","n":"line\\nbreak","u":"\\u00e9\\ud83d\\ude00","lone":"\\ud800"}')],
  ['nested values', utf8('{"a":[1,[2,{"b":null,"c":[true,false]}]],"d":{"e":{"f":-0.5e-3}}}')],
  ['a literal U+FFFD, valid UTF-8', utf8('{"replacement":"\uFFFD"}')],
  ['a U+FFFD next to a byte that is not UTF-8', Buffer.concat([utf8('{"a":"\uFFFD'), Buffer.from([0xff]), utf8('"}')])],
  ['a stray continuation byte', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d])],
  ['an overlong encoding of "/"', Buffer.concat([utf8('{"a":"'), Buffer.from([0xc0, 0xaf]), utf8('"}')])],
  ['a UTF-16 surrogate encoded as UTF-8', Buffer.concat([utf8('{"a":"'), Buffer.from([0xed, 0xa0, 0x80]), utf8('"}')])],
  ['a sequence cut short at the end', Buffer.concat([utf8('"euro '), Buffer.from([0xe2, 0x82])])],
  ['bytes 0xff 0xfe', Buffer.from([0xff, 0xfe])],
  ['invalid JSON with non-ASCII text', utf8('{"city":"Zürich",}')],
  ['a byte-order mark before JSON', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('{"a":1}')])],
  ['an empty record', Buffer.alloc(0)],
  ['a bare JSON string', utf8('"just text"')],
];

for (const format of ['json', 'string', 'bytes'] as const) {
  const host = hostFor(format);
  for (const [name, bytes] of RECORDS) {
    decoding(`${format} source, ${name}: decodeRange and decode give what the general path gives`, () => {
      const expected = general(format, bytes);
      // the record in the middle of a frame, between bytes that are not UTF-8
      const frame = Buffer.concat([Buffer.from([0x00, 0x00, 0x01, 0xff]), bytes, Buffer.from([0xfe, 0x80])]);
      const fromFrame = host.decodeRange(frame, 4, 4 + bytes.length);
      const fromRecord = host.decode(bytes);
      const fromView = host.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      for (const step of [fromFrame, fromRecord, fromView]) {
        assert.is(step.ok, expected.ok);
        if (step.ok && expected.ok) {
          if (format === 'bytes') assert.is(Buffer.compare(Buffer.from(step.value as Uint8Array), bytes), 0);
          else assert.equal(step.value, expected.value);
        }
        if (!step.ok && !expected.ok) assert.equal(step.deadLetter, expected.deadLetter as DeadLetter);
      }
    });
  }
}

decoding('dead letters from decodeRange carry the record\'s own bytes or text, not the frame\'s', () => {
  const host = hostFor('json');
  const bad = host.decodeRange(Buffer.from([0x22, 0x80, 0x22]), 0, 3);
  assert.equal(bad, { ok: false, deadLetter: { stage: 'decode', error: 'record is not valid UTF-8', raw: 'IoAi' } });
  const replacement = host.decodeRange(utf8('"\uFFFD"'), 0, 5);
  assert.equal(replacement, { ok: true, value: '\uFFFD' });
  const notJson = host.decodeRange(utf8('x{"a":1}'), 1, 7);
  assert.equal(notJson, { ok: false, deadLetter: { stage: 'decode', error: 'record is not valid JSON', raw: '{"a":1' } });
});

decoding.run();
