/**
 * The operator ⇄ sidecar protocol, version 5 (2 added METRICS, 3 unordered PROCESSED answers, 4 settings in HELLO,
 * 5 accumulators held in the sidecar: COMBINE and TAKE). The Java side mirrors this file in
 * `packages/runtime-flink/src/main/java/dev/flinkfn/runtime/sidecar/SidecarProtocol.java`; both test
 * against the golden frames in `packages/sidecar/test/golden/`. docs/protocol.md explains the choices.
 *
 * Transport: a Unix domain socket (stream). The Flink operator connects; the sidecar serves. The sidecar's stdout
 * (only `READY <socket>`) and stderr (its own messages, and a handler's console output as handler log lines,
 * log-lines.ts) are not part of this protocol.
 *
 * Framing: every message is one frame, big-endian:
 *
 *     u32 length   — bytes that follow this field
 *     u8  type     — message type, below
 *     u32 id       — request id chosen by the operator; a response carries its request's id
 *     ...body
 *
 * Pairing and pipelining: the operator may send many requests without waiting. The sidecar handles
 * frames strictly in arrival order and answers each with exactly one response (or ERROR), in the same
 * order. A bundle is flushed by sending its request; it is complete when its response has arrived, so
 * "finish bundle" is "wait for the response of the last request sent".
 *
 * In-flight work (async handle): a PROCESS whose records' `handle` returns Promises is answered when all of them
 * have settled (each within the manifest's `async.timeout`: a timed-out or failed record is a DEAD_LETTER output,
 * never a missing answer). Meanwhile the sidecar keeps reading and handling frames; it runs at most
 * `async.capacity` handle calls at once over all PROCESS requests in flight, starting waiting records in arrival
 * order. The answer order stays the request order, except in a function whose manifest says
 * `async.ordered: false`: there PROCESSED answers leave as they are ready, and the operator pairs them by id (so
 * does a METRICS frame, sent right before the answer with the same id). Nothing else in the answer changes: one
 * entry per record, in record order. Work in flight is not state: the operator waits for every answer before it
 * forwards a watermark or a checkpoint barrier.
 *
 * Body encodings: `str` = u32 length + UTF-8; `nstr` = i32 length (−1 = null) + UTF-8;
 * `bytes` = u32 length + bytes; `nbytes` = i32 length (−1 = null) + bytes; `i64` = signed 64-bit. In JavaScript an
 * i64 is a number: window bounds and timestamps are epoch milliseconds, safe integers, plus Long.MIN_VALUE for "no
 * timestamp" (−2^63 is exact as a double); any other value is a ProtocolError. BigInts cost an allocation per field.
 * Event and result values are JSON text (UTF-8) — the format of the Kafka records — so the JVM never
 * parses them. Source records are passed as the raw Kafka value bytes.
 *
 * Messages (→ operator to sidecar, ← sidecar to operator):
 *
 *   → HELLO      0x01  u16 protocolVersion, str artifactId, u32 n, n × (str name, str value) — the values of the
 *                      function's settings, secrets included (the operator read them at open(), docs/architecture.md, "Settings and secrets");
 *                      the sidecar fills in defaults and answers ERROR naming a missing or undeclared setting
 *   ← HELLO_OK   0x02  u16 protocolVersion, str functionName
 *   → PROCESS    0x10  u32 n, n × bytes record
 *   ← PROCESSED  0x11  u32 n (one entry per record, in order), each: u32 m, m × output
 *   → AGGREGATE  0x20  u32 n, each: str key, i64 start, i64 end, nbytes accumulator (null: create one),
 *                      u32 m, m × bytes event
 *   ← AGGREGATED 0x21  u32 n, each: nbytes accumulator (null: none could be created), u32 d, d × bytes deadLetter
 *   → COMBINE    0x26  u32 n, each: u32 slot, u8 held, held 0: nbytes accumulator (null: create one), u32 m,
 *                      m × bytes event — like AGGREGATE, but the sidecar keeps the accumulator in a numbered slot of
 *                      this connection (held 1: continue the one the slot keeps; held 0: start the slot from the one
 *                      given, replacing what it kept) and answers only the dead letters. The operator numbers the
 *                      slots (small numbers, reused once free, below 2^24) and remembers which window each keeps, so
 *                      the sidecar never looks a window up; FIRE mode 2 and TAKE free a slot
 *   ← COMBINED   0x27  u32 n, each: u32 d, d × bytes deadLetter
 *   → TAKE       0x28  u32 n, n × u32 slot — hand over and forget these slots' accumulators; taking a slot that
 *                      keeps nothing is an ERROR (the operator lost track: a bug)
 *   ← TAKEN      0x29  u32 n, each: nbytes accumulator (null: none could be created), u32 d, d × bytes deadLetter — as
 *                      AGGREGATED; an accumulator that is not JSON any more is a dead letter, and the one its first
 *                      COMBINE started from is handed back
 *   → MERGE      0x22  u32 n, each: str key, i64 start, i64 end (the merged window: a session, or a sliding window
 *                      whose slices fire), u32 m, m × bytes accumulator
 *   ← MERGED     0x23  u32 n, each: bytes accumulator, u32 d, d × bytes deadLetter
 *   → FIRE       0x24  u32 n, each: str key, i64 start, i64 end, u8 mode,
 *                      mode 0 (aggregate): bytes accumulator; mode 1 (process): u32 m, m × bytes event;
 *                      mode 2 (kept): u32 slot — the accumulator that slot keeps (COMBINE), which it forgets; a
 *                      slot without an accumulator (none could be created) fires nothing
 *   ← FIRED      0x25  u32 n, each: u32 m, m × output
 *   ← METRICS    0x30  u32 n, n × metric — what user code recorded through `ctx.metrics` while the request was
 *                      handled; sent right before that request's response, with its id, and only when something
 *                      was recorded (a request whose code records nothing costs no byte more). Not a response: the
 *                      request is still answered by the frame that follows.
 *   ← ERROR      0x7e  str message — the request could not be handled at all; the operator fails the task
 *   → SHUTDOWN   0x7f  (no body, no response) — the sidecar closes the connection and exits
 *
 *   output: u8 kind, then
 *     kind 0 SINK        u16 sinkIndex (into manifest.sinks), nstr key, bytes value
 *     kind 1 ELEMENT     str key, i64 timestamp (Long.MIN_VALUE with processing time), bytes event
 *     kind 2 DEAD_LETTER bytes deadLetter (JSON of the host's DeadLetter)
 *
 *   metric: u8 kind, str name (letters, digits, '_', '-'; the SDK's METRIC_NAME_PATTERN), then
 *     kind 0 COUNTER     i64 increment (the sum of the request's increments, ≥ 0)
 *     kind 1 GAUGE       f64 value (IEEE 754 binary64; the last value set)
 *     kind 2 HISTOGRAM   u32 m, m × i64 value (every value recorded, rounded to an integer, in order)
 *
 * Held accumulators (COMBINE/TAKE, docs/architecture.md "Window accumulators"): the sidecar keeps them per connection,
 * in memory only. They are not state: the operator takes them back into Flink state before a window they belong to
 * can fire (its watermark), before a checkpoint barrier, at end of input and when too many are kept; a sidecar that
 * dies loses them together with the task, which restores from its last checkpoint.
 *
 * Errors in user code never produce ERROR: they are DEAD_LETTER outputs (PROCESS, FIRE) or dead letters
 * next to the accumulator (AGGREGATE, MERGE), and processing continues. ERROR means a broken frame or a
 * bug; the operator fails the task and Flink restores from the last checkpoint.
 *
 * Versioning: HELLO carries the protocol version; a sidecar that does not speak it answers ERROR.
 * New message types get new codes; a change to an existing body is a new protocol version.
 */

export const PROTOCOL_VERSION = 5;

export const MessageType = {
  HELLO: 0x01,
  HELLO_OK: 0x02,
  PROCESS: 0x10,
  PROCESSED: 0x11,
  AGGREGATE: 0x20,
  AGGREGATED: 0x21,
  MERGE: 0x22,
  MERGED: 0x23,
  FIRE: 0x24,
  FIRED: 0x25,
  COMBINE: 0x26,
  COMBINED: 0x27,
  TAKE: 0x28,
  TAKEN: 0x29,
  METRICS: 0x30,
  ERROR: 0x7e,
  SHUTDOWN: 0x7f,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

export const OutputKind = { SINK: 0, ELEMENT: 1, DEAD_LETTER: 2 } as const;

export const MetricKind = { COUNTER: 0, GAUGE: 1, HISTOGRAM: 2 } as const;

export type MetricUpdate =
  | { kind: typeof MetricKind.COUNTER; name: string; increment: number }
  | { kind: typeof MetricKind.GAUGE; name: string; value: number }
  | { kind: typeof MetricKind.HISTOGRAM; name: string; values: number[] };

/** Long.MIN_VALUE: "no event timestamp" (processing time). −2^63 is exactly representable as a double. */
export const NO_TIMESTAMP = -(2 ** 63);
const TWO_TO_32 = 2 ** 32;

/**
 * Bytes on the wire. The sidecar may hand over JSON text instead of bytes: it is written as UTF-8 straight into the
 * frame, which saves encoding every output into a buffer of its own first. Decoding always gives bytes.
 */
export type Payload = Uint8Array | string;

export type Output =
  | { kind: typeof OutputKind.SINK; sinkIndex: number; key: string | null; value: Payload }
  | { kind: typeof OutputKind.ELEMENT; key: string; timestamp: number; event: Payload }
  | { kind: typeof OutputKind.DEAD_LETTER; deadLetter: Payload };

export interface WindowRef {
  key: string;
  start: number;
  end: number;
}

export type Request =
  | { type: typeof MessageType.HELLO; id: number; protocolVersion: number; artifactId: string; settings: Record<string, string> }
  | { type: typeof MessageType.PROCESS; id: number; records: Uint8Array[] }
  | { type: typeof MessageType.AGGREGATE; id: number; groups: Array<WindowRef & { accumulator: Uint8Array | null; events: Uint8Array[] }> }
  | { type: typeof MessageType.COMBINE; id: number; groups: Array<{ slot: number; events: Uint8Array[] } & ({ held: true } | { held: false; accumulator: Uint8Array | null })> }
  | { type: typeof MessageType.TAKE; id: number; slots: number[] }
  | { type: typeof MessageType.MERGE; id: number; merges: Array<WindowRef & { accumulators: Uint8Array[] }> }
  | { type: typeof MessageType.FIRE; id: number; fires: Array<WindowRef & ({ mode: 0; accumulator: Uint8Array } | { mode: 1; events: Uint8Array[] } | { mode: 2; slot: number })> }
  | { type: typeof MessageType.SHUTDOWN; id: number };

export type Response =
  | { type: typeof MessageType.HELLO_OK; id: number; protocolVersion: number; functionName: string }
  | { type: typeof MessageType.PROCESSED; id: number; results: Output[][] }
  | { type: typeof MessageType.AGGREGATED; id: number; results: Array<{ accumulator: Payload | null; deadLetters: Payload[] }> }
  | { type: typeof MessageType.COMBINED; id: number; results: Array<{ deadLetters: Payload[] }> }
  | { type: typeof MessageType.TAKEN; id: number; results: Array<{ accumulator: Payload | null; deadLetters: Payload[] }> }
  | { type: typeof MessageType.MERGED; id: number; results: Array<{ accumulator: Payload; deadLetters: Payload[] }> }
  | { type: typeof MessageType.FIRED; id: number; results: Output[][] }
  | { type: typeof MessageType.METRICS; id: number; metrics: MetricUpdate[] }
  | { type: typeof MessageType.ERROR; id: number; message: string };

/** UTF-8 text of bytes from a frame (Buffer#toString is Node's fast path; frames hand out Buffers). */
export function utf8Text(bytes: Uint8Array): string {
  return (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString('utf8');
}

// --- writing -----------------------------------------------------------------------------------

/** Appends big-endian fields to a growing buffer; `frame()` finishes one frame. */
export class FrameWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private offset = 0;

  begin(type: MessageType, id: number): this {
    this.reserve(9);
    this.offset += 4; // length, patched in frame()
    this.buffer.writeUInt8(type, this.offset);
    this.buffer.writeUInt32BE(id >>> 0, this.offset + 1);
    this.offset += 5;
    return this;
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer.writeUInt8(value, this.offset);
    this.offset += 1;
    return this;
  }

  u16(value: number): this {
    this.reserve(2);
    this.buffer.writeUInt16BE(value, this.offset);
    this.offset += 2;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.buffer.writeUInt32BE(value >>> 0, this.offset);
    this.offset += 4;
    return this;
  }

  i64(value: number): this {
    this.reserve(8);
    if (value === NO_TIMESTAMP) {
      this.buffer.writeUInt32BE(0x80000000, this.offset);
      this.buffer.writeUInt32BE(0, this.offset + 4);
    } else {
      if (!Number.isSafeInteger(value)) throw new RangeError(`i64 field: ${value} is not a safe integer`);
      const high = Math.floor(value / TWO_TO_32);
      this.buffer.writeInt32BE(high, this.offset);
      this.buffer.writeUInt32BE(value - high * TWO_TO_32, this.offset + 4);
    }
    this.offset += 8;
    return this;
  }

  f64(value: number): this {
    this.reserve(8);
    this.buffer.writeDoubleBE(value, this.offset);
    this.offset += 8;
    return this;
  }

  bytes(value: Payload): this {
    if (typeof value === 'string') return this.text(value);
    this.u32(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  nbytes(value: Payload | null): this {
    if (value === null) {
      this.reserve(4);
      this.buffer.writeInt32BE(-1, this.offset);
      this.offset += 4;
      return this;
    }
    return this.bytes(value);
  }

  str(value: string): this {
    return this.text(value);
  }

  nstr(value: string | null): this {
    if (value === null) return this.nbytes(null);
    return this.text(value);
  }

  output(output: Output): this {
    if (output.kind === OutputKind.SINK && output.key === null && (output.sinkIndex & 0xffff) === output.sinkIndex) {
      // The stateless map's every output: its fixed fields in one reservation, stored byte by byte.
      this.reserve(7);
      const buffer = this.buffer;
      const at = this.offset;
      buffer[at] = OutputKind.SINK;
      buffer[at + 1] = (output.sinkIndex >>> 8) & 0xff;
      buffer[at + 2] = output.sinkIndex & 0xff;
      buffer[at + 3] = 0xff; // i32 −1: no key
      buffer[at + 4] = 0xff;
      buffer[at + 5] = 0xff;
      buffer[at + 6] = 0xff;
      this.offset = at + 7;
      return this.bytes(output.value);
    }
    this.u8(output.kind);
    switch (output.kind) {
      case OutputKind.SINK:
        return this.u16(output.sinkIndex).nstr(output.key).bytes(output.value);
      case OutputKind.ELEMENT:
        return this.str(output.key).i64(output.timestamp).bytes(output.event);
      case OutputKind.DEAD_LETTER:
        return this.bytes(output.deadLetter);
    }
  }

  /** Patches the length field of the frame that began at `frameStart`. */
  end(frameStart: number): this {
    this.buffer.writeUInt32BE(this.offset - frameStart - 4, frameStart);
    return this;
  }

  get position(): number {
    return this.offset;
  }

  /** The bytes written so far; resets the writer. */
  take(): Buffer {
    // Hand the written bytes over without copying them, and continue in a fresh buffer of the same size.
    const out = this.buffer.subarray(0, this.offset);
    this.buffer = Buffer.allocUnsafe(64 * 1024);
    this.offset = 0;
    return out;
  }

  private text(value: string): this {
    // Worst case 3 bytes per UTF-16 unit. Buffer#write encodes in place: no intermediate buffer, no view object.
    this.reserve(4 + value.length * 3);
    const written = this.buffer.write(value, this.offset + 4, 'utf8');
    this.buffer.writeUInt32BE(written, this.offset);
    this.offset += 4 + written;
    return this;
  }

  private reserve(size: number): void {
    if (this.offset + size <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.offset + size) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}

/** Encodes a whole response frame. */
export function encodeResponse(response: Response, writer = new FrameWriter()): Buffer {
  const start = writer.position;
  writer.begin(response.type, response.id);
  switch (response.type) {
    case MessageType.HELLO_OK:
      writer.u16(response.protocolVersion).str(response.functionName);
      break;
    case MessageType.PROCESSED:
    case MessageType.FIRED:
      writer.u32(response.results.length);
      for (const outputs of response.results) {
        writer.u32(outputs.length);
        for (const output of outputs) writer.output(output);
      }
      break;
    case MessageType.COMBINED:
      writer.u32(response.results.length);
      for (const result of response.results) {
        writer.u32(result.deadLetters.length);
        for (const letter of result.deadLetters) writer.bytes(letter);
      }
      break;
    case MessageType.AGGREGATED:
    case MessageType.TAKEN:
    case MessageType.MERGED:
      writer.u32(response.results.length);
      for (const result of response.results) {
        writer.nbytes(result.accumulator).u32(result.deadLetters.length);
        for (const letter of result.deadLetters) writer.bytes(letter);
      }
      break;
    case MessageType.METRICS:
      writer.u32(response.metrics.length);
      for (const metric of response.metrics) {
        writer.u8(metric.kind).str(metric.name);
        if (metric.kind === MetricKind.COUNTER) writer.i64(metric.increment);
        else if (metric.kind === MetricKind.GAUGE) writer.f64(metric.value);
        else {
          writer.u32(metric.values.length);
          for (const value of metric.values) writer.i64(value);
        }
      }
      break;
    case MessageType.ERROR:
      writer.str(response.message);
      break;
  }
  return writer.end(start).take();
}

/** Encodes a whole request frame (the operator's side; used by tests, benchmarks and golden frames). */
export function encodeRequest(request: Request, writer = new FrameWriter()): Buffer {
  const start = writer.position;
  writer.begin(request.type, request.id);
  switch (request.type) {
    case MessageType.HELLO:
      writer.u16(request.protocolVersion).str(request.artifactId).u32(Object.keys(request.settings).length);
      for (const [name, value] of Object.entries(request.settings)) writer.str(name).str(value);
      break;
    case MessageType.PROCESS:
      writer.u32(request.records.length);
      for (const record of request.records) writer.bytes(record);
      break;
    case MessageType.AGGREGATE:
      writer.u32(request.groups.length);
      for (const group of request.groups) {
        writer.str(group.key).i64(group.start).i64(group.end).nbytes(group.accumulator).u32(group.events.length);
        for (const event of group.events) writer.bytes(event);
      }
      break;
    case MessageType.COMBINE:
      writer.u32(request.groups.length);
      for (const group of request.groups) {
        writer.u32(group.slot).u8(group.held ? 1 : 0);
        if (!group.held) writer.nbytes(group.accumulator);
        writer.u32(group.events.length);
        for (const event of group.events) writer.bytes(event);
      }
      break;
    case MessageType.TAKE:
      writer.u32(request.slots.length);
      for (const slot of request.slots) writer.u32(slot);
      break;
    case MessageType.MERGE:
      writer.u32(request.merges.length);
      for (const merge of request.merges) {
        writer.str(merge.key).i64(merge.start).i64(merge.end).u32(merge.accumulators.length);
        for (const accumulator of merge.accumulators) writer.bytes(accumulator);
      }
      break;
    case MessageType.FIRE:
      writer.u32(request.fires.length);
      for (const fire of request.fires) {
        writer.str(fire.key).i64(fire.start).i64(fire.end).u8(fire.mode);
        if (fire.mode === 0) writer.bytes(fire.accumulator);
        else if (fire.mode === 2) writer.u32(fire.slot);
        else {
          writer.u32(fire.events.length);
          for (const event of fire.events) writer.bytes(event);
        }
      }
      break;
    case MessageType.SHUTDOWN:
      break;
  }
  return writer.end(start).take();
}

// --- reading -----------------------------------------------------------------------------------

/** A malformed frame: the peer does not speak this protocol (or a bug); the connection is closed. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Reads big-endian fields from one frame's body. */
export class FrameReader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  u8(): number {
    this.need(1);
    return this.buffer.readUInt8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const v = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  i64(): number {
    this.need(8);
    const high = this.buffer.readInt32BE(this.offset);
    const low = this.buffer.readUInt32BE(this.offset + 4);
    this.offset += 8;
    const value = high * TWO_TO_32 + low;
    if (Number.isSafeInteger(value)) return value;
    if (high === -0x80000000 && low === 0) return NO_TIMESTAMP;
    throw new ProtocolError(`i64 field ${(BigInt(high) << 32n) | BigInt(low)} is outside the safe integer range`);
  }

  f64(): number {
    this.need(8);
    const v = this.buffer.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  metric(): MetricUpdate {
    const kind = this.u8();
    const name = this.str();
    switch (kind) {
      case MetricKind.COUNTER:
        return { kind, name, increment: this.i64() };
      case MetricKind.GAUGE:
        return { kind, name, value: this.f64() };
      case MetricKind.HISTOGRAM:
        return { kind, name, values: this.list(() => this.i64()) };
      default:
        throw new ProtocolError(`unknown metric kind ${kind}`);
    }
  }

  bytes(): Buffer {
    const length = this.u32();
    this.need(length);
    const v = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return v;
  }

  nbytes(): Buffer | null {
    return this.skipNull() ? null : this.bytes();
  }

  str(): string {
    const length = this.u32();
    this.need(length);
    const v = this.buffer.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return v;
  }

  nstr(): string | null {
    return this.skipNull() ? null : this.str();
  }

  output(): Output {
    const kind = this.u8();
    switch (kind) {
      case OutputKind.SINK:
        return { kind, sinkIndex: this.u16(), key: this.nstr(), value: this.bytes() };
      case OutputKind.ELEMENT:
        return { kind, key: this.str(), timestamp: this.i64(), event: this.bytes() };
      case OutputKind.DEAD_LETTER:
        return { kind, deadLetter: this.bytes() };
      default:
        throw new ProtocolError(`unknown output kind ${kind}`);
    }
  }

  list<T>(read: () => T): T[] {
    const n = this.u32();
    const items: T[] = [];
    for (let i = 0; i < n; i++) items.push(read());
    return items;
  }

  done(): void {
    if (this.offset !== this.buffer.length) {
      throw new ProtocolError(`${this.buffer.length - this.offset} unexpected bytes at the end of a frame`);
    }
  }

  /** Reads the −1 length of a null `nbytes`/`nstr`; leaves any other length for `bytes`/`str`. */
  private skipNull(): boolean {
    this.need(4);
    if (this.buffer.readInt32BE(this.offset) !== -1) return false;
    this.offset += 4;
    return true;
  }

  private need(size: number): void {
    if (this.offset + size > this.buffer.length) throw new ProtocolError('frame ends in the middle of a field');
  }
}

/** Splits a byte stream into frames: feed chunks, get `[type, id, body]` for every complete frame. */
export class FrameSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  push(chunk: Buffer): Array<{ type: number; id: number; body: Buffer }> {
    this.pending.push(chunk);
    this.pendingLength += chunk.length;
    const frames: Array<{ type: number; id: number; body: Buffer }> = [];
    let data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingLength);
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readUInt32BE(offset);
      if (length < 5) throw new ProtocolError(`frame length ${length} is shorter than its header`);
      if (data.length - offset - 4 < length) break;
      frames.push({
        type: data.readUInt8(offset + 4),
        id: data.readUInt32BE(offset + 5),
        body: data.subarray(offset + 9, offset + 4 + length),
      });
      offset += 4 + length;
    }
    data = data.subarray(offset);
    this.pending = data.length > 0 ? [data] : [];
    this.pendingLength = data.length;
    return frames;
  }
}

/**
 * The records of a PROCESS body as offsets into it, record i being `body[bounds[2i], bounds[2i + 1])`: what
 * decodeRequest reads, checked the same way (the same ProtocolErrors), without a Buffer view per record — the
 * sidecar decodes each record straight from the frame.
 */
export function processRecordBounds(body: Buffer): Uint32Array {
  if (body.length < 4) throw new ProtocolError('frame ends in the middle of a field');
  const count = body.readUInt32BE(0);
  // Every record takes at least its length field: a count the body cannot hold fails before anything is allocated.
  if (count > (body.length - 4) / 4) throw new ProtocolError('frame ends in the middle of a field');
  const bounds = new Uint32Array(2 * count);
  let offset = 4;
  for (let i = 0; i < count; i++) {
    if (offset + 4 > body.length) throw new ProtocolError('frame ends in the middle of a field');
    const length = body.readUInt32BE(offset);
    offset += 4;
    if (offset + length > body.length) throw new ProtocolError('frame ends in the middle of a field');
    bounds[2 * i] = offset;
    bounds[2 * i + 1] = offset + length;
    offset += length;
  }
  if (offset !== body.length) throw new ProtocolError(`${body.length - offset} unexpected bytes at the end of a frame`);
  return bounds;
}

/** Decodes a request body (the sidecar's side). */
export function decodeRequest(type: number, id: number, body: Buffer): Request {
  const r = new FrameReader(body);
  let request: Request;
  switch (type) {
    case MessageType.HELLO:
      request = { type, id, protocolVersion: r.u16(), artifactId: r.str(), settings: Object.fromEntries(r.list(() => [r.str(), r.str()] as const)) };
      break;
    case MessageType.PROCESS:
      request = { type, id, records: r.list(() => r.bytes()) };
      break;
    case MessageType.AGGREGATE:
      request = {
        type,
        id,
        groups: r.list(() => ({ key: r.str(), start: r.i64(), end: r.i64(), accumulator: r.nbytes(), events: r.list(() => r.bytes()) })),
      };
      break;
    case MessageType.COMBINE:
      request = {
        type,
        id,
        groups: r.list(() => {
          const slot = r.u32();
          const held = r.u8();
          if (held === 1) return { slot, held: true as const, events: r.list(() => r.bytes()) };
          if (held === 0) return { slot, held: false as const, accumulator: r.nbytes(), events: r.list(() => r.bytes()) };
          throw new ProtocolError(`unknown held flag ${held}`);
        }),
      };
      break;
    case MessageType.TAKE:
      request = { type, id, slots: r.list(() => r.u32()) };
      break;
    case MessageType.MERGE:
      request = { type, id, merges: r.list(() => ({ key: r.str(), start: r.i64(), end: r.i64(), accumulators: r.list(() => r.bytes()) })) };
      break;
    case MessageType.FIRE:
      request = {
        type,
        id,
        fires: r.list(() => {
          // Plain literals, not spreads: a FIRE can carry one window per element (one event per window).
          const key = r.str();
          const start = r.i64();
          const end = r.i64();
          const mode = r.u8();
          if (mode === 0) return { key, start, end, mode: 0 as const, accumulator: r.bytes() };
          if (mode === 1) return { key, start, end, mode: 1 as const, events: r.list(() => r.bytes()) };
          if (mode === 2) return { key, start, end, mode: 2 as const, slot: r.u32() };
          throw new ProtocolError(`unknown fire mode ${mode}`);
        }),
      };
      break;
    case MessageType.SHUTDOWN:
      request = { type, id };
      break;
    default:
      throw new ProtocolError(`unknown request type 0x${type.toString(16)}`);
  }
  r.done();
  return request;
}

/** Decodes a response body (the operator's side; used by tests and benchmarks). */
export function decodeResponse(type: number, id: number, body: Buffer): Response {
  const r = new FrameReader(body);
  let response: Response;
  switch (type) {
    case MessageType.HELLO_OK:
      response = { type, id, protocolVersion: r.u16(), functionName: r.str() };
      break;
    case MessageType.PROCESSED:
    case MessageType.FIRED:
      response = { type, id, results: r.list(() => r.list(() => r.output())) };
      break;
    case MessageType.AGGREGATED:
    case MessageType.TAKEN:
      response = { type, id, results: r.list(() => ({ accumulator: r.nbytes(), deadLetters: r.list(() => r.bytes()) })) };
      break;
    case MessageType.COMBINED:
      response = { type, id, results: r.list(() => ({ deadLetters: r.list(() => r.bytes()) })) };
      break;
    case MessageType.MERGED:
      response = { type, id, results: r.list(() => ({ accumulator: r.bytes(), deadLetters: r.list(() => r.bytes()) })) };
      break;
    case MessageType.METRICS:
      response = { type, id, metrics: r.list(() => r.metric()) };
      break;
    case MessageType.ERROR:
      response = { type, id, message: r.str() };
      break;
    default:
      throw new ProtocolError(`unknown response type 0x${type.toString(16)}`);
  }
  r.done();
  return response;
}
