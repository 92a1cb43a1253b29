/**
 * Calls a function's user code, one step at a time, and never lets an exception escape: a step either
 * succeeds or produces a dead letter. Accumulators and buffered window events cross this boundary as
 * JSON text, exactly as they are stored in Flink state, so the embedded engine and the sidecar give the
 * same results and a non-JSON accumulator fails in development, not in production.
 */
import { isUtf8 } from 'node:buffer';
import {
  ASYNC_DEFAULTS,
  isDeclarationError,
  isRetryable,
  isRouted,
  resolveSettings,
  retryDelay,
  secretEnvName,
  type ManifestSetting,
  type FunctionDeclarations,
  type ManifestAsync,
  type WindowBounds,
} from '@flinkfn/sdk';
import { MetricsRecorder } from './metrics.js';
import { userStack } from './user-stack.js';

/**
 * Why an event (or a window) went to the dead-letter output instead of a sink.
 *
 * @example
 * const letter: DeadLetter = { stage: 'handle', error: 'Error: boom', event: { id: 1 } };
 */
export interface DeadLetter {
  /** The step that failed. */
  stage: 'decode' | 'handle' | 'key' | 'timestamp' | 'create' | 'add' | 'merge' | 'result' | 'process' | 'output';
  /** `String(error)` of what the user code threw, or what was wrong with what it returned. */
  error: string;
  /**
   * Where the user's code threw: its frames in the function's own source files, source-mapped and relative to the
   * project (`priceOf (src/pricing.ts:12:7)`), innermost first. Absent when nothing was thrown there (a timeout, a
   * wrong return value).
   */
  stack?: string[];
  /** The event being handled (JSON-safe: bytes become base64). */
  event?: unknown;
  /** The undecodable record, for `decode` failures (text, or base64 for bytes). */
  raw?: string;
  key?: string;
  window?: WindowBounds;
  /**
   * Where the record was read, set by what runs the function (the Flink job; `flinkfn dev`), not by the host: on dead
   * letters of the record's own stage (decode, handle, key, timestamp), not on the window stage's (create, add, merge,
   * result, process), and not in tests.
   */
  source?: DeadLetterSource;
  /** When the dead letter was written (ISO 8601), set by what runs the function, like `source`. */
  at?: string;
}

/**
 * Where a dead letter's record came from: a Kafka record (on Flink: its topic, partition, offset and record timestamp
 * in epoch milliseconds), or a line of the input file of `flinkfn dev` (`-` for standard input), from 1.
 *
 * The Flink job adds `source` and `at` to the JSON the host made (the JVM never parses it); the golden example in
 * `packages/host/test/golden/dead-letter-context.json` is what both sides test against.
 */
export type DeadLetterSource =
  | { topic: string; partition: number; offset: number; timestamp: number }
  | { file: string; line: number };

/**
 * A value for a sink.
 *
 * @example
 * const output: Output = { sink: 'views', key: '/home', value: { views: 3 } };
 */
export interface Output {
  sink: string;
  /** Kafka record key: the window key for window results, null for stateless outputs. */
  key: string | null;
  value: unknown;
  /** The value as it is written to Kafka; null for handle outputs that go into a window. */
  json: string | null;
}

/**
 * The outcome of one step.
 *
 * @example
 * const step = host.keyOf(event); if (step.ok) use(step.value); else deadLetters.push(step.deadLetter);
 */
export type Step<T> = { ok: true; value: T } | { ok: false; deadLetter: DeadLetter };

/** An accumulator as a value between adds; `created` stays false until an add into a created one has succeeded. */
export interface LiveAccumulator {
  value: unknown;
  created: boolean;
}

type Fn = (...args: never[]) => unknown;
interface Callable {
  handle?: Fn;
  key?: Fn;
  time?: { timestamp?: Fn };
  aggregate?: { create: Fn; add: Fn; merge?: Fn; result: Fn };
  process?: Fn;
}

/**
 * Steps of one loaded function.
 *
 * @example
 * const host = new FunctionHost(manifest, definition.spec);
 * const decoded = host.decode('{"page":"/"}');
 */
export class FunctionHost {
  readonly manifest: FunctionDeclarations;
  private readonly spec: Callable;
  private readonly sinkNames: ReadonlySet<string>;
  private readonly defaultSink: string;
  /** What user code records through `ctx.metrics`; drained by the engine and the sidecar. */
  readonly metrics = new MetricsRecorder();
  /** How a handle that returns a Promise runs (timeout, retries); capacity and order are the runtime's business. */
  readonly async: ManifestAsync;

  private settingValues: Readonly<Record<string, string>>;

  /**
   * `spec` is the declaration object given to defineFunction (`definition.spec`). `settings` are the values of its
   * declared settings (defaults fill the rest); without them, a function whose settings all have defaults runs with
   * those, and one with required settings waits for {@link configure} (the sidecar's HELLO).
   */
  constructor(manifest: FunctionDeclarations, spec: object, settings?: Readonly<Record<string, string>>) {
    this.manifest = manifest;
    this.spec = spec as Callable;
    this.sinkNames = new Set(manifest.sinks.map((s) => s.name));
    this.defaultSink = manifest.sinks[0]?.name ?? 'main';
    this.async = manifest.async ?? ASYNC_DEFAULTS;
    this.settingValues = NOT_CONFIGURED;
    if (settings !== undefined || (manifest.settings ?? []).every((s) => s.default !== null)) this.configure(settings ?? {});
  }

  /**
   * Sets the values user code reads through `ctx.settings`: `given` over the declared defaults. Throws a
   * SettingsError (from the SDK) naming missing or undeclared settings; `howToGive` is its hint.
   */
  configure(given: Readonly<Record<string, string>>, howToGive: (missing: readonly ManifestSetting[]) => string = genericHint): void {
    this.settingValues = Object.freeze(resolveSettings(this.manifest.settings ?? [], given, howToGive));
  }

  /**
   * Whether a windowed function's events reach its window as their source records hold them: JSON records and no
   * `handle`. The sidecar then forwards each record's bytes instead of serializing the parsed event again: the window
   * parses them into an equal value (but for numbers JSON text holds and a double does not: `1e400` is Infinity
   * there, where serializing would have made it null). Both runtimes take the window's event before `key` and `time`
   * run, so what those change in it never reaches the window.
   */
  get windowSeesSourceRecords(): boolean {
    return this.manifest.window !== null && this.spec.handle === undefined && this.manifest.source.format === 'json';
  }

  /** The values of the declared settings (secrets included). */
  get settings(): Readonly<Record<string, string>> {
    return this.settingValues;
  }

  /** Turns a source record into the event a handler sees, per the source format. */
  decode(raw: string | Uint8Array): Step<unknown> {
    const format = this.manifest.source.format;
    if (format === 'bytes') return { ok: true, value: typeof raw === 'string' ? new TextEncoder().encode(raw) : raw };
    if (typeof raw === 'string') return format === 'string' ? { ok: true, value: raw } : parseJson(raw);
    const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    return this.decodeRange(bytes, 0, bytes.length);
  }

  /**
   * `decode(bytes.subarray(start, end))`, without making that view unless the record is kept as bytes: the sidecar
   * decodes records straight from the request frame.
   */
  decodeRange(bytes: Buffer, start: number, end: number): Step<unknown> {
    const format = this.manifest.source.format;
    if (format === 'bytes') return { ok: true, value: bytes.subarray(start, end) };
    // Decoding replaces every byte sequence that is not UTF-8 with U+FFFD, so a text without one came from valid
    // UTF-8 and needs no check of its own (indexOf answers at once on Latin-1 text); only a text with one, rare, is
    // checked byte by byte. The same answers as isUtf8 before decoding, without its pass over every record.
    const text = bytes.toString('utf8', start, end);
    if (text.indexOf('\uFFFD') !== -1) {
      const record = bytes.subarray(start, end);
      if (!isUtf8(record)) return fail({ stage: 'decode', error: 'record is not valid UTF-8', raw: record.toString('base64') });
    }
    return format === 'string' ? { ok: true, value: text } : parseJson(text);
  }

  /**
   * Runs `handle` (or passes the event through when there is none). For windowed functions the outputs
   * are the window's events and cannot be routed; for stateless ones they go to sinks.
   *
   * A handler that returns a Promise (or throws an error marked retryable, with retries declared) makes the step a
   * Promise: it settles with the outputs, or with a dead letter when the handler fails, when its retries are used
   * up, or when `async.timeout` passes (then `ctx.signal` is aborted and a later result is ignored). It never
   * rejects. Everything synchronous stays synchronous, so sync handlers pay nothing for async ones.
   */
  handle(event: unknown): Step<Output[]> | Promise<Step<Output[]>> {
    const handle = this.spec.handle;
    if (!handle) {
      if (this.manifest.window !== null) return { ok: true, value: [{ sink: this.defaultSink, key: null, value: event, json: null }] };
      return this.outputs(event, null, false);
    }
    const context = new EventContext(this.manifest.source.topic, this.metrics, 1, this.settingValues);
    let returned: unknown;
    try {
      returned = (handle as (e: unknown, c: unknown) => unknown)(event, context);
    } catch (error) {
      if (this.async.retry !== null && isRetryable(error)) {
        return this.settle(event, Promise.reject(error), context, Date.now());
      }
      return fail({ stage: 'handle', ...thrown(error, errorText(error)), event: jsonSafe(event) });
    }
    if (isThenable(returned) || hasNestedThenable(returned)) return this.settle(event, Promise.resolve(returned), context, Date.now());
    return this.handled(event, returned);
  }

  /** The outputs of what `handle` returned (synchronously, or what its Promise resolved to). */
  private handled(event: unknown, returned: unknown): Step<Output[]> {
    const outputs = this.outputs(returned, null, this.manifest.window !== null);
    if (!outputs.ok) return fail({ ...outputs.deadLetter, event: jsonSafe(event) });
    return outputs;
  }

  /**
   * Waits for an async handle: its attempts (retrying errors marked retryable, with backoff) within one timeout
   * that counts from the first call, as Flink's AsyncWaitOperator counts it.
   */
  private async settle(event: unknown, first: PromiseLike<unknown>, firstContext: EventContext, startedAt: number): Promise<Step<Output[]>> {
    const { timeoutMs, retry } = this.async;
    const deadline = startedAt + timeoutMs;
    let context = firstContext;
    let pending: PromiseLike<unknown> = first;
    for (;;) {
      const outcome = await within(pending, deadline, (value) => resolveNested(value));
      if (outcome.kind === 'value') return this.handled(event, outcome.value);
      if (outcome.kind === 'timeout') {
        context.abort(new Error(`timed out after ${timeoutMs} ms`));
        return fail({ stage: 'handle', error: `timed out after ${timeoutMs} ms${attempts(context.attempt)}`, event: jsonSafe(event) });
      }
      const error = outcome.error;
      if (retry === null || !isRetryable(error)) {
        return fail({ stage: 'handle', ...thrown(error, `${errorText(error)}${attempts(context.attempt)}`), event: jsonSafe(event) });
      }
      if (context.attempt > retry.retries) {
        return fail({ stage: 'handle', ...thrown(error, `${errorText(error)} (retries used up: ${context.attempt} attempts)`), event: jsonSafe(event) });
      }
      const wait = retryDelay(retry, context.attempt);
      if (Date.now() + wait >= deadline) {
        // The backoff would end after the timeout: the event times out when the timeout passes, not earlier.
        await sleepUntil(deadline);
        return fail({
          stage: 'handle',
          error: `timed out after ${timeoutMs} ms${attempts(context.attempt)}, waiting to retry ${errorText(error)}`,
          event: jsonSafe(event),
        });
      }
      await sleepUntil(Date.now() + wait);
      context = new EventContext(this.manifest.source.topic, this.metrics, context.attempt + 1, this.settingValues);
      try {
        const returned = (this.spec.handle as (e: unknown, c: unknown) => unknown)(event, context);
        pending = isThenable(returned) ? returned : Promise.resolve(returned);
      } catch (thrown) {
        pending = Promise.reject(thrown);
      }
    }
  }

  /** The event's key as a string. */
  keyOf(event: unknown): Step<string> {
    let key: unknown;
    try {
      key = (this.spec.key as (e: unknown) => unknown)(event);
    } catch (error) {
      return fail({ stage: 'key', ...thrown(error, String(error)), event: jsonSafe(event) });
    }
    if (isThenable(key)) return fail({ stage: 'key', error: notAsync('key()', key), event: jsonSafe(event) });
    if (typeof key === 'string') return { ok: true, value: key };
    if (typeof key === 'number' && Number.isFinite(key)) return { ok: true, value: String(key) };
    return fail({
      stage: 'key',
      error: `key() returned ${describe(key)}; expected a string or a finite number`,
      event: jsonSafe(event),
    });
  }

  /** The event's timestamp in epoch milliseconds (event time only). */
  timestampOf(event: unknown): Step<number> {
    let timestamp: unknown;
    try {
      timestamp = (this.spec.time?.timestamp as (e: unknown) => unknown)(event);
    } catch (error) {
      return fail({ stage: 'timestamp', ...thrown(error, String(error)), event: jsonSafe(event) });
    }
    if (isThenable(timestamp)) {
      return fail({ stage: 'timestamp', error: notAsync('time.timestamp()', timestamp), event: jsonSafe(event) });
    }
    const ms = timestamp instanceof Date ? timestamp.getTime() : timestamp;
    if (typeof ms === 'number' && Number.isSafeInteger(ms)) return { ok: true, value: ms };
    return fail({
      stage: 'timestamp',
      error: `timestamp() returned ${describe(timestamp)}; expected whole epoch milliseconds or a valid Date`,
      event: jsonSafe(event),
    });
  }

  /** A new accumulator, as JSON text. */
  create(event: unknown): Step<string> {
    return this.accumulate('create', () => this.aggregate().create(), { event: jsonSafe(event) });
  }

  /** `add(accumulator, event)`, accumulator as JSON text in and out. */
  add(accumulator: string, event: unknown): Step<string> {
    return this.accumulate('add', () => this.aggregate().add(JSON.parse(accumulator) as never, event as never), {
      event: jsonSafe(event),
    });
  }

  /** `merge(a, b)` of two JSON-text accumulators. */
  merge(a: string, b: string, key: string, window: WindowBounds): Step<string> {
    const merge = this.aggregate().merge;
    if (!merge) return fail({ stage: 'merge', error: 'the accumulator has no merge function', key, window });
    return this.accumulate('merge', () => merge(JSON.parse(a) as never, JSON.parse(b) as never), { key, window });
  }

  /** The window result(s) of an accumulator. */
  result(accumulator: string, key: string, window: WindowBounds): Step<Output[]> {
    return this.resultOf(JSON.parse(accumulator) as unknown, key, window);
  }

  /** The window result(s) of an accumulator given as a value (one kept between adds, never serialized). */
  resultOf(accumulator: unknown, key: string, window: WindowBounds): Step<Output[]> {
    let returned: unknown;
    try {
      returned = this.aggregate().result(accumulator as never, { key, window, metrics: this.metrics, settings: this.settingValues } as never);
    } catch (error) {
      return fail({ stage: 'result', ...thrown(error, errorText(error)), key, window: { ...window } });
    }
    if (isThenable(returned)) return fail({ stage: 'result', error: notAsync('aggregate.result()', returned), key, window: { ...window } });
    return this.withContext(this.outputs(returned, key, false), key, window);
  }

  /** The window result(s) of a whole window's events (each given as JSON text). */
  process(events: readonly string[], key: string, window: WindowBounds): Step<Output[]> {
    let returned: unknown;
    try {
      const parsed = events.map((e) => JSON.parse(e) as unknown);
      returned = (this.spec.process as (e: unknown, c: unknown) => unknown)(parsed, { key, window: { start: window.start, end: window.end }, metrics: this.metrics, settings: this.settingValues });
    } catch (error) {
      return fail({ stage: 'process', ...thrown(error, errorText(error)), key, window: { ...window } });
    }
    if (isThenable(returned)) return fail({ stage: 'process', error: notAsync('process()', returned), key, window: { ...window } });
    return this.withContext(this.outputs(returned, key, false), key, window);
  }

  /** An event as JSON text for list state, or a dead letter if it is not JSON-serializable. */
  serializeEvent(event: unknown): Step<string> {
    try {
      const text = JSON.stringify(event);
      if (text === undefined) throw new TypeError(`${describe(event)} is not JSON-serializable`);
      return { ok: true, value: text };
    } catch (error) {
      return fail({ stage: 'handle', error: `window events must be JSON: ${messageOf(error)}`, event: jsonSafe(event) });
    }
  }

  private aggregate(): NonNullable<Callable['aggregate']> {
    const aggregate = this.spec.aggregate;
    if (!aggregate) throw new Error(`function ${this.manifest.name} has no aggregate`);
    return aggregate;
  }

  private accumulate(
    stage: 'create' | 'add' | 'merge',
    call: () => unknown,
    context: Omit<DeadLetter, 'stage' | 'error'>,
  ): Step<string> {
    let accumulator: unknown;
    try {
      accumulator = call();
    } catch (error) {
      return fail({ stage, ...thrown(error, String(error)), ...context });
    }
    if (isThenable(accumulator)) return fail({ stage, error: notAsync(`aggregate.${stage}()`, accumulator), ...context });
    let text: string | undefined;
    try {
      text = JSON.stringify(accumulator);
    } catch (error) {
      return fail({ stage, error: `the accumulator is not JSON-serializable: ${messageOf(error)}`, ...context });
    }
    if (text === undefined) {
      return fail({ stage, error: `${stage}() returned ${describe(accumulator)}; accumulators must be JSON values`, ...context });
    }
    // The sidecar keeps an accumulator as an object across the adds of one bundle and serializes it once; that
    // equals serializing after every add only for plain JSON values, so the step-by-step path insists on them.
    const problem = notPlainJson(accumulator, '');
    if (problem !== undefined) {
      return fail({ stage, error: `accumulators must be plain JSON values: ${problem}`, ...context });
    }
    return { ok: true, value: text };
  }

  /**
   * `create` (when there is no accumulator yet) and `add` for several events, parsing the accumulator once and
   * serializing it once. Events whose create/add throws become dead letters and leave the accumulator as it was; an
   * accumulator is created for an event and kept once its add succeeds, so a window (or slice) that only failing
   * events reached holds none and fires nothing, as in the engine.
   */
  addAll(accumulator: string | null, events: readonly unknown[]): { accumulator: string | null; deadLetters: DeadLetter[] } {
    const live = this.liveAccumulator(accumulator);
    const deadLetters: DeadLetter[] = [];
    this.addInto(live, events, deadLetters);
    if (!live.created) return { accumulator: null, deadLetters };
    const text = this.serializeAccumulator(live, deadLetters);
    return { accumulator: text ?? accumulator, deadLetters };
  }

  /** An accumulator as a value to add into, from its JSON text (null: none yet, the first add creates one). */
  liveAccumulator(accumulator: string | null): LiveAccumulator {
    return accumulator === null ? { value: undefined, created: false } : { value: JSON.parse(accumulator) as unknown, created: true };
  }

  /** `create` (when there is no accumulator yet) and `add` of each event into `live`; failures become dead letters. */
  addInto(live: LiveAccumulator, events: readonly unknown[], deadLetters: DeadLetter[]): void {
    const aggregate = this.aggregate();
    for (const event of events) {
      let base = live.value;
      if (!live.created) {
        let createdValue: unknown;
        try {
          createdValue = aggregate.create();
        } catch (error) {
          deadLetters.push({ stage: 'create', ...thrown(error, String(error)), event: jsonSafe(event) });
          continue;
        }
        if (isThenable(createdValue)) {
          deadLetters.push({ stage: 'create', error: notAsync('aggregate.create()', createdValue), event: jsonSafe(event) });
          continue;
        }
        base = createdValue;
      }
      let added: unknown;
      try {
        added = aggregate.add(base as never, event as never);
      } catch (error) {
        deadLetters.push({ stage: 'add', ...thrown(error, String(error)), event: jsonSafe(event) });
        continue;
      }
      if (isThenable(added)) {
        deadLetters.push({ stage: 'add', error: notAsync('aggregate.add()', added), event: jsonSafe(event) });
        continue;
      }
      live.value = added;
      live.created = true; // only now: an accumulator whose first add failed is not kept
    }
  }

  /** The JSON text of a created accumulator, or undefined with a dead letter when it is not JSON. */
  serializeAccumulator(live: LiveAccumulator, deadLetters: DeadLetter[]): string | undefined {
    let text: string | undefined;
    try {
      text = JSON.stringify(live.value);
    } catch {
      text = undefined;
    }
    if (text === undefined) {
      deadLetters.push({ stage: 'add', error: `the accumulator is not JSON-serializable (${describe(live.value)}); accumulators must be JSON values` });
    }
    return text;
  }

  private outputs(returned: unknown, key: string | null, intoWindow: boolean): Step<Output[]> {
    const outputs: Output[] = [];
    // One value (the common case) without an array around it.
    if (!Array.isArray(returned)) {
      const problem = this.output(outputs, returned, key, intoWindow);
      return problem ?? { ok: true, value: outputs };
    }
    for (const item of returned as unknown[]) {
      const problem = this.output(outputs, item, key, intoWindow);
      if (problem !== undefined) return problem;
    }
    return { ok: true, value: outputs };
  }

  /** Adds one returned item (nothing for undefined or null) to `outputs`, or answers why it cannot be one. */
  private output(outputs: Output[], item: unknown, key: string | null, intoWindow: boolean): Step<Output[]> | undefined {
    if (item === undefined || item === null) return undefined;
    if (isRouted(item)) {
      if (intoWindow) {
        return fail({
          stage: 'output',
          error: `handle() routed a value to sink '${item.sink}', but in a windowed function handle's outputs are the window's events; route window results instead`,
        });
      }
      if (!this.sinkNames.has(item.sink)) {
        return fail({
          stage: 'output',
          error: `to('${item.sink}', ...) names no declared sink; declared sinks: ${[...this.sinkNames].join(', ')}`,
        });
      }
      const json = intoWindow ? null : toJson(item.value);
      if (json === undefined) return notJson(item.value);
      outputs.push({ sink: item.sink, key, value: item.value, json });
    } else {
      const json = intoWindow ? null : toJson(item);
      if (json === undefined) return notJson(item);
      outputs.push({ sink: this.defaultSink, key, value: item, json });
    }
    return undefined;
  }

  private withContext(step: Step<Output[]>, key: string, window: WindowBounds): Step<Output[]> {
    return step.ok ? step : fail({ ...step.deadLetter, key, window: { ...window } });
  }
}

/** Where the settings were never given: reading one is an error that names the way to give them. */
const NOT_CONFIGURED: Readonly<Record<string, string>> = new Proxy(Object.freeze({}), {
  get(_target, property) {
    if (typeof property === 'symbol' || property === 'then' || property === 'toJSON') return undefined;
    throw new Error(`ctx.settings.${property}: the function's settings were not given to the host (a runner that calls FunctionHost.configure() first is needed)`);
  },
});

function genericHint(missing: readonly ManifestSetting[]): string {
  const first = missing[0]!;
  return first.secret
    ? `Give it in the environment variable ${secretEnvName(first.name)} (or in .dev.vars for flinkfn dev, or harness(fn, { settings: { ${first.name}: '...' } }) in tests).`
    : `Give it with --set ${first.name}=<value> (flinkfn dev, flinkfn deploy), under "settings" of the target in flinkfn.config.json, or harness(fn, { settings: { ${first.name}: '...' } }) in tests.`;
}

/**
 * The per-call context of `handle`: topic, metrics, the attempt number, and an AbortSignal made on first use (most
 * handlers never touch it) that the timeout aborts.
 */
class EventContext {
  private controller: AbortController | undefined;
  private abortedWith: Error | undefined;

  constructor(
    readonly topic: string,
    readonly metrics: MetricsRecorder,
    readonly attempt: number,
    readonly settings: Readonly<Record<string, string>>,
  ) {}

  get signal(): AbortSignal {
    if (this.abortedWith !== undefined && this.controller === undefined) return AbortSignal.abort(this.abortedWith);
    return (this.controller ??= new AbortController()).signal;
  }

  abort(reason: Error): void {
    this.abortedWith = reason;
    this.controller?.abort(reason);
  }
}

type Outcome = { kind: 'value'; value: unknown } | { kind: 'error'; error: unknown } | { kind: 'timeout' };

/**
 * Waits for `pending` (then `then` on its value) until `deadline` (epoch ms). A result that comes later is dropped;
 * the handlers stay attached, so a late rejection is never an unhandled one.
 */
function within(pending: PromiseLike<unknown>, deadline: number, then: (value: unknown) => Promise<unknown>): Promise<Outcome> {
  return new Promise<Outcome>((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), Math.max(0, deadline - Date.now()));
    Promise.resolve(pending).then(then).then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: 'value', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: 'error', error });
      },
    );
  });
}

/**
 * What an async handle resolved to, with Promises one level down awaited too: an array of Promises
 * (`events.map(async ...)`) and `to(sink, promise)`.
 */
async function resolveNested(value: unknown): Promise<unknown> {
  if (!hasNestedThenable(value)) return value;
  if (Array.isArray(value)) return Promise.all(value.map((item) => resolveItem(item)));
  return resolveItem(value);
}

/** Whether a handle result holds a Promise one level down (checked on the sync path: a cheap scan). */
function hasNestedThenable(value: unknown): boolean {
  if (Array.isArray(value)) {
    for (const item of value) if (isThenable(item) || (isRouted(item) && isThenable(item.value))) return true;
    return false;
  }
  return isRouted(value) && isThenable(value.value);
}

async function resolveItem(item: unknown): Promise<unknown> {
  if (isThenable(item)) return item;
  if (isRouted(item) && isThenable(item.value)) {
    const value = await item.value;
    return Object.assign(Object.create(Object.getPrototypeOf(item) as object) as object, { sink: item.sink, value });
  }
  return item;
}

function sleepUntil(time: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, time - Date.now())));
}

function attempts(attempt: number): string {
  return attempt > 1 ? ` (${attempt} attempts)` : '';
}

/** Whether a value is a Promise or another thenable: what an async function returns. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null
    && typeof (value as { then?: unknown }).then === 'function';
}

/** The dead-letter text for a Promise where only a value is allowed; the Promise's rejection is handled. */
function notAsync(callback: string, promise: PromiseLike<unknown>): string {
  Promise.resolve(promise).then(undefined, () => undefined);
  return `${callback} returned a Promise; only handle may be async. Make ${callback.replace('()', '')} return its value directly`
    + ' (do the asynchronous work in handle and put its result on the event)';
}

/** Where a value stops being plain JSON (a Date, a Map, undefined, NaN, a class instance), or undefined if it is. */
function notPlainJson(value: unknown, path: string): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : `${String(value)} at ${path || 'the top'}`;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = notPlainJson(value[i], `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const prototype = Object.getPrototypeOf(value) as unknown;
    if (prototype !== Object.prototype && prototype !== null) {
      return `a ${(value as object).constructor?.name ?? 'class instance'} at ${path || 'the top'}`;
    }
    for (const [key, field] of Object.entries(value)) {
      const problem = notPlainJson(field, `${path}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return `${describe(value)} at ${path || 'the top'}`;
}

function parseJson(text: string): Step<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return fail({ stage: 'decode', error: 'record is not valid JSON', raw: text });
  }
}

/** JSON text of a value for a sink, or undefined when it has none (undefined, a function, a cycle, a BigInt). */
function toJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function notJson<T>(value: unknown): Step<T> {
  return fail({ stage: 'output', error: `an output is not JSON-serializable (${describe(value)}); sinks receive JSON` });
}

function fail<T>(deadLetter: DeadLetter): Step<T> {
  return { ok: false, deadLetter };
}

/** A dead letter's `error` text for what user code threw, with the user's stack frames when there are any. */
function thrown(error: unknown, text: string): Pick<DeadLetter, 'error' | 'stack'> {
  const stack = userStack(error);
  return stack === undefined ? { error: text } : { error: text, stack };
}

/**
 * What user code threw, as a dead letter says it; a DeclarationError (a bad metric name) with its hint, an error with
 * a cause (fetch's `TypeError: fetch failed` hides why: a refused or reset connection) with that cause.
 */
function errorText(error: unknown): string {
  if (isDeclarationError(error)) return `${String(error)} (${error.hint})`;
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  return cause === undefined ? String(error) : `${String(error)} (cause: ${String(cause)})`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'number') return `the number ${value}`;
  if (value instanceof Date) return 'an invalid Date';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** A value that can be written as JSON: bytes become base64. */
export function jsonSafe(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}
