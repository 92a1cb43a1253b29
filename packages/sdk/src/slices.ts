/**
 * Which windows are kept in slices — the one home of this rule, shared by TypeScript and Java.
 *
 * Sliding event-time windows whose accumulator has `merge` keep one accumulator per key and slice, a pane of
 * gcd(size, slide) aligned with the windows' offset, instead of one per key and window; a window that fires merges its
 * slices (docs/architecture.md, "Decisions worth knowing"). Every other window — tumbling, session, processing time,
 * `process`, an accumulator without `merge` — keeps state per window. The Flink runtime mirrors the rule in
 * `FunctionPipeline.slices` (packages/runtime-flink), the engine reads it (so `create`/`add`/`merge` run as often, and
 * fail with the same dead letters, on both), and the sidecar too, to know whether one event reaches several
 * accumulators of one AGGREGATE request (then it parses each event once). The SDK and the runtime test against the
 * golden cases in `packages/sdk/test/golden/sliced-windows.json`.
 */
import type { ManifestWindow } from './manifest.js';

/** The slice length in milliseconds when the window's state is kept in slices, else null. */
export function sliceMs(window: ManifestWindow | null): number | null {
  if (window === null) return null;
  const { assigner } = window;
  if (assigner.kind !== 'sliding' || window.time.kind !== 'event' || window.function !== 'aggregate' || !window.merges) return null;
  return gcd(assigner.sizeMs, assigner.slideMs);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
