import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { upsertKey, windowBounds, windowFieldsOf } from '../src/upsert.js';

const at = (offset: string, key: string | null = '/') => ({ topic: 'views', partition: 1, offset, key });

test('a window that fires again has the upsert key of its first firing; another window or key does not', () => {
  const first = { page: '/', minute: '2024-05-01T12:00:00.000Z', views: 3 };
  const again = { page: '/', minute: '2024-05-01T12:00:00.000Z', views: 4 };
  const next = { page: '/', minute: '2024-05-01T12:01:00.000Z', views: 1 };
  const fields = windowFieldsOf(first);
  assert.equal(fields, ['minute']);
  assert.is(upsertKey(at('10'), first, fields), upsertKey(at('57'), again, windowFieldsOf(again)));
  assert.is.not(upsertKey(at('10'), first, fields), upsertKey(at('11'), next, windowFieldsOf(next)));
  assert.is.not(upsertKey(at('10', '/'), first, fields), upsertKey(at('10', '/cart'), first, fields));
});

test('window fields: the stream can name them; numbers and ISO strings give the bounds', () => {
  const value = { sensor: 's1', windowStart: 10_000, windowEnd: 20_000, readings: 4, bucket: 'b7' };
  assert.equal(windowFieldsOf(value), ['windowStart', 'windowEnd']);
  assert.equal(windowFieldsOf(value, ['bucket']), ['bucket']);
  assert.equal(windowBounds(value, ['windowStart', 'windowEnd']), { start: 10_000, end: 20_000 });
  assert.equal(windowBounds({ minute: '1970-01-01T00:01:00.000Z' }, ['minute']), { start: 60_000, end: null });
  assert.equal(windowBounds({ window: { start: 5, end: 9 } }, ['window']), { start: 5, end: 9 });
});

test('a result without a window field (a stateless function) is never replaced: its key is its position', () => {
  const value = { id: 1, by: 'relay' };
  assert.equal(windowFieldsOf(value), []);
  assert.is.not(upsertKey(at('1'), value, []), upsertKey(at('2'), value, []));
  assert.is(upsertKey(at('1'), value, []), JSON.stringify(['views', 1, '1']));
});

test.run();
