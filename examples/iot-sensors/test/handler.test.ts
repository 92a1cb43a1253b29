import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { harness } from '@flinkfn/testing';
import sensorAverages, { type Reading, type SensorWindow, type TemperatureAlert } from '../src/handler.js';
import { generateReadings } from '../src/generate.js';

// 2024-03-01T08:00:00Z: a whole second, so window bounds are T0 plus whole seconds.
const T0 = Date.UTC(2024, 2, 1, 8, 0, 0);
const reading = (sensor: string, offset: number, celsius: number): Reading => ({ sensor, ts: T0 + offset, celsius });
const windowOf = (start: number, readings: number, avgCelsius: number, maxCelsius: number, sensor: string): SensorWindow => ({
  sensor,
  windowStart: T0 + start,
  windowEnd: T0 + start + 10_000,
  readings,
  avgCelsius,
  maxCelsius,
});

test('a ten-second window is published once the watermark reaches its last millisecond', () => {
  const h = harness(sensorAverages);
  h.push(reading('greenhouse-1', 200, 20), reading('greenhouse-1', 700, 21));
  assert.equal(h.outputs(), []);
  // The earliest window holding these readings is [T0 − 9 s, T0 + 1 s): it fires at watermark T0 + 999.
  h.push(reading('greenhouse-1', 2_999, 22)); // watermark = T0 + 2_999 − 2_000 − 1 = T0 + 998: one ms short
  assert.equal(h.outputs(), []);
  h.push(reading('greenhouse-1', 3_000, 23)); // watermark = T0 + 999
  assert.is(h.currentWatermark, T0 + 999);
  assert.equal(h.outputs(), [windowOf(-9_000, 2, 20.5, 21, 'greenhouse-1')]);
});

test('every reading counts in the ten windows that cover it, one starting each second', () => {
  const h = harness(sensorAverages);
  h.push(reading('freezer-1', 5_500, -18)).finish();
  const starts = [-4_000, -3_000, -2_000, -1_000, 0, 1_000, 2_000, 3_000, 4_000, 5_000];
  assert.equal(h.outputs(), starts.map((start) => windowOf(start, 1, -18, -18, 'freezer-1')));
});

test('readings 3.5 s apart are averaged together in the seven windows that cover both', () => {
  const h = harness(sensorAverages);
  // 1.0 s lies in windows starting −8 s … +1 s; 4.5 s in windows starting −5 s … +4 s.
  h.push(reading('freezer-1', 1_000, -20), reading('freezer-1', 4_500, -17)).finish();
  assert.equal(h.outputs(), [
    windowOf(-8_000, 1, -20, -20, 'freezer-1'),
    windowOf(-7_000, 1, -20, -20, 'freezer-1'),
    windowOf(-6_000, 1, -20, -20, 'freezer-1'),
    windowOf(-5_000, 2, -18.5, -17, 'freezer-1'),
    windowOf(-4_000, 2, -18.5, -17, 'freezer-1'),
    windowOf(-3_000, 2, -18.5, -17, 'freezer-1'),
    windowOf(-2_000, 2, -18.5, -17, 'freezer-1'),
    windowOf(-1_000, 2, -18.5, -17, 'freezer-1'),
    windowOf(0, 2, -18.5, -17, 'freezer-1'),
    windowOf(1_000, 2, -18.5, -17, 'freezer-1'),
    windowOf(2_000, 1, -17, -17, 'freezer-1'),
    windowOf(3_000, 1, -17, -17, 'freezer-1'),
    windowOf(4_000, 1, -17, -17, 'freezer-1'),
  ]);
});

test('averages are rounded to two decimals and the maximum is the highest reading', () => {
  const h = harness(sensorAverages);
  h.push(reading('server-rack-1', 100, 38.1), reading('server-rack-1', 200, 38.2), reading('server-rack-1', 300, 38.4)).finish();
  // (38.1 + 38.2 + 38.4) / 3 = 38.2333…; all three share the same ten windows.
  assert.is(h.outputs().length, 10);
  for (const window of h.outputs() as SensorWindow[]) {
    assert.equal([window.readings, window.avgCelsius, window.maxCelsius], [3, 38.23, 38.4]);
  }
});

test('only windows averaging above 80 °C raise an alert, sent to the alerts sink keyed by sensor', () => {
  const h = harness(sensorAverages);
  // 78 alone: window starting −9 s; 78 and 82 (average exactly 80, not above): −8 s … 0; 82 alone: +1 s.
  h.push(reading('boiler-1', 100, 78), reading('boiler-1', 1_600, 82)).finish();
  assert.is(h.outputs('averages').length, 11);
  const alert: TemperatureAlert = {
    sensor: 'boiler-1',
    windowStart: T0 + 1_000,
    windowEnd: T0 + 11_000,
    avgCelsius: 82,
    thresholdCelsius: 80,
  };
  assert.equal(h.outputs('alerts'), [alert]);
  assert.equal(h.records.filter((r) => r.sink === 'alerts').map((r) => r.key), ['boiler-1']);
  // The window also went to the averages sink, with the same numbers.
  assert.equal(h.outputs('averages')[10], windowOf(1_000, 1, 82, 82, 'boiler-1'));
});

test('a reading late by less than the 5 s allowed lateness corrects its windows, and fired ones fire again', () => {
  const h = harness(sensorAverages);
  h.push(reading('server-rack-1', 500, 40), reading('server-rack-1', 3_000, 42)); // watermark T0 + 999
  assert.equal(h.outputs(), [windowOf(-9_000, 1, 40, 40, 'server-rack-1')]);
  // 0.8 s is behind the watermark: its window [−9 s, +1 s) already fired, but is kept until T0 + 5_999.
  h.push(reading('server-rack-1', 800, 50));
  assert.equal(h.outputs()[1], windowOf(-9_000, 2, 45, 50, 'server-rack-1'), 'fires again at once, updated');
  assert.is(h.outputs().length, 2, 'windows that had not fired yet just take the reading');
  assert.equal(h.late, []);
  h.finish();
  assert.equal(h.outputs()[2], windowOf(-8_000, 2, 45, 50, 'server-rack-1'));
});

test('a reading too late even for its newest window goes to the late topic and into no average', () => {
  const h = harness(sensorAverages);
  // Watermark T0 + 14_998. A reading at 0.9 s belongs to windows starting −9 s … 0; they are kept until
  // their last millisecond + 5 s, so only [T0, T0 + 10 s) (kept until T0 + 14_999) still takes it.
  h.push(reading('server-rack-1', 500, 40), reading('server-rack-1', 16_999, 41)).clear();
  h.push(reading('server-rack-1', 900, 60));
  assert.equal(h.outputs(), [windowOf(0, 2, 50, 60, 'server-rack-1')]);
  assert.equal(h.late, []);

  h.push(reading('server-rack-1', 17_000, 41)).clear(); // watermark T0 + 14_999: [T0, T0 + 10 s) is dropped
  const tooLate = reading('server-rack-1', 950, 99);
  h.push(tooLate);
  assert.equal(h.late, [tooLate]);
  assert.equal(h.outputs('averages'), []);
  assert.equal(h.outputs('alerts'), [], 'a late 99 °C reading raises no alert');
});

test('readings without a usable celsius value go to dead letters and do not move event time', () => {
  const h = harness(sensorAverages);
  h.pushRaw(
    `{"sensor":"boiler-1","ts":${T0 + 100},"celsius":70}`,
    `{"sensor":"boiler-1","ts":${T0 + 60_000}}`,
    `{"sensor":"boiler-1","ts":${T0 + 60_000},"celsius":null}`,
    `{"sensor":"boiler-1","ts":${T0 + 60_000},"celsius":"n/a"}`,
  );
  h.push({ sensor: 'boiler-1', ts: T0 + 60_000, celsius: Number.NaN });
  assert.equal(h.deadLetters.map((d) => d.stage), ['handle', 'handle', 'handle', 'handle']);
  assert.equal(h.deadLetters[0]?.event, { sensor: 'boiler-1', ts: T0 + 60_000 });
  assert.match(h.deadLetters[0]?.error ?? '', 'reading from boiler-1 has no valid celsius value');
  assert.is(h.currentWatermark, T0 + 100 - 2_001, 'only the good reading moved the watermark');
  h.finish();
  assert.is(h.outputs().length, 10);
  assert.ok((h.outputs() as SensorWindow[]).every((w) => w.readings === 1 && w.avgCelsius === 70));
});

test('generated readings: each accepted reading is counted ten times, the rest are late or dead letters', () => {
  const readings = generateReadings({ count: 3000, seed: 7 });
  const h = harness(sensorAverages);
  h.push(...readings).finish();

  // How far behind the newest well-formed reading each one was delivered.
  let newest = Number.NEGATIVE_INFINITY;
  const wellFormed: Array<{ reading: Reading; lag: number }> = [];
  for (const r of readings) {
    if (typeof r.celsius !== 'number') continue;
    newest = Math.max(newest, r.ts);
    wellFormed.push({ reading: r as Reading, lag: newest - r.ts });
  }
  // Less than 7 s behind: even its oldest window (kept until its last ms + 5 s) still takes it.
  // At least 17 s behind: even its newest window has been dropped, so it is late.
  assert.ok(wellFormed.every(({ lag }) => lag < 7_000 || lag >= 17_000), 'the generator makes no partly-late readings');
  const expectedLate = wellFormed.filter(({ lag }) => lag >= 17_000).map(({ reading }) => reading);
  const behindWatermark = wellFormed.filter(({ lag }) => lag > 2_001 && lag < 7_000);
  assert.ok(expectedLate.length > 0 && behindWatermark.length > 0, 'the sample has late readings of both kinds');
  assert.equal(h.late, expectedLate);
  assert.is(h.deadLetters.length, readings.length - wellFormed.length);
  assert.ok(h.deadLetters.length > 0);

  // A re-fired window replaces its earlier result: keep the last one per sensor and window.
  const finalWindows = new Map<string, SensorWindow>();
  for (const w of h.outputs('averages') as SensorWindow[]) finalWindows.set(`${w.sensor}@${w.windowStart}`, w);
  assert.ok(finalWindows.size < h.outputs('averages').length, 'some windows fired more than once');
  const counted = [...finalWindows.values()].reduce((sum, w) => sum + w.readings, 0);
  assert.is(counted, 10 * (wellFormed.length - expectedLate.length));

  const hot = (h.outputs('averages') as SensorWindow[]).filter((w) => w.avgCelsius > 80);
  assert.ok(hot.length > 0, 'the boiler runs hot now and then');
  assert.equal(
    (h.outputs('alerts') as TemperatureAlert[]).map((a) => `${a.sensor}@${a.windowStart}:${a.avgCelsius}`),
    hot.map((w) => `${w.sensor}@${w.windowStart}:${w.avgCelsius}`),
  );
});

test('the generator is deterministic for a seed and prints exactly --count readings', () => {
  assert.equal(generateReadings({ count: 200, seed: 3 }), generateReadings({ count: 200, seed: 3 }));
  assert.is(generateReadings({ count: 123, seed: 3 }).length, 123);
  assert.not.equal(generateReadings({ count: 50, seed: 1 }), generateReadings({ count: 50, seed: 2 }));
});

test('data/events.jsonl is the 48-reading generator sample and shows every case', () => {
  const lines = readFileSync(new URL('../data/events.jsonl', import.meta.url), 'utf8').trim().split('\n');
  assert.equal(lines, generateReadings({ count: 48, seed: 42 }).map((r) => JSON.stringify(r)));
  const h = harness(sensorAverages);
  h.pushRaw(...lines).finish();
  assert.ok(h.late.length > 0 && h.deadLetters.length > 0 && h.outputs('alerts').length > 0);
  const windows = (h.outputs() as SensorWindow[]).map((w) => `${w.sensor}@${w.windowStart}`);
  assert.ok(new Set(windows).size < windows.length, 'a late reading made a window fire again');
});

test.run();
