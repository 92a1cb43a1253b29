/**
 * A test harness for flinkfn functions: push events, move the watermark and the processing-time clock,
 * read what went to each sink, the late output and the dead-letter output. It runs the embedded engine,
 * which follows Flink's window semantics, so what passes here behaves the same on Flink.
 *
 * An async `handle` (one that returns a Promise) keeps running after `push` returns: `await h.settled()` before
 * reading outputs (reading them while events are in flight throws, so a test cannot pass on half the results).
 */
import path from 'node:path';
import { build, type BuildOptions } from '@flinkfn/bundler';
import { Engine } from '@flinkfn/engine';
import { FunctionHost, loadArtifactFile, loadFunction, type DeadLetter, type MetricsSnapshot, type Output } from '@flinkfn/host';
import { isFunctionDefinition, type FunctionDefinition, type ManifestSetting, type SettingsDeclaration } from '@flinkfn/sdk';

/**
 * Options of a harness.
 *
 * @example
 * const h = harness(pageViews, { partitions: 4 });
 */
export interface HarnessOptions<Names extends string = string> {
  /**
   * Values of the function's declared settings, secrets included (defaults fill the rest); a required one that is
   * missing, or a name the function does not declare, throws a SettingsError.
   */
  settings?: Partial<Record<Names, string>>;
  /** Initial processing-time clock; default 0. */
  processingTime?: number;
  /** Partitions of the source topic; each holds the watermark back until it delivers or goes idle. Default 1. */
  partitions?: number;
}

/**
 * Drives one function in a test.
 *
 * @example
 * const h = harness(pageViews);
 * h.push({ page: '/', user: 'a', ts: 1_000 }).finish();
 * assert.equal(h.outputs(), [{ page: '/', views: 1 }]);
 */
export class Harness {
  /** Everything sent to sinks, in order, with sink name and Kafka key. */
  readonly records: Output[] = [];
  /** Events that were too late for every window. */
  readonly late: unknown[] = [];
  /** Events (or windows) whose user code threw, and malformed records. */
  readonly deadLetters: DeadLetter[] = [];
  private readonly engine: Engine;
  private readonly defaultSink: string;

  constructor(host: FunctionHost, options: HarnessOptions = {}) {
    this.defaultSink = host.manifest.sinks[0]?.name ?? 'main';
    this.engine = new Engine(
      host,
      {
        output: (output) => this.records.push(output),
        late: (event) => this.late.push(event),
        deadLetter: (letter) => this.deadLetters.push(letter),
      },
      options,
    );
  }

  /** Pushes decoded events, as the handler receives them. */
  push(...events: unknown[]): this {
    for (const event of events) this.engine.pushEvent(event);
    return this;
  }

  /**
   * Pushes decoded events from one source partition: each partition has its own watermark, and the function's
   * watermark is the minimum over partitions that are not idle (see `HarnessOptions.partitions`).
   */
  pushTo(partition: number, ...events: unknown[]): this {
    for (const event of events) this.engine.pushEvent(event, { partition });
    return this;
  }

  /** Pushes raw source records (decoded per the source format; malformed ones go to dead letters). */
  pushRaw(...records: Array<string | Uint8Array>): this {
    for (const record of records) this.engine.pushRecord(record);
    return this;
  }

  /** Advances the event-time watermark (it never goes back). */
  watermark(timestamp: number): this {
    this.engine.advanceWatermark(timestamp);
    return this;
  }

  /** Advances the processing-time clock, firing processing-time windows that ended. */
  processingTime(timestamp: number): this {
    this.engine.advanceProcessingTime(timestamp);
    return this;
  }

  /** Ends the input: every event-time window fires (and, with the option, every processing-time window). */
  finish(options: { fireProcessingTimeWindows?: boolean } = {}): this {
    this.engine.finish(options);
    return this;
  }

  /**
   * Waits until every event pushed so far went through an async `handle` and everything it leads to (windows,
   * watermarks, the end of input) was emitted. Resolves at once for synchronous handlers.
   *
   * @example
   * await h.push(order).finish().settled();
   * assert.equal(h.outputs(), [{ ...order, customer: 'Ada' }]);
   */
  async settled(): Promise<this> {
    await this.engine.settled();
    return this;
  }

  /** Events pushed whose async `handle` has not finished, or whose result waits for an earlier one (ordered mode). */
  get inFlight(): number {
    return this.engine.inFlight;
  }

  /** Values sent to `sink` (default: the first declared sink). Throws while async events are in flight. */
  outputs(sink: string = this.defaultSink): unknown[] {
    const inFlight = this.engine.inFlight;
    if (inFlight > 0) {
      throw new Error(`${inFlight} event${inFlight === 1 ? ' is' : 's are'} still in flight in the async handle; `
        + 'await h.settled() before reading outputs');
    }
    return this.records.filter((r) => r.sink === sink).map((r) => r.value);
  }

  /** The current event-time watermark (−∞ before the first). */
  get currentWatermark(): number {
    return this.engine.currentWatermark;
  }

  /**
   * What the handler recorded through `ctx.metrics` since the harness started (`clear()` keeps it): counters
   * summed, each gauge's last value, each histogram's count, min, max and mean.
   *
   * @example
   * h.push(order, order);
   * h.metrics.counters.orders; // 2
   */
  get metrics(): MetricsSnapshot {
    return this.engine.metrics;
  }

  /** Windows currently holding state (slices, for sliding windows kept in slices: see the SDK's `sliceMs`). */
  get openWindows(): number {
    return this.engine.openWindows;
  }

  /** Empties the collected outputs, late events and dead letters. */
  clear(): this {
    this.records.length = 0;
    this.late.length = 0;
    this.deadLetters.length = 0;
    return this;
  }
}

/**
 * A harness for a function definition imported straight from its module (no build step).
 *
 * @example
 * import fn from '../src/handler.ts';
 * const h = harness(fn);
 */
export function harness<In, E, A, R, S extends SettingsDeclaration>(
  definition: FunctionDefinition<In, E, A, R, S>,
  options: HarnessOptions<keyof S & string> = {},
): Harness {
  const value: unknown = definition;
  if (!isFunctionDefinition(value)) {
    throw new TypeError('harness() needs what defineFunction() returns; import the default export of your handler module');
  }
  const host = new FunctionHost(definition.declarations(), definition.spec, undefined);
  host.configure(given(options.settings), harnessHint);
  return new Harness(host, options);
}

function given(settings: Readonly<Partial<Record<string, string>>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(settings ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function harnessHint(missing: readonly ManifestSetting[]): string {
  return `Pass it to the harness: harness(fn, { settings: { ${missing.map((s) => `${s.name}: '...'`).join(', ')} } }).`;
}

/**
 * A harness for the artifact `flinkfn build` makes from a handler module: tests the exact bundle that
 * would be deployed.
 *
 * @example
 * const h = await harnessFromEntry('src/handler.ts');
 */
export async function harnessFromEntry(
  entry: string,
  options: Omit<BuildOptions, 'entry' | 'write'> & HarnessOptions = {},
): Promise<Harness> {
  const root = options.root ?? process.cwd();
  const result = await build({ root, entry: path.resolve(root, entry), write: false });
  const loaded = await loadFunction(result.artifact);
  loaded.host.configure(given(options.settings), harnessHint);
  return new Harness(loaded.host, options);
}

/**
 * A harness for a built artifact file.
 *
 * @example
 * const h = await harnessFromArtifact('.flinkfn/artifacts/<id>.flinkfn');
 */
export async function harnessFromArtifact(file: string, options: HarnessOptions = {}): Promise<Harness> {
  const loaded = await loadArtifactFile(file);
  loaded.host.configure(given(options.settings), harnessHint);
  return new Harness(loaded.host, options);
}
