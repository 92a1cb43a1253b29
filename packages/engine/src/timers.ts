/**
 * Timers per (timestamp, key, window), deduplicated like Flink's InternalTimerService, fired in timestamp
 * order. Flink leaves the order of timers with equal timestamps undefined; here it is registration order.
 */
import type { WindowBounds } from '@flinkfn/sdk';
import { windowId } from './assigners.js';

export interface Timer {
  timestamp: number;
  key: string;
  window: WindowBounds;
  sequence: number;
}

export class TimerQueue {
  private readonly byId = new Map<string, Timer>();
  private heap: Timer[] = [];
  private sequence = 0;

  register(timestamp: number, key: string, window: WindowBounds): void {
    const id = timerId(timestamp, key, window);
    if (this.byId.has(id)) return;
    const timer = { timestamp, key, window, sequence: this.sequence++ };
    this.byId.set(id, timer);
    this.push(timer);
  }

  delete(timestamp: number, key: string, window: WindowBounds): void {
    // Lazy deletion: the heap entry is skipped when popped because it is no longer in byId.
    this.byId.delete(timerId(timestamp, key, window));
  }

  /** Removes and returns the earliest live timer at or before `time`. */
  popDue(time: number): Timer | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0] as Timer;
      const id = timerId(top.timestamp, top.key, top.window);
      if (this.byId.get(id) !== top) {
        this.pop();
        continue;
      }
      if (top.timestamp > time) return undefined;
      this.pop();
      this.byId.delete(id);
      return top;
    }
    return undefined;
  }

  get size(): number {
    return this.byId.size;
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Timer, heap[parent] as Timer)) break;
      [heap[i], heap[parent]] = [heap[parent] as Timer, heap[i] as Timer];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop() as Timer;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && before(heap[left] as Timer, heap[smallest] as Timer)) smallest = left;
      if (right < heap.length && before(heap[right] as Timer, heap[smallest] as Timer)) smallest = right;
      if (smallest === i) return;
      [heap[i], heap[smallest]] = [heap[smallest] as Timer, heap[i] as Timer];
      i = smallest;
    }
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.sequence < b.sequence);
}

function timerId(timestamp: number, key: string, window: WindowBounds): string {
  return `${timestamp}|${windowId(window)}|${key}`;
}
