/**
 * Answers protocol requests by calling the function's user code through the host. Nothing here is state: the
 * accumulators and window contents come in each request from Flink state and go back in the response, or are kept
 * between bundles for one connection (COMBINE/TAKE, held-accumulators.ts) until the operator takes them back.
 *
 * An async `handle` makes a PROCESS answer a Promise: the records' calls run concurrently, at most
 * `async.capacity` at once over every PROCESS in flight (records beyond wait for a slot, in arrival order), and the
 * server goes on reading frames meanwhile, so the operator's next bundles keep flowing.
 */
import type { DeadLetter, FunctionHost, MetricUpdates, Output as HostOutput, Step } from '@flinkfn/host';
import { sliceMs } from '@flinkfn/sdk';
import { HeldAccumulators } from './held-accumulators.js';
import {
  MessageType,
  MetricKind,
  type MetricUpdate,
  NO_TIMESTAMP,
  OutputKind,
  PROTOCOL_VERSION,
  type Output,
  type Request,
  type Response,
  decodeRequest,
  processRecordBounds,
  utf8Text as text,
} from './protocol.js';

export class SidecarHandler {
  private readonly sinkIndex: Map<string, number>;
  private readonly windowed: boolean;
  private readonly eventTime: boolean;
  /** The window's events are the source records themselves: they are forwarded, not serialized again. */
  private readonly forwardsRecords: boolean;
  /**
   * Sliding windows kept per window put one event into several windows of one AGGREGATE request: worth parsing it
   * once. Kept in slices (sdk's `sliceMs`) an event reaches one accumulator, and the cache would only cost.
   */
  private readonly eventsRepeat: boolean;
  private readonly capacity: number;
  /** Whether PROCESS answers may leave in completion order (async.ordered false); see protocol.ts. */
  readonly unordered: boolean;
  /** Async handle calls started and not settled. */
  private running = 0;
  /** Records waiting for a slot, oldest first, over every PROCESS request. */
  private readonly waiting: Array<() => void> = [];
  /** The held accumulators of a caller that keeps no connection of its own (in-process tests and benchmarks). */
  private readonly defaultHeld: HeldAccumulators;

  constructor(
    private readonly host: FunctionHost,
    private readonly artifactId: string,
  ) {
    this.sinkIndex = new Map(host.manifest.sinks.map((sink, index) => [sink.name, index]));
    this.windowed = host.manifest.window !== null;
    this.eventTime = host.manifest.window?.time.kind === 'event';
    this.forwardsRecords = host.windowSeesSourceRecords;
    this.eventsRepeat = host.manifest.window?.assigner.kind === 'sliding' && sliceMs(host.manifest.window) === null;
    this.capacity = host.async.capacity;
    this.unordered = !host.async.ordered;
    this.defaultHeld = new HeldAccumulators(host);
  }

  /** The accumulators a new connection keeps (the server makes one per connection). */
  newHeldAccumulators(): HeldAccumulators {
    return new HeldAccumulators(this.host);
  }

  /** Async handle calls in flight now (for tests and diagnostics). */
  get inFlight(): number {
    return this.running;
  }

  /**
   * The answer to a request frame (what the server calls): a PROCESS is read straight from the frame, each record
   * decoded from its bytes there (no Buffer view per record); the other requests are decoded first.
   */
  handleFrame(type: number, id: number, body: Buffer, held: HeldAccumulators = this.defaultHeld): Response | Promise<Response> | undefined {
    if (type !== MessageType.PROCESS) return this.handle(decodeRequest(type, id, body), held);
    const bounds = processRecordBounds(body);
    const decode = (i: number): Step<unknown> => this.host.decodeRange(body, bounds[2 * i] as number, bounds[2 * i + 1] as number);
    if (this.forwardsRecords) {
      const results = this.elementsOf(bounds.length / 2, decode, (i) => body.subarray(bounds[2 * i] as number, bounds[2 * i + 1] as number));
      return { type: MessageType.PROCESSED, id, results };
    }
    const results = this.processAll(bounds.length / 2, decode);
    if (results instanceof Promise) return results.then((settled) => ({ type: MessageType.PROCESSED, id, results: settled }));
    return { type: MessageType.PROCESSED, id, results };
  }

  handle(request: Request, held: HeldAccumulators = this.defaultHeld): Response | Promise<Response> | undefined {
    switch (request.type) {
      case MessageType.HELLO:
        if (request.protocolVersion !== PROTOCOL_VERSION) {
          return { type: MessageType.ERROR, id: request.id, message: `the sidecar speaks protocol ${PROTOCOL_VERSION}, the operator ${request.protocolVersion}` };
        }
        if (request.artifactId !== this.artifactId) {
          return { type: MessageType.ERROR, id: request.id, message: `the sidecar serves artifact ${this.artifactId}, the operator expects ${request.artifactId}` };
        }
        try {
          this.host.configure(request.settings, (missing) => `the deployment gives no value for ${missing.map((s) => s.name).join(', ')}; deploy it again with the value (flinkfn deploy --help)`);
        } catch (error) {
          // A SettingsError names the setting, never a value.
          const hint = (error as { hint?: unknown }).hint;
          return { type: MessageType.ERROR, id: request.id, message: `${(error as Error).message}${typeof hint === 'string' ? ` (${hint})` : ''}` };
        }
        return { type: MessageType.HELLO_OK, id: request.id, protocolVersion: PROTOCOL_VERSION, functionName: this.host.manifest.name };
      case MessageType.PROCESS: {
        const records = request.records;
        const decode = (i: number): Step<unknown> => this.host.decode(records[i] as Uint8Array);
        if (this.forwardsRecords) {
          return { type: MessageType.PROCESSED, id: request.id, results: this.elementsOf(records.length, decode, (i) => records[i] as Uint8Array) };
        }
        const results = this.processAll(records.length, decode);
        if (results instanceof Promise) return results.then((settled) => ({ type: MessageType.PROCESSED, id: request.id, results: settled }));
        return { type: MessageType.PROCESSED, id: request.id, results };
      }
      case MessageType.AGGREGATE:
        return {
          type: MessageType.AGGREGATED,
          id: request.id,
          results: (() => {
            const parsed = this.eventsRepeat ? new Map<string, unknown>() : null;
            return request.groups.map((group) => this.aggregate(group.accumulator, group.events, parsed));
          })(),
        };
      case MessageType.COMBINE: {
        const parsed = this.eventsRepeat ? new Map<string, unknown>() : null;
        return {
          type: MessageType.COMBINED,
          id: request.id,
          results: request.groups.map((group) => {
            const deadLetters: DeadLetter[] = [];
            held.combine(group.slot, group.held ? undefined : group.accumulator, this.parseEvents(group.events, parsed), deadLetters);
            return { deadLetters: deadLetters.map((letter) => JSON.stringify(letter)) };
          }),
        };
      }
      case MessageType.TAKE:
        return {
          type: MessageType.TAKEN,
          id: request.id,
          results: request.slots.map((slot) => {
            const deadLetters: DeadLetter[] = [];
            const accumulator = held.take(slot, deadLetters);
            return { accumulator, deadLetters: deadLetters.map((letter) => JSON.stringify(letter)) };
          }),
        };
      case MessageType.MERGE:
        return {
          type: MessageType.MERGED,
          id: request.id,
          results: request.merges.map((m) => this.merge(m.accumulators, m.key, { start: m.start, end: m.end })),
        };
      case MessageType.FIRE:
        return {
          type: MessageType.FIRED,
          id: request.id,
          results: request.fires.map((fire) => {
            const window = { start: fire.start, end: fire.end };
            let step: Step<HostOutput[]>;
            if (fire.mode === 0) step = this.host.result(text(fire.accumulator), fire.key, window);
            else if (fire.mode === 1) step = this.host.process(fire.events.map(text), fire.key, window);
            else {
              const kept = held.fire(fire.slot);
              if (kept === null) return [];
              step = this.host.resultOf(kept.value, fire.key, window);
            }
            return step.ok ? this.sinkOutputs(step.value) : [deadLetter(step.deadLetter)];
          }),
        };
      case MessageType.SHUTDOWN:
        return undefined;
    }
  }

  /**
   * The METRICS frame for what user code recorded while request `id` was handled, or undefined when it recorded
   * nothing (the common case costs one null check). The server sends it right before the request's response.
   */
  takeMetrics(id: number): Response | undefined {
    const updates = this.host.metrics.drain();
    if (updates === null) return undefined;
    return { type: MessageType.METRICS, id, metrics: metricFrames(updates) };
  }

  /**
   * Every record of a PROCESS request (`decode(i)` decodes record i); a Promise when one of them is async or has to
   * wait for a slot.
   */
  private processAll(count: number, decode: (i: number) => Step<unknown>): Output[][] | Promise<Output[][]> {
    const results: Array<Output[] | Promise<Output[]>> = new Array<Output[]>(count);
    let pending = false;
    for (let i = 0; i < count; i++) {
      if (this.running >= this.capacity || this.waiting.length > 0) {
        // No free slot, or earlier records wait for one: start in arrival order when one frees.
        pending = true;
        const record = i;
        results[i] = new Promise<Output[]>((resolve, reject) => {
          this.waiting.push(() => {
            try {
              resolve(this.process(decode(record)));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
        });
        continue;
      }
      const result = this.process(decode(i));
      if (result instanceof Promise) pending = true;
      results[i] = result;
    }
    return pending ? Promise.all(results) : (results as Output[][]);
  }

  /** (decoded) → handle → (windowed: key, timestamp, serialized event). */
  private process(decoded: Step<unknown>): Output[] | Promise<Output[]> {
    if (!decoded.ok) return [deadLetter(decoded.deadLetter)];
    const handled = this.host.handle(decoded.value);
    if (handled instanceof Promise) {
      this.running++;
      return handled.then((step) => {
        this.running--;
        this.startWaiting();
        return this.handled(step);
      });
    }
    return this.handled(handled);
  }

  /** Starts waiting records while slots are free (a record whose handle is synchronous takes none). */
  private startWaiting(): void {
    while (this.running < this.capacity && this.waiting.length > 0) (this.waiting.shift() as () => void)();
  }

  private handled(handled: Step<HostOutput[]>): Output[] {
    if (!handled.ok) return [deadLetter(handled.deadLetter)];
    if (!this.windowed) return this.sinkOutputs(handled.value);
    const outputs = new Array<Output>(handled.value.length);
    for (let i = 0; i < outputs.length; i++) outputs[i] = this.element((handled.value[i] as HostOutput).value, null);
    return outputs;
  }

  /**
   * A windowed PROCESS whose window sees the source records themselves (FunctionHost.windowSeesSourceRecords): each
   * record is parsed for key() and time() only, and its bytes go on as the element's event. One JSON.stringify per
   * record less than the general path, and bytes copied instead of a string encoded; the window parses them into a
   * value equal to the parsed event.
   */
  private elementsOf(count: number, decode: (i: number) => Step<unknown>, record: (i: number) => Uint8Array): Output[][] {
    const results = new Array<Output[]>(count);
    for (let i = 0; i < count; i++) {
      const decoded = decode(i);
      results[i] = [decoded.ok ? this.element(decoded.value, record(i)) : deadLetter(decoded.deadLetter)];
    }
    return results;
  }

  /** The window element of an event: its key, its timestamp, and `record` (its source record) or else the event serialized. */
  private element(event: unknown, record: Uint8Array | null): Output {
    // Serialized before key() and time() run, as the engine does: what they change never reaches the window.
    const serialized = record === null ? this.host.serializeEvent(event) : null;
    const key = this.host.keyOf(event);
    if (!key.ok) return deadLetter(key.deadLetter);
    let timestamp = NO_TIMESTAMP;
    if (this.eventTime) {
      const extracted = this.host.timestampOf(event);
      if (!extracted.ok) return deadLetter(extracted.deadLetter);
      timestamp = extracted.value;
    }
    if (serialized === null) return { kind: OutputKind.ELEMENT, key: key.value, timestamp, event: record as Uint8Array };
    if (!serialized.ok) return deadLetter(serialized.deadLetter);
    return { kind: OutputKind.ELEMENT, key: key.value, timestamp, event: serialized.value };
  }

  /**
   * create (when there is no accumulator yet) and add each event; failed events become dead letters.
   */
  private aggregate(
    accumulator: Uint8Array | null,
    events: Uint8Array[],
    parsed: Map<string, unknown> | null,
  ): { accumulator: string | null; deadLetters: string[] } {
    const result = this.host.addAll(accumulator === null ? null : text(accumulator), this.parseEvents(events, parsed));
    return { accumulator: result.accumulator, deadLetters: result.deadLetters.map((letter) => JSON.stringify(letter)) };
  }

  /**
   * The events of one group, parsed. With sliding windows kept per window one event goes to several windows: within a request each
   * distinct event text is parsed once (`parsed`).
   */
  private parseEvents(events: Uint8Array[], parsed: Map<string, unknown> | null): unknown[] {
    return events.map((bytes) => {
      const eventText = text(bytes);
      if (parsed === null) return JSON.parse(eventText) as unknown;
      let value = parsed.get(eventText);
      if (value === undefined) {
        value = JSON.parse(eventText) as unknown;
        parsed.set(eventText, value);
      }
      return value;
    });
  }

  private merge(accumulators: Uint8Array[], key: string, window: { start: number; end: number }): { accumulator: string; deadLetters: string[] } {
    const [first, ...rest] = accumulators.map(text);
    if (first === undefined) throw new Error('MERGE needs at least one accumulator');
    let acc = first;
    const deadLetters: string[] = [];
    for (const other of rest) {
      const merged = this.host.merge(acc, other, key, window);
      if (merged.ok) acc = merged.value;
      else deadLetters.push(JSON.stringify(merged.deadLetter));
    }
    return { accumulator: acc, deadLetters };
  }

  private sinkOutputs(outputs: HostOutput[]): Output[] {
    const sinkOutputs = new Array<Output>(outputs.length);
    for (let i = 0; i < outputs.length; i++) {
      const output = outputs[i] as HostOutput;
      sinkOutputs[i] = { kind: OutputKind.SINK, sinkIndex: this.sinkIndex.get(output.sink) ?? 0, key: output.key, value: output.json ?? 'null' };
    }
    return sinkOutputs;
  }
}

function deadLetter(letter: DeadLetter): Output {
  return { kind: OutputKind.DEAD_LETTER, deadLetter: JSON.stringify(letter) };
}

function metricFrames(updates: MetricUpdates): MetricUpdate[] {
  const metrics: MetricUpdate[] = [];
  for (const [name, increment] of updates.counters) metrics.push({ kind: MetricKind.COUNTER, name, increment });
  for (const [name, value] of updates.gauges) metrics.push({ kind: MetricKind.GAUGE, name, value });
  for (const [name, values] of updates.histograms) metrics.push({ kind: MetricKind.HISTOGRAM, name, values });
  return metrics;
}
