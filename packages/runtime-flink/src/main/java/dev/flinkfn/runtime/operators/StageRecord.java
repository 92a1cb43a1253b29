package dev.flinkfn.runtime.operators;

import java.util.Arrays;
import java.util.Objects;

/**
 * What flows between the flinkfn operators: a result for a sink, or an element for the window stage. A POJO (public
 * fields, no-arg constructor) so Flink serializes it without Kryo.
 */
public final class StageRecord {

    /** For sink records: index into the manifest's sinks; -1 for window elements. */
    public int sinkIndex;
    /** Kafka record key for sink records (window key, or null), the window key for elements. */
    public String key;
    /** JSON bytes: the result value, or the event for window elements. */
    public byte[] payload;

    public StageRecord() {}

    public static StageRecord sink(int sinkIndex, String key, byte[] value) {
        StageRecord r = new StageRecord();
        r.sinkIndex = sinkIndex;
        r.key = key;
        r.payload = value;
        return r;
    }

    public static StageRecord element(String key, byte[] event) {
        StageRecord r = new StageRecord();
        r.sinkIndex = -1;
        r.key = key;
        r.payload = event;
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StageRecord r && r.sinkIndex == sinkIndex && Objects.equals(r.key, key)
                && Arrays.equals(r.payload, payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sinkIndex, key) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "StageRecord{sink=" + sinkIndex + ", key=" + key + ", payload="
                + (payload == null ? "null" : new String(payload, java.nio.charset.StandardCharsets.UTF_8)) + "}";
    }
}
