import { defineFunction, eventTime, session } from '@flinkfn/sdk';

interface Order {
  id: number;
  user: string;
  ts: number;
}

/** Orders per user session (15 s gap; each user orders every 10 s): every order extends its user's session. */
export default defineFunction({
  name: 'bench-session-windows',
  source: { topic: 'bench-orders' },
  sinks: { out: { topic: 'bench-sessions' } },
  key: (order: Order) => order.user,
  time: eventTime({ timestamp: (order: Order) => order.ts }),
  window: session('15s'),
  aggregate: {
    create: () => 0,
    add: (count: number) => count + 1,
    merge: (a: number, b: number) => a + b,
    result: (count: number, { key, window }) => ({ user: key, start: window.start, end: window.end, count }),
  },
});
