/**
 * @flinkfn/host — loads an artifact's code and calls it step by step, turning failures into dead letters.
 * Used by the embedded engine and by the Flink sidecar, so both run user code the same way.
 *
 * @example
 * import { loadArtifactFile } from '@flinkfn/host';
 */
export { FunctionHost, jsonSafe } from './host.js';
export type { DeadLetter, DeadLetterSource, LiveAccumulator, Output, Step } from './host.js';
export { LoadError, importBundle, loadArtifactFile, loadFunction } from './load.js';
export type { LoadedFunction } from './load.js';
export { MetricsRecorder, MetricsSummary, describeMetrics } from './metrics.js';
export type { HistogramSummary, MetricUpdates, MetricsSnapshot } from './metrics.js';
export { CONSOLE_LEVELS, redirectConsole } from './console.js';
export type { ConsoleLevel, ConsoleSink } from './console.js';
