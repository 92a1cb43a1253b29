/**
 * The rule for metric names, one home for every runtime: the engine and the sidecar check names with it, and the
 * Flink runtime registers what passed it unchanged (a name is one component of a Flink metric identifier, so it
 * has no dots; `SidecarProtocolTest` checks the same rule on the Java side).
 */
import { DeclarationError } from './errors.js';

/** Letters, digits, `_` and `-`, starting with a letter, at most 64 characters. */
export const METRIC_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export type MetricKind = 'counter' | 'gauge' | 'histogram';

/**
 * Throws a DeclarationError (path `metrics.<kind>`) unless `name` is a valid metric name.
 *
 * @example
 * checkMetricName('counter', 'orders'); // ok
 * checkMetricName('gauge', 'queue.depth'); // throws: no dots
 */
export function checkMetricName(kind: MetricKind, name: unknown): asserts name is string {
  if (typeof name === 'string' && METRIC_NAME_PATTERN.test(name)) return;
  const shown = typeof name === 'string' ? `'${name}'` : String(name);
  const suggestion = typeof name === 'string' ? name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z]+/, '').slice(0, 64) : '';
  throw new DeclarationError(
    `metrics.${kind}`,
    `${shown} is not a valid metric name`,
    `use letters, digits, '_' and '-', starting with a letter, at most 64 characters${suggestion ? ` (for example '${suggestion}')` : ''}`,
    name,
  );
}
