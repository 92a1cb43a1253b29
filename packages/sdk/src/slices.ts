/**
 * Which windows are kept in slices — the one home of this rule, shared by TypeScript and Java.
 *
 * Sliding event-time windows whose accumulator has `merge` keep one accumulator per key and slice, a pane of
 * gcd(size, slide) aligned with the windows' offset, instead of one per key and window; a window that fires merges its
 * slices (docs/architecture.md, "Decisions worth knowing"). Every other window — tumbling, session, processing time,
 * `process`, an accumulator without `merge` — keeps state per window. The Flink runtime mirrors the rule in
 * `FunctionPipeline.slices` (packages/runtime-flink), the engine reads it (so `create`/`add`/`merge` run as often, and
 * fail with the same dead letters, on both), and the sidecar too, to know whether one event reaches several
 * accumulators of one AGGREGATE request (then it parses each event once). The slices themselves (`SlidingSlices`: an
 * element's slice, the windows containing a slice) are the same on both runtimes: the engine uses this class, the Flink
 * runtime its `SlidingSlices`. The SDK and the runtime test both against the golden cases in
 * `packages/sdk/test/golden/sliced-windows.json`.
 */
import type { ManifestWindow } from './manifest.js';

/** The slice length in milliseconds when the window's state is kept in slices, else null. */
export function sliceMs(window: ManifestWindow | null): number | null {
  if (window === null) return null;
  const { assigner } = window;
  if (assigner.kind !== 'sliding' || window.time.kind !== 'event' || window.function !== 'aggregate' || !window.merges) return null;
  return gcd(assigner.sizeMs, assigner.slideMs);
}

/** A window or a slice: [start, end) in epoch milliseconds. */
export interface SliceBounds {
  start: number;
  end: number;
}

/**
 * The slices of sliding windows: time cut into panes of gcd(size, slide) aligned with the windows' offset, so that every
 * window is a whole number of consecutive slices and every element lies in exactly one. For the runtimes (the engine).
 *
 * @example
 * const slices = SlidingSlices.of(manifest.window); // null unless kept in slices
 * const slice = slices?.sliceOf(event.ts);
 */
export class SlidingSlices {
  /** The slices of this window's state, or null when it is kept per window. */
  static of(window: ManifestWindow | null): SlidingSlices | null {
    const slice = sliceMs(window);
    if (slice === null || window?.assigner.kind !== 'sliding') return null;
    const { sizeMs, slideMs, offsetMs } = window.assigner;
    return new SlidingSlices(sizeMs, slideMs, offsetMs, slice);
  }

  private constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
    readonly sliceSize: number,
  ) {}

  /** The slice an element with this timestamp belongs to. */
  sliceOf(timestamp: number): SliceBounds {
    const start = alignedStart(timestamp, this.offset, this.sliceSize);
    return { start, end: start + this.sliceSize };
  }

  /**
   * The end of the earliest window that contains the slice; windows containing it end every `slide` from this to
   * `lastWindowEnd`. Greater than that when no window contains the slice (a gap, when size < slide).
   */
  firstWindowEnd(slice: SliceBounds): number {
    const lastEnd = this.lastWindowEnd(slice);
    return lastEnd - Math.floor((lastEnd - slice.end) / this.slide) * this.slide;
  }

  /** The end of the latest window that contains the slice. */
  lastWindowEnd(slice: SliceBounds): number {
    return alignedStart(slice.start, this.offset, this.slide) + this.size;
  }

  windowEndingAt(end: number): SliceBounds {
    return { start: end - this.size, end };
  }

  next(window: SliceBounds): SliceBounds {
    return { start: window.start + this.slide, end: window.end + this.slide };
  }

  /** The slices from `start` (a slice boundary) up to `end`, oldest first. */
  *between(start: number, end: number): Generator<SliceBounds> {
    for (let s = start; s < end; s += this.sliceSize) yield { start: s, end: s + this.sliceSize };
  }
}

/** Flink's TimeWindow.getWindowStartWithOffset: the start of the pane of `size` (shifted by `offset`) holding `timestamp`. */
function alignedStart(timestamp: number, offset: number, size: number): number {
  const remainder = (timestamp - offset) % size;
  return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
