/**
 * Flink's window assigners, computed the way Flink computes them (TimeWindow.getWindowStartWithOffset,
 * TumblingEventTimeWindows, SlidingEventTimeWindows, EventTimeSessionWindows and TimeWindow.mergeWindows).
 * Windows are [start, end): start inclusive, end exclusive; their last millisecond is end − 1.
 */
import type { ManifestAssigner, WindowBounds } from '@flinkfn/sdk';

/**
 * Start of the window of `size` (shifted by `offset`) that contains `timestamp`. JS `%` truncates toward
 * zero like Java's, so negative timestamps need the same correction Flink applies.
 */
export function windowStart(timestamp: number, offset: number, size: number): number {
  const remainder = (timestamp - offset) % size;
  return remainder < 0 ? timestamp - (remainder + size) : timestamp - remainder;
}

/** Windows an element with this timestamp belongs to, newest first for sliding windows (as Flink lists them). */
export function assignWindows(assigner: ManifestAssigner, timestamp: number): WindowBounds[] {
  switch (assigner.kind) {
    case 'tumbling': {
      const start = windowStart(timestamp, assigner.offsetMs, assigner.sizeMs);
      return [{ start, end: start + assigner.sizeMs }];
    }
    case 'sliding': {
      const windows: WindowBounds[] = [];
      const lastStart = windowStart(timestamp, assigner.offsetMs, assigner.slideMs);
      for (let start = lastStart; start > timestamp - assigner.sizeMs; start -= assigner.slideMs) {
        windows.push({ start, end: start + assigner.sizeMs });
      }
      return windows;
    }
    case 'session':
      return [{ start: timestamp, end: timestamp + assigner.gapMs }];
  }
}

/** The last millisecond that belongs to a window: when it fires. */
export function maxTimestamp(window: WindowBounds): number {
  return window.end - 1;
}

/** Flink's TimeWindow.intersects: windows that touch (one's end equals the other's start) intersect too. */
export function intersects(a: WindowBounds, b: WindowBounds): boolean {
  return a.start <= b.end && a.end >= b.start;
}

/** The smallest window covering both. */
export function cover(a: WindowBounds, b: WindowBounds): WindowBounds {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/**
 * Flink's TimeWindow.mergeWindows: sort by start, then fold each window into the running merge while it
 * intersects it. Returns every group with the window covering it.
 */
export function mergeWindows(windows: readonly WindowBounds[]): Array<{ result: WindowBounds; members: WindowBounds[] }> {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const groups: Array<{ result: WindowBounds; members: WindowBounds[] }> = [];
  let current: { result: WindowBounds; members: WindowBounds[] } | undefined;
  for (const window of sorted) {
    if (current && intersects(current.result, window)) {
      current.result = cover(current.result, window);
      current.members.push(window);
    } else {
      current = { result: window, members: [window] };
      groups.push(current);
    }
  }
  return groups;
}

export function windowId(window: WindowBounds): string {
  return `${window.start}:${window.end}`;
}

export function sameWindow(a: WindowBounds, b: WindowBounds): boolean {
  return a.start === b.start && a.end === b.end;
}
