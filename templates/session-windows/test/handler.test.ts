import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import sessions, { type PageView } from '../src/handler.js';

/** 2024-01-15T09:00:00.000Z */
const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const MINUTE = 60_000;
const view = (user: string, page: string, ts: number): PageView => ({ user, page, ts });

test('views with pauses under 15 minutes form one session, emitted 16 minutes after its last view', () => {
  const h = harness(sessions);
  h.push(view('ann', '/home', T0), view('ann', '/pricing', T0 + 5 * MINUTE), view('ann', '/home', T0 + 12 * MINUTE));
  // The session is [09:00, 09:27): last view + 15 min. It is emitted when the watermark (newest view
  // − 1 min − 1 ms) reaches 09:26:59.999, i.e. once a view at 09:28 or later arrives.
  h.push(view('bob', '/home', T0 + 28 * MINUTE - 1));
  assert.equal(h.outputs(), [], 'one millisecond short');
  h.push(view('cy', '/home', T0 + 28 * MINUTE));
  assert.equal(h.outputs(), [
    {
      user: 'ann',
      start: '2024-01-15T09:00:00.000Z',
      lastView: '2024-01-15T09:12:00.000Z',
      durationMs: 12 * MINUTE,
      views: 3,
      pages: ['/home', '/pricing'],
    },
  ]);
});

test('a pause longer than 15 minutes starts a new session', () => {
  const h = harness(sessions);
  h.push(view('ann', '/home', T0), view('ann', '/docs', T0 + 5 * MINUTE));
  h.push(view('ann', '/home', T0 + 25 * MINUTE)); // 20 minutes after the previous view
  h.finish();
  assert.equal(h.outputs(), [
    {
      user: 'ann',
      start: '2024-01-15T09:00:00.000Z',
      lastView: '2024-01-15T09:05:00.000Z',
      durationMs: 5 * MINUTE,
      views: 2,
      pages: ['/docs', '/home'],
    },
    {
      user: 'ann',
      start: '2024-01-15T09:25:00.000Z',
      lastView: '2024-01-15T09:25:00.000Z',
      durationMs: 0,
      views: 1,
      pages: ['/home'],
    },
  ]);
});

test('a view arriving out of order that bridges two sessions merges them into one', () => {
  const h = harness(sessions);
  h.push(view('ann', '/home', T0)); // session [09:00, 09:15)
  h.push(view('ann', '/cart', T0 + 15.5 * MINUTE)); // 15.5 minutes later: a second session [09:15:30, 09:30:30)
  assert.is(h.openWindows, 2, 'two sessions, the first still open (watermark 09:14:29.999)');
  h.push(view('ann', '/pricing', T0 + 14.75 * MINUTE)); // 45 s out of order; [09:14:45, 09:29:45) touches both
  assert.is(h.openWindows, 1, 'merged into one');
  h.finish();
  assert.equal(h.outputs(), [
    {
      user: 'ann',
      start: '2024-01-15T09:00:00.000Z',
      lastView: '2024-01-15T09:15:30.000Z',
      durationMs: 15.5 * MINUTE,
      views: 3,
      pages: ['/cart', '/home', '/pricing'],
    },
  ]);
});

test('a view without a user goes to the dead-letter output and the other views still count', () => {
  const h = harness(sessions);
  h.pushRaw(
    `{"user":"ann","page":"/home","ts":${T0}}`,
    `{"page":"/docs","ts":${T0 + MINUTE}}`,
    `{"user":"ann","page":"/docs","ts":${T0 + 2 * MINUTE}}`,
  );
  h.finish();
  assert.is(h.deadLetters.length, 1);
  assert.is(h.deadLetters[0]?.stage, 'key');
  assert.equal(h.deadLetters[0]?.event, { page: '/docs', ts: T0 + MINUTE });
  assert.equal(h.outputs().map((s) => (s as { views: number }).views), [2]);
});

test.run();
