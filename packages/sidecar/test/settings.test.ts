import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FunctionHost } from '@flinkfn/host';
import { defineFunction } from '@flinkfn/sdk';
import { SidecarHandler } from '../src/handler.js';
import { MessageType, OutputKind, PROTOCOL_VERSION, decodeRequest, encodeRequest, type Response } from '../src/protocol.js';

const settings = suite('settings from HELLO');

const fn = defineFunction({
  name: 'orders',
  source: { topic: 'orders' },
  sinks: { out: { topic: 'out' } },
  settings: { region: { default: 'eu' }, apiToken: { secret: true } },
  handle: (order: { id: number }, ctx) => ({ id: order.id, region: ctx.settings.region, tokenLength: ctx.settings.apiToken.length }),
});
const b = (text: string): Uint8Array => new TextEncoder().encode(text);
const hello = (values: Record<string, string>) => {
  // through the codec, as the operator sends it
  const frame = encodeRequest({ type: MessageType.HELLO, id: 1, protocolVersion: PROTOCOL_VERSION, artifactId: 'id', settings: values });
  return decodeRequest(frame.readUInt8(4), frame.readUInt32BE(5), frame.subarray(9));
};

settings('the values in HELLO (defaults filling the rest) are what handle reads in ctx.settings', () => {
  const handler = new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'id');
  const ok = handler.handle(hello({ apiToken: 's3cr3t-token' })) as Response;
  assert.is(ok.type, MessageType.HELLO_OK);
  const processed = handler.handle({ type: MessageType.PROCESS, id: 2, records: [b('{"id":7}')] }) as Extract<Response, { type: typeof MessageType.PROCESSED }>;
  const [output] = processed.results[0] ?? [];
  assert.is(output?.kind, OutputKind.SINK);
  const value = (output as { value: Uint8Array | string }).value;
  assert.equal(JSON.parse(typeof value === 'string' ? value : new TextDecoder().decode(value)), { id: 7, region: 'eu', tokenLength: 12 });
});

settings('a HELLO without a required secret, or with an undeclared name, is answered with ERROR naming the setting and no value', () => {
  const handler = new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'id');
  const missing = handler.handle(hello({ region: 'us' })) as Response;
  assert.is(missing.type, MessageType.ERROR);
  assert.match((missing as { message: string }).message, /no value for the setting 'apiToken' \(secret\)/);
  const unknown = handler.handle(hello({ apiToken: 'hunter2-value', regoin: 'us' })) as Response;
  assert.is(unknown.type, MessageType.ERROR);
  assert.match((unknown as { message: string }).message, /'regoin'.*Did you mean 'region'/);
  assert.not.match((unknown as { message: string }).message, /hunter2-value/);
});

settings.run();
