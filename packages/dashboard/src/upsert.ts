/**
 * The upsert key of a result: which earlier result a new one replaces. A window that fires again (late data
 * within the allowed lateness) is written as a second record with the same key and window, and must update
 * the first one's row and chart point instead of adding one.
 *
 * The runtime writes the function's key as the Kafka record key, but nothing of the window: the window is
 * whatever the user's `result()` put into the value. So the key is
 *
 *   upsertKey = JSON.stringify([topic, recordKey, ...values of the window fields])
 *
 * where the window fields are the ones named by the stream's `window` parameter, or else every top-level
 * field of the result whose name is in WINDOW_FIELDS (`minute`, `windowStart`, `start`, …, as the examples
 * and templates name them). A result with no window field (a stateless function) is never replaced: its key
 * is its own position, `[topic, partition, offset]`.
 */

/** Field names taken for the window when the stream names none, in the order they are looked for. */
export const WINDOW_FIELDS = ['window', 'windowStart', 'windowEnd', 'start', 'end', 'sessionStart', 'sessionEnd', 'minute', 'hour', 'day'] as const;

export interface Located {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
}

/** The window fields of one result: `explicit` if given (those present), else the known names present. */
export function windowFieldsOf(value: unknown, explicit?: readonly string[]): string[] {
  if (!isObject(value)) return [];
  const names = explicit && explicit.length > 0 ? explicit : WINDOW_FIELDS;
  return names.filter((name) => name in value);
}

export function upsertKey(record: Located, value: unknown, windowFields: readonly string[]): string {
  if (!isObject(value) || windowFields.length === 0) return JSON.stringify([record.topic, record.partition, record.offset]);
  return JSON.stringify([record.topic, record.key, ...windowFields.map((f) => value[f] ?? null)]);
}

/**
 * The window's start and end in ms since the epoch, for the chart's x axis: from a `window: {start, end}`
 * object, or from the first and second window fields (numbers or ISO date strings). `null` when unknown.
 */
export function windowBounds(value: unknown, windowFields: readonly string[]): { start: number | null; end: number | null } {
  if (!isObject(value)) return { start: null, end: null };
  const window = value.window;
  if (isObject(window)) return { start: toTime(window.start), end: toTime(window.end) };
  const times = windowFields.map((f) => toTime(value[f])).filter((t): t is number => t !== null);
  return { start: times[0] ?? null, end: times[1] ?? null };
}

function toTime(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
