import { defineFunction } from '@flinkfn/sdk';

/** An event on the source topic: one order. Replace it with your own shape. */
export interface Order {
  orderId: string;
  customer: string;
  /** Order total in `currency`. */
  amount: number;
  /** ISO 4217 code; one of the currencies in {@link USD_PER_UNIT}. */
  currency: string;
  /** Epoch milliseconds when the order was placed. */
  ts: number;
  /** Orders placed by the test suite of the shop; they are dropped. */
  test?: boolean;
}

/** An order as written to the output topic: the original fields plus derived ones. */
export interface EnrichedOrder {
  orderId: string;
  customer: string;
  amount: number;
  currency: string;
  ts: number;
  /** `amount` converted to US dollars, rounded to cents. */
  amountUsd: number;
  /** `large` from {@link LARGE_ORDER_USD} up. */
  size: 'small' | 'large';
}

/**
 * Fixed conversion rates. A stateless function has no state to update them from; for live rates, send
 * them along with the events or use a windowed function that keeps the latest.
 */
export const USD_PER_UNIT: Readonly<Record<string, number>> = { USD: 1, EUR: 1.1, GBP: 1.25, JPY: 0.0068 };

/** Orders worth at least this many dollars are `large`. */
export const LARGE_ORDER_USD = 1_000;

const round2 = (value: number): number => Math.round(value * 100) / 100;

export default defineFunction({
  name: '{{name}}',
  // The topic to read. With create: true the first deployment creates it and the last one to end deletes it;
  // without, it must exist already (a topic flinkfn did not create is never deleted).
  source: { topic: 'orders', format: 'json', create: true },
  // Output topics are created with the function, so they are named after it to stay unique.
  sinks: { enriched: { topic: '{{name}}-enriched' } },
  // Orders that throw in `handle` (and records that are not JSON) go here with the error and the event.
  // Declared explicitly (the default would be the same name) to make it `retain`: the topic survives
  // when the function is destroyed, so rejected orders can still be inspected and replayed.
  deadLetter: { topic: '{{name}}-dead-letter', lifecycle: 'retain' },
  // Called once per order. Return nothing to drop it, a value to emit it (an array emits several).
  // Throwing rejects the order: it goes to the dead-letter topic and the next order is processed.
  handle: (order: Order): EnrichedOrder | undefined => {
    if (order.test === true) return undefined; // not real business: drop silently
    if (typeof order.orderId !== 'string' || order.orderId === '') {
      throw new Error('order has no orderId');
    }
    if (typeof order.amount !== 'number' || !Number.isFinite(order.amount) || order.amount <= 0) {
      throw new Error(`order ${order.orderId}: amount must be a positive number, got ${JSON.stringify(order.amount)}`);
    }
    const rate = USD_PER_UNIT[order.currency];
    if (rate === undefined) {
      throw new Error(`order ${order.orderId}: unknown currency ${JSON.stringify(order.currency)}`);
    }
    const amountUsd = round2(order.amount * rate);
    // Build the output field by field rather than spreading the input, so unexpected input fields do
    // not leak into the output topic.
    return {
      orderId: order.orderId,
      customer: order.customer,
      amount: order.amount,
      currency: order.currency,
      ts: order.ts,
      amountUsd,
      size: amountUsd >= LARGE_ORDER_USD ? 'large' : 'small',
    };
  },
});
