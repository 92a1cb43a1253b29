/**
 * The slices of sliding event-time windows, as the Flink runtime keeps them (`SlidingSlices` in packages/runtime-flink,
 * the idea of Flink SQL's slicing windows): time is cut into panes of gcd(size, slide) aligned with the windows'
 * offset, so every window is a whole number of consecutive slices and every element lies in exactly one. Which windows
 * are kept so is the SDK's rule (`sliceMs`); the engine follows it too, so that `create` and `add` run once per slice
 * and element and `merge` at every firing on both runtimes — a throwing accumulator gives the same dead letters.
 */
import { sliceMs, type ManifestWindow, type WindowBounds } from '@flinkfn/sdk';
import { windowStart } from './assigners.js';

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
  sliceOf(timestamp: number): WindowBounds {
    const start = windowStart(timestamp, this.offset, this.sliceSize);
    return { start, end: start + this.sliceSize };
  }

  /**
   * The end of the earliest window that contains the slice; windows containing it end every `slide` from this to
   * `lastWindowEnd`. Greater than that when no window contains the slice (a gap, when size < slide).
   */
  firstWindowEnd(slice: WindowBounds): number {
    const lastEnd = this.lastWindowEnd(slice);
    return lastEnd - Math.floor((lastEnd - slice.end) / this.slide) * this.slide;
  }

  /** The end of the latest window that contains the slice. */
  lastWindowEnd(slice: WindowBounds): number {
    return windowStart(slice.start, this.offset, this.slide) + this.size;
  }

  windowEndingAt(end: number): WindowBounds {
    return { start: end - this.size, end };
  }

  next(window: WindowBounds): WindowBounds {
    return { start: window.start + this.slide, end: window.end + this.slide };
  }

  /** The slices from `start` (a slice boundary) up to `end`, oldest first. */
  *between(start: number, end: number): Generator<WindowBounds> {
    for (let s = start; s < end; s += this.sliceSize) yield { start: s, end: s + this.sliceSize };
  }
}
