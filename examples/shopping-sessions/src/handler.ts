import { defineFunction, eventTime, session, to, type Emit } from '@flinkfn/sdk';

export type ShopEventType = 'view' | 'add-to-cart' | 'checkout';

/** What the shop front-end writes to the `shop-events` topic. */
export interface ShopEvent {
  user: string;
  type: ShopEventType;
  /** The product viewed or added; absent on checkout. */
  sku?: string;
  /** Unit price in euros; required on add-to-cart. */
  price?: number;
  /** Epoch milliseconds of the click. */
  ts: number;
}

/** One visit of one user: their events with no pause longer than 30 minutes. */
export interface SessionSummary {
  user: string;
  /** The first event of the session. */
  sessionStart: number;
  /** The last event + 30 minutes: when the session was known to be over (Flink's window end). */
  sessionEnd: number;
  events: number;
  /** Sum of the prices added to the cart, in euros. */
  cartValue: number;
  /** Products added to the cart (each add-to-cart is one item). */
  items: number;
  /** Something was put in the cart and the session ended without a checkout. */
  abandoned: boolean;
}

/** Sent to `abandoned-carts`, where the reminder-mail service picks it up. */
export interface AbandonedCart {
  user: string;
  sessionStart: number;
  sessionEnd: number;
  cartValue: number;
  items: number;
  skus: string[];
}

export const SESSION_GAP_MS = 30 * 60_000;

const EVENT_TYPES: ReadonlySet<string> = new Set<ShopEventType>(['view', 'add-to-cart', 'checkout']);

/**
 * Accumulator of a session. Money is kept in whole cents so that sums do not drift; skus are a sorted set
 * so that `merge` is commutative (Flink merges sessions in no particular order).
 */
interface Visit {
  events: number;
  cartCents: number;
  items: number;
  skus: string[];
  checkedOut: boolean;
}

const sortedUnion = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])].sort();

export default defineFunction({
  name: 'shopping-sessions',
  source: { topic: 'shop-events', format: 'json', create: true },
  // Every session goes to the first sink; abandoned carts are routed to the second one as well.
  sinks: {
    sessions: { topic: 'shopping-sessions' },
    abandoned: { topic: 'abandoned-carts', lifecycle: 'retain' },
  },
  late: { topic: 'shop-events-late' },
  handle: (event: ShopEvent): ShopEvent => {
    // Reject what would corrupt a cart (an unknown type, an add-to-cart without a price): dead letters.
    if (!EVENT_TYPES.has(event.type)) throw new Error(`unknown event type ${JSON.stringify(event.type)}`);
    if (event.type === 'add-to-cart') {
      if (typeof event.sku !== 'string' || typeof event.price !== 'number' || !(event.price >= 0)) {
        throw new Error(`add-to-cart needs a sku and a non-negative price, got sku ${String(event.sku)}, price ${String(event.price)}`);
      }
    }
    return event;
  },
  key: (event: ShopEvent) => event.user,
  // Mobile apps send events in small batches: up to a minute out of order.
  time: eventTime({ timestamp: (event: ShopEvent) => event.ts, outOfOrderness: '1m' }),
  window: session('30m'),
  // No allowed lateness: a session is published exactly once, so nobody gets two reminder mails.
  // Events that arrive after their session was published go to `shop-events-late`.
  aggregate: {
    create: (): Visit => ({ events: 0, cartCents: 0, items: 0, skus: [], checkedOut: false }),
    add: (visit: Visit, event: ShopEvent): Visit => {
      const added = event.type === 'add-to-cart';
      return {
        events: visit.events + 1,
        cartCents: visit.cartCents + (added ? Math.round((event.price ?? 0) * 100) : 0),
        items: visit.items + (added ? 1 : 0),
        skus: added && event.sku !== undefined ? sortedUnion(visit.skus, [event.sku]) : visit.skus,
        checkedOut: visit.checkedOut || event.type === 'checkout',
      };
    },
    // Required for sessions: an event that bridges two sessions merges their accumulators.
    merge: (a: Visit, b: Visit): Visit => ({
      events: a.events + b.events,
      cartCents: a.cartCents + b.cartCents,
      items: a.items + b.items,
      skus: sortedUnion(a.skus, b.skus),
      checkedOut: a.checkedOut || b.checkedOut,
    }),
    result: (visit: Visit, { key, window }): Emit<SessionSummary | AbandonedCart> => {
      const summary: SessionSummary = {
        user: key,
        sessionStart: window.start,
        sessionEnd: window.end,
        events: visit.events,
        cartValue: visit.cartCents / 100,
        items: visit.items,
        abandoned: visit.items > 0 && !visit.checkedOut,
      };
      if (!summary.abandoned) return summary;
      const cart: AbandonedCart = {
        user: key,
        sessionStart: window.start,
        sessionEnd: window.end,
        cartValue: summary.cartValue,
        items: visit.items,
        skus: visit.skus,
      };
      return [summary, to('abandoned', cart)];
    },
  },
});
