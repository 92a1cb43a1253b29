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

    /** Marks an {@link #assigned} record in {@link #sinkIndex}. */
    static final int ASSIGNMENT = -2;

    /** For sink records: index into the manifest's sinks; -1 for window elements, -2 for assignment markers. */
    public final int sinkIndex;
    /** The source partition a window element (or an assignment marker) comes from; 0 for sink records. */
    public final int partition;
    /** Kafka record key for sink records (window key, or null), the window key for elements. */
    public final String key;
    /** JSON bytes: the result value, or the event for window elements. */
    public final byte[] payload;

    StageRecord(int sinkIndex, int partition, String key, byte[] payload) {
        this.sinkIndex = sinkIndex;
        this.partition = partition;
        this.key = key;
        this.payload = payload;
    }

    public static StageRecord sink(int sinkIndex, String key, byte[] value) {
        return new StageRecord(sinkIndex, 0, key, value);
    }

    /** A window element from a source with one partition. */
    public static StageRecord element(String key, byte[] event) {
        return element(0, key, event);
    }

    public static StageRecord element(int partition, String key, byte[] event) {
        return new StageRecord(-1, partition, key, event);
    }

    /**
     * The source assigned {@code partition} to this subtask: what {@link PartitionWatermarkOperator} needs to hold the
     * watermark back for a partition that has not delivered anything yet. It never leaves that operator.
     */
    public static StageRecord assigned(int partition) {
        return new StageRecord(ASSIGNMENT, partition, null, null);
    }

    public boolean isAssignment() {
        return sinkIndex == ASSIGNMENT;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StageRecord r && r.sinkIndex == sinkIndex && r.partition == partition && Objects.equals(r.key, key)
                && Arrays.equals(r.payload, payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(sinkIndex, partition, key) * 31 + Arrays.hashCode(payload);
    }

    @Override
    public String toString() {
        return "StageRecord{sink=" + sinkIndex + ", partition=" + partition + ", key=" + key + ", payload="
                + (payload == null ? "null" : new String(payload, java.nio.charset.StandardCharsets.UTF_8)) + "}";
    }
}
