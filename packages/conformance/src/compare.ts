/**
 * Compares outputs as multisets. Flink does not order results of different keys, of windows firing on
 * the same watermark, or of parallel subtasks, so the cases fix what is produced, not the order.
 */
import type { CaseOutputs } from './run-engine.js';
import { expectedOutputs, type ConformanceCase } from './cases.js';

/** Stable JSON with sorted object keys. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

function sorted(values: readonly unknown[]): string[] {
  return values.map(canonical).sort();
}

/** Differences between expected and actual, as readable lines; empty when they match. */
export function differences(testCase: ConformanceCase, actual: CaseOutputs): string[] {
  const problems: string[] = [];
  const expected = expectedOutputs(testCase);
  const sinks = new Set([...Object.keys(expected), ...Object.keys(actual.outputs)]);
  const compare = (label: string, want: readonly unknown[], got: readonly unknown[]): void => {
    const a = sorted(want);
    const b = sorted(got);
    if (canonical(a) === canonical(b)) return;
    const missing = a.filter((x) => { const i = b.indexOf(x); if (i >= 0) { b.splice(i, 1); return false; } return true; });
    problems.push(`${label}: missing ${missing.length ? missing.join(' ') : '(none)'}; unexpected ${b.length ? b.join(' ') : '(none)'}`);
  };
  for (const sink of sinks) compare(`sink ${sink}`, expected[sink] ?? [], actual.outputs[sink] ?? []);
  compare('late', testCase.expected.late ?? [], actual.late);
  compare('dead letters', testCase.expected.deadLetters ?? [], actual.deadLetters);
  const metrics = testCase.expected.metrics;
  if (metrics !== undefined) {
    const want = canonical({ counters: metrics.counters ?? {}, histograms: metrics.histograms ?? {} });
    const histograms = Object.fromEntries(
      Object.entries(actual.metrics.histograms).map(([name, h]) => [name, { count: h.count, min: h.min, max: h.max }]),
    );
    const got = canonical({ counters: actual.metrics.counters, histograms });
    if (want !== got) problems.push(`metrics: expected ${want}; got ${got}`);
  }
  return problems;
}
