/**
 * Deterministic sample shop events for the shopping-sessions function, printed as JSON lines in the
 * order the apps deliver them:
 *
 *   tsx src/generate.ts --count 1000 --seed 42 > shop-events.jsonl
 *
 * A new visit starts every 0–6 minutes (Black Friday, from 09:00 UTC) by a user who has been away for at
 * least 45 minutes. A visit is 2–10 events at most ~7 minutes apart: views, some add-to-carts, and a
 * checkout about half the time something is in the cart. Delivery is shuffled by up to 50 s (inside
 * the 1-minute out-of-orderness bound) and about 1.5 % of events (at least one in a sample of 10 or more)
 * are uploaded after their session was published, by a phone that was offline: they go to the late topic.
 */
import { pathToFileURL } from 'node:url';
import type { ShopEvent, ShopEventType } from './handler.js';

export interface GenerateOptions {
  /** Number of events (lines); default 1000. */
  count?: number;
  /** PRNG seed; the same seed gives the same events. */
  seed?: number;
  /** Epoch milliseconds of the first visit; default 2024-11-29T09:00:00Z. */
  start?: number;
}

const MINUTE = 60_000;
/** Less than the 1-minute out-of-orderness bound: shuffled events are never behind the watermark. */
const SHUFFLE_MS = 50_000;
/** A user's next visit starts this long after their last event at the earliest: more than the 30-minute gap. */
const AWAY_MS = 45 * MINUTE;
/**
 * A late event is delivered once the newest event is this far past the last event of its session: its
 * session (last event + 30 min) has fired by then, since the watermark is the newest − 1 min − 1 ms.
 */
const LATE_AFTER_SESSION_MS = 32 * MINUTE;

const PRODUCTS: ReadonlyArray<{ sku: string; price: number }> = [
  { sku: 'mug', price: 12.5 },
  { sku: 'teapot', price: 29.9 },
  { sku: 'scarf', price: 19.99 },
  { sku: 'gloves', price: 9.99 },
  { sku: 'umbrella', price: 24 },
  { sku: 'notebook', price: 7.5 },
  { sku: 'headphones', price: 89 },
  { sku: 'desk-lamp', price: 45.95 },
];

/** mulberry32: a tiny, fast 32-bit PRNG; good enough for sample data and fully reproducible. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Generated {
  event: ShopEvent;
  /** Timestamp of the last event of the visit it belongs to. */
  visitEnd: number;
}

/** Events in delivery order. */
export function generateEvents(options: GenerateOptions = {}): ShopEvent[] {
  const count = options.count ?? 1000;
  const random = mulberry32(options.seed ?? 42);
  const start = options.start ?? Date.UTC(2024, 10, 29, 9, 0, 0);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  if (count <= 0) return [];

  // 1. Visits, until the first `count` events are known: visits starting after the count-th event so far
  //    cannot add an earlier one.
  const users = Array.from({ length: Math.max(4, Math.ceil(count / 30)) }, (_, i) => `user-${String(i + 1).padStart(3, '0')}`);
  const lastSeen = new Map<string, number>();
  const all: Generated[] = [];
  let cut = Number.POSITIVE_INFINITY;
  for (let visitStart = start; visitStart <= cut; ) {
    visitStart += Math.floor(random() * 6 * MINUTE);
    const user = pick(users);
    if (visitStart <= (lastSeen.get(user) ?? Number.NEGATIVE_INFINITY) + AWAY_MS) continue; // still busy: no visit now
    const visit: ShopEvent[] = [];
    const length = 2 + Math.floor(random() * 9);
    let ts = visitStart;
    let inCart = 0;
    for (let k = 0; k < length; k++) {
      if (k > 0) ts += 5_000 + Math.floor(random() * 7 * MINUTE);
      const product = pick(PRODUCTS);
      let type: ShopEventType = 'view';
      if (k === length - 1 && inCart > 0 && random() < 0.5) type = 'checkout';
      else if (k > 0 && random() < 0.35) type = 'add-to-cart';
      if (type === 'checkout') visit.push({ user, type, ts });
      else if (type === 'view') visit.push({ user, type, sku: product.sku, ts });
      else {
        inCart++;
        visit.push({ user, type, sku: product.sku, price: product.price, ts });
      }
    }
    lastSeen.set(user, ts);
    for (const event of visit) all.push({ event, visitEnd: ts });
    if (all.length >= count) cut = all.map((g) => g.event.ts).sort((a, b) => a - b)[count - 1] ?? cut;
  }
  const measured = all.sort((a, b) => a.event.ts - b.event.ts).slice(0, count);

  // 2. Pick the events uploaded late; a sample of 10 or more gets at least one (from the earliest visit).
  const late = measured.map(() => random() < 0.015);
  if (count >= 10 && !late.includes(true)) {
    const earliest = measured.reduce((best, g, i) => (g.visitEnd < (measured[best]?.visitEnd ?? Infinity) ? i : best), 0);
    late[earliest] = true;
  }
  const onTime = measured
    .filter((_, i) => !late[i])
    .map(({ event }) => ({ event, deliverAt: event.ts + random() * SHUFFLE_MS }))
    .sort((a, b) => a.deliverAt - b.deliverAt);

  // 3. Deliver each late event right after the first on-time event that is far enough past its visit.
  //    slots[k] holds what is delivered after onTime[k - 1] and before onTime[k].
  const slots: ShopEvent[][] = Array.from({ length: onTime.length + 1 }, () => []);
  const newest: number[] = [];
  let max = Number.NEGATIVE_INFINITY;
  for (const { event } of onTime) newest.push((max = Math.max(max, event.ts)));
  for (const [i, { event, visitEnd }] of measured.entries()) {
    if (!late[i]) continue;
    const at = newest.findIndex((ts) => ts >= visitEnd + LATE_AFTER_SESSION_MS);
    if (at >= 0) {
      slots[at + 1]?.push(event);
    } else {
      // The data ends before its session closes: deliver it on time instead.
      const next = onTime.findIndex(({ deliverAt }) => deliverAt > event.ts);
      slots[next < 0 ? onTime.length : next]?.push(event);
    }
  }
  return slots.flatMap((slot, k) => {
    const next = onTime[k];
    return next === undefined ? slot : [...slot, next.event];
  });
}

function parseArgs(argv: readonly string[]): GenerateOptions {
  const options: GenerateOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') continue;
    const value = Number(argv[i + 1]);
    if ((arg === '--count' || arg === '--seed') && Number.isInteger(value) && value >= 0) {
      options[arg === '--count' ? 'count' : 'seed'] = value;
      i++;
    } else {
      throw new Error(`unknown or invalid argument '${arg}'; usage: generate [--count N] [--seed S]`);
    }
  }
  return options;
}

// Run as a script (not when a test imports generateEvents).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    for (const event of generateEvents(parseArgs(process.argv.slice(2)))) {
      process.stdout.write(`${JSON.stringify(event)}\n`);
    }
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  }
}
