import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import counter, { type ActionCount, type UserAction } from '../src/handler.js';

/** 2024-01-15T09:00:00.000Z, the start of a minute. */
const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const event = (user: string, action: string, ts: number): UserAction => ({ user, action, ts });
const byAction = (rows: unknown[]): ActionCount[] =>
  [...(rows as ActionCount[])].sort((a, b) => a.action.localeCompare(b.action));

test('counts each action per minute once the watermark passes the end of the minute', () => {
  const h = harness(counter);
  h.push(event('ann', 'click', T0 + 1_000), event('bob', 'click', T0 + 2_000), event('ann', 'view', T0 + 3_000));
  assert.equal(h.outputs(), [], 'nothing is emitted while the minute is open');

  // Watermark = 64_999 − 5_000 − 1 = 59_998: one millisecond short of the minute's last millisecond.
  h.push(event('cy', 'view', T0 + 64_999));
  assert.equal(h.outputs(), []);

  // Watermark = 59_999, the last millisecond of [09:00, 09:01): the minute is emitted.
  h.push(event('cy', 'click', T0 + 65_000));
  assert.equal(byAction(h.outputs()), [
    { action: 'click', minute: '2024-01-15T09:00:00.000Z', count: 2 },
    { action: 'view', minute: '2024-01-15T09:00:00.000Z', count: 1 },
  ]);
});

test('an event up to 5 s out of order still counts in its own minute', () => {
  const h = harness(counter);
  h.push(event('ann', 'click', T0 + 58_000));
  h.push(event('bob', 'click', T0 + 62_000)); // watermark 56_999
  h.push(event('cy', 'click', T0 + 55_000)); // 7 s behind the newest event, but ahead of the watermark
  h.finish(); // end of input: every open minute is emitted, in time order
  assert.equal(h.outputs(), [
    { action: 'click', minute: '2024-01-15T09:00:00.000Z', count: 2 },
    { action: 'click', minute: '2024-01-15T09:01:00.000Z', count: 1 },
  ]);
});

test('an event for a minute that was already emitted is dropped', () => {
  const h = harness(counter);
  h.push(event('ann', 'click', T0 + 10_000));
  h.push(event('bob', 'click', T0 + 66_000)); // watermark 60_999: 09:00 is emitted with 1 click
  h.push(event('cy', 'click', T0 + 50_000)); // belongs to 09:00, which is gone: dropped
  h.finish();
  assert.equal(h.outputs(), [
    { action: 'click', minute: '2024-01-15T09:00:00.000Z', count: 1 },
    { action: 'click', minute: '2024-01-15T09:01:00.000Z', count: 1 },
  ]);
  assert.equal(h.late, [], 'no late topic is declared, so late events are not kept');
});

test('a record without a timestamp goes to the dead-letter output and counting goes on', () => {
  const h = harness(counter);
  h.pushRaw(
    '{"user":"ann","action":"click","ts":1705309201000}',
    '{"user":"bob","action":"click"}',
    '{"user":"cy","action":"click","ts":1705309202000}',
  );
  h.finish();
  assert.is(h.deadLetters.length, 1);
  assert.is(h.deadLetters[0]?.stage, 'timestamp');
  assert.equal(h.deadLetters[0]?.event, { user: 'bob', action: 'click' });
  assert.equal(h.outputs(), [{ action: 'click', minute: '2024-01-15T09:00:00.000Z', count: 2 }]);
});

test.run();
