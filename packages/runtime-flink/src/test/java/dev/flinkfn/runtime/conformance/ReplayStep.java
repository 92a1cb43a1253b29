package dev.flinkfn.runtime.conformance;

/** One step of a conformance case's input, as a POJO Flink can ship: a raw record, or an explicit watermark. */
public final class ReplayStep {
    /** The record's bytes, or null for a watermark step. */
    public byte[] record;
    public long watermark;

    public ReplayStep() {}

    static ReplayStep record(byte[] bytes) {
        ReplayStep step = new ReplayStep();
        step.record = bytes;
        return step;
    }

    static ReplayStep watermark(long timestamp) {
        ReplayStep step = new ReplayStep();
        step.watermark = timestamp;
        return step;
    }
}
