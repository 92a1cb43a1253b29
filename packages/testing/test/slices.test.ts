import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { defineFunction, eventTime, sliceMs, sliding } from '@flinkfn/sdk';
import { harness } from '../src/index.js';

interface Reading { key: string; ts: number; v: number }
interface Sum { n: number; ids: number[] }

/**
 * Sliding windows summing readings; with `merge` the engine keeps them in slices (the SDK's `sliceMs`), without it per
 * window. Same create/add/result either way, so both must give the same windows.
 */
function sums(withMerge: boolean) {
  return defineFunction({
    name: withMerge ? 'sums-in-slices' : 'sums-per-window',
    source: { topic: 'readings' },
    sinks: { out: { topic: 'out' } },
    late: { topic: 'late' },
    key: (r: Reading) => r.key,
    time: eventTime({ timestamp: (r: Reading) => r.ts }),
    // gcd(10, 4) = 2 with an offset: windows overlap unevenly and a slice is smaller than the slide.
    window: sliding(10, 4, { offset: 1 }),
    allowedLateness: 7,
    aggregate: {
      create: (): Sum => ({ n: 0, ids: [] }),
      add: (acc: Sum, r: Reading): Sum => {
        if (r.v < 0) throw new RangeError(`negative reading ${r.v}`);
        return { n: acc.n + r.v, ids: [...acc.ids, r.ts] };
      },
      ...(withMerge ? { merge: (a: Sum, b: Sum): Sum => ({ n: a.n + b.n, ids: [...a.ids, ...b.ids] }) } : {}),
      result: (acc: Sum, { key, window }) => ({ key, start: window.start, n: acc.n, ids: [...acc.ids].sort((x, y) => x - y) }),
    },
  });
}

/** A small deterministic generator, so that a failing seed can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

const sorted = (values: unknown[]): string[] => values.map((v) => JSON.stringify(v)).sort();

const slices = suite('sliding windows kept in slices in the engine');

slices('the rule puts the merging function in slices and the other per window', () => {
  assert.is(sliceMs(sums(true).declarations().window), 2);
  assert.is(sliceMs(sums(false).declarations().window), null);
});

slices('random input with lateness gives the windows and late output of the per-window path', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const next = random(seed);
    const inSlices = harness(sums(true));
    const perWindow = harness(sums(false));
    let watermark = -20;
    for (let i = 0; i < 80; i++) {
      if (next() < 0.25) {
        watermark += Math.floor(next() * 8);
        inSlices.watermark(watermark);
        perWindow.watermark(watermark);
      } else {
        const reading = { key: `k${Math.floor(next() * 3)}`, ts: watermark - 15 + Math.floor(next() * 30), v: 1 + Math.floor(next() * 5) };
        inSlices.push(reading);
        perWindow.push(reading);
      }
    }
    inSlices.finish();
    perWindow.finish();
    assert.ok(perWindow.outputs().length > 0);
    assert.equal(sorted(inSlices.outputs()), sorted(perWindow.outputs()), `seed ${seed}: windows`);
    assert.equal(sorted(inSlices.late), sorted(perWindow.late), `seed ${seed}: late output`);
  }
});

slices('a throwing add is one dead letter per event, not one per window, and leaves its slice as it was', () => {
  const inSlices = harness(sums(true));
  const perWindow = harness(sums(false));
  for (const h of [inSlices, perWindow]) {
    h.push({ key: 'a', ts: 1, v: 2 }, { key: 'a', ts: 2, v: -1 }, { key: 'a', ts: 6, v: 3 });
    h.finish();
  }
  // ts 2 lies in three windows ([-7,3), [-3,7), [1,11)): kept per window, its add runs and throws three times.
  assert.is(inSlices.deadLetters.length, 1);
  assert.is(perWindow.deadLetters.length, 3);
  assert.equal(sorted(inSlices.outputs()), sorted(perWindow.outputs()));
});

slices.run();
