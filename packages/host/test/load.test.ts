import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sha256, type Artifact } from '@flinkfn/artifact';
import { LoadError, loadFunction } from '../src/index.js';

/** A hand-made artifact whose code is plain JS (what esbuild would emit for a handler). */
function artifact(code: string, name = 'echo'): Artifact {
  return {
    id: 'test',
    code,
    sourceMap: '{"version":3,"sources":[],"mappings":""}',
    manifest: {
      manifestVersion: 1,
      protocolVersion: 1,
      sdkVersion: '0.1.0',
      name,
      source: { topic: 'in', format: 'json', startFrom: 'earliest' },
      sinks: [{ name: 'out', topic: 'out', lifecycle: 'ephemeral', partitions: 1 }],
      sideOutputs: { late: null, deadLetter: { topic: `${name}-dead-letter`, lifecycle: 'ephemeral', partitions: 1 } },
      handle: true,
      async: { capacity: 100, timeoutMs: 30_000, ordered: true, retry: null },
      window: null,
      parallelism: null,
      resources: [
        { kind: 'kafka-topic', name: 'in', role: 'source', owned: false, lifecycle: 'retain' },
        { kind: 'kafka-topic', name: 'out', role: 'sink:out', owned: true, lifecycle: 'ephemeral' },
        { kind: 'kafka-topic', name: `${name}-dead-letter`, role: 'dead-letter', owned: true, lifecycle: 'ephemeral' },
      ],
      bundle: { format: 'esm', sha256: sha256(code), bytes: code.length, entry: 'src/handler.ts' },
    },
  };
}

const sdkUrl = new URL('../../sdk/dist/index.js', import.meta.url).href;
const echo = (name: string, handle: string): string =>
  `import { defineFunction } from ${JSON.stringify(sdkUrl)};\n` +
  `export default defineFunction({ name: ${JSON.stringify(name)}, source: { topic: 'in' }, sinks: { out: { topic: 'out' } }, handle: ${handle} });\n`;

const load = suite('loading an artifact');

load('a valid artifact loads and its handler runs through the host', async () => {
  const { host } = await loadFunction(artifact(echo('echo', '(e) => ({ ...e, seen: true })')));
  const decoded = host.decode('{"a":1}');
  assert.ok(decoded.ok);
  const handled = host.handle(decoded.ok ? decoded.value : undefined);
  assert.equal(handled, { ok: true, value: [{ sink: 'out', key: null, value: { a: 1, seen: true }, json: '{"a":1,"seen":true}' }] });
});

load('code that declares another function than the manifest is refused', async () => {
  await loadFunction(artifact(echo('other-name', '(e) => e'), 'echo')).then(
    () => assert.unreachable('loaded'),
    (error: unknown) => {
      assert.instance(error, LoadError);
      assert.match((error as Error).message, /declares a different function than its manifest/);
    },
  );
});

load('code without a defineFunction default export is refused with the artifact named', async () => {
  await loadFunction(artifact('export default 42;\n'), 'artifact x.flinkfn').then(
    () => assert.unreachable('loaded'),
    (error: unknown) => assert.match((error as Error).message, /artifact x\.flinkfn \(echo\) has no default export made by defineFunction/),
  );
});

load('code that throws while loading fails with the reason', async () => {
  await loadFunction(artifact("throw new Error('no config');\n")).then(
    () => assert.unreachable('loaded'),
    (error: unknown) => assert.match((error as Error).message, /failed to load: Error: no config/),
  );
});

load.run();

const steps = suite('host steps never throw');

steps('a handler that throws becomes a dead letter carrying the event', async () => {
  const { host } = await loadFunction(artifact(echo('echo', "(e) => { throw new TypeError('nope ' + e.id); }")));
  assert.equal(host.handle({ id: 7 }), { ok: false, deadLetter: { stage: 'handle', error: 'TypeError: nope 7', event: { id: 7 } } });
});

steps('invalid UTF-8 in a json source is a decode dead letter with the bytes in base64', async () => {
  const { host } = await loadFunction(artifact(echo('echo', '(e) => e')));
  const step = host.decode(new Uint8Array([0xff, 0xfe]));
  assert.equal(step, { ok: false, deadLetter: { stage: 'decode', error: 'record is not valid UTF-8', raw: '//4=' } });
});

steps.run();

const outputs = suite('outputs for sinks');

outputs('a stateless output that cannot be JSON becomes a dead letter instead of a broken record', async () => {
  const { host } = await loadFunction(artifact(echo('echo', '() => ({ n: 1n })')));
  const step = await host.handle({ id: 1 });
  assert.is(step.ok, false);
  assert.match(step.ok ? '' : step.deadLetter.error, /not JSON-serializable/);
  assert.is(step.ok ? '' : step.deadLetter.stage, 'output');
});

outputs.run();

const accumulators = suite('accumulators');

const counter = (add: string): string =>
  `import { defineFunction } from ${JSON.stringify(sdkUrl)};\n` +
  `export default defineFunction({ name: 'echo', source: { topic: 'in' }, sinks: { out: { topic: 'out' } }, key: (e) => e.k, time: { kind: 'processing' }, window: { kind: 'tumbling', size: 10 }, aggregate: { create: () => ({ n: 0 }), add: ${add}, merge: (a, b) => ({ n: a.n + b.n }), result: (a) => a } });\n`;

function windowed(code: string): Artifact {
  const base = artifact(code);
  const { async: _noHandleNoAsync, ...manifest } = base.manifest;
  return {
    ...base,
    manifest: {
      ...manifest,
      handle: false,
      window: {
        assigner: { kind: 'tumbling', sizeMs: 10, offsetMs: 0 },
        time: { kind: 'processing' },
        allowedLatenessMs: 0,
        function: 'aggregate',
        merges: true,
      },
    },
  };
}

accumulators('an accumulator that is not plain JSON is refused step by step, naming what and where', async () => {
  const { host } = await loadFunction(windowed(counter('(acc, e) => ({ n: acc.n + 1, last: new Date(0) })')));
  const created = host.create({ k: 'a' });
  assert.ok(created.ok);
  const added = host.add(created.ok ? created.value : '', { k: 'a' });
  assert.is(added.ok, false);
  assert.match(added.ok ? '' : added.deadLetter.error, /plain JSON values: a Date at \.last/);
});

accumulators('addAll creates once, adds every event, and turns a throwing add into a dead letter', async () => {
  const { host } = await loadFunction(windowed(counter("(acc, e) => { if (e.bad) throw new Error('bad'); return { n: acc.n + 1 }; }")));
  const result = host.addAll(null, [{ k: 'a' }, { k: 'a', bad: true }, { k: 'a' }]);
  assert.is(result.accumulator, '{"n":2}');
  assert.equal(result.deadLetters.map((d) => [d.stage, d.error]), [['add', 'Error: bad']]);
  assert.is(host.addAll('{"n":5}', [{ k: 'a' }]).accumulator, '{"n":6}');
  // Created for an event whose add throws, the accumulator is not kept: a window only failing events reached has none.
  const failed = host.addAll(null, [{ k: 'a', bad: true }, { k: 'a', bad: true }]);
  assert.is(failed.accumulator, null);
  assert.is(failed.deadLetters.length, 2);
  assert.is(host.addAll(null, [{ k: 'a', bad: true }, { k: 'a' }]).accumulator, '{"n":1}');
});

accumulators.run();
