import { defineFunction } from '@flinkfn/sdk';

/** Benchmark record: about 100 bytes of JSON. */
interface Order {
  id: number;
  user: string;
  page: string;
  price: number;
  qty: number;
  ts: number;
}

/** Parse, compute a field, serialize: the PyFlink blog's JSON-processing UDF, in TypeScript. */
export default defineFunction({
  name: 'bench-stateless-map',
  source: { topic: 'bench-orders' },
  sinks: { out: { topic: 'bench-totals' } },
  handle: (order: Order) => ({ ...order, total: order.price * order.qty }),
});
