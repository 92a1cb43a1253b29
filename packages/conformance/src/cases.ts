/**
 * Conformance cases: data-only descriptions of a function, its input (records, watermarks, processing
 * time) and the outputs Flink produces for it. The embedded engine and the Flink runtime both run every
 * file in `cases/` unchanged; see `cases/README.md` for the format.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** JavaScript source of a function, as a string (an arrow function expression). */
export type Snippet = string;

export interface CaseFunction {
  format?: 'json' | 'string' | 'bytes';
  handle?: Snippet;
  /** The `async` declaration, as JSON (durations in milliseconds). */
  async?: { capacity?: number; timeout?: number; ordered?: boolean; retry?: { retries: number; backoff?: number; maxBackoff?: number } };
  /** Default `(e) => e.key`. */
  key?: Snippet;
  /** Default event time with `(e) => e.ts` and no out-of-orderness. */
  time?: { kind: 'event'; timestamp?: Snippet; outOfOrderness?: number; idleTimeout?: number } | { kind: 'processing' };
  window?:
    | { kind: 'tumbling'; size: number; offset?: number }
    | { kind: 'sliding'; size: number; slide: number; offset?: number }
    | { kind: 'session'; gap: number };
  allowedLateness?: number;
  /** Declare a late-data output. */
  late?: boolean;
  /** `collect` (default for windows) or an accumulator given as snippets. */
  aggregate?: 'collect' | { create: Snippet; add: Snippet; merge?: Snippet; result: Snippet };
  process?: Snippet;
  /** Sink names; default `["main"]`. */
  sinks?: string[];
}

/** A record step may name its source partition (default 0). */
export type CaseStep =
  | { event: unknown; partition?: number }
  | { raw: string; partition?: number }
  | { watermark: number }
  | { processingTime: number };

export interface CaseExpectation {
  /** Values per sink; an array means the first sink. Compared as multisets. */
  outputs: unknown[] | Record<string, unknown[]>;
  late?: unknown[];
  deadLetters?: unknown[];
  /**
   * Totals of what the handler recorded through `ctx.metrics`: counters summed, histograms' count/min/max (on Flink
   * over all subtasks and operators). Gauges are left out: their last value depends on the order across subtasks.
   */
  metrics?: CaseMetrics;
}

export interface CaseMetrics {
  counters?: Record<string, number>;
  histograms?: Record<string, { count: number; min: number; max: number }>;
}

export interface ConformanceCase {
  /** File name without `.json`. */
  id: string;
  description: string;
  /** Rules from `RULES` this case exercises. */
  rules: string[];
  /** Partitions of the source topic, all read by one source subtask; default 1. */
  partitions?: number;
  function: CaseFunction;
  input: CaseStep[];
  expected: CaseExpectation;
}

export const CASES_DIRECTORY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cases');

/** Every case in `cases/`, sorted by file name (synchronous so test files can list them at load time). */
export function loadCases(directory = CASES_DIRECTORY): ConformanceCase[] {
  const files = readdirSync(directory).filter((f) => f.endsWith('.json')).sort();
  return files.map((file) => {
    const parsed = JSON.parse(readFileSync(path.join(directory, file), 'utf8')) as Omit<ConformanceCase, 'id'>;
    return { id: file.slice(0, -'.json'.length), ...parsed };
  });
}

/** Expected outputs as a map from sink name to values. */
export function expectedOutputs(testCase: ConformanceCase): Record<string, unknown[]> {
  const outputs = testCase.expected.outputs;
  if (Array.isArray(outputs)) return { [testCase.function.sinks?.[0] ?? 'main']: outputs };
  return outputs;
}
