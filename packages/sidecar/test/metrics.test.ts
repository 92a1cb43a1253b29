import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FunctionHost } from '@flinkfn/host';
import { defineFunction } from '@flinkfn/sdk';
import { SidecarHandler } from '../src/handler.js';
import { MessageType, MetricKind, decodeResponse, encodeResponse } from '../src/protocol.js';

const metrics = suite('metrics from the sidecar');

const fn = defineFunction({
  name: 'orders',
  source: { topic: 'orders' },
  sinks: { out: { topic: 'out' } },
  handle: (order: { items: number; quiet?: boolean }, ctx) => {
    if (order.quiet) return order;
    ctx.metrics.counter('orders').inc();
    ctx.metrics.gauge('last').set(order.items / 2);
    ctx.metrics.histogram('items').update(order.items + 0.4);
    return order;
  },
});
const b = (text: string): Uint8Array => new TextEncoder().encode(text);

metrics('a PROCESS whose handler recorded metrics yields one METRICS frame of the deltas; the next starts over', () => {
  const handler = new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'id');
  handler.handle({ type: MessageType.PROCESS, id: 5, records: [b('{"items":3}'), b('{"items":8}')] });
  const first = handler.takeMetrics(5);
  assert.equal(first, {
    type: MessageType.METRICS,
    id: 5,
    metrics: [
      { kind: MetricKind.COUNTER, name: 'orders', increment: 2 },
      { kind: MetricKind.GAUGE, name: 'last', value: 4 },
      { kind: MetricKind.HISTOGRAM, name: 'items', values: [3, 8] },
    ],
  });
  // the frame round-trips through the codec
  const frame = encodeResponse(first!);
  assert.equal(decodeResponse(frame.readUInt8(4), frame.readUInt32BE(5), frame.subarray(9)), first);
  handler.handle({ type: MessageType.PROCESS, id: 6, records: [b('{"items":1}')] });
  assert.equal(handler.takeMetrics(6), {
    type: MessageType.METRICS,
    id: 6,
    metrics: [
      { kind: MetricKind.COUNTER, name: 'orders', increment: 1 },
      { kind: MetricKind.GAUGE, name: 'last', value: 0.5 },
      { kind: MetricKind.HISTOGRAM, name: 'items', values: [1] },
    ],
  });
});

metrics('a request whose code records nothing has no METRICS frame', () => {
  const handler = new SidecarHandler(new FunctionHost(fn.declarations(), fn.spec), 'id');
  handler.handle({ type: MessageType.PROCESS, id: 1, records: [b('{"items":3,"quiet":true}')] });
  assert.is(handler.takeMetrics(1), undefined);
});

metrics.run();
