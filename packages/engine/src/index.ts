/**
 * @flinkfn/engine — runs a function in-process with Flink's window semantics (no JVM).
 *
 * @example
 * import { Engine } from '@flinkfn/engine';
 */
export { Engine } from './engine.js';
export type { EngineListener, EngineOptions, EngineStats, RecordOrigin } from './engine.js';
export { assignWindows, intersects, maxTimestamp, mergeWindows, windowStart } from './assigners.js';
