/**
 * Answers protocol requests by calling the function's user code through the host. Stateless here: the
 * accumulators and window contents come in each request from Flink state and go back in the response.
 */
import type { DeadLetter, FunctionHost, Output as HostOutput } from '@flinkfn/host';
import {
  MessageType,
  NO_TIMESTAMP,
  OutputKind,
  PROTOCOL_VERSION,
  type Output,
  type Request,
  type Response,
} from './protocol.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class SidecarHandler {
  private readonly sinkIndex: Map<string, number>;
  private readonly windowed: boolean;
  private readonly eventTime: boolean;

  constructor(
    private readonly host: FunctionHost,
    private readonly artifactId: string,
  ) {
    this.sinkIndex = new Map(host.manifest.sinks.map((sink, index) => [sink.name, index]));
    this.windowed = host.manifest.window !== null;
    this.eventTime = host.manifest.window?.time.kind === 'event';
  }

  handle(request: Request): Response | undefined {
    switch (request.type) {
      case MessageType.HELLO:
        if (request.protocolVersion !== PROTOCOL_VERSION) {
          return { type: MessageType.ERROR, id: request.id, message: `the sidecar speaks protocol ${PROTOCOL_VERSION}, the operator ${request.protocolVersion}` };
        }
        if (request.artifactId !== this.artifactId) {
          return { type: MessageType.ERROR, id: request.id, message: `the sidecar serves artifact ${this.artifactId}, the operator expects ${request.artifactId}` };
        }
        return { type: MessageType.HELLO_OK, id: request.id, protocolVersion: PROTOCOL_VERSION, functionName: this.host.manifest.name };
      case MessageType.PROCESS:
        return { type: MessageType.PROCESSED, id: request.id, results: request.records.map((record) => this.process(record)) };
      case MessageType.AGGREGATE:
        return {
          type: MessageType.AGGREGATED,
          id: request.id,
          results: (() => {
            const parsed = new Map<string, unknown>();
            return request.groups.map((group) => this.aggregate(group.accumulator, group.events, parsed));
          })(),
        };
      case MessageType.MERGE:
        return {
          type: MessageType.MERGED,
          id: request.id,
          results: request.merges.map((m) => this.merge(m.accumulators, m.key, { start: Number(m.start), end: Number(m.end) })),
        };
      case MessageType.FIRE:
        return {
          type: MessageType.FIRED,
          id: request.id,
          results: request.fires.map((fire) => {
            const window = { start: Number(fire.start), end: Number(fire.end) };
            const step = fire.mode === 0
              ? this.host.result(decoder.decode(fire.accumulator), fire.key, window)
              : this.host.process(fire.events.map((e) => decoder.decode(e)), fire.key, window);
            return step.ok ? this.sinkOutputs(step.value) : [deadLetter(step.deadLetter)];
          }),
        };
      case MessageType.SHUTDOWN:
        return undefined;
    }
  }

  /** decode → handle → (windowed: key, timestamp, serialized event). */
  private process(record: Uint8Array): Output[] {
    const decoded = this.host.decode(record);
    if (!decoded.ok) return [deadLetter(decoded.deadLetter)];
    const handled = this.host.handle(decoded.value);
    if (!handled.ok) return [deadLetter(handled.deadLetter)];
    if (!this.windowed) return this.sinkOutputs(handled.value);
    const outputs: Output[] = [];
    for (const { value } of handled.value) {
      const key = this.host.keyOf(value);
      if (!key.ok) {
        outputs.push(deadLetter(key.deadLetter));
        continue;
      }
      let timestamp = NO_TIMESTAMP;
      if (this.eventTime) {
        const extracted = this.host.timestampOf(value);
        if (!extracted.ok) {
          outputs.push(deadLetter(extracted.deadLetter));
          continue;
        }
        timestamp = BigInt(extracted.value);
      }
      const serialized = this.host.serializeEvent(value);
      if (!serialized.ok) {
        outputs.push(deadLetter(serialized.deadLetter));
        continue;
      }
      outputs.push({ kind: OutputKind.ELEMENT, key: key.value, timestamp, event: serialized.value });
    }
    return outputs;
  }

  /**
   * create (when there is no accumulator yet) and add each event; failed events become dead letters. One event
   * often goes to several windows (sliding windows): within a request each distinct event text is parsed once.
   */
  private aggregate(
    accumulator: Uint8Array | null,
    events: Uint8Array[],
    parsed: Map<string, unknown>,
  ): { accumulator: Uint8Array | null; deadLetters: Uint8Array[] } {
    const values = events.map((bytes) => {
      const text = decoder.decode(bytes);
      let value = parsed.get(text);
      if (value === undefined) {
        value = JSON.parse(text) as unknown;
        parsed.set(text, value);
      }
      return value;
    });
    const result = this.host.addAll(accumulator === null ? null : decoder.decode(accumulator), values);
    return {
      accumulator: result.accumulator === null ? null : encoder.encode(result.accumulator),
      deadLetters: result.deadLetters.map(encodeDeadLetter),
    };
  }

  private merge(accumulators: Uint8Array[], key: string, window: { start: number; end: number }): { accumulator: Uint8Array; deadLetters: Uint8Array[] } {
    const [first, ...rest] = accumulators.map((a) => decoder.decode(a));
    if (first === undefined) throw new Error('MERGE needs at least one accumulator');
    let acc = first;
    const deadLetters: Uint8Array[] = [];
    for (const other of rest) {
      const merged = this.host.merge(acc, other, key, window);
      if (merged.ok) acc = merged.value;
      else deadLetters.push(encodeDeadLetter(merged.deadLetter));
    }
    return { accumulator: encoder.encode(acc), deadLetters };
  }

  private sinkOutputs(outputs: HostOutput[]): Output[] {
    return outputs.map((output): Output => ({
      kind: OutputKind.SINK,
      sinkIndex: this.sinkIndex.get(output.sink) ?? 0,
      key: output.key,
      value: output.json ?? 'null',
    }));
  }
}

function encodeDeadLetter(letter: DeadLetter): Uint8Array {
  return encoder.encode(JSON.stringify(letter));
}

function deadLetter(letter: DeadLetter): Output {
  return { kind: OutputKind.DEAD_LETTER, deadLetter: JSON.stringify(letter) };
}
