/**
 * Async handlers: how many events may be in flight, how long one may take, whether results keep the input order,
 * and which errors are retried. The semantics are those of Flink's async I/O operator (`AsyncWaitOperator`).
 */
import { closest } from './did-you-mean.js';
import { describeValue, parseDuration } from './duration.js';
import { DeclarationError } from './errors.js';
import type { Duration } from './duration.js';
import type { ManifestAsync } from './manifest.js';

/**
 * Retries of an async `handle` for errors marked with {@link retryable}: after a failed attempt the event waits
 * `backoff`, doubled after every retry up to `maxBackoff`, then runs again. Other errors are never retried.
 *
 * @example
 * const retry: RetryDeclaration = { retries: 3, backoff: '100ms', maxBackoff: '2s' };
 */
export interface RetryDeclaration {
  /** Retries after the first attempt: a whole number ≥ 1. */
  retries: number;
  /** Wait before the first retry; default `'100ms'`. */
  backoff?: Duration;
  /** Longest wait between two attempts; default `'10s'`. */
  maxBackoff?: Duration;
}

/**
 * How an async `handle` runs. Everything is optional; the defaults are Flink's (`capacity` 100, ordered).
 *
 * @example
 * async: { capacity: 50, timeout: '2s', ordered: false, retry: { retries: 3, backoff: '200ms' } }
 */
export interface AsyncDeclaration {
  /** Events in flight at once, per parallel instance (Flink's capacity); more wait for a free slot. Default 100. */
  capacity?: number;
  /**
   * How long one event may take, all its attempts and backoffs included; then it goes to the dead-letter output
   * (reason `timed out`) and `ctx.signal` is aborted. Default `'30s'`.
   */
  timeout?: Duration;
  /**
   * `true` (default): results leave in input order. `false`: as they complete, but never across a watermark or a
   * checkpoint, as Flink's unordered mode.
   */
  ordered?: boolean;
  /** Retry errors marked with `retryable(...)`; default no retries. */
  retry?: RetryDeclaration;
}

/** What an undeclared `async` means; the manifest always carries the resolved values. */
export const ASYNC_DEFAULTS: ManifestAsync = Object.freeze({ capacity: 100, timeoutMs: 30_000, ordered: true, retry: null });

const MAX_CAPACITY = 10_000;

/** Validates `async` (path `async`) into its manifest form, defaults filled in. */
export function validateAsync(value: unknown): ManifestAsync {
  if (value === undefined) return { ...ASYNC_DEFAULTS };
  const example = `For example async: { capacity: 100, timeout: '5s', ordered: true, retry: { retries: 3, backoff: '100ms' } }.`;
  const spec = expectBag(value, 'async', example);
  checkAllowed(spec, ['capacity', 'timeout', 'ordered', 'retry'], 'async');
  const capacity = spec['capacity'] ?? ASYNC_DEFAULTS.capacity;
  if (typeof capacity !== 'number' || !Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
    throw new DeclarationError('async.capacity', `${describeValue(capacity)} is not a capacity`,
      `Use a whole number of events in flight at once, from 1 to ${MAX_CAPACITY}.`, capacity);
  }
  const timeoutMs = spec['timeout'] === undefined ? ASYNC_DEFAULTS.timeoutMs
    : parseDuration(spec['timeout'], 'async.timeout', { allowZero: false });
  const ordered = spec['ordered'] ?? ASYNC_DEFAULTS.ordered;
  if (typeof ordered !== 'boolean') {
    throw new DeclarationError('async.ordered', `expected true or false, got ${describeValue(ordered)}`,
      'Use ordered: true (results in input order, the default) or ordered: false (as they complete).', ordered);
  }
  return { capacity, timeoutMs, ordered, retry: validateRetry(spec['retry']) };
}

function validateRetry(value: unknown): ManifestAsync['retry'] {
  if (value === undefined) return null;
  const retry = expectBag(value, 'async.retry', `For example retry: { retries: 3, backoff: '100ms', maxBackoff: '2s' }.`);
  checkAllowed(retry, ['retries', 'backoff', 'maxBackoff'], 'async.retry');
  const retries = retry['retries'];
  if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 1) {
    throw new DeclarationError('async.retry.retries', retries === undefined ? 'is missing' : `${describeValue(retries)} is not a number of retries`,
      'Use a whole number of retries after the first attempt, at least 1 (leave retry out for none).', retries);
  }
  const backoffMs = retry['backoff'] === undefined ? 100 : parseDuration(retry['backoff'], 'async.retry.backoff');
  const maxBackoffMs = retry['maxBackoff'] === undefined ? Math.max(10_000, backoffMs)
    : parseDuration(retry['maxBackoff'], 'async.retry.maxBackoff');
  if (maxBackoffMs < backoffMs) {
    throw new DeclarationError('async.retry.maxBackoff', `${maxBackoffMs} ms is shorter than the backoff ${backoffMs} ms`,
      'The backoff doubles after every retry up to maxBackoff; use a maxBackoff of at least the backoff.', retry['maxBackoff']);
  }
  return { retries, backoffMs, maxBackoffMs };
}

/**
 * The wait before retry number `retry` (1 for the first retry): the backoff doubled per earlier retry, capped.
 *
 * @example
 * retryDelay({ retries: 5, backoffMs: 100, maxBackoffMs: 1_000 }, 3) // 400
 */
export function retryDelay(retry: NonNullable<ManifestAsync['retry']>, attempt: number): number {
  return Math.min(retry.maxBackoffMs, retry.backoffMs * 2 ** Math.min(attempt - 1, 30));
}

/** Marks retryable errors; a registered symbol so the SDK bundled into an artifact and the host's agree. */
const RETRYABLE: unique symbol = Symbol.for('flinkfn.retryable') as never;

/**
 * Marks an error as worth retrying (with `async.retry`): throw what it returns. A string becomes an `Error`.
 * Errors that are not marked fail the event at once.
 *
 * @example
 * const response = await fetch(url, { signal: ctx.signal });
 * if (response.status === 503) throw retryable(new Error(`${url}: 503`));
 */
export function retryable<E>(error: E): E extends string ? Error : E {
  const marked: unknown = typeof error === 'string' ? new Error(error) : error;
  if (typeof marked === 'object' && marked !== null) {
    Object.defineProperty(marked, RETRYABLE, { value: true, enumerable: false });
    return marked as never;
  }
  const wrapped = new Error(String(error));
  Object.defineProperty(wrapped, RETRYABLE, { value: true, enumerable: false });
  return wrapped as never;
}

/**
 * Whether `error` was marked with {@link retryable} (by any copy of the SDK).
 *
 * @example
 * isRetryable(retryable(new Error('busy'))) // true
 */
export function isRetryable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[RETRYABLE] === true;
}

function expectBag(value: unknown, path: string, hint: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DeclarationError(path, `expected an object, got ${describeValue(value)}`, hint, value);
  }
  return value as Record<string, unknown>;
}

function checkAllowed(object: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      const suggestion = closest(key, allowed);
      throw new DeclarationError(`${path}.${key}`, `unknown option '${key}'`,
        suggestion ? `Did you mean '${suggestion}'? Known options here: ${allowed.join(', ')}.`
          : `Known options here: ${allowed.join(', ')}.`, key);
    }
  }
}
