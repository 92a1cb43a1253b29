package dev.flinkfn.runtime.sidecar;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkNotNull;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The operator ⇄ sidecar protocol, version 5: its constants, its messages and their codec.
 *
 * <p>This class mirrors {@code packages/sidecar/src/protocol.ts}, whose header comment is the authoritative
 * specification (copied below); both sides test against the golden frames in
 * {@code packages/sidecar/test/golden/frames.json}, and {@code docs/protocol.md} explains the choices. Change the
 * TypeScript file first, regenerate the golden frames, then follow here.
 *
 * <pre>
 * Transport: a Unix domain socket (stream). The Flink operator connects; the sidecar serves.
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
 * Body encodings: `str` = u32 length + UTF-8; `nstr` = i32 length (−1 = null) + UTF-8;
 * `bytes` = u32 length + bytes; `nbytes` = i32 length (−1 = null) + bytes; `i64` = signed 64-bit.
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
 *   → MERGE      0x22  u32 n, each: str key, i64 start, i64 end (the merged window), u32 m, m × bytes accumulator
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
 * </pre>
 *
 * <p>Java notes: ids are unsigned 32-bit on the wire and an {@code int} here (compare and print them with
 * {@link Integer#toUnsignedString(int)}). Byte fields are {@code byte[]} that the records do not copy, so they compare
 * by identity; the lists are not copied either, because bundles are built once and sent once.
 */
public final class SidecarProtocol {

    public static final int PROTOCOL_VERSION = 5;

    // message types
    public static final int HELLO = 0x01;
    public static final int HELLO_OK = 0x02;
    public static final int PROCESS = 0x10;
    public static final int PROCESSED = 0x11;
    public static final int AGGREGATE = 0x20;
    public static final int AGGREGATED = 0x21;
    public static final int MERGE = 0x22;
    public static final int MERGED = 0x23;
    public static final int FIRE = 0x24;
    public static final int FIRED = 0x25;
    public static final int COMBINE = 0x26;
    public static final int COMBINED = 0x27;
    public static final int TAKE = 0x28;
    public static final int TAKEN = 0x29;
    public static final int METRICS = 0x30;
    public static final int ERROR = 0x7e;
    public static final int SHUTDOWN = 0x7f;

    // output kinds
    public static final int OUTPUT_SINK = 0;
    public static final int OUTPUT_ELEMENT = 1;
    public static final int OUTPUT_DEAD_LETTER = 2;

    public static final int METRIC_COUNTER = 0;
    public static final int METRIC_GAUGE = 1;
    public static final int METRIC_HISTOGRAM = 2;

    // fire modes
    public static final int FIRE_MODE_AGGREGATE = 0;
    public static final int FIRE_MODE_PROCESS = 1;
    public static final int FIRE_MODE_KEPT = 2;

    /** Slots of kept accumulators (COMBINE) are below this. */
    public static final int MAX_SLOT = 1 << 24;

    /** The timestamp of an element from a processing-time function: it has none. */
    public static final long NO_TIMESTAMP = Long.MIN_VALUE;

    /** u32 length + u8 type + u32 id. */
    public static final int HEADER_BYTES = 9;

    /**
     * The largest frame (the value of its length field) either side of this implementation accepts. Far beyond any
     * sensible bundle; its purpose is that a corrupt length fails clearly instead of trying to allocate gigabytes.
     */
    public static final int MAX_FRAME_LENGTH = 1 << 30;

    private SidecarProtocol() {}

    /** The name of a message type, for messages ("PROCESS", or the hex code of an unknown type). */
    public static String typeName(int type) {
        switch (type) {
            case HELLO: return "HELLO";
            case HELLO_OK: return "HELLO_OK";
            case PROCESS: return "PROCESS";
            case PROCESSED: return "PROCESSED";
            case AGGREGATE: return "AGGREGATE";
            case AGGREGATED: return "AGGREGATED";
            case COMBINE: return "COMBINE";
            case COMBINED: return "COMBINED";
            case TAKE: return "TAKE";
            case TAKEN: return "TAKEN";
            case MERGE: return "MERGE";
            case MERGED: return "MERGED";
            case FIRE: return "FIRE";
            case FIRED: return "FIRED";
            case METRICS: return "METRICS";
            case ERROR: return "ERROR";
            case SHUTDOWN: return "SHUTDOWN";
            default: return "0x" + Integer.toHexString(type);
        }
    }

    // --- data ------------------------------------------------------------------------------------------------------

    /** One output of a record (PROCESS) or of a fired window (FIRE). */
    public sealed interface Output permits SinkOutput, ElementOutput, DeadLetterOutput {
        int kind();
    }

    /** A result for one of the function's sinks (an index into {@code manifest.sinks}); {@code key} may be null. */
    public record SinkOutput(int sinkIndex, String key, byte[] value) implements Output {
        public SinkOutput {
            checkArgument(sinkIndex >= 0 && sinkIndex <= 0xFFFF, "sinkIndex %s is not a u16", sinkIndex);
            checkNotNull(value, "value");
        }

        @Override
        public int kind() {
            return OUTPUT_SINK;
        }
    }

    /** An event for the window stage, with its key and event time ({@link #NO_TIMESTAMP} in processing time). */
    public record ElementOutput(String key, long timestamp, byte[] event) implements Output {
        public ElementOutput {
            checkNotNull(key, "key");
            checkNotNull(event, "event");
        }

        @Override
        public int kind() {
            return OUTPUT_ELEMENT;
        }
    }

    /** A record or event that user code could not handle: the JSON of the host's DeadLetter. */
    public record DeadLetterOutput(byte[] deadLetter) implements Output {
        public DeadLetterOutput {
            checkNotNull(deadLetter, "deadLetter");
        }

        @Override
        public int kind() {
            return OUTPUT_DEAD_LETTER;
        }
    }

    /** Events to add to a window's accumulator; a null accumulator asks the sidecar to create one. */
    public record AggregateGroup(String key, long start, long end, byte[] accumulator, List<byte[]> events) {
        public AggregateGroup {
            checkNotNull(key, "key");
            checkNotNull(events, "events");
        }
    }

    /**
     * Events to add to the accumulator a numbered slot of the sidecar keeps: the one it kept from an earlier COMBINE
     * ({@code held}), or a new one started from {@code accumulator} (null: create one).
     */
    public record CombineGroup(int slot, boolean held, byte[] accumulator, List<byte[]> events) {
        public CombineGroup {
            checkArgument(slot >= 0 && slot < MAX_SLOT, "slot %s is not in [0, 2^24)", slot);
            checkNotNull(events, "events");
            checkArgument(!held || accumulator == null, "a held slot's accumulator is in the sidecar, not in the request");
        }
    }

    /** The new accumulator (null if none could be created) and the dead letters of events that failed. */
    public record AggregateResult(byte[] accumulator, List<byte[]> deadLetters) {
        public AggregateResult {
            checkNotNull(deadLetters, "deadLetters");
        }
    }

    /** Accumulators of session windows that merged into the window {@code [start, end)}. */
    public record MergeRequest(String key, long start, long end, List<byte[]> accumulators) {
        public MergeRequest {
            checkNotNull(key, "key");
            checkNotNull(accumulators, "accumulators");
        }
    }

    /** The merged accumulator and the dead letters of a merge that failed. */
    public record MergeResult(byte[] accumulator, List<byte[]> deadLetters) {
        public MergeResult {
            checkNotNull(accumulator, "accumulator");
            checkNotNull(deadLetters, "deadLetters");
        }
    }

    /**
     * A window to fire: with its accumulator (an aggregating function, mode 0), with all its events (a process
     * function, mode 1), or with neither: from the accumulator the sidecar keeps for it (COMBINE; mode 2).
     */
    public record FireRequest(String key, long start, long end, byte[] accumulator, List<byte[]> events, int slot) {
        public FireRequest {
            checkNotNull(key, "key");
            checkArgument(accumulator == null || events == null,
                    "a fire carries an accumulator (mode 0), events (mode 1) or neither (mode 2), not both");
            checkArgument(accumulator != null || events != null || slot >= 0 && slot < MAX_SLOT,
                    "a fire of a kept accumulator (mode 2) names its slot");
        }

        /** Fires with the accumulator or the events given. */
        public FireRequest(String key, long start, long end, byte[] accumulator, List<byte[]> events) {
            this(key, start, end, accumulator, events, -1);
        }

        /** Fires the accumulator the sidecar keeps in a slot. */
        public static FireRequest kept(String key, long start, long end, int slot) {
            return new FireRequest(key, start, end, null, null, slot);
        }

        public int mode() {
            return accumulator != null ? FIRE_MODE_AGGREGATE : events != null ? FIRE_MODE_PROCESS : FIRE_MODE_KEPT;
        }
    }

    // --- messages --------------------------------------------------------------------------------------------------

    /** A whole message: its type code and request id. */
    public sealed interface Message permits Request, Response {
        int type();

        int id();
    }

    /** A message from the operator to the sidecar. */
    public sealed interface Request extends Message
            permits HelloMessage, ProcessMessage, AggregateMessage, CombineMessage, TakeMessage, MergeMessage, FireMessage,
                    ShutdownMessage {}

    /** A message from the sidecar to the operator. */
    public sealed interface Response extends Message
            permits HelloOkMessage, ProcessedMessage, AggregatedMessage, CombinedMessage, TakenMessage, MergedMessage,
                    FiredMessage, MetricsMessage, ErrorMessage {}

    /**
     * The handshake, with the values of the function's settings (in their order; secrets included, so
     * {@link #toString()} names them without values: a HELLO may end up in a log or an exception message).
     */
    public record HelloMessage(int id, int protocolVersion, String artifactId, Map<String, String> settings)
            implements Request {
        public HelloMessage {
            checkNotNull(artifactId, "artifactId");
            settings = Collections.unmodifiableMap(new LinkedHashMap<>(checkNotNull(settings, "settings")));
        }

        @Override
        public String toString() {
            return "HelloMessage[id=" + Integer.toUnsignedString(id) + ", protocolVersion=" + protocolVersion
                    + ", artifactId=" + artifactId + ", settings=" + settings.keySet() + " (values not shown)]";
        }

        @Override
        public int type() {
            return HELLO;
        }
    }

    public record ProcessMessage(int id, List<byte[]> records) implements Request {
        public ProcessMessage {
            checkNotNull(records, "records");
        }

        @Override
        public int type() {
            return PROCESS;
        }
    }

    public record AggregateMessage(int id, List<AggregateGroup> groups) implements Request {
        public AggregateMessage {
            checkNotNull(groups, "groups");
        }

        @Override
        public int type() {
            return AGGREGATE;
        }
    }

    public record CombineMessage(int id, List<CombineGroup> groups) implements Request {
        public CombineMessage {
            checkNotNull(groups, "groups");
        }

        @Override
        public int type() {
            return COMBINE;
        }
    }

    public record TakeMessage(int id, List<Integer> slots) implements Request {
        public TakeMessage {
            checkNotNull(slots, "slots");
        }

        @Override
        public int type() {
            return TAKE;
        }
    }

    public record MergeMessage(int id, List<MergeRequest> merges) implements Request {
        public MergeMessage {
            checkNotNull(merges, "merges");
        }

        @Override
        public int type() {
            return MERGE;
        }
    }

    public record FireMessage(int id, List<FireRequest> fires) implements Request {
        public FireMessage {
            checkNotNull(fires, "fires");
        }

        @Override
        public int type() {
            return FIRE;
        }
    }

    public record ShutdownMessage(int id) implements Request {
        @Override
        public int type() {
            return SHUTDOWN;
        }
    }

    public record HelloOkMessage(int id, int protocolVersion, String functionName) implements Response {
        public HelloOkMessage {
            checkNotNull(functionName, "functionName");
        }

        @Override
        public int type() {
            return HELLO_OK;
        }
    }

    public record ProcessedMessage(int id, List<List<Output>> results) implements Response {
        public ProcessedMessage {
            checkNotNull(results, "results");
        }

        @Override
        public int type() {
            return PROCESSED;
        }
    }

    public record AggregatedMessage(int id, List<AggregateResult> results) implements Response {
        public AggregatedMessage {
            checkNotNull(results, "results");
        }

        @Override
        public int type() {
            return AGGREGATED;
        }
    }

    /** One list of dead letters per group of the COMBINE. */
    public record CombinedMessage(int id, List<List<byte[]>> deadLetters) implements Response {
        public CombinedMessage {
            checkNotNull(deadLetters, "deadLetters");
        }

        @Override
        public int type() {
            return COMBINED;
        }
    }

    /** The taken accumulators, as AGGREGATED gives them. */
    public record TakenMessage(int id, List<AggregateResult> results) implements Response {
        public TakenMessage {
            checkNotNull(results, "results");
        }

        @Override
        public int type() {
            return TAKEN;
        }
    }

    public record MergedMessage(int id, List<MergeResult> results) implements Response {
        public MergedMessage {
            checkNotNull(results, "results");
        }

        @Override
        public int type() {
            return MERGED;
        }
    }

    public record FiredMessage(int id, List<List<Output>> results) implements Response {
        public FiredMessage {
            checkNotNull(results, "results");
        }

        @Override
        public int type() {
            return FIRED;
        }
    }

    /** One metric update of a METRICS frame: a counter increment, a gauge value or histogram values. */
    public sealed interface MetricUpdate permits CounterUpdate, GaugeUpdate, HistogramUpdate {
        String name();

        int kind();
    }

    public record CounterUpdate(String name, long increment) implements MetricUpdate {
        public CounterUpdate {
            checkNotNull(name, "name");
        }

        @Override
        public int kind() {
            return METRIC_COUNTER;
        }
    }

    public record GaugeUpdate(String name, double value) implements MetricUpdate {
        public GaugeUpdate {
            checkNotNull(name, "name");
        }

        @Override
        public int kind() {
            return METRIC_GAUGE;
        }
    }

    public record HistogramUpdate(String name, long[] values) implements MetricUpdate {
        public HistogramUpdate {
            checkNotNull(name, "name");
            checkNotNull(values, "values");
        }

        @Override
        public int kind() {
            return METRIC_HISTOGRAM;
        }
    }

    /** What user code recorded while request {@code id} was handled; precedes that request's response. */
    public record MetricsMessage(int id, List<MetricUpdate> metrics) implements Response {
        public MetricsMessage {
            checkNotNull(metrics, "metrics");
        }

        @Override
        public int type() {
            return METRICS;
        }
    }

    /** The sidecar could not handle a request at all (a broken frame or a bug, never an error in user code). */
    public record ErrorMessage(int id, String message) implements Response {
        public ErrorMessage {
            checkNotNull(message, "message");
        }

        @Override
        public int type() {
            return ERROR;
        }
    }

    // --- encoding --------------------------------------------------------------------------------------------------

    /** Encodes a whole request frame. */
    public static byte[] encodeRequest(Request request) throws SidecarProtocolException {
        FrameWriter writer = new FrameWriter();
        writeRequest(writer, request);
        return writer.toByteArray();
    }

    /** Encodes a whole response frame (the sidecar's side: used by tests and fake sidecars). */
    public static byte[] encodeResponse(Response response) throws SidecarProtocolException {
        FrameWriter writer = new FrameWriter();
        writeResponse(writer, response);
        return writer.toByteArray();
    }

    /** Appends a request frame to a writer. */
    static void writeRequest(FrameWriter w, Request request) throws SidecarProtocolException {
        w.begin(request.type(), request.id());
        if (request instanceof HelloMessage hello) {
            w.u16(hello.protocolVersion()).str(hello.artifactId()).u32(hello.settings().size());
            for (Map.Entry<String, String> setting : hello.settings().entrySet()) {
                w.str(setting.getKey()).str(setting.getValue());
            }
        } else if (request instanceof ProcessMessage process) {
            w.u32(process.records().size());
            for (byte[] record : process.records()) {
                w.bytes(record);
            }
        } else if (request instanceof AggregateMessage aggregate) {
            w.u32(aggregate.groups().size());
            for (AggregateGroup group : aggregate.groups()) {
                w.str(group.key()).i64(group.start()).i64(group.end()).nbytes(group.accumulator());
                writeByteList(w, group.events());
            }
        } else if (request instanceof CombineMessage combine) {
            w.u32(combine.groups().size());
            for (CombineGroup group : combine.groups()) {
                w.u32(group.slot()).u8(group.held() ? 1 : 0);
                if (!group.held()) {
                    w.nbytes(group.accumulator());
                }
                writeByteList(w, group.events());
            }
        } else if (request instanceof TakeMessage take) {
            w.u32(take.slots().size());
            for (int slot : take.slots()) {
                w.u32(slot);
            }
        } else if (request instanceof MergeMessage merge) {
            w.u32(merge.merges().size());
            for (MergeRequest m : merge.merges()) {
                w.str(m.key()).i64(m.start()).i64(m.end());
                writeByteList(w, m.accumulators());
            }
        } else if (request instanceof FireMessage fire) {
            w.u32(fire.fires().size());
            for (FireRequest f : fire.fires()) {
                w.str(f.key()).i64(f.start()).i64(f.end()).u8(f.mode());
                if (f.accumulator() != null) {
                    w.bytes(f.accumulator());
                } else if (f.events() != null) {
                    writeByteList(w, f.events());
                } else {
                    w.u32(f.slot());
                }
            }
        } else if (!(request instanceof ShutdownMessage)) {
            throw new IllegalArgumentException("unknown request " + request);
        }
        w.end();
    }

    /** Appends a response frame to a writer. */
    static void writeResponse(FrameWriter w, Response response) throws SidecarProtocolException {
        w.begin(response.type(), response.id());
        if (response instanceof HelloOkMessage ok) {
            w.u16(ok.protocolVersion()).str(ok.functionName());
        } else if (response instanceof ProcessedMessage processed) {
            writeOutputLists(w, processed.results());
        } else if (response instanceof FiredMessage fired) {
            writeOutputLists(w, fired.results());
        } else if (response instanceof AggregatedMessage aggregated) {
            writeAggregateResults(w, aggregated.results());
        } else if (response instanceof TakenMessage taken) {
            writeAggregateResults(w, taken.results());
        } else if (response instanceof CombinedMessage combined) {
            w.u32(combined.deadLetters().size());
            for (List<byte[]> letters : combined.deadLetters()) {
                writeByteList(w, letters);
            }
        } else if (response instanceof MergedMessage merged) {
            w.u32(merged.results().size());
            for (MergeResult result : merged.results()) {
                w.bytes(result.accumulator());
                writeByteList(w, result.deadLetters());
            }
        } else if (response instanceof MetricsMessage metrics) {
            w.u32(metrics.metrics().size());
            for (MetricUpdate metric : metrics.metrics()) {
                w.u8(metric.kind()).str(metric.name());
                if (metric instanceof CounterUpdate counter) {
                    w.i64(counter.increment());
                } else if (metric instanceof GaugeUpdate gauge) {
                    w.f64(gauge.value());
                } else {
                    long[] values = ((HistogramUpdate) metric).values();
                    w.u32(values.length);
                    for (long value : values) {
                        w.i64(value);
                    }
                }
            }
        } else if (response instanceof ErrorMessage error) {
            w.str(error.message());
        } else {
            throw new IllegalArgumentException("unknown response " + response);
        }
        w.end();
    }

    private static void writeAggregateResults(FrameWriter w, List<AggregateResult> results) throws SidecarProtocolException {
        w.u32(results.size());
        for (AggregateResult result : results) {
            w.nbytes(result.accumulator());
            writeByteList(w, result.deadLetters());
        }
    }

    private static void writeByteList(FrameWriter w, List<byte[]> values) throws SidecarProtocolException {
        w.u32(values.size());
        for (byte[] value : values) {
            w.bytes(value);
        }
    }

    private static void writeOutputLists(FrameWriter w, List<List<Output>> results) throws SidecarProtocolException {
        w.u32(results.size());
        for (List<Output> outputs : results) {
            w.u32(outputs.size());
            for (Output output : outputs) {
                w.u8(output.kind());
                if (output instanceof SinkOutput sink) {
                    w.u16(sink.sinkIndex()).nstr(sink.key()).bytes(sink.value());
                } else if (output instanceof ElementOutput element) {
                    w.str(element.key()).i64(element.timestamp()).bytes(element.event());
                } else {
                    w.bytes(((DeadLetterOutput) output).deadLetter());
                }
            }
        }
    }

    // --- decoding --------------------------------------------------------------------------------------------------

    /** Decodes one whole request frame (length field included); used by tests and fake sidecars. */
    public static Request decodeRequest(byte[] frame) throws SidecarProtocolException {
        ByteBuffer buffer = checkFrame(frame);
        return decodeRequest(buffer.get(4) & 0xFF, buffer.getInt(5), buffer.position(HEADER_BYTES).slice());
    }

    /** Decodes one whole response frame (length field included). */
    public static Response decodeResponse(byte[] frame) throws SidecarProtocolException {
        ByteBuffer buffer = checkFrame(frame);
        return decodeResponse(buffer.get(4) & 0xFF, buffer.getInt(5), buffer.position(HEADER_BYTES).slice());
    }

    /** Decodes a request body: the bytes of a frame after its id. Consumes the buffer. */
    public static Request decodeRequest(int type, int id, ByteBuffer body) throws SidecarProtocolException {
        FrameReader r = new FrameReader(body);
        Request request;
        switch (type) {
            case HELLO:
                int version = r.u16();
                String artifactId = r.str();
                Map<String, String> settings = new LinkedHashMap<>();
                int count = r.u32();
                for (int i = 0; i < count; i++) {
                    settings.put(r.str(), r.str());
                }
                request = new HelloMessage(id, version, artifactId, settings);
                break;
            case PROCESS:
                request = new ProcessMessage(id, r.list(r::bytes));
                break;
            case AGGREGATE:
                request = new AggregateMessage(id, r.list(
                        () -> new AggregateGroup(r.str(), r.i64(), r.i64(), r.nbytes(), r.list(r::bytes))));
                break;
            case COMBINE:
                request = new CombineMessage(id, r.list(() -> readCombineGroup(r)));
                break;
            case TAKE:
                request = new TakeMessage(id, r.list(r::u32));
                break;
            case MERGE:
                request = new MergeMessage(id, r.list(
                        () -> new MergeRequest(r.str(), r.i64(), r.i64(), r.list(r::bytes))));
                break;
            case FIRE:
                request = new FireMessage(id, r.list(() -> readFire(r)));
                break;
            case SHUTDOWN:
                request = new ShutdownMessage(id);
                break;
            default:
                throw new SidecarProtocolException("unknown request type " + typeName(type));
        }
        r.done();
        return request;
    }

    /** Decodes a response body: the bytes of a frame after its id. Consumes the buffer. */
    public static Response decodeResponse(int type, int id, ByteBuffer body) throws SidecarProtocolException {
        FrameReader r = new FrameReader(body);
        Response response;
        switch (type) {
            case HELLO_OK:
                response = new HelloOkMessage(id, r.u16(), r.str());
                break;
            case PROCESSED:
                response = new ProcessedMessage(id, r.list(() -> r.list(() -> readOutput(r))));
                break;
            case AGGREGATED:
                response = new AggregatedMessage(id, r.list(() -> new AggregateResult(r.nbytes(), r.list(r::bytes))));
                break;
            case TAKEN:
                response = new TakenMessage(id, r.list(() -> new AggregateResult(r.nbytes(), r.list(r::bytes))));
                break;
            case COMBINED:
                response = new CombinedMessage(id, r.list(() -> r.list(r::bytes)));
                break;
            case MERGED:
                response = new MergedMessage(id, r.list(() -> new MergeResult(r.bytes(), r.list(r::bytes))));
                break;
            case FIRED:
                response = new FiredMessage(id, r.list(() -> r.list(() -> readOutput(r))));
                break;
            case METRICS:
                response = new MetricsMessage(id, r.list(() -> readMetric(r)));
                break;
            case ERROR:
                response = new ErrorMessage(id, r.str());
                break;
            default:
                throw new SidecarProtocolException("unknown response type " + typeName(type));
        }
        r.done();
        return response;
    }

    private static MetricUpdate readMetric(FrameReader r) throws SidecarProtocolException {
        int kind = r.u8();
        String name = r.str();
        switch (kind) {
            case METRIC_COUNTER:
                return new CounterUpdate(name, r.i64());
            case METRIC_GAUGE:
                return new GaugeUpdate(name, r.f64());
            case METRIC_HISTOGRAM:
                return new HistogramUpdate(name, r.i64Array());
            default:
                throw new SidecarProtocolException("unknown metric kind " + kind);
        }
    }

    private static CombineGroup readCombineGroup(FrameReader r) throws SidecarProtocolException {
        int slot = r.u32();
        int held = r.u8();
        if (held == 1) {
            return new CombineGroup(slot, true, null, r.list(r::bytes));
        }
        if (held == 0) {
            return new CombineGroup(slot, false, r.nbytes(), r.list(r::bytes));
        }
        throw new SidecarProtocolException("unknown held flag " + held);
    }

    private static FireRequest readFire(FrameReader r) throws SidecarProtocolException {
        String key = r.str();
        long start = r.i64();
        long end = r.i64();
        int mode = r.u8();
        if (mode == FIRE_MODE_AGGREGATE) {
            return new FireRequest(key, start, end, r.bytes(), null);
        }
        if (mode == FIRE_MODE_PROCESS) {
            return new FireRequest(key, start, end, null, r.list(r::bytes));
        }
        if (mode == FIRE_MODE_KEPT) {
            return FireRequest.kept(key, start, end, r.u32());
        }
        throw new SidecarProtocolException("unknown fire mode " + mode);
    }

    private static Output readOutput(FrameReader r) throws SidecarProtocolException {
        int kind = r.u8();
        switch (kind) {
            case OUTPUT_SINK:
                return new SinkOutput(r.u16(), r.nstr(), r.bytes());
            case OUTPUT_ELEMENT:
                return new ElementOutput(r.str(), r.i64(), r.bytes());
            case OUTPUT_DEAD_LETTER:
                return new DeadLetterOutput(r.bytes());
            default:
                throw new SidecarProtocolException("unknown output kind " + kind);
        }
    }

    /** Checks a whole frame's length field against its size; returns it as a big-endian buffer. */
    private static ByteBuffer checkFrame(byte[] frame) throws SidecarProtocolException {
        checkNotNull(frame, "frame");
        if (frame.length < HEADER_BYTES) {
            throw new SidecarProtocolException("a frame of " + frame.length + " bytes is shorter than its header");
        }
        ByteBuffer buffer = ByteBuffer.wrap(frame);
        long length = Integer.toUnsignedLong(buffer.getInt(0));
        if (length != frame.length - 4L) {
            throw new SidecarProtocolException(
                    "the frame's length field says " + length + " bytes follow, but " + (frame.length - 4) + " do");
        }
        return buffer;
    }
}
