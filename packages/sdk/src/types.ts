import type { AsyncDeclaration } from './async.js';
import type { Duration } from './duration.js';
import type { SettingsDeclaration, SettingsOf } from './settings.js';

/**
 * What happens to a resource the function creates when the function is destroyed:
 * `ephemeral` (the default) deletes it, `retain` keeps it.
 *
 * @example
 * const results: TopicDeclaration = { topic: 'page-views', lifecycle: 'retain' };
 */
export type Lifecycle = 'ephemeral' | 'retain';

/**
 * How the bytes of a source record become the `event` a handler sees:
 * `json` parses UTF-8 JSON (malformed records go to the dead-letter output),
 * `string` passes UTF-8 text, `bytes` passes a `Uint8Array`.
 *
 * @example
 * const source: SourceDeclaration = { topic: 'clicks', format: 'json' };
 */
export type SourceFormat = 'json' | 'string' | 'bytes';

/**
 * The Kafka topic a function reads. Deployments attach to it and detach when they end; the function never
 * owns it. A missing source topic is an error, unless `create` says the function may create it: then it is a
 * shared topic that the first deployment creates and the last one to detach deletes.
 *
 * @example
 * const source: SourceDeclaration = { topic: 'clicks', format: 'json', startFrom: 'earliest' };
 * const shared: SourceDeclaration = { topic: 'sensor-readings', create: { partitions: 4 } };
 */
export interface SourceDeclaration {
  /** Kafka topic to read; it must exist unless `create` is given. */
  topic: string;
  /** Record format; default `json`. */
  format?: SourceFormat;
  /** Where a new deployment starts reading; default `earliest`. */
  startFrom?: 'earliest' | 'latest';
  /** Create the topic when it is missing (`true`: one partition). It is deleted when the last deployment using it ends. */
  create?: boolean | { partitions?: number };
  /** `'latest'`: a bounded function that reads up to the offsets at its start and then finishes (and is torn down). */
  until?: 'latest';
}

/**
 * How long a deployment of the function may live. When either limit passes, flinkfn stops the function and
 * releases what it created, as `flinkfn destroy` would. `flinkfn deploy --ttl/--idle-timeout` override it.
 *
 * @example
 * const lifetime: LifetimeDeclaration = { ttl: '2h', idleTimeout: '15m' };
 */
export interface LifetimeDeclaration {
  /** Time to live from the deploy. */
  ttl?: Duration;
  /** Stop after this long without an input record. */
  idleTimeout?: Duration;
}

/**
 * A Kafka topic the function writes and creates (results, late data, dead letters).
 *
 * @example
 * const sink: TopicDeclaration = { topic: 'alerts', lifecycle: 'retain', partitions: 3 };
 */
export interface TopicDeclaration {
  /** Topic name. */
  topic: string;
  /** `ephemeral` (default) or `retain`. */
  lifecycle?: Lifecycle;
  /** Partitions when the topic is created; default 1. */
  partitions?: number;
}

/**
 * Tumbling windows: fixed size, no overlap, aligned to the epoch plus `offset`.
 *
 * @example
 * const everyMinute: TumblingWindow = { kind: 'tumbling', size: '1m' };
 */
export interface TumblingWindow {
  kind: 'tumbling';
  size: Duration;
  offset?: Duration;
}

/**
 * Sliding windows: `size` long, a new one every `slide`; an event belongs to every window that covers it.
 *
 * @example
 * const lastTenSeconds: SlidingWindow = { kind: 'sliding', size: '10s', slide: '1s' };
 */
export interface SlidingWindow {
  kind: 'sliding';
  size: Duration;
  slide: Duration;
  offset?: Duration;
}

/**
 * Session windows: a key's events closer than `gap` belong to one session; sessions merge when an
 * event bridges them, so the accumulator must define `merge`.
 *
 * @example
 * const visits: SessionWindow = { kind: 'session', gap: '30m' };
 */
export interface SessionWindow {
  kind: 'session';
  gap: Duration;
}

/**
 * One of the window kinds; build them with `tumbling`, `sliding` or `session`.
 *
 * @example
 * const window: WindowDeclaration = tumbling('1m');
 */
export type WindowDeclaration = TumblingWindow | SlidingWindow | SessionWindow;

/**
 * Event time: windows follow timestamps taken from the events and a bounded out-of-orderness watermark
 * (max timestamp seen − bound − 1 ms, as Flink computes it).
 *
 * @example
 * const time: EventTime<Click> = eventTime({ timestamp: (click) => click.ts, outOfOrderness: '5s' });
 */
export interface EventTime<E> {
  kind: 'event';
  /** Epoch milliseconds (or a `Date`) of an event. */
  timestamp: (event: E) => number | Date;
  /** How late an event may arrive relative to the newest one seen; default 0. */
  outOfOrderness?: Duration;
  /** Mark a source partition idle after this long without events so it does not hold the watermark back. */
  idleTimeout?: Duration;
}

/**
 * Processing time: windows follow the clock of the machine that runs the function.
 *
 * @example
 * const time: ProcessingTime = processingTime();
 */
export interface ProcessingTime {
  kind: 'processing';
}

/**
 * A window's bounds in epoch milliseconds: `start` inclusive, `end` exclusive.
 *
 * @example
 * const window: WindowBounds = { start: 60_000, end: 120_000 };
 */
export interface WindowBounds {
  start: number;
  end: number;
}

/**
 * A counter a handler increments; on Flink a Flink `Counter` of the function's operator. Increments are whole
 * numbers ≥ 0.
 *
 * @example
 * ctx.metrics.counter('orders').inc();
 * ctx.metrics.counter('items').inc(order.items.length);
 */
export interface MetricCounter {
  /** Adds `n` (default 1): a whole number ≥ 0. */
  inc(n?: number): void;
}

/**
 * A gauge: the last value set wins; on Flink a Flink `Gauge` of the function's operator.
 *
 * @example
 * ctx.metrics.gauge('queue-depth').set(event.queue.length);
 */
export interface MetricGauge {
  /** Sets the value: a finite number. */
  set(value: number): void;
}

/**
 * A histogram of values (sizes, durations); on Flink a Flink `Histogram` of the function's operator (count,
 * min, max, mean, quantiles over the recent values). Flink histograms hold whole numbers, so values are rounded to
 * the nearest integer everywhere (in `dev` and the test harness too).
 *
 * @example
 * ctx.metrics.histogram('basket-size').update(order.items.length);
 */
export interface MetricHistogram {
  /** Records one value: a finite number, rounded to an integer. */
  update(value: number): void;
}

/**
 * The handler's own metrics. A name is letters, digits, `_` and `-`, starting with a letter, at most 64
 * characters, and belongs to one kind; a bad name throws a DeclarationError at its first use (the event goes to
 * the dead-letter output). On Flink they are metrics of the function's operators in the group `flinkfn`
 * (`<operator>.flinkfn.<name>`), per subtask, for as long as the job runs.
 *
 * @example
 * handle(order, ctx) {
 *   ctx.metrics.counter('orders').inc();
 *   ctx.metrics.histogram('order-total-cents').update(order.totalCents);
 *   return order;
 * }
 */
export interface Metrics {
  counter(name: string): MetricCounter;
  gauge(name: string): MetricGauge;
  histogram(name: string): MetricHistogram;
}

/**
 * What a window function learns about the window it computes.
 *
 * @example
 * const result = (count: number, { key, window }: WindowContext) => ({ page: key, count, start: window.start });
 */
export interface WindowContext<S = Readonly<Record<string, string>>> {
  /** The key, as a string (numbers are converted). */
  key: string;
  window: WindowBounds;
  /** The function's own counters, gauges and histograms. */
  metrics: Metrics;
  /** The values of the declared `settings` (secrets included). */
  readonly settings: S;
}

/**
 * What a stateless handler learns about the record it handles.
 *
 * @example
 * handle(event, ctx) { return { ...event, from: ctx.topic }; }
 */
export interface HandleContext<S = Readonly<Record<string, string>>> {
  /** Source topic of the record. */
  topic: string;
  /**
   * The values of the declared `settings` (secrets included), the same in `flinkfn dev`, the test harness and on
   * Flink. Read them here, not from `process.env`, which is the TaskManager's environment on Flink.
   */
  readonly settings: S;
  /** The function's own counters, gauges and histograms. */
  metrics: Metrics;
  /**
   * Aborted when the event's `async.timeout` passes (its result is then ignored): pass it to `fetch` and other
   * calls that accept an AbortSignal, so abandoned requests stop.
   */
  readonly signal: AbortSignal;
  /** Which attempt this is: 1, then 2, 3 … when `async.retry` retries an error marked `retryable`. */
  readonly attempt: number;
}

/**
 * A value sent to a named sink instead of the first one; build it with `to(sink, value)`.
 *
 * @example
 * const routed: Routed<Alert> = to('alerts', alert);
 */
export interface Routed<T> {
  readonly [ROUTED]: true;
  readonly sink: string;
  readonly value: T;
}

/** Marks routed values; a registered symbol so two copies of the SDK agree. */
export const ROUTED: unique symbol = Symbol.for('flinkfn.routed') as never;

/**
 * What a handler or window function may return: nothing (filter), one value, or an array of values
 * (each emitted on its own). Wrap a value in `to(sink, value)` to send it to a sink other than the first.
 *
 * @example
 * const none: Emit<number> = undefined; const many: Emit<number> = [1, 2];
 */
export type Emit<T> = T | Routed<T> | ReadonlyArray<T | Routed<T>> | undefined | null | void;

/**
 * What `handle` may return: an {@link Emit}, a Promise of one (an `async` handler), or an array whose items may be
 * Promises (`events.map(async ...)`, `to(sink, promise)`). Only `handle` may be async; window callbacks (`key`,
 * `timestamp`, `aggregate`, `process`) must return their value directly.
 *
 * @example
 * handle: async (order) => ({ ...order, customer: await lookUp(order.customerId) })
 */
export type HandleResult<T> =
  | Emit<T>
  | PromiseLike<Emit<T>>
  | ReadonlyArray<T | Routed<T> | PromiseLike<T | Routed<T>> | Routed<PromiseLike<T>>>;

/**
 * The accumulator contract of a window: Flink stores only the accumulator (as JSON) and calls these
 * functions to update it. `merge` is required for session windows; it must be associative and
 * commutative because merge order is not defined.
 *
 * @example
 * const count: Aggregate<Click, number, { page: string; views: number }> = {
 *   create: () => 0,
 *   add: (n) => n + 1,
 *   merge: (a, b) => a + b,
 *   result: (views, { key }) => ({ page: key, views }),
 * };
 */
export interface Aggregate<E, A, R, S = Readonly<Record<string, string>>> {
  create: () => A;
  add: (accumulator: A, event: E) => A;
  merge?: (a: A, b: A) => A;
  result: (accumulator: A, context: WindowContext<S>) => Emit<R>;
}

/**
 * A function declaration. Two shapes are valid, and `defineFunction` checks which one you wrote:
 *
 * - **stateless**: `handle` maps, filters or flat-maps each event to the sinks (no `window`);
 * - **windowed**: optional `handle` first (its outputs are the window's events), then `key`, `time`,
 *   `window` and either `aggregate` or `process`.
 *
 * Type parameters: `In` the decoded source event, `E` what `handle` emits (the window's events, or the
 * outputs of a stateless function), `A` the accumulator, `R` the window results, `S` the `settings` declaration
 * (inferred; it types `ctx.settings`).
 *
 * @example
 * export default defineFunction({
 *   name: 'errors-only',
 *   source: { topic: 'logs' },
 *   sinks: { errors: { topic: 'error-logs' } },
 *   handle: (line: { level: string }) => (line.level === 'error' ? line : undefined),
 * });
 */
export interface FunctionSpec<In = unknown, E = In, A = unknown, R = unknown, S extends SettingsDeclaration = SettingsDeclaration> {
  /** Lower-case name, unique per deployment target: letters, digits and dashes. */
  name: string;
  source: SourceDeclaration;
  /** Named output topics; unrouted results go to the first one. */
  sinks: Record<string, TopicDeclaration>;
  /** Where events whose handler throws (and malformed records) go; default topic `<name>-dead-letter`. */
  deadLetter?: TopicDeclaration;
  /** Flink parallelism; default the cluster's. */
  parallelism?: number;
  /** Time to live and idle timeout of its deployments; default unlimited. */
  lifetime?: LifetimeDeclaration;
  /**
   * Stateless step: return nothing (drop), a value, or an array of values — or a Promise of them (an async
   * handler that calls the outside world; see `async`).
   */
  handle?: (event: In, context: HandleContext<SettingsOf<S>>) => HandleResult<E>;
  /**
   * Values the handler reads through `ctx.settings`, by name: `{ default: '...' }` for a plain setting (required
   * without a default), `{ secret: true }` for a secret (given from the environment, never stored with the job).
   */
  settings?: S;
  /** How an async `handle` runs: capacity, timeout, ordered or unordered results, retries. */
  async?: AsyncDeclaration;
  /**
   * Windowed: the key windows are computed per. The window sees the event as it was before `key` (and `time`'s
   * timestamp) ran: what they change in it is not seen.
   */
  key?: (event: E) => string | number;
  /** Windowed: event time or processing time. */
  time?: EventTime<E> | ProcessingTime;
  /** Windowed: tumbling, sliding or session windows. */
  window?: WindowDeclaration;
  /** Windowed, event time: how long after a window fires late events still update it (re-firing it); default 0. */
  allowedLateness?: Duration;
  /** Windowed, event time: where events too late for every window go; dropped when absent. */
  late?: TopicDeclaration;
  /** Windowed: compute results incrementally through an accumulator. */
  aggregate?: Aggregate<E, A, R, SettingsOf<S>>;
  /** Windowed: compute results from all of a window's events at once (Flink keeps them in list state). */
  process?: (events: E[], context: WindowContext<SettingsOf<S>>) => Emit<R>;
}
