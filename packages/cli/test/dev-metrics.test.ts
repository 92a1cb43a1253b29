import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flinkfn, handler, project } from './helpers.js';

const dev = suite('flinkfn dev: handler metrics');

const source = handler().replace(
  "  key: (e: { k: string }) => e.k,",
  "  handle: (e: { k: string; ts: number }, ctx) => { ctx.metrics.counter('seen').inc(); ctx.metrics.histogram('ts').update(e.ts); ctx.metrics.gauge('last-ts').set(e.ts); return e; },\n  key: (e: { k: string }) => e.k,",
);
const events = '{"k":"a","ts":1000}\n{"k":"b","ts":3000}\n';

dev('prints the handler\'s metrics at the end', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-'], { input: events });
    assert.is(run.code, 0, run.stderr);
    assert.match(run.stdout, /^metric counter seen 2$/m);
    assert.match(run.stdout, /^metric gauge last-ts 3000$/m);
    assert.match(run.stdout, /^metric histogram ts count 2 min 1000 max 3000 mean 2000$/m);
  } finally {
    cleanup();
  }
});

dev('with --json the metrics are one JSON line before the summary', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-', '--json'], { input: events });
    assert.is(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(lines.filter((l) => l['type'] === 'metrics'), [{
      type: 'metrics',
      counters: { seen: 2 },
      gauges: { 'last-ts': 3000 },
      histograms: { ts: { count: 2, min: 1000, max: 3000, mean: 2000 } },
    }]);
    assert.is(lines.at(-1)?.['type'], 'summary');
  } finally {
    cleanup();
  }
});

dev.run();
