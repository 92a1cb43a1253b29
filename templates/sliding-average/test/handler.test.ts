import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import averages, { type CpuAverage, type CpuSample } from '../src/handler.js';

/** 2024-01-15T09:00:00.000Z, aligned to the 10-second slide. */
const T0 = Date.UTC(2024, 0, 15, 9, 0, 0);
const sample = (host: string, cpu: number, ts: number): CpuSample => ({ host, cpu, ts });
const byStart = (rows: unknown[]): CpuAverage[] =>
  [...(rows as CpuAverage[])].sort((a, b) => a.windowStart.localeCompare(b.windowStart));

test('emits a one-minute average every 10 seconds, each sample counting in six windows', () => {
  const h = harness(averages);
  h.push(sample('web-1', 10, T0 + 5_000), sample('web-1', 20, T0 + 15_000), sample('web-1', 30, T0 + 25_000));
  h.finish();
  // The sample at 09:00:05 is in the six windows starting 08:59:10 … 09:00:00; windows are emitted in
  // the order they end.
  assert.equal(h.outputs(), [
    { host: 'web-1', windowStart: '2024-01-15T08:59:10.000Z', windowEnd: '2024-01-15T09:00:10.000Z', samples: 1, average: 10 },
    { host: 'web-1', windowStart: '2024-01-15T08:59:20.000Z', windowEnd: '2024-01-15T09:00:20.000Z', samples: 2, average: 15 },
    { host: 'web-1', windowStart: '2024-01-15T08:59:30.000Z', windowEnd: '2024-01-15T09:00:30.000Z', samples: 3, average: 20 },
    { host: 'web-1', windowStart: '2024-01-15T08:59:40.000Z', windowEnd: '2024-01-15T09:00:40.000Z', samples: 3, average: 20 },
    { host: 'web-1', windowStart: '2024-01-15T08:59:50.000Z', windowEnd: '2024-01-15T09:00:50.000Z', samples: 3, average: 20 },
    { host: 'web-1', windowStart: '2024-01-15T09:00:00.000Z', windowEnd: '2024-01-15T09:01:00.000Z', samples: 3, average: 20 },
    { host: 'web-1', windowStart: '2024-01-15T09:00:10.000Z', windowEnd: '2024-01-15T09:01:10.000Z', samples: 2, average: 25 },
    { host: 'web-1', windowStart: '2024-01-15T09:00:20.000Z', windowEnd: '2024-01-15T09:01:20.000Z', samples: 1, average: 30 },
  ]);
});

test('a sample up to 30 s behind the watermark corrects the windows already emitted, which are emitted again', () => {
  const h = harness(averages);
  h.push(sample('web-1', 10, T0 + 5_000));
  // Watermark = 40_000 − 5_000 − 1 = 34_999: the windows ending 09:00:10, :20 and :30 are emitted.
  h.push(sample('web-1', 50, T0 + 40_000));
  assert.equal(h.outputs().map((o) => (o as CpuAverage).windowEnd), [
    '2024-01-15T09:00:10.000Z',
    '2024-01-15T09:00:20.000Z',
    '2024-01-15T09:00:30.000Z',
  ]);
  h.clear();

  // 09:00:08 is 27 s behind the watermark. The emitted windows are kept until their end + 30 s, so all
  // three take the sample and are emitted again at once; the three later windows just take it.
  h.push(sample('web-1', 40, T0 + 8_000));
  assert.equal(byStart(h.outputs()), [
    { host: 'web-1', windowStart: '2024-01-15T08:59:10.000Z', windowEnd: '2024-01-15T09:00:10.000Z', samples: 2, average: 25 },
    { host: 'web-1', windowStart: '2024-01-15T08:59:20.000Z', windowEnd: '2024-01-15T09:00:20.000Z', samples: 2, average: 25 },
    { host: 'web-1', windowStart: '2024-01-15T08:59:30.000Z', windowEnd: '2024-01-15T09:00:30.000Z', samples: 2, average: 25 },
  ]);
  assert.equal(h.late, []);
});

test('a sample too late for all six of its windows goes to the late topic', () => {
  const h = harness(averages);
  h.push(sample('web-1', 10, T0 + 5_000));
  // Watermark 94_999. The last window holding 09:00:02, [09:00:00, 09:01:00), was kept until
  // 59_999 + 30_000 = 89_999, so every window of that sample is gone.
  h.push(sample('web-1', 20, T0 + 100_000));
  const emitted = h.outputs().length;
  h.push(sample('web-1', 99, T0 + 2_000));
  assert.equal(h.late, [sample('web-1', 99, T0 + 2_000)]);
  assert.is(h.outputs().length, emitted, 'no window is emitted again');
});

test('a sample without a numeric cpu value goes to the dead-letter topic and the averages ignore it', () => {
  const h = harness(averages);
  h.pushRaw(`{"host":"web-1","cpu":"n/a","ts":${T0 + 1_000}}`, `{"host":"web-1","cpu":10,"ts":${T0 + 2_000}}`);
  h.finish();
  assert.is(h.deadLetters.length, 1);
  assert.is(h.deadLetters[0]?.stage, 'handle');
  assert.is(h.deadLetters[0]?.error, 'Error: sample from web-1 has no numeric cpu value: "n/a"');
  const results = h.outputs() as CpuAverage[];
  assert.is(results.length, 6);
  assert.ok(results.every((r) => r.samples === 1 && r.average === 10));
});

test.run();
