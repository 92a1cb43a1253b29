/**
 * The handler's own metrics as user code records them (`ctx.metrics`). The recorder keeps what changed since it was
 * last drained: the sidecar drains it after every request and sends the deltas to the Flink operator, the embedded
 * engine drains it into a {@link MetricsSummary}. Recording nothing costs nothing: `drain()` is then null.
 */
import { DeclarationError, checkMetricName, type MetricKind, type Metrics, type MetricCounter, type MetricGauge, type MetricHistogram } from '@flinkfn/sdk';

/**
 * What user code recorded since the last drain: counter increments (summed), the last value of each gauge, and
 * every histogram value (rounded to an integer, as Flink's histograms hold longs).
 *
 * @example
 * const updates: MetricUpdates = { counters: new Map([['orders', 3]]), gauges: new Map(), histograms: new Map([['size', [2, 5]]]) };
 */
export interface MetricUpdates {
  counters: Map<string, number>;
  gauges: Map<string, number>;
  histograms: Map<string, number[]>;
}

/**
 * Records `ctx.metrics` calls. One per FunctionHost; the metric objects it hands out are cached per name.
 *
 * @example
 * const recorder = new MetricsRecorder();
 * recorder.counter('orders').inc();
 * recorder.drain(); // { counters: Map { 'orders' => 1 }, ... }
 */
export class MetricsRecorder implements Metrics {
  private updates: MetricUpdates | null = null;
  private readonly kinds = new Map<string, MetricKind>();
  private readonly counters = new Map<string, MetricCounter>();
  private readonly gauges = new Map<string, MetricGauge>();
  private readonly histograms = new Map<string, MetricHistogram>();

  counter(name: string): MetricCounter {
    let counter = this.counters.get(name);
    if (counter === undefined) {
      this.declare('counter', name);
      counter = {
        inc: (n: number = 1) => {
          if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`counter '${name}': inc(${String(n)}) needs a whole number ≥ 0`);
          const counters = this.pending().counters;
          counters.set(name, (counters.get(name) ?? 0) + n);
        },
      };
      this.counters.set(name, counter);
    }
    return counter;
  }

  gauge(name: string): MetricGauge {
    let gauge = this.gauges.get(name);
    if (gauge === undefined) {
      this.declare('gauge', name);
      gauge = {
        set: (value: number) => {
          if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`gauge '${name}': set(${String(value)}) needs a finite number`);
          this.pending().gauges.set(name, value);
        },
      };
      this.gauges.set(name, gauge);
    }
    return gauge;
  }

  histogram(name: string): MetricHistogram {
    let histogram = this.histograms.get(name);
    if (histogram === undefined) {
      this.declare('histogram', name);
      histogram = {
        update: (value: number) => {
          if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`histogram '${name}': update(${String(value)}) needs a finite number`);
          const rounded = Math.round(value);
          if (!Number.isSafeInteger(rounded)) throw new TypeError(`histogram '${name}': update(${String(value)}) is outside the safe integer range`);
          const histograms = this.pending().histograms;
          const values = histograms.get(name);
          if (values === undefined) histograms.set(name, [rounded]);
          else values.push(rounded);
        },
      };
      this.histograms.set(name, histogram);
    }
    return histogram;
  }

  /** What was recorded since the last drain, or null if nothing was; starts over. */
  drain(): MetricUpdates | null {
    const updates = this.updates;
    this.updates = null;
    return updates;
  }

  private pending(): MetricUpdates {
    return (this.updates ??= { counters: new Map(), gauges: new Map(), histograms: new Map() });
  }

  private declare(kind: MetricKind, name: string): void {
    checkMetricName(kind, name);
    const existing = this.kinds.get(name);
    if (existing !== undefined && existing !== kind) {
      throw new DeclarationError(`metrics.${kind}`, `'${name}' is already a ${existing}`, `give the ${kind} a name of its own`, name);
    }
    this.kinds.set(name, kind);
  }
}

/**
 * A histogram as `flinkfn dev` and the harness report it.
 *
 * @example
 * const size: HistogramSummary = { count: 2, min: 1, max: 3, mean: 2 };
 */
export interface HistogramSummary {
  count: number;
  min: number;
  max: number;
  mean: number;
}

/**
 * Totals over a whole run: counters summed, each gauge's last value, each histogram's count/min/max/mean.
 *
 * @example
 * const totals: MetricsSnapshot = { counters: { orders: 3 }, gauges: { queue: 7 }, histograms: { size: { count: 2, min: 1, max: 3, mean: 2 } } };
 */
export interface MetricsSnapshot {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  histograms: Record<string, HistogramSummary>;
}

/**
 * Adds up drained updates (the embedded engine's view of a run).
 *
 * @example
 * const summary = new MetricsSummary();
 * summary.add(recorder.drain());
 * summary.snapshot().counters.orders;
 */
export class MetricsSummary {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly histograms = new Map<string, { count: number; min: number; max: number; sum: number }>();

  add(updates: MetricUpdates | null): void {
    if (updates === null) return;
    for (const [name, n] of updates.counters) this.counters.set(name, (this.counters.get(name) ?? 0) + n);
    for (const [name, value] of updates.gauges) this.gauges.set(name, value);
    for (const [name, values] of updates.histograms) {
      let h = this.histograms.get(name);
      if (h === undefined) {
        h = { count: 0, min: Infinity, max: -Infinity, sum: 0 };
        this.histograms.set(name, h);
      }
      for (const value of values) {
        h.count++;
        h.min = Math.min(h.min, value);
        h.max = Math.max(h.max, value);
        h.sum += value;
      }
    }
  }

  snapshot(): MetricsSnapshot {
    const histograms: Record<string, HistogramSummary> = {};
    for (const [name, h] of this.histograms) histograms[name] = { count: h.count, min: h.min, max: h.max, mean: h.sum / h.count };
    return { counters: Object.fromEntries(this.counters), gauges: Object.fromEntries(this.gauges), histograms };
  }

  isEmpty(): boolean {
    return this.counters.size === 0 && this.gauges.size === 0 && this.histograms.size === 0;
  }
}

/**
 * One line per metric, for people (`flinkfn dev`): `counter orders 3`, `gauge queue 7`,
 * `histogram size count 2 min 1 max 3 mean 2`. Empty when nothing was recorded.
 *
 * @example
 * for (const line of describeMetrics(engine.metrics)) console.log(line);
 */
export function describeMetrics(snapshot: MetricsSnapshot): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(snapshot.counters)) lines.push(`counter ${name} ${value}`);
  for (const [name, value] of Object.entries(snapshot.gauges)) lines.push(`gauge ${name} ${value}`);
  for (const [name, h] of Object.entries(snapshot.histograms)) {
    lines.push(`histogram ${name} count ${h.count} min ${h.min} max ${h.max} mean ${Number(h.mean.toFixed(3))}`);
  }
  return lines;
}
