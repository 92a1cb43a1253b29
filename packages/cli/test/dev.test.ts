import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT, flinkfn, handler, project } from './helpers.js';

const dev = suite('flinkfn dev');
const clickstream = path.join(REPO_ROOT, 'examples', 'clickstream');

dev('runs an events file through the handler and prints each result and a summary', () => {
  const run = flinkfn(['dev', '--root', clickstream, '--input', 'data/events.jsonl']);
  assert.is(run.code, 0, run.stderr);
  const results = run.stdout.split('\n').filter((line) => line.startsWith('views ['));
  assert.ok(results.length > 5, run.stdout);
  assert.match(run.stderr, /page-views-per-minute: 400 records → \d+ results, \d+ late, \d+ dead letters/);
});

dev('reads stdin with --input - and prints JSON lines with --json, ending with a summary', () => {
  const events = ['{"k":"a","ts":1000}', '{"k":"a","ts":2000}', 'not json', '{"k":"b","ts":61000}'].join('\n');
  const { dir, cleanup } = project({ 'src/handler.ts': handler() });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-', '--json'], { input: events });
    assert.is(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.filter((l) => l['type'] === 'output').map((l) => [l['key'], l['value']]), [['a', 2], ['b', 1]]);
    assert.equal(lines.filter((l) => l['type'] === 'dead-letter').map((l) => [l['stage'], l['raw']]), [['decode', 'not json']]);
    const summary = lines.at(-1) ?? {};
    assert.is(summary['type'], 'summary');
    assert.is(summary['recordsIn'], 4);
    assert.is(summary['deadLetters'], 1);
  } finally {
    cleanup();
  }
});

dev('--partitions: an event within its own partition\'s bound is on time although another partition ran ahead', () => {
  // Partition 0 runs two minutes ahead of partition 1, as a consumer reading partitions in chunks sees them.
  const events = ['@0 {"k":"a","ts":1000}', '@0 {"k":"a","ts":150000}', '@1 {"k":"b","ts":2000}', '@1 {"k":"b","ts":3000}', '@1 {"k":"b","ts":170000}'].join('\n');
  const { dir, cleanup } = project({ 'src/handler.ts': handler() });
  try {
    const partitioned = flinkfn(['dev', '--root', dir, '--input', '-', '--json', '--partitions', '2'], { input: events });
    assert.is(partitioned.code, 0, partitioned.stderr);
    const lines = partitioned.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.is(lines.at(-1)?.['lateDropped'], 0, 'no event is late within its partition');
    assert.ok(lines.some((l) => l['type'] === 'output' && l['key'] === 'b' && l['value'] === 2), partitioned.stdout);
    // Read as one partition, the same order makes partition 1's first events late.
    const single = flinkfn(['dev', '--root', dir, '--input', '-', '--json'], { input: events.replace(/^@\d /gm, '') });
    const summary = JSON.parse(single.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    assert.is(summary['lateDropped'], 2, single.stdout);
    const wrong = flinkfn(['dev', '--root', dir, '--input', '-', '--partitions', '2'], { input: '@5 {"k":"a","ts":1}' });
    assert.is(wrong.code, 1);
    assert.match(wrong.stderr, /partition 5 is not one of the 2 partitions/);
  } finally {
    cleanup();
  }
});

dev('a handler that throws sends the event to the dead-letter output and the run continues', () => {
  const source = handler().replace(
    "  key: (e: { k: string }) => e.k,",
    "  handle: (e: { k: string; ts: number }) => { if (e.k === 'x') throw new Error('x is not allowed'); return e; },\n  key: (e: { k: string }) => e.k,",
  );
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-'], { input: '{"k":"x","ts":1}\n{"k":"a","ts":2}\n' });
    assert.is(run.code, 0, run.stderr);
    assert.match(run.stdout, /dead-letter \(handle\) \(-:1\) Error: x is not allowed :: \{"k":"x","ts":1\}\n    at handle \(src\/handler\.ts:\d+:\d+\)/);
    assert.match(run.stdout, /counts \[a\] 1/);
  } finally {
    cleanup();
  }
});

dev('a dead letter says where: the frames in the user\'s own files, source-mapped, the input line, and the time', () => {
  const { dir, cleanup } = project({
    'src/pricing.ts': 'export function priceOf(order: { item?: { cents: number } }): number {\n  return order.item!.cents * 2;\n}\n',
    'src/handler.ts': [
      "import { defineFunction } from '@flinkfn/sdk';",
      "import { priceOf } from './pricing.js';",
      'export default defineFunction({',
      "  name: 'prices',",
      "  source: { topic: 'orders' },",
      "  sinks: { out: { topic: 'prices' } },",
      '  handle: (order: { item?: { cents: number } }) => ({ price: priceOf(order) }),',
      '});',
    ].join('\n'),
    'data/orders.jsonl': '{"item":{"cents":1}}\n\n{}\n',
  });
  try {
    const before = Date.now();
    const run = flinkfn(['dev', '--root', dir, '--input', 'data/orders.jsonl', '--json']);
    assert.is(run.code, 0, run.stderr);
    const letters = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l['type'] === 'dead-letter');
    assert.is(letters.length, 1);
    const { at, ...letter } = letters[0]!;
    assert.equal(letter, {
      type: 'dead-letter',
      stage: 'handle',
      error: "TypeError: Cannot read properties of undefined (reading 'cents')",
      // pricing.ts 2:22 is `cents` of `order.item!.cents`; handler.ts 7:62 is the call of priceOf: TypeScript positions.
      stack: ['priceOf (src/pricing.ts:2:22)', 'handle (src/handler.ts:7:62)'],
      event: {},
      source: { file: 'data/orders.jsonl', line: 3 },
    });
    assert.ok(typeof at === 'string' && Date.parse(at) >= before - 1_000, `written at ${String(at)}`);
  } finally {
    cleanup();
  }
});

dev('a missing input file is a user error that says where it looked', () => {
  const run = flinkfn(['dev', '--root', clickstream, '--input', 'nope.jsonl']);
  assert.is(run.code, 1);
  assert.match(run.stderr, /input file nope\.jsonl does not exist/);
  assert.match(run.stderr, /examples\/clickstream/);
});

dev('--watch with stdin is refused because stdin can be read only once', () => {
  const run = flinkfn(['dev', '--root', clickstream, '--input', '-', '--watch'], { input: '' });
  assert.is(run.code, 1);
  assert.match(run.stderr, /--watch needs an input file/);
});

dev.run();
