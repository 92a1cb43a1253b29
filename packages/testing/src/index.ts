/**
 * @flinkfn/testing — unit-test flinkfn functions with Flink's window semantics, in-process.
 *
 * @example
 * import { harness } from '@flinkfn/testing';
 */
export { Harness, harness, harnessFromArtifact, harnessFromEntry } from './harness.js';
export type { HarnessOptions } from './harness.js';
export type { DeadLetter, DeadLetterSource, HistogramSummary, MetricsSnapshot, Output } from '@flinkfn/host';
