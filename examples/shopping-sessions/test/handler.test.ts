import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import shoppingSessions, { SESSION_GAP_MS, type AbandonedCart, type ShopEvent, type SessionSummary } from '../src/handler.js';
import { generateEvents } from '../src/generate.js';

// Black Friday 2024, 09:00 UTC. Offsets are written as minutes (m) and seconds (s).
const T0 = Date.UTC(2024, 10, 29, 9, 0, 0);
const m = (minutes: number): number => minutes * 60_000;
const s = (seconds: number): number => seconds * 1_000;
const view = (user: string, at: number, sku = 'mug'): ShopEvent => ({ user, type: 'view', sku, ts: T0 + at });
const add = (user: string, at: number, sku: string, price: number): ShopEvent => ({ user, type: 'add-to-cart', sku, price, ts: T0 + at });
const checkout = (user: string, at: number): ShopEvent => ({ user, type: 'checkout', ts: T0 + at });
const byUser = (rows: unknown[]): SessionSummary[] => [...(rows as SessionSummary[])].sort((a, b) => a.user.localeCompare(b.user));

test('a session is published once the watermark passes 30 minutes after the last event', () => {
  const h = harness(shoppingSessions);
  h.push(view('ann', 0), add('ann', m(2), 'mug', 12.5), view('ann', m(5), 'teapot'));
  // ann's session is [T0, T0 + 35m): it fires at watermark T0 + 35m − 1, i.e. when an event at 36m arrives.
  h.push(view('bob', m(36) - 1)); // watermark T0 + 35m − 2: one ms short
  assert.equal(h.outputs('sessions'), []);
  h.push(view('bob', m(36)));
  assert.equal(h.outputs('sessions'), [
    { user: 'ann', sessionStart: T0, sessionEnd: T0 + m(35), events: 3, cartValue: 12.5, items: 1, abandoned: true },
  ]);
});

test('a cart that is checked out, and a visit with only views, are not abandoned', () => {
  const h = harness(shoppingSessions);
  h.push(view('ann', 0), add('ann', m(1), 'mug', 12.5), add('ann', m(3), 'teapot', 29.9), checkout('ann', m(4)));
  h.push(view('bob', s(30)), view('bob', m(6), 'scarf'));
  h.finish();
  assert.equal(byUser(h.outputs('sessions')), [
    { user: 'ann', sessionStart: T0, sessionEnd: T0 + m(34), events: 4, cartValue: 42.4, items: 2, abandoned: false },
    { user: 'bob', sessionStart: T0 + s(30), sessionEnd: T0 + m(36), events: 2, cartValue: 0, items: 0, abandoned: false },
  ]);
  assert.equal(h.outputs('abandoned'), []);
});

test('an abandoned cart also goes to the abandoned-carts sink, keyed by user, with what was in it', () => {
  const h = harness(shoppingSessions);
  h.push(
    view('cy', 0, 'scarf'),
    add('cy', m(1), 'scarf', 19.99),
    add('cy', m(3), 'gloves', 9.99),
    add('cy', m(4), 'scarf', 19.99),
  ).finish();
  const cart: AbandonedCart = {
    user: 'cy',
    sessionStart: T0,
    sessionEnd: T0 + m(34),
    cartValue: 49.97, // 19.99 + 9.99 + 19.99, summed in cents
    items: 3,
    skus: ['gloves', 'scarf'],
  };
  assert.equal(h.outputs('abandoned'), [cart]);
  assert.equal(h.records.map((r) => [r.sink, r.key]), [['sessions', 'cy'], ['abandoned', 'cy']]);
  assert.equal((h.outputs('sessions')[0] as SessionSummary).abandoned, true);
});

test('a pause of more than 30 minutes starts a new session; exactly 30 minutes does not', () => {
  const h = harness(shoppingSessions);
  // [T0, T0 + 30m) and [T0 + 30m, T0 + 60m) touch, and Flink merges windows that touch.
  h.push(view('ann', 0), view('ann', m(30)));
  // [T0 + 1m, T0 + 31m) and [T0 + 31m + 1ms, ...) do not.
  h.push(view('bob', m(1)), view('bob', m(31) + 1));
  h.finish();
  assert.equal(byUser(h.outputs('sessions')).map((x) => [x.user, x.sessionStart - T0, x.sessionEnd - T0, x.events]), [
    ['ann', 0, m(60), 2],
    ['bob', m(1), m(31), 1],
    ['bob', m(31) + 1, m(61) + 1, 1],
  ]);
});

test('an event arriving late that falls between two sessions merges them into one', () => {
  const h = harness(shoppingSessions);
  // Two sessions 30.5 minutes apart: [T0, T0 + 30m) and [T0 + 30m30s, T0 + 60m30s). The watermark,
  // T0 + 30m30s − 1m − 1ms, has not reached the first one's last millisecond, so both are still open.
  h.push(add('ann', 0, 'mug', 12.5), checkout('ann', m(30) + s(30)));
  assert.is(h.openWindows, 2);
  // A view from 09:15 uploaded late by a phone that was offline: its window [T0 + 15m, T0 + 45m) overlaps both.
  h.push(view('ann', m(15), 'teapot'));
  assert.is(h.openWindows, 1);
  h.finish();
  // Without the bridge the mug would have been an abandoned cart in a session of its own.
  assert.equal(h.outputs('sessions'), [
    { user: 'ann', sessionStart: T0, sessionEnd: T0 + m(60) + s(30), events: 3, cartValue: 12.5, items: 1, abandoned: false },
  ]);
  assert.equal(h.outputs('abandoned'), []);
});

test('an event that arrives after its session was published goes to the late topic', () => {
  const h = harness(shoppingSessions);
  h.push(view('ann', 0), view('bob', m(40))); // watermark T0 + 39m − 1ms: ann's [T0, T0 + 30m) has fired
  assert.is(h.outputs('sessions').length, 1);
  const lateAdd = add('ann', m(5), 'mug', 12.5); // its own window [T0 + 5m, T0 + 35m) is over too
  h.push(lateAdd);
  assert.equal(h.late, [lateAdd]);
  h.finish();
  assert.equal(h.outputs('abandoned'), [], 'a late add-to-cart does not turn into an abandoned cart');
  assert.equal(byUser(h.outputs('sessions')).map((x) => x.user), ['ann', 'bob']);
});

test('an event behind the watermark whose own 30 minutes are not over opens a separate session', () => {
  const h = harness(shoppingSessions);
  h.push(view('ann', 0), view('bob', m(40))); // watermark T0 + 39m − 1ms: ann's [T0, T0 + 30m) has fired
  // [T0 + 10m, T0 + 40m) ends after the watermark, so it is not late; the published session is gone
  // (no allowed lateness), so the event does not join it but starts a session of its own.
  h.push(view('ann', m(10), 'teapot')).finish();
  assert.equal(h.late, []);
  assert.equal(
    (h.outputs('sessions') as SessionSummary[]).filter((x) => x.user === 'ann').map((x) => [x.sessionStart - T0, x.sessionEnd - T0, x.events]),
    [[0, m(30), 1], [m(10), m(40), 1]],
  );
});

test('events that would corrupt a cart go to dead letters and the session goes on without them', () => {
  const h = harness(shoppingSessions);
  h.pushRaw(
    `{"user":"ann","type":"view","sku":"mug","ts":${T0}}`,
    `{"user":"ann","type":"add-to-cart","sku":"mug","ts":${T0 + m(1)}}`,
    `{"user":"ann","type":"refund","sku":"mug","ts":${T0 + m(2)}}`,
    `{"user":"ann","type":"add-to-cart","sku":"mug","price":12.5,"ts":${T0 + m(3)}}`,
  ).finish();
  assert.equal(h.deadLetters.map((d) => [d.stage, d.error]), [
    ['handle', 'Error: add-to-cart needs a sku and a non-negative price, got sku mug, price undefined'],
    ['handle', 'Error: unknown event type "refund"'],
  ]);
  assert.equal(h.outputs('sessions'), [
    { user: 'ann', sessionStart: T0, sessionEnd: T0 + m(33), events: 2, cartValue: 12.5, items: 1, abandoned: true },
  ]);
});

test('generated events: every accepted event is in exactly one session, spanning its events plus the gap', () => {
  const events = generateEvents({ count: 3000, seed: 11 });
  const h = harness(shoppingSessions);
  h.push(...events).finish();
  assert.equal(h.deadLetters, []);

  // How far behind the newest event each one was delivered. Up to 50 s: shuffled, never behind the
  // watermark. At least 31 min: its window (ts + 30 min − 1 ≤ newest − 1 min − 1 ms) is over: late.
  let newest = Number.NEGATIVE_INFINITY;
  const lags = events.map((e) => (newest = Math.max(newest, e.ts)) - e.ts);
  assert.ok(lags.every((lag) => lag < 60_000 || lag >= m(31)), 'the generator only shuffles or is very late');
  const expectedLate = events.filter((_, i) => (lags[i] ?? 0) >= m(31));
  assert.ok(expectedLate.length > 0);
  assert.equal(h.late, expectedLate);

  const accepted = events.filter((_, i) => (lags[i] ?? 0) < 60_000);
  const sessions = h.outputs('sessions') as SessionSummary[];
  assert.is(sessions.reduce((sum, x) => sum + x.events, 0), accepted.length);
  for (const x of sessions) {
    const mine = accepted.filter((e) => e.user === x.user && e.ts >= x.sessionStart && e.ts < x.sessionEnd);
    const first = Math.min(...mine.map((e) => e.ts));
    const last = Math.max(...mine.map((e) => e.ts));
    assert.is(mine.length, x.events, `${x.user} at ${x.sessionStart}`);
    assert.is(x.sessionStart, first, 'a session starts at its first event');
    assert.is(x.sessionEnd, last + SESSION_GAP_MS, 'and ends 30 minutes after its last one');
    const cents = mine.reduce((sum, e) => sum + Math.round((e.price ?? 0) * 100), 0);
    assert.is(x.cartValue, cents / 100);
  }
  // A user's sessions neither overlap nor touch (touching ones would have merged).
  const ordered = [...sessions].sort((a, b) => a.user.localeCompare(b.user) || a.sessionStart - b.sessionStart);
  for (let i = 1; i < ordered.length; i++) {
    const [before, after] = [ordered[i - 1] as SessionSummary, ordered[i] as SessionSummary];
    if (before.user === after.user) assert.ok(after.sessionStart > before.sessionEnd);
  }

  const abandoned = sessions.filter((x) => x.abandoned);
  assert.ok(abandoned.length > 0 && abandoned.length < sessions.length, 'some carts are abandoned, not all');
  assert.equal(
    (h.outputs('abandoned') as AbandonedCart[]).map((c) => [c.user, c.sessionStart, c.cartValue, c.items]),
    abandoned.map((x) => [x.user, x.sessionStart, x.cartValue, x.items]),
  );
});

test('the generator is deterministic for a seed and prints exactly --count events', () => {
  assert.equal(generateEvents({ count: 300, seed: 5 }), generateEvents({ count: 300, seed: 5 }));
  assert.is(generateEvents({ count: 77, seed: 5 }).length, 77);
  assert.not.equal(generateEvents({ count: 50, seed: 1 }), generateEvents({ count: 50, seed: 2 }));
});

test('data/events.jsonl is the 50-event generator sample and shows a late upload and an abandoned cart', () => {
  const lines = readFileSync(new URL('../data/events.jsonl', import.meta.url), 'utf8').trim().split('\n');
  assert.equal(lines, generateEvents({ count: 50, seed: 42 }).map((e) => JSON.stringify(e)));
  const h = harness(shoppingSessions);
  h.pushRaw(...lines).finish();
  assert.ok(h.late.length > 0 && h.outputs('abandoned').length > 0);
});

test.run();
