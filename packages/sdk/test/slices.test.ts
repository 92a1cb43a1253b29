import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SlidingSlices, sliceMs } from '../src/index.js';
import type { ManifestWindow } from '../src/index.js';

const golden = JSON.parse(readFileSync(new URL('./golden/sliced-windows.json', import.meta.url), 'utf8')) as {
  cases: Array<{
    name: string;
    window: ManifestWindow;
    sliceMs: number | null;
    elements?: Array<{ ts: number; slice: [number, number]; windowEnds: number[] }>;
  }>;
};

const test = suite('sliced windows (the golden cases the runtime tests too)');

for (const c of golden.cases) {
  test(c.name, () => {
    assert.is(sliceMs(c.window), c.sliceMs);
    const slices = SlidingSlices.of(c.window);
    assert.is(slices === null, c.sliceMs === null);
    if (slices === null) return;
    for (const element of c.elements ?? []) {
      const slice = slices.sliceOf(element.ts);
      assert.equal([slice.start, slice.end], element.slice, `slice of ${element.ts}`);
      const ends: number[] = [];
      for (let end = slices.firstWindowEnd(slice); end <= slices.lastWindowEnd(slice); end += slices.slide) ends.push(end);
      assert.equal(ends, element.windowEnds, `windows containing the slice of ${element.ts}`);
    }
  });
}

test('a function without a window has no slices', () => {
  assert.is(sliceMs(null), null);
});

test('the golden cases cover both answers, and slices in a gap', () => {
  assert.ok(golden.cases.some((c) => c.sliceMs === null));
  assert.ok(golden.cases.some((c) => c.sliceMs !== null));
  assert.ok(golden.cases.some((c) => c.elements?.some((e) => e.windowEnds.length === 0)));
});

test.run();
