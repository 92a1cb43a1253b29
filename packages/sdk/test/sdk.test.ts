import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ASYNC_DEFAULTS,
  DeclarationError,
  isRetryable,
  retryable,
  retryDelay,
  defineFunction,
  eventTime,
  isDeclarationError,
  isFunctionDefinition,
  parseDuration,
  processingTime,
  session,
  sliding,
  to,
  tumbling,
  type FunctionSpec,
} from '../src/index.js';

// ---
const durations = suite('durations');

durations('units convert to milliseconds', () => {
  assert.is(parseDuration('500ms', 'd'), 500);
  assert.is(parseDuration('5s', 'd'), 5_000);
  assert.is(parseDuration('1m', 'd'), 60_000);
  assert.is(parseDuration('2h', 'd'), 7_200_000);
  assert.is(parseDuration('1d', 'd'), 86_400_000);
  assert.is(parseDuration('1.5s', 'd'), 1_500);
  assert.is(parseDuration(250, 'd'), 250);
});

durations('negative, malformed, fractional-millisecond and zero-where-forbidden values are rejected with the path', () => {
  const bad: Array<[unknown, RegExp, { allowZero?: boolean }?]> = [
    ['-5s', /window\.size: '-5s' is negative/],
    ['5 seconds', /window\.size: '5 seconds' is not a duration/],
    ['5', /is not a duration/],
    [1.5, /not a whole number of milliseconds/],
    [Number.NaN, /not a finite duration/],
    [null, /expected a duration, got null/],
    ['0s', /must be longer than zero/, { allowZero: false }],
  ];
  for (const [value, message, options] of bad) {
    try {
      parseDuration(value, 'window.size', options);
      assert.unreachable(`accepted ${String(value)}`);
    } catch (error) {
      assert.instance(error, DeclarationError);
      assert.match((error as Error).message, message);
      assert.is((error as DeclarationError).path, 'window.size');
    }
  }
});

durations.run();

// ---
const declarations = suite('defineFunction declarations');

const base = { name: 'views', source: { topic: 'clicks' }, sinks: { out: { topic: 'views' } } };
const count = { create: () => 0, add: (n: number) => n + 1, merge: (a: number, b: number) => a + b, result: (n: number) => n };

declarations('a windowed function resolves durations, defaults and owned resources', () => {
  const fn = defineFunction({
    ...base,
    key: (e: { k: string }) => e.k,
    time: eventTime({ timestamp: (e: { k: string; ts: number }) => e.ts, outOfOrderness: '5s', idleTimeout: '1m' }),
    window: sliding('10s', '1s'),
    allowedLateness: '30s',
    late: { topic: 'late-clicks', lifecycle: 'retain' },
    aggregate: count,
  });
  assert.ok(isFunctionDefinition(fn));
  const d = fn.declarations();
  assert.equal(d.source, { topic: 'clicks', format: 'json', startFrom: 'earliest' });
  assert.equal(d.window, {
    assigner: { kind: 'sliding', sizeMs: 10_000, slideMs: 1_000, offsetMs: 0 },
    time: { kind: 'event', outOfOrdernessMs: 5_000, idleTimeoutMs: 60_000 },
    allowedLatenessMs: 30_000,
    function: 'aggregate',
    merges: true,
  });
  assert.equal(d.sideOutputs.deadLetter, { topic: 'views-dead-letter', lifecycle: 'ephemeral', partitions: 1 });
  assert.equal(
    d.resources.map((r) => [r.name, r.role, r.owned, r.lifecycle]),
    [
      ['clicks', 'source', false, 'retain'],
      ['views', 'sink:out', true, 'ephemeral'],
      ['late-clicks', 'late', true, 'retain'],
      ['views-dead-letter', 'dead-letter', true, 'ephemeral'],
    ],
  );
});

declarations('a stateless function has no window and owns its sinks and dead-letter topic', () => {
  const d = defineFunction({ ...base, handle: (e: unknown) => e }).declarations();
  assert.is(d.window, null);
  assert.is(d.handle, true);
  assert.is(d.sideOutputs.late, null);
});

declarations('a handle gets async options in the manifest, defaults filled in; retryable() marks errors', () => {
  const plain = defineFunction({ ...base, handle: (e: unknown) => e }).declarations();
  assert.equal(plain.async, ASYNC_DEFAULTS);
  assert.equal(plain.async, { capacity: 100, timeoutMs: 30_000, ordered: true, retry: null });
  const declared = defineFunction({
    ...base,
    async: { capacity: 20, timeout: '2s', ordered: false, retry: { retries: 3, backoff: '50ms' } },
    handle: async (e: unknown) => e,
  }).declarations();
  assert.equal(declared.async, { capacity: 20, timeoutMs: 2_000, ordered: false, retry: { retries: 3, backoffMs: 50, maxBackoffMs: 10_000 } });
  assert.is(defineFunction({ ...base, key: (e: { k: string }) => e.k, time: processingTime(), window: tumbling('1m'), aggregate: count }).declarations().async, undefined);
  assert.equal([1, 2, 3, 4].map((n) => retryDelay({ retries: 5, backoffMs: 100, maxBackoffMs: 500 }, n)), [100, 200, 400, 500]);
  assert.ok(isRetryable(retryable(new Error('busy'))));
  assert.ok(isRetryable(retryable('busy')));
  assert.is(String(retryable('busy')), 'Error: busy');
  assert.not.ok(isRetryable(new Error('busy')));
});

declarations('window helpers build the declarations they name', () => {
  assert.equal(tumbling('1m', { offset: '5s' }), { kind: 'tumbling', size: '1m', offset: '5s' });
  assert.equal(session('30m'), { kind: 'session', gap: '30m' });
  assert.equal(processingTime(), { kind: 'processing' });
  assert.is(to('alerts', 1).sink, 'alerts');
});

declarations('a shared source, a bounded source and a lifetime reach the manifest', () => {
  const fn = defineFunction({ ...base, source: { topic: 'clicks', create: { partitions: 4 }, until: 'latest' }, lifetime: { ttl: '2h', idleTimeout: '15m' }, handle: (e: unknown) => e });
  const d = fn.declarations();
  assert.equal(d.source, { topic: 'clicks', format: 'json', startFrom: 'earliest', create: { partitions: 4 }, until: 'latest' });
  assert.equal(d.lifetime, { ttlMs: 7_200_000, idleTimeoutMs: 900_000 });
  assert.equal(d.resources[0], { kind: 'kafka-topic', name: 'clicks', role: 'source', owned: false, lifecycle: 'ephemeral' });
  const plain = defineFunction({ ...base, handle: (e: unknown) => e }).declarations();
  assert.equal(plain.source, { topic: 'clicks', format: 'json', startFrom: 'earliest' }, 'a source that must exist, unbounded');
  assert.is(plain.lifetime, undefined);
  assert.equal(defineFunction({ ...base, source: { topic: 'clicks', create: true }, handle: (e: unknown) => e }).declarations().source.create, { partitions: 1 });
});

declarations.run();

// ---
const invalid = suite('defineFunction rejects invalid declarations with path and hint');

const windowed = { ...base, key: (e: { k: string }) => e.k, time: processingTime(), window: tumbling('1m'), aggregate: count };

const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
  ['an unknown top-level key, with a suggestion', { ...windowed, windw: 1 }, 'windw', /Did you mean 'window'/],
  ['an unknown key inside a window', { ...windowed, window: { kind: 'tumbling', size: '1m', sise: 1 } }, 'window.sise', /Known options here/],
  ['a window without key', { ...windowed, key: undefined }, 'key', /windows are computed per key/],
  ['a session window without merge', { ...windowed, window: session('5m'), aggregate: { ...count, merge: undefined } }, 'aggregate.merge', /add merge/],
  ['a negative window size', { ...windowed, window: tumbling('-5s') }, 'window.size', /non-negative/],
  ['a zero window size', { ...windowed, window: tumbling(0) }, 'window.size', /longer than zero/],
  ['an offset not below the size', { ...windowed, window: tumbling('1m', { offset: '1m' }) }, 'window.offset', /below the size/],
  ['both aggregate and process', { ...windowed, process: () => 1 }, 'process', /either 'aggregate' or 'process'/],
  ['a window without aggregate or process', { ...windowed, aggregate: undefined }, 'aggregate', /aggregate or process/],
  ['a stateless function without handle', { ...base }, 'handle', /needs a handle/],
  ['a key without a window', { ...base, handle: (e: unknown) => e, key: () => 'k' }, 'key', /only applies to windowed functions/],
  ['allowed lateness with processing time', { ...windowed, allowedLateness: '5s' }, 'allowedLateness', /only applies to event time/],
  ['an invalid function name', { ...windowed, name: 'Page Views' }, 'name', /lower-case letters/],
  ['a sink writing to the source topic', { ...windowed, sinks: { out: { topic: 'clicks' } } }, 'sinks.out', /already used as the source topic/],
  ['no sinks', { ...windowed, sinks: {} }, 'sinks', /no sinks/],
  ['an invalid lifecycle', { ...windowed, sinks: { out: { topic: 'v', lifecycle: 'forever' } } }, 'sinks.out.lifecycle', /'ephemeral'.*'retain'/],
  ['an unknown source format', { ...windowed, source: { topic: 'a', format: 'xml' } }, 'source.format', /'json', 'string' or 'bytes'/],
  ['event time without a timestamp extractor', { ...windowed, time: { kind: 'event' } }, 'time.timestamp', /timestamp extractor/],
  ['a handle that is not a function', { ...base, handle: 'map' }, 'handle', /expected a function/],
  ['a source partition count that is not a whole number', { ...windowed, source: { topic: 'a', create: { partitions: 0 } } }, 'source.create.partitions', /at least 1/],
  ['an unknown key in source.create', { ...windowed, source: { topic: 'a', create: { partition: 2 } } }, 'source.create.partition', /Did you mean 'partitions'/],
  ['an end position other than latest', { ...windowed, source: { topic: 'a', until: 'end' } }, 'source.until', /'latest'/],
  ['a lifetime with an unknown key', { ...windowed, lifetime: { tll: '1h' } }, 'lifetime.tll', /Did you mean 'ttl'/],
  ['async options without a handle', { ...windowed, async: { capacity: 5 } }, 'async', /Only handle may be async/],
  ['an async capacity of zero', { ...base, handle: (e: unknown) => e, async: { capacity: 0 } }, 'async.capacity', /from 1 to 10000/],
  ['an async timeout of zero', { ...base, handle: (e: unknown) => e, async: { timeout: 0 } }, 'async.timeout', /longer than zero/],
  ['ordered that is not a boolean', { ...base, handle: (e: unknown) => e, async: { ordered: 'yes' } }, 'async.ordered', /ordered: false/],
  ['a misspelt retry option', { ...base, handle: (e: unknown) => e, async: { retry: { retires: 3 } } }, 'async.retry.retires', /Did you mean 'retries'/],
  ['retry without a number of retries', { ...base, handle: (e: unknown) => e, async: { retry: { backoff: '1s' } } }, 'async.retry.retries', /at least 1/],
  ['a max backoff below the backoff', { ...base, handle: (e: unknown) => e, async: { retry: { retries: 2, backoff: '2s', maxBackoff: '1s' } } }, 'async.retry.maxBackoff', /at least the backoff/],
  ['a lifetime that is not a duration', { ...windowed, lifetime: { idleTimeout: 'soon' } }, 'lifetime.idleTimeout', /duration|unit/i],
];

for (const [what, spec, path, hint] of cases) {
  invalid(what, () => {
    try {
      defineFunction(spec as unknown as FunctionSpec);
      assert.unreachable('accepted');
    } catch (error) {
      assert.ok(isDeclarationError(error), String(error));
      const declarationError = error as DeclarationError;
      assert.is(declarationError.path, path);
      assert.match(`${declarationError.message} ${declarationError.hint}`, hint);
    }
  });
}

invalid.run();
