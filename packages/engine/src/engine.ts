/**
 * The embedded engine: runs a function in-process with the semantics of Flink's WindowOperator and
 * EventTimeTrigger / ProcessingTimeTrigger, so that `flinkfn dev` and unit tests give what Flink gives.
 *
 *  - An element is added to each window it is assigned to unless the window is late
 *    (last millisecond + allowed lateness ≤ watermark). If the window's last millisecond is already at
 *    or below the watermark the window fires at once (a late firing with the updated result); otherwise a
 *    timer fires it when the watermark reaches its last millisecond.
 *  - A cleanup timer at last millisecond + allowed lateness drops the window's state.
 *  - An element skipped by all its windows and itself late (timestamp + lateness ≤ watermark) goes to the
 *    late output, or is dropped when there is none.
 *  - Session windows merge through Flink's merge rules; accumulators merge with the user's `merge`.
 *  - Sliding event-time windows of an accumulator with `merge` are kept in slices, as the Flink runtime keeps them
 *    (`sliceMs` of the SDK says which): an element is added to the accumulator of its slice only, and a window that
 *    fires merges its slices' accumulators, oldest first. Timers are per window, chained: an element registers the
 *    first window of its slice still to fire, a window that fires the next one when a slice they share holds data;
 *    a window's cleanup time drops the slices no later window covers. `create`/`add` thus run once per slice and
 *    element and `merge` at every firing, on both runtimes.
 *  - Event-time watermarks come from the bounded out-of-orderness strategy per source partition, as the
 *    Flink runtime generates them: a partition's watermark is its max timestamp − bound − 1, the watermark
 *    is the minimum over the partitions that are not idle, and a partition that has delivered nothing holds
 *    it back. With `idleTimeout`, a partition without elements for that long (processing time, moved by
 *    `advanceProcessingTime`) is idle until its next element. Watermarks are emitted after every record (the
 *    most eager schedule Flink's periodic emission can produce) and at every processing-time step, and come
 *    from explicit `advanceWatermark` calls; they never go backwards.
 *  - An async `handle` (one that returns a Promise) runs with the semantics of Flink's AsyncWaitOperator: at most
 *    `async.capacity` events are in flight (further pushes wait in an input queue, as backpressure holds them in the
 *    source on Flink); ordered mode emits results in input order, unordered mode as they complete, but never across
 *    a watermark or the end of input: those wait until every event pushed before them is done (processing
 *    time moves on regardless, as on Flink). Synchronous results take the same path, so a sync handler is never overtaken. `settled()` resolves when
 *    everything pushed so far has been emitted.
 */
import { SlidingSlices, type FunctionDeclarations, type ManifestWindow, type WindowBounds } from '@flinkfn/sdk';
import type { DeadLetter, DeadLetterSource, FunctionHost, Output, Step } from '@flinkfn/host';
import { MetricsSummary, type MetricsSnapshot } from '@flinkfn/host';
import { assignWindows, maxTimestamp, mergeWindows, sameWindow, windowId } from './assigners.js';
import { TimerQueue, type Timer } from './timers.js';

/**
 * Receives everything the engine emits, in order.
 *
 * @example
 * const listener: EngineListener = { output: console.log, late: console.warn, deadLetter: console.error };
 */
export interface EngineListener {
  output(output: Output): void;
  late(event: unknown): void;
  deadLetter(deadLetter: DeadLetter): void;
}

/**
 * Counters for progress reports.
 *
 * @example
 * console.log(engine.stats.recordsIn);
 */
export interface EngineStats {
  recordsIn: number;
  outputs: number;
  late: number;
  lateDropped: number;
  deadLetters: number;
  firings: number;
}

/**
 * Options of an engine.
 *
 * @example
 * new Engine(host, listener, { processingTime: Date.now() });
 */
export interface EngineOptions {
  /** Initial processing-time clock; default 0. */
  processingTime?: number;
  /**
   * Partitions of the source topic, all read by this engine (as by one Flink subtask); default 1. Records name
   * theirs with `{ partition }`; a record from a partition beyond the count adds that partition.
   */
  partitions?: number;
}

/**
 * Where a record comes from.
 *
 * @example
 * engine.pushRecord('{"ts":1}', { partition: 2 });
 */
export interface RecordOrigin {
  /** Source partition, from 0; default 0. */
  partition?: number;
  /** Where the record was read (`flinkfn dev`: the input file and line): dead letters of its handle, key and timestamp carry it. */
  source?: DeadLetterSource;
}

interface PartitionClock {
  maxTimestamp: number;
  lastActive: number;
  idle: boolean;
}

interface WindowState {
  window: WindowBounds;
  /** Accumulator as JSON text (aggregate functions). */
  accumulator?: string;
  /** Events as JSON text (process functions). */
  events?: string[];
}

/** An event on its way through `handle`: not started (over capacity), running, or done and waiting to be emitted. */
interface PendingElement {
  kind: 'element';
  partition: number;
  source: DeadLetterSource | undefined;
  start: (() => Step<Output[]> | Promise<Step<Output[]>>) | null;
  step: Step<Output[]> | null;
}

/** A watermark or the end of input: it waits for the events pushed before it. */
interface PendingControl {
  kind: 'control';
  run: () => void;
}

type Pending = PendingElement | PendingControl;

const NO_WATERMARK = Number.NEGATIVE_INFINITY;
const END_OF_INPUT = Number.POSITIVE_INFINITY;

/**
 * One function's embedded engine.
 *
 * @example
 * const engine = new Engine(loaded.host, listener);
 * engine.pushRecord('{"page":"/","ts":1000}');
 * engine.finish();
 */
export class Engine {
  readonly stats: EngineStats = { recordsIn: 0, outputs: 0, late: 0, lateDropped: 0, deadLetters: 0, firings: 0 };
  private readonly manifest: FunctionDeclarations;
  private readonly window: ManifestWindow | null;
  private readonly merging: boolean;
  /** Set when the window's state is kept in slices (sliding event-time windows of a merging accumulator). */
  private readonly slices: SlidingSlices | null;
  private readonly state = new Map<string, Map<string, WindowState>>();
  private readonly eventTimers = new TimerQueue();
  private readonly processingTimers = new TimerQueue();
  private watermark = NO_WATERMARK;
  private readonly partitions = new Map<number, PartitionClock>();
  private now: number;
  private finished = false;
  private readonly metricsSummary = new MetricsSummary();
  /**
   * In input order from `head`: events in flight or waiting for a slot, and the watermarks behind them; null where an
   * unordered result already left. A head index instead of shift(): a large array's shift copies it.
   */
  private pending: Array<Pending | null> = [];
  private head = 0;
  /** Every event before this index has started (they start in input order). */
  private nextStart = 0;
  /** Events started and not yet emitted (Flink's queue occupancy). */
  private running = 0;
  private readonly capacity: number;
  private readonly ordered: boolean;
  /** Where the record being applied was read, while its outputs go into windows (see afterHandle). */
  private recordSource: DeadLetterSource | undefined = undefined;
  private draining = false;
  private drainAgain = false;
  private failure: unknown = undefined;
  private settledWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private readyWaiters: Array<() => void> = [];
  /** Events in `pending` not started yet. */
  private waiting = 0;

  constructor(
    private readonly host: FunctionHost,
    private readonly listener: EngineListener,
    options: EngineOptions = {},
  ) {
    this.manifest = host.manifest;
    this.window = this.manifest.window;
    this.merging = this.window?.assigner.kind === 'session';
    this.slices = SlidingSlices.of(this.window);
    this.now = options.processingTime ?? 0;
    this.capacity = host.async.capacity;
    this.ordered = host.async.ordered;
    const partitions = options.partitions ?? 1;
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a whole number ≥ 1, got ${partitions}`);
    for (let p = 0; p < partitions; p++) this.partitionClock(p);
  }

  get currentWatermark(): number {
    return this.watermark;
  }

  get currentProcessingTime(): number {
    return this.now;
  }

  /** What the handler recorded through `ctx.metrics` so far: counters summed, last gauge values, histogram summaries. */
  get metrics(): MetricsSnapshot {
    this.metricsSummary.add(this.host.metrics.drain());
    return this.metricsSummary.snapshot();
  }

  /** Number of windows holding state (slices, where windows are kept in slices), over all keys. */
  get openWindows(): number {
    let count = 0;
    for (const windows of this.state.values()) count += windows.size;
    return count;
  }

  /** Events pushed and not yet emitted: in flight, done but held for order, or waiting for a slot. */
  get inFlight(): number {
    let count = 0;
    for (let i = this.head; i < this.pending.length; i++) if (this.pending[i]?.kind === 'element') count++;
    return count;
  }

  private get idle(): boolean {
    return this.head === this.pending.length;
  }

  /**
   * Resolves when everything pushed so far has been emitted (at once for synchronous handlers); rejects if a
   * listener threw while async results were emitted.
   */
  settled(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.idle) return Promise.resolve();
    return new Promise((resolve, reject) => this.settledWaiters.push({ resolve, reject }));
  }

  /** Whether an event pushed now would have to wait for a slot (all `async.capacity` slots are taken). */
  get saturated(): boolean {
    return this.running >= this.capacity;
  }

  /**
   * Resolves when a slot is free, so a reader of a large input can push at the pace of the handler instead of
   * queueing everything (`flinkfn dev` does; the harness pushes what a test gives it).
   */
  ready(): Promise<void> {
    if (!this.saturated || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** A source record as it would come from Kafka: decoded per the source format first. */
  pushRecord(raw: string | Uint8Array, origin: RecordOrigin = {}): void {
    this.checkOpen();
    this.stats.recordsIn++;
    const partition = partitionOf(origin);
    this.handleElement(partition, origin.source, () => this.decodeAndHandle(raw));
  }

  /** An already-decoded event (what the handler receives). */
  pushEvent(event: unknown, origin: RecordOrigin = {}): void {
    this.checkOpen();
    this.stats.recordsIn++;
    const partition = partitionOf(origin);
    this.handleElement(partition, origin.source, () => this.host.handle(event));
  }

  /** Moves the event-time watermark forward (never back), firing and cleaning up windows as Flink does. */
  advanceWatermark(watermark: number): void {
    this.checkOpen();
    this.control(() => this.setWatermark(watermark));
  }

  /**
   * Moves the processing-time clock forward, firing processing-time windows whose end has passed. It does not wait
   * for events in flight (processing time is not part of the stream, on Flink neither): an async result that arrives
   * later belongs to the windows of its arrival time.
   */
  advanceProcessingTime(time: number): void {
    this.checkOpen();
    this.setProcessingTime(time);
  }

  private setProcessingTime(time: number): void {
    if (time < this.now) return;
    this.now = time;
    let timer: Timer | undefined;
    while ((timer = this.processingTimers.popDue(time)) !== undefined) this.onProcessingTime(timer);
    if (this.isEventTime()) this.checkIdlePartitions();
  }

  /**
   * End of input: the watermark goes to +∞ and every event-time window fires, as in Flink at the end of a
   * bounded source. Processing-time windows are not fired (Flink does not fire processing-time timers when
   * a streaming job finishes) unless `fireProcessingTimeWindows` is set, which `flinkfn dev` does.
   */
  finish(options: { fireProcessingTimeWindows?: boolean } = {}): void {
    this.checkOpen();
    this.finished = true;
    this.control(() => {
      if (this.window?.time.kind === 'event') this.setWatermark(END_OF_INPUT);
      if (options.fireProcessingTimeWindows) this.setProcessingTime(END_OF_INPUT);
    });
  }

  // --- the async queue -------------------------------------------------------------------------

  private decodeAndHandle(raw: string | Uint8Array): Step<Output[]> | Promise<Step<Output[]>> {
    const decoded = this.host.decode(raw);
    if (!decoded.ok) return decoded;
    return this.host.handle(decoded.value);
  }

  /** Runs an event through handle now when nothing is ahead of it and its result is synchronous; queues it otherwise. */
  private handleElement(partition: number, source: DeadLetterSource | undefined, start: () => Step<Output[]> | Promise<Step<Output[]>>): void {
    if (this.idle) {
      const step = start();
      if (!isPromise(step)) return this.afterHandle(step, partition, source);
      const entry: PendingElement = { kind: 'element', partition, source, start: null, step: null };
      this.pending.push(entry);
      this.running++;
      this.await(entry, step);
      return;
    }
    this.pending.push({ kind: 'element', partition, source, start, step: null });
    this.waiting++;
    this.drain();
  }

  private control(run: () => void): void {
    if (this.idle) return run();
    this.pending.push({ kind: 'control', run });
    this.drain();
  }

  private await(entry: PendingElement, promise: Promise<Step<Output[]>>): void {
    promise.then((step) => {
      entry.step = step;
      this.drain();
    }, (error: unknown) => this.fail(error));
  }

  /**
   * Emits what may leave the queue and starts waiting events while there are free slots. Ordered: the head while it is
   * done. Unordered: every done event before the first watermark, then the watermark once nothing is before it.
   */
  private drain(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        this.emitReady();
        this.startWaiting();
      } while (this.drainAgain);
    } catch (error) {
      this.fail(error);
      return;
    } finally {
      this.draining = false;
    }
    if (!this.saturated && this.readyWaiters.length > 0) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.idle) {
      this.pending = [];
      this.head = 0;
      this.nextStart = 0;
      const waiters = this.settledWaiters;
      this.settledWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
  }

  private emitReady(): void {
    for (;;) {
      const head = this.pending[this.head];
      if (head === undefined) return;
      if (head === null) {
        this.advance();
        continue;
      }
      if (head.kind === 'control') {
        this.advance();
        head.run();
        continue;
      }
      if (head.step !== null) {
        this.advance();
        this.emitElement(head);
        continue;
      }
      if (this.ordered) return;
      // Unordered: done events of the first segment (before the first watermark) leave as they complete. Events
      // start in input order, so the scan ends at the first one still waiting for a slot.
      for (let i = this.head + 1; i < this.pending.length; i++) {
        const entry = this.pending[i];
        if (entry === null || entry === undefined) continue;
        if (entry.kind === 'control' || entry.start !== null) break;
        if (entry.step !== null) {
          this.pending[i] = null;
          this.emitElement(entry);
        }
      }
      return;
    }
  }

  /** Drops the head entry; compacts the array once most of it is behind the head. */
  private advance(): void {
    this.pending[this.head++] = null;
    if (this.head > 4_096 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.nextStart = Math.max(0, this.nextStart - this.head);
      this.head = 0;
    }
  }

  private emitElement(entry: PendingElement): void {
    this.running--;
    this.afterHandle(entry.step as Step<Output[]>, entry.partition, entry.source);
  }

  private startWaiting(): void {
    if (this.waiting === 0 || this.running >= this.capacity) return;
    for (let i = Math.max(this.head, this.nextStart); i < this.pending.length; i++) {
      if (this.waiting === 0 || this.running >= this.capacity) return;
      this.nextStart = i;
      const entry = this.pending[i];
      if (entry === null || entry === undefined || entry.kind !== 'element' || entry.start === null) continue;
      const start = entry.start;
      entry.start = null;
      this.waiting--;
      this.running++;
      const step = start();
      if (isPromise(step)) this.await(entry, step);
      else {
        entry.step = step;
        this.drainAgain = true;
      }
    }
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    for (const resolve of this.readyWaiters.splice(0)) resolve();
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
  }

  // --- per record ------------------------------------------------------------------------------

  private afterHandle(handled: Step<Output[]>, partition: number, source: DeadLetterSource | undefined): void {
    // Dead letters of this record's steps (handle, key, timestamp, add) carry where it was read; windows it fires do not.
    this.recordSource = source;
    try {
      this.applyHandled(handled, partition);
    } finally {
      this.recordSource = undefined;
    }
  }

  private applyHandled(handled: Step<Output[]>, partition: number): void {
    if (!handled.ok) return this.deadLetter(handled.deadLetter);
    if (this.window === null) {
      for (const output of handled.value) this.emit(output);
      return;
    }
    for (const output of handled.value) this.windowElement(output.value, this.window, partition);
    if (this.window.time.kind === 'event') this.generateWatermark();
  }

  private windowElement(event: unknown, window: ManifestWindow, partition: number): void {
    // In Flink the event crosses to the window stage as JSON text: do the same, so add() and process() see exactly
    // what they will see on the cluster (a Date becomes a string, undefined fields disappear). It is taken before
    // key() and time() run, as the sidecar does (without a handle it forwards the source record itself): what they
    // change in the event never reaches the window. Its failure still counts after theirs.
    const step = this.host.serializeEvent(event);
    const key = this.host.keyOf(event);
    if (!key.ok) return this.deadLetter(key.deadLetter);
    let timestamp: number;
    if (window.time.kind === 'event') {
      const extracted = this.host.timestampOf(event);
      if (!extracted.ok) return this.deadLetter(extracted.deadLetter);
      timestamp = extracted.value;
      const clock = this.partitionClock(partition);
      clock.maxTimestamp = Math.max(clock.maxTimestamp, timestamp);
      clock.lastActive = this.now;
      clock.idle = false;
    } else {
      timestamp = this.now;
    }
    if (!step.ok) return this.deadLetter(step.deadLetter);
    const serialized = window.function === 'process' ? step.value : undefined;
    const windowEvent = window.function === 'process' ? undefined : (JSON.parse(step.value) as unknown);

    const added = this.slices !== null
      ? this.addToSlice(key.value, timestamp, windowEvent, this.slices)
      : this.addToWindows(key.value, timestamp, windowEvent, serialized, window);
    if (!added && this.isEventTime() && timestamp + window.allowedLatenessMs <= this.watermark) {
      if (this.manifest.sideOutputs.late) {
        this.stats.late++;
        this.listener.late(JSON.parse(step.value) as unknown);
      } else {
        this.stats.lateDropped++;
      }
    }
  }

  /** Adds the element to each window it belongs to that is not late, and fires or registers them. Whether one took it. */
  private addToWindows(key: string, timestamp: number, event: unknown, serialized: string | undefined, window: ManifestWindow): boolean {
    let skipped = true;
    for (const assigned of assignWindows(window.assigner, timestamp)) {
      const actual = this.merging ? this.mergeInto(key, assigned) : assigned;
      if (actual === undefined) continue;
      if (this.isWindowLate(actual)) {
        // A window that only this element would have created: Flink retires it without state.
        continue;
      }
      skipped = false;
      if (!this.addToWindow(key, actual, event, serialized)) continue;
      if (this.isEventTime() && maxTimestamp(actual) <= this.watermark) {
        this.fire(key, actual);
      } else {
        this.timers().register(maxTimestamp(actual), key, actual);
      }
      this.registerCleanup(key, actual);
    }
    return !skipped;
  }

  /**
   * Merges a new session window into the key's sessions the way Flink's MergingWindowSet does and
   * returns the window the element belongs to.
   */
  private mergeInto(key: string, added: WindowBounds): WindowBounds | undefined {
    const windows = this.windowsOf(key);
    const existing = [...windows.values()].map((s) => s.window);
    const group = mergeWindows([...existing, added]).find((g) => g.members.some((m) => m === added));
    if (!group) return added;
    const merged = group.members.filter((m) => m !== added);
    if (merged.length === 0) return added;
    if (merged.length === 1 && sameWindow(merged[0] as WindowBounds, group.result)) return group.result;

    const result = group.result;
    const states = merged.map((m) => windows.get(windowId(m)) as WindowState);
    for (const m of merged) {
      windows.delete(windowId(m));
      this.timers().delete(maxTimestamp(m), key, m);
      this.deleteCleanup(key, m);
    }
    const combined: WindowState = { window: result };
    for (const s of states) this.combine(combined, s, key);
    windows.set(windowId(result), combined);
    // Flink's triggers re-register the merged window's timer in onMerge only while it is in the future.
    const deadline = this.isEventTime() ? this.watermark : this.now;
    if (maxTimestamp(result) > deadline) this.timers().register(maxTimestamp(result), key, result);
    return result;
  }

  private combine(into: WindowState, from: WindowState, key: string): void {
    if (from.events) into.events = [...(into.events ?? []), ...from.events];
    if (from.accumulator === undefined) return;
    if (into.accumulator === undefined) {
      into.accumulator = from.accumulator;
      return;
    }
    const merged = this.host.merge(into.accumulator, from.accumulator, key, into.window);
    if (merged.ok) into.accumulator = merged.value;
    else this.deadLetter(merged.deadLetter);
  }

  /**
   * The slicing path of `windowElement`: the same windows, lateness and late firings, but the element is added to its
   * slice once and only the first window still to fire gets a timer. Returns whether a window took the element.
   */
  private addToSlice(key: string, timestamp: number, event: unknown, slices: SlidingSlices): boolean {
    const slice = slices.sliceOf(timestamp);
    let added = false;
    for (let end = slices.firstWindowEnd(slice); end <= slices.lastWindowEnd(slice); end += slices.slide) {
      const window = slices.windowEndingAt(end);
      if (this.isWindowLate(window)) continue;
      if (!added) {
        // A failed add leaves the slice as it was; its windows still fire with what they hold, as on Flink.
        this.addToWindow(key, slice, event, undefined);
        added = true;
      }
      this.registerCleanup(key, window);
      if (maxTimestamp(window) <= this.watermark) {
        this.fireSlices(key, window, slices); // a late firing, with this element counted
      } else {
        this.eventTimers.register(maxTimestamp(window), key, window); // the later ones are chained in onSliceTimer
        break;
      }
    }
    return added;
  }

  /** A window of slices reached its end (fire; chain the next window if it will fire) or its cleanup time. */
  private onSliceTimer(timer: Timer, slices: SlidingSlices): void {
    const { key, window, timestamp } = timer;
    const next = slices.next(window);
    if (timestamp === maxTimestamp(window) && this.fireSlices(key, window, slices)) {
      this.eventTimers.register(maxTimestamp(next), key, next);
      this.registerCleanup(key, next);
    }
    if (timestamp === this.cleanupTime(window)) {
      // No later window covers the slices before the next window's start.
      const windows = this.state.get(key);
      if (windows === undefined) return;
      for (const slice of slices.between(window.start, next.start)) windows.delete(windowId(slice));
      if (windows.size === 0) this.state.delete(key);
    }
  }

  /**
   * Fires a window kept in slices: its slices' accumulators merged oldest first (as the Flink runtime's MERGE request
   * does), then its result. Returns whether a slice it shares with the next window holds data.
   */
  private fireSlices(key: string, window: WindowBounds, slices: SlidingSlices): boolean {
    const windows = this.state.get(key);
    const nextStart = window.start + slices.slide;
    const bounds = { start: window.start, end: window.end };
    let accumulator: string | undefined;
    let nextHasData = false;
    for (const slice of slices.between(window.start, window.end)) {
      const held = windows?.get(windowId(slice))?.accumulator;
      if (held === undefined) continue;
      nextHasData ||= slice.start >= nextStart;
      if (accumulator === undefined) {
        accumulator = held;
        continue;
      }
      const merged = this.host.merge(accumulator, held, key, bounds);
      if (merged.ok) accumulator = merged.value;
      else this.deadLetter(merged.deadLetter);
    }
    if (accumulator !== undefined) {
      this.stats.firings++;
      this.emitResult(this.host.result(accumulator, key, bounds));
    }
    return nextHasData;
  }

  /** Adds the element to the window's state; false when user code failed (the element went to dead letters). */
  private addToWindow(key: string, window: WindowBounds, event: unknown, serialized: string | undefined): boolean {
    const windows = this.windowsOf(key);
    const id = windowId(window);
    const existing = windows.get(id);
    if (serialized !== undefined) {
      const state = existing ?? { window, events: [] };
      (state.events ??= []).push(serialized);
      windows.set(id, state);
      return true;
    }
    let accumulator = existing?.accumulator;
    if (accumulator === undefined) {
      const created = this.host.create(event);
      if (!created.ok) {
        this.deadLetter(created.deadLetter);
        return false;
      }
      accumulator = created.value;
    }
    const added = this.host.add(accumulator, event);
    if (!added.ok) {
      this.deadLetter(added.deadLetter);
      return false;
    }
    windows.set(id, { window, accumulator: added.value });
    return true;
  }

  // --- time ------------------------------------------------------------------------------------

  private partitionClock(partition: number): PartitionClock {
    let clock = this.partitions.get(partition);
    if (clock === undefined) {
      clock = { maxTimestamp: NO_WATERMARK, lastActive: this.now, idle: false };
      this.partitions.set(partition, clock);
    }
    return clock;
  }

  /** The minimum over partitions that are not idle of max timestamp − bound − 1; nothing when all are idle. */
  private generateWatermark(): void {
    if (this.window?.time.kind !== 'event') return;
    const bound = this.window.time.outOfOrdernessMs;
    let watermark = Number.POSITIVE_INFINITY;
    let active = false;
    for (const clock of this.partitions.values()) {
      if (clock.idle) continue;
      active = true;
      watermark = Math.min(watermark, clock.maxTimestamp === NO_WATERMARK ? NO_WATERMARK : clock.maxTimestamp - bound - 1);
    }
    if (active && watermark !== NO_WATERMARK) this.setWatermark(watermark);
  }

  private checkIdlePartitions(): void {
    const timeout = this.window?.time.kind === 'event' ? this.window.time.idleTimeoutMs : null;
    if (timeout === null || timeout === undefined) return;
    for (const clock of this.partitions.values()) {
      if (!clock.idle && this.now - clock.lastActive >= timeout) clock.idle = true;
    }
    this.generateWatermark();
  }

  private setWatermark(watermark: number): void {
    if (watermark <= this.watermark) return;
    this.watermark = watermark;
    let timer: Timer | undefined;
    while ((timer = this.eventTimers.popDue(watermark)) !== undefined) this.onEventTime(timer);
  }

  private onEventTime(timer: Timer): void {
    if (this.slices !== null) return this.onSliceTimer(timer, this.slices);
    const state = this.state.get(timer.key)?.get(windowId(timer.window));
    if (state === undefined) return; // merged away or already cleaned up
    if (timer.timestamp === maxTimestamp(timer.window)) this.fire(timer.key, timer.window);
    if (timer.timestamp === this.cleanupTime(timer.window)) this.clear(timer.key, timer.window);
  }

  private onProcessingTime(timer: Timer): void {
    const state = this.state.get(timer.key)?.get(windowId(timer.window));
    if (state === undefined) return;
    this.fire(timer.key, timer.window);
    this.clear(timer.key, timer.window);
  }

  private fire(key: string, window: WindowBounds): void {
    const state = this.state.get(key)?.get(windowId(window));
    if (state === undefined) return;
    this.stats.firings++;
    const bounds = { start: window.start, end: window.end };
    const result = state.events
      ? this.host.process(state.events, key, bounds)
      : state.accumulator !== undefined
        ? this.host.result(state.accumulator, key, bounds)
        : undefined;
    if (result === undefined) return;
    this.emitResult(result);
  }

  private emitResult(result: Step<Output[]>): void {
    if (!result.ok) return this.deadLetter(result.deadLetter);
    for (const output of result.value) this.emit(output);
  }

  private clear(key: string, window: WindowBounds): void {
    const windows = this.state.get(key);
    if (!windows) return;
    windows.delete(windowId(window));
    if (windows.size === 0) this.state.delete(key);
    this.timers().delete(maxTimestamp(window), key, window);
  }

  private cleanupTime(window: WindowBounds): number {
    if (!this.isEventTime()) return maxTimestamp(window);
    return maxTimestamp(window) + (this.window?.allowedLatenessMs ?? 0);
  }

  private registerCleanup(key: string, window: WindowBounds): void {
    this.timers().register(this.cleanupTime(window), key, window);
  }

  private deleteCleanup(key: string, window: WindowBounds): void {
    this.timers().delete(this.cleanupTime(window), key, window);
  }

  private isWindowLate(window: WindowBounds): boolean {
    return this.isEventTime() && this.cleanupTime(window) <= this.watermark;
  }

  private isEventTime(): boolean {
    return this.window?.time.kind === 'event';
  }

  private timers(): TimerQueue {
    return this.isEventTime() ? this.eventTimers : this.processingTimers;
  }

  // --- helpers ---------------------------------------------------------------------------------

  private windowsOf(key: string): Map<string, WindowState> {
    let windows = this.state.get(key);
    if (!windows) {
      windows = new Map();
      this.state.set(key, windows);
    }
    return windows;
  }

  private emit(output: Output): void {
    this.stats.outputs++;
    // What reaches Kafka is the JSON text: hand listeners the value as a consumer will read it.
    this.listener.output(output.json === null ? output : { ...output, value: JSON.parse(output.json) as unknown });
  }

  private deadLetter(deadLetter: DeadLetter): void {
    this.stats.deadLetters++;
    // As on Flink: the steps of the record's own stage say where it was read; the window stage's (create, add, merge,
    // result, process) say their key and window, as their records reach it on Flink without offsets.
    const source = RECORD_STAGES.has(deadLetter.stage) ? this.recordSource : undefined;
    this.listener.deadLetter(source === undefined ? deadLetter : { ...deadLetter, source });
  }

  private checkOpen(): void {
    if (this.finished) throw new Error('the engine has finished; create a new one to process more input');
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/** The dead letters of a record's first stage, which know where the record was read. */
const RECORD_STAGES: ReadonlySet<DeadLetter['stage']> = new Set(['decode', 'handle', 'key', 'timestamp']);

function partitionOf(origin: RecordOrigin): number {
  const partition = origin.partition ?? 0;
  if (!Number.isInteger(partition) || partition < 0) throw new RangeError(`partition must be a whole number ≥ 0, got ${partition}`);
  return partition;
}
