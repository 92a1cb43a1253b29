import { defineFunction, eventTime, tumbling } from '@flinkfn/sdk';

interface Order {
  id: number;
  user: string;
  ts: number;
}

/** Orders per user per second: a keyed tumbling count over 10,000 users. */
export default defineFunction({
  name: 'bench-tumbling-count',
  source: { topic: 'bench-orders' },
  sinks: { out: { topic: 'bench-counts' } },
  key: (order: Order) => order.user,
  time: eventTime({ timestamp: (order: Order) => order.ts }),
  window: tumbling('1s'),
  aggregate: {
    create: () => 0,
    add: (count: number) => count + 1,
    merge: (a: number, b: number) => a + b,
    result: (count: number, { key, window }) => ({ user: key, start: window.start, count }),
  },
});
