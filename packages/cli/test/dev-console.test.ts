/**
 * A handler's console in `flinkfn dev`: on stderr, prefixed with the function's name, never on stdout, so
 * `--json` output stays one JSON object per line.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { flinkfn, handler, project } from './helpers.js';

const dev = suite('flinkfn dev: handler console output');

const source = handler().replace(
  '  key: (e: { k: string }) => e.k,',
  [
    "  handle: (e: { k: string; ts: number }) => { console.log('saw %s at %d', e.k, e.ts, { n: 1 }); console.warn('warn', e.k); console.error(`two\\nlines ${e.k}`); console.info('info'); console.debug('debug'); return e; },",
    '  key: (e: { k: string }) => e.k,',
  ].join('\n'),
).replace("import {", "console.log('module loaded');\nimport {");
const events = '{"k":"a","ts":1000}\n{"k":"b","ts":3000}\n';

dev('with --json, stdout is only JSON lines and the handler\'s console lines are on stderr, prefixed with its name', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-', '--json'], { input: events });
    assert.is(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    for (const line of lines) assert.ok(line.startsWith('{') && typeof JSON.parse(line) === 'object', `not a JSON line: ${line}`);
    assert.is((JSON.parse(lines.at(-1) ?? '{}') as { type?: string }).type, 'summary');
    assert.not.match(run.stdout, /saw|module loaded|warn|two/);
    const handlerLines = run.stderr.split('\n').filter((line) => line.startsWith('[counter] '));
    assert.equal(handlerLines, [
      "[counter] saw a at 1000 { n: 1 }", '[counter] warn a', '[counter] two', '[counter] lines a', '[counter] info', '[counter] debug',
      "[counter] saw b at 3000 { n: 1 }", '[counter] warn b', '[counter] two', '[counter] lines b', '[counter] info', '[counter] debug',
    ]);
    // The module's top-level code runs when it is first imported, before its name is known.
    assert.match(run.stderr, /^\[handler\] module loaded$/m);
  } finally {
    cleanup();
  }
});

dev('without --json the results are on stdout and the console lines still on stderr', () => {
  const { dir, cleanup } = project({ 'src/handler.ts': source });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-'], { input: events });
    assert.is(run.code, 0, run.stderr);
    assert.match(run.stdout, /^counts \[a\] 1$/m);
    assert.not.match(run.stdout, /saw|module loaded/);
    assert.match(run.stderr, /^\[counter\] saw b at 3000 \{ n: 1 \}$/m);
  } finally {
    cleanup();
  }
});

dev('console.trace gives the message and the handler\'s stack; an async handler logs after its await', () => {
  const asyncSource = handler().replace(
    '  key: (e: { k: string }) => e.k,',
    "  handle: async (e: { k: string }) => { await new Promise((r) => setTimeout(r, 1)); console.trace('traced', e.k); return e; },\n  key: (e: { k: string }) => e.k,",
  );
  const { dir, cleanup } = project({ 'src/handler.ts': asyncSource });
  try {
    const run = flinkfn(['dev', '--root', dir, '--input', '-', '--json'], { input: events });
    assert.is(run.code, 0, run.stderr);
    assert.not.match(run.stdout, /traced/);
    assert.match(run.stderr, /^\[counter\] Trace: traced a\n\[counter\]     at .*handler\.ts/m);
    assert.match(run.stderr, /^\[counter\] Trace: traced b$/m);
  } finally {
    cleanup();
  }
});

dev.run();
