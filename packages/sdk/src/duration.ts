import { DeclarationError } from './errors.js';

/**
 * A span of time: milliseconds as a number, or a string with a unit
 * (`ms`, `s`, `m`, `h`, `d`).
 *
 * @example
 * const bound: Duration = '5s';
 * const size: Duration = 60_000;
 */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PATTERN = /^(-?\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Converts a {@link Duration} to whole milliseconds, rejecting negative, fractional-millisecond
 * and malformed values with a {@link DeclarationError} that names `path`.
 *
 * @example
 * parseDuration('1.5s', 'window.size') // 1500
 */
export function parseDuration(value: unknown, path: string, options: { allowZero?: boolean } = {}): number {
  const allowZero = options.allowZero ?? true;
  const hint = `Write a non-negative duration such as '500ms', '5s', '1m', '2h' or a number of milliseconds.`;
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = PATTERN.exec(value.trim());
    if (!match) {
      throw new DeclarationError(path, `'${value}' is not a duration`, hint, value);
    }
    ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  } else {
    throw new DeclarationError(path, `expected a duration, got ${describeValue(value)}`, hint, value);
  }
  if (!Number.isFinite(ms)) {
    throw new DeclarationError(path, `${String(value)} is not a finite duration`, hint, value);
  }
  if (ms < 0) {
    throw new DeclarationError(path, `'${String(value)}' is negative`, hint, value);
  }
  if (!Number.isInteger(ms)) {
    throw new DeclarationError(path, `'${String(value)}' is not a whole number of milliseconds`, hint, value);
  }
  if (ms === 0 && !allowZero) {
    throw new DeclarationError(path, `must be longer than zero`, hint, value);
  }
  return ms;
}

/** A short, human description of a value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
