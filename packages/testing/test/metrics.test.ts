import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';
import { harness } from '../src/index.js';

interface Order { user: string; items: number; ts: number }

const metrics = suite('handler metrics in the harness');

const orders = defineFunction({
  name: 'orders',
  source: { topic: 'orders' },
  sinks: { big: { topic: 'big-orders' } },
  handle: (order: Order, ctx) => {
    ctx.metrics.counter('orders').inc();
    ctx.metrics.counter('items').inc(order.items);
    ctx.metrics.gauge('last-items').set(order.items);
    ctx.metrics.histogram('basket-size').update(order.items);
    return order.items > 2 ? order : undefined;
  },
});

metrics('counters are summed, gauges keep their last value, histograms give count/min/max/mean', () => {
  const h = harness(orders);
  assert.equal(h.metrics, { counters: {}, gauges: {}, histograms: {} });
  h.push({ user: 'a', items: 1, ts: 0 }, { user: 'b', items: 4, ts: 1 }, { user: 'c', items: 2.6, ts: 2 });
  // inc(2.6) throws: that event is a dead letter, and what its handler recorded before the throw stays recorded
  assert.equal(h.metrics, {
    counters: { orders: 3, items: 1 + 4 },
    gauges: { 'last-items': 4 },
    histograms: { 'basket-size': { count: 2, min: 1, max: 4, mean: 2.5 } },
  });
  assert.equal(h.deadLetters.length, 1);
  assert.match(h.deadLetters[0]!.error, /inc\(2.6\) needs a whole number/);
  h.clear().push({ user: 'd', items: 3, ts: 3 }, { user: 'e', items: 2.4, ts: 4 });
  assert.equal(h.metrics.counters, { orders: 5, items: 5 + 3 });
  // 'e' failed at inc(2.4), before its histogram update
  assert.equal(h.metrics.histograms['basket-size'], { count: 3, min: 1, max: 4, mean: (1 + 4 + 3) / 3 });
});

metrics('window functions record through their context; process() too', () => {
  const counted = defineFunction({
    name: 'counted',
    source: { topic: 'clicks' },
    sinks: { out: { topic: 'out' } },
    key: (click: { page: string; ts: number }) => click.page,
    time: eventTime({ timestamp: (click: { page: string; ts: number }) => click.ts }),
    window: tumbling('1m'),
    aggregate: {
      create: () => 0,
      add: (n: number) => n + 1,
      result: (n, { key, metrics: m }) => {
        m.counter('windows-fired').inc();
        m.histogram('window-size').update(n);
        return { key, n };
      },
    },
  });
  const h = harness(counted);
  h.push({ page: '/', ts: 1 }, { page: '/', ts: 2 }, { page: '/a', ts: 3 }).watermark(60_000);
  assert.equal(h.metrics.counters, { 'windows-fired': 2 });
  assert.equal(h.metrics.histograms['window-size'], { count: 2, min: 1, max: 2, mean: 1.5 });

  const listed = defineFunction({
    name: 'listed',
    source: { topic: 'clicks' },
    sinks: { out: { topic: 'out' } },
    key: (click: { page: string; ts: number }) => click.page,
    time: eventTime({ timestamp: (click: { page: string; ts: number }) => click.ts }),
    window: tumbling('1m'),
    process: (events, { metrics: m }) => {
      m.gauge('last-window-events').set(events.length);
      return events.length;
    },
  });
  const p = harness(listed);
  p.push({ page: '/', ts: 1 }, { page: '/', ts: 2 }).watermark(60_000);
  assert.equal(p.metrics.gauges, { 'last-window-events': 2 });
});

metrics('a bad metric name is a dead letter with the path and a hint, at its first use', () => {
  const bad = defineFunction({
    name: 'bad',
    source: { topic: 'in' },
    sinks: { out: { topic: 'out' } },
    handle: (event: { n: number }, ctx) => {
      ctx.metrics.counter('orders.total').inc();
      return event;
    },
  });
  const h = harness(bad);
  h.push({ n: 1 });
  assert.equal(h.outputs(), []);
  assert.equal(h.deadLetters.length, 1);
  const error = h.deadLetters[0]!.error;
  assert.match(error, /metrics\.counter: 'orders\.total' is not a valid metric name/);
  assert.match(error, /letters, digits, '_' and '-'.*orders-total/);
  assert.equal(h.metrics, { counters: {}, gauges: {}, histograms: {} });
});

metrics('one name is one kind', () => {
  const clash = defineFunction({
    name: 'clash',
    source: { topic: 'in' },
    sinks: { out: { topic: 'out' } },
    handle: (event: { n: number }, ctx) => {
      ctx.metrics.counter('n').inc();
      ctx.metrics.gauge('n').set(event.n);
      return event;
    },
  });
  const h = harness(clash);
  h.push({ n: 1 });
  assert.match(h.deadLetters[0]!.error, /'n' is already a counter/);
});

metrics.run();
