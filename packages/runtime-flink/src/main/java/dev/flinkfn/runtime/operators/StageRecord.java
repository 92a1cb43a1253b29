package dev.flinkfn.runtime.operators;

import java.util.Arrays;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * What flows between the flinkfn operators: a result for a sink, or an element for the window stage. Immutable, with
 * a serializer of its own ({@link StageRecordSerializer}): as a POJO, Flink copied every record between chained
 * operators and serialized it for the network through reflection, which the profile showed as a fifth of the stage
 * thread's time. The payload array is never modified once a record holds it.
 */
@TypeInfo(StageRecordSerializer.TypeInfoFactory.class)
public final class StageRecord {

    /** For sink records: index into the manifest's sinks; -1 for window elements. */
    public final int sinkIndex;
    /** Kafka record key for sink records (window key, or null), the window key for elements. */
    public final String key;
    /** JSON bytes: the result value, or the event for window elements. */
    public final byte[] payload;

    StageRecord(int sinkIndex, String key, byte[] payload) {
        this.sinkIndex = sinkIndex;
        this.key = key;
        this.payload = payload;
    }

    public static StageRecord sink(int sinkIndex, String key, byte[] value) {
        return new StageRecord(sinkIndex, key, value);
    }

    public static StageRecord element(String key, byte[] event) {
        return new StageRecord(-1, key, event);
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
