import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import { generateClicks } from '../src/generate.js';
import pageViews, { type Click, type PageViews } from '../src/handler.js';

const MINUTE = 60_000;
const click = (user: string, page: string, ts: number, bot = false): Click => ({ user, page, ts, ...(bot ? { bot } : {}) });

test('counts views and distinct visitors per page and minute once the watermark passes the minute', () => {
  const h = harness(pageViews);
  h.push(click('ann', '/home', 1_000), click('bob', '/home', 2_000), click('ann', '/home', 3_000), click('ann', '/cart', 4_000));
  assert.equal(h.outputs(), [], 'nothing fires before the watermark reaches the end of the minute');
  h.push(click('cy', '/home', MINUTE + 4_999)); // watermark = 64_999 - 5_000 - 1 = 59_998: one ms short
  assert.equal(h.outputs(), []);
  h.push(click('cy', '/home', MINUTE + 5_000)); // watermark reaches 59_999, the minute's last ms: it fires
  assert.equal(
    sortByPage(h.outputs() as Array<{ page: string }>),
    [
      { page: '/cart', minute: '1970-01-01T00:00:00.000Z', views: 1, visitors: 1 },
      { page: '/home', minute: '1970-01-01T00:00:00.000Z', views: 3, visitors: 2 },
    ],
  );
});

test('drops bot clicks before they are counted', () => {
  const h = harness(pageViews);
  h.push(click('crawler', '/home', 1_000, true), click('ann', '/home', 2_000)).finish();
  assert.equal(h.outputs(), [{ page: '/home', minute: '1970-01-01T00:00:00.000Z', views: 1, visitors: 1 }]);
});

test('a click late by less than 30 s updates its minute; a later one goes to the late-clicks topic', () => {
  const h = harness(pageViews);
  h.push(click('ann', '/home', 10_000), click('bob', '/home', MINUTE + 10_000)); // watermark 64_999: minute 0 fired
  assert.equal(h.outputs().length, 1);
  h.push(click('cy', '/home', 30_000)); // within lateness: minute 0 fires again with 2 views
  assert.equal(h.outputs()[1], { page: '/home', minute: '1970-01-01T00:00:00.000Z', views: 2, visitors: 2 });
  h.push(click('dee', '/home', MINUTE + 40_000)); // watermark 94_999 > 59_999 + 30_000: minute 0 is gone
  h.push(click('eve', '/home', 50_000));
  assert.equal(h.late, [click('eve', '/home', 50_000)]);
  assert.equal(h.outputs().length, 2);
});

test('a malformed record goes to the dead-letter output and the function keeps counting', () => {
  const h = harness(pageViews);
  h.pushRaw('{"user":"ann","page":"/home","ts":1000}', '{not json', '{"user":"bob","page":"/home","ts":2000}').finish();
  assert.equal(h.deadLetters.length, 1);
  assert.equal(h.deadLetters[0]?.stage, 'decode');
  assert.equal(h.deadLetters[0]?.raw, '{not json');
  assert.equal((h.outputs()[0] as { views: number }).views, 2);
});

test('over generated traffic every line is accounted for: counted once, a bot, late, or a dead letter', () => {
  const lines = generateClicks({ count: 2_000, seed: 11 });
  const h = harness(pageViews);
  h.pushRaw(...lines).finish();
  // A minute that fires again after a late click replaces its earlier result: keep the last per page and minute.
  const latest = new Map<string, PageViews>();
  for (const row of h.outputs() as PageViews[]) latest.set(`${row.page} ${row.minute}`, row);
  const counted = [...latest.values()].reduce((sum, row) => sum + row.views, 0);
  const bots = lines.filter((line) => line.includes('"bot":true')).length;
  assert.ok(h.late.length > 0 && h.deadLetters.length > 0 && bots > 0, 'the generator produces late clicks, bad lines and bots');
  assert.is(counted + bots + h.late.length + h.deadLetters.length, lines.length);
});

function sortByPage<T extends { page: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => a.page.localeCompare(b.page));
}

test.run();
