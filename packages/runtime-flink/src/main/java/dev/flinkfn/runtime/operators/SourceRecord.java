package dev.flinkfn.runtime.operators;

import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * A record as the source reader hands it to the JS stage: the raw value and the source partition it came from, or a
 * marker that a partition was assigned to this subtask (value {@code null}). Partitions travel with the records because
 * event time is only known after the user's code ran in the stage, and watermarks are generated per partition after it
 * ({@link PartitionWatermarkOperator}). Immutable, with its own serializer, for the reason {@link StageRecord} has one.
 */
@TypeInfo(SourceRecordSerializer.TypeInfoFactory.class)
public final class SourceRecord {

    /** The source partition (Kafka partition number); 0 when the source has only one. */
    public final int partition;
    /** The record's value as it was read; {@code null} for an assignment marker. */
    public final byte[] value;

    private SourceRecord(int partition, byte[] value) {
        this.partition = partition;
        this.value = value;
    }

    public static SourceRecord of(int partition, byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("a source record needs a value; null marks partition assignments");
        }
        return new SourceRecord(partition, value);
    }

    /** The marker that {@code partition} now belongs to this subtask: it holds the watermark until it delivers or idles. */
    public static SourceRecord assigned(int partition) {
        return new SourceRecord(partition, null);
    }

    static SourceRecord read(int partition, byte[] value) {
        return new SourceRecord(partition, value);
    }

    /**
     * The marker that the source assigned this subtask no partition at all once it knew the topic's partitions: only
     * then may a subtask without partitions be idle (before, its partitions may still be on their way).
     */
    public static SourceRecord noPartitions() {
        return new SourceRecord(NO_PARTITIONS, null);
    }

    /** The partition of a {@link #noPartitions} marker. */
    public static final int NO_PARTITIONS = -1;

    public boolean isAssignment() {
        return value == null;
    }

    @Override
    public String toString() {
        return isAssignment() ? "SourceRecord{assigned " + partition + "}" : "SourceRecord{partition=" + partition
                + ", " + value.length + " bytes}";
    }
}
