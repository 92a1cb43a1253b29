import type { Duration } from './duration.js';
import type {
  EventTime,
  ProcessingTime,
  Routed,
  SessionWindow,
  SlidingWindow,
  TumblingWindow,
} from './types.js';
import { ROUTED } from './types.js';

/**
 * Tumbling windows of `size`, aligned to the epoch plus `offset` (start inclusive, end exclusive).
 *
 * @example
 * window: tumbling('1m')                       // [12:00, 12:01), [12:01, 12:02), ...
 * window: tumbling('1d', { offset: '5h' })     // days from 05:00 UTC to 05:00 UTC
 */
export function tumbling(size: Duration, options: { offset?: Duration } = {}): TumblingWindow {
  return options.offset === undefined ? { kind: 'tumbling', size } : { kind: 'tumbling', size, offset: options.offset };
}

/**
 * Sliding windows of `size`, one starting every `slide`; each event counts in `size / slide` windows.
 *
 * @example
 * window: sliding('10s', '1s')
 */
export function sliding(size: Duration, slide: Duration, options: { offset?: Duration } = {}): SlidingWindow {
  return options.offset === undefined
    ? { kind: 'sliding', size, slide }
    : { kind: 'sliding', size, slide, offset: options.offset };
}

/**
 * Session windows that close after `gap` without events for a key; requires `aggregate.merge`.
 *
 * @example
 * window: session('30m')
 */
export function session(gap: Duration): SessionWindow {
  return { kind: 'session', gap };
}

/**
 * Event time with a bounded out-of-orderness watermark.
 *
 * @example
 * time: eventTime({ timestamp: (e: { ts: number }) => e.ts, outOfOrderness: '5s', idleTimeout: '1m' })
 */
export function eventTime<E>(options: Omit<EventTime<E>, 'kind'>): EventTime<E> {
  return { kind: 'event', ...options };
}

/**
 * Processing time: windows follow the wall clock of the TaskManager.
 *
 * @example
 * time: processingTime()
 */
export function processingTime(): ProcessingTime {
  return { kind: 'processing' };
}

/**
 * Sends `value` to the sink named `sink` instead of the first declared sink.
 *
 * @example
 * handle: (reading) => (reading.value > 100 ? to('alerts', reading) : reading)
 */
export function to<T>(sink: string, value: T): Routed<T> {
  const routed = Object.create(ROUTED_PROTOTYPE) as { sink: string; value: T };
  routed.sink = sink;
  routed.value = value;
  return routed as Routed<T>;
}

/**
 * The prototype of every routed value, shared through the global object so that the SDK copy bundled into an
 * artifact and the host's copy agree. Checking the prototype is much cheaper on the hot path than looking up a
 * symbol-keyed property on every output object.
 */
const ROUTED_PROTOTYPE: object = ((globalThis as Record<symbol, object | undefined>)[ROUTED] ??= Object.freeze({ [ROUTED]: true }));

/**
 * Whether `value` was made by {@link to}.
 *
 * @example
 * isRouted(to('alerts', 1)) // true
 */
export function isRouted(value: unknown): value is Routed<unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === ROUTED_PROTOTYPE;
}
