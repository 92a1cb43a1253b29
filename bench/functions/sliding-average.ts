import { defineFunction, eventTime, sliding } from '@flinkfn/sdk';

interface Order {
  id: number;
  page: string;
  price: number;
  qty: number;
  ts: number;
}

interface Sum {
  total: number;
  n: number;
}

/** Average order value per page over the last 10 s, every second (each order counts in 10 windows). */
export default defineFunction({
  name: 'bench-sliding-average',
  source: { topic: 'bench-orders' },
  sinks: { out: { topic: 'bench-averages' } },
  key: (order: Order) => order.page,
  time: eventTime({ timestamp: (order: Order) => order.ts }),
  window: sliding('10s', '1s'),
  aggregate: {
    create: (): Sum => ({ total: 0, n: 0 }),
    add: (sum: Sum, order: Order): Sum => ({ total: sum.total + order.price * order.qty, n: sum.n + 1 }),
    merge: (a: Sum, b: Sum): Sum => ({ total: a.total + b.total, n: a.n + b.n }),
    result: (sum: Sum, { key, window }) => ({ page: key, start: window.start, average: sum.total / sum.n }),
  },
});
