import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sliceMs } from '../src/index.js';
import type { ManifestWindow } from '../src/index.js';

const golden = JSON.parse(readFileSync(new URL('./golden/sliced-windows.json', import.meta.url), 'utf8')) as {
  cases: Array<{ name: string; window: ManifestWindow; sliceMs: number | null }>;
};

const test = suite('sliced windows (the golden cases the runtime tests too)');

for (const c of golden.cases) {
  test(c.name, () => {
    assert.is(sliceMs(c.window), c.sliceMs);
  });
}

test('a function without a window has no slices', () => {
  assert.is(sliceMs(null), null);
});

test('the golden cases cover both answers', () => {
  assert.ok(golden.cases.some((c) => c.sliceMs === null));
  assert.ok(golden.cases.some((c) => c.sliceMs !== null));
});

test.run();
