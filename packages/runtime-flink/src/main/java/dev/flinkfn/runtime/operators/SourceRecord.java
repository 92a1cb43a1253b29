package dev.flinkfn.runtime.operators;

import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * A record as the source reader hands it to the JS stage: the raw value and where it was read (topic, partition,
 * offset, record timestamp: a dead letter says it), or a marker that a partition was assigned to this subtask (value
 * {@code null}). Partitions travel with the records because
 * event time is only known after the user's code ran in the stage, and watermarks are generated per partition after it
 * ({@link PartitionWatermarkOperator}). Immutable, with its own serializer, for the reason {@link StageRecord} has one.
 */
@TypeInfo(SourceRecordSerializer.TypeInfoFactory.class)
public final class SourceRecord {

    /** The source partition (Kafka partition number); 0 when the source has only one. */
    public final int partition;
    /** The record's value as it was read; {@code null} for an assignment marker. */
    public final byte[] value;
    /** The topic it was read from; {@code null} when it did not come from Kafka (tests, replays). */
    public final String topic;
    /** Its offset in the partition; {@link #NO_OFFSET} when it did not come from Kafka. */
    public final long offset;
    /** The Kafka record's timestamp (epoch milliseconds); meaningful only with a topic. */
    public final long timestamp;

    /** The offset of a record that did not come from Kafka. */
    public static final long NO_OFFSET = -1;

    private SourceRecord(int partition, byte[] value, String topic, long offset, long timestamp) {
        this.partition = partition;
        this.value = value;
        this.topic = topic;
        this.offset = offset;
        this.timestamp = timestamp;
    }

    /** A record of no topic (tests, replays): its dead letters say no source. */
    public static SourceRecord of(int partition, byte[] value) {
        return of(null, partition, NO_OFFSET, 0L, value);
    }

    /** A record read from Kafka. */
    public static SourceRecord of(String topic, int partition, long offset, long timestamp, byte[] value) {
        if (value == null) {
            throw new IllegalArgumentException("a source record needs a value; null marks partition assignments");
        }
        return new SourceRecord(partition, value, topic, offset, timestamp);
    }

    /** The marker that {@code partition} now belongs to this subtask: it holds the watermark until it delivers or idles. */
    public static SourceRecord assigned(int partition) {
        return new SourceRecord(partition, null, null, NO_OFFSET, 0L);
    }

    static SourceRecord read(String topic, int partition, long offset, long timestamp, byte[] value) {
        return new SourceRecord(partition, value, topic, offset, timestamp);
    }

    /** Whether the record came from Kafka, so that its topic, partition and offset say where. */
    public boolean hasSource() {
        return topic != null && offset != NO_OFFSET;
    }

    /**
     * The marker that the source assigned this subtask no partition at all once it knew the topic's partitions: only
     * then may a subtask without partitions be idle (before, its partitions may still be on their way).
     */
    public static SourceRecord noPartitions() {
        return new SourceRecord(NO_PARTITIONS, null, null, NO_OFFSET, 0L);
    }

    /** The partition of a {@link #noPartitions} marker. */
    public static final int NO_PARTITIONS = -1;

    public boolean isAssignment() {
        return value == null;
    }

    @Override
    public String toString() {
        return isAssignment() ? "SourceRecord{assigned " + partition + "}" : "SourceRecord{" + topic + "-" + partition
                + "@" + offset + ", " + value.length + " bytes}";
    }
}
