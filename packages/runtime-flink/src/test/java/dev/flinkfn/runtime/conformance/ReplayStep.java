package dev.flinkfn.runtime.conformance;

/**
 * One step of a conformance case's input, as a POJO Flink can ship: a raw record from a partition, the assignment of a
 * partition (the source announces each declared partition before the input), or an explicit watermark.
 */
public final class ReplayStep {
    /** The record's bytes; null for an assignment or a watermark step. */
    public byte[] record;
    public int partition;
    public boolean assignment;
    public long watermark;

    public ReplayStep() {}

    static ReplayStep record(int partition, byte[] bytes) {
        ReplayStep step = new ReplayStep();
        step.partition = partition;
        step.record = bytes;
        return step;
    }

    static ReplayStep assigned(int partition) {
        ReplayStep step = new ReplayStep();
        step.partition = partition;
        step.assignment = true;
        return step;
    }

    static ReplayStep watermark(long timestamp) {
        ReplayStep step = new ReplayStep();
        step.watermark = timestamp;
        return step;
    }
}
