package dev.flinkfn.runtime.conformance;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/** Turns replay steps into source records and explicit Flink watermarks, at exactly their place in the input. */
final class ReplayOperator extends AbstractStreamOperator<byte[]> implements OneInputStreamOperator<ReplayStep, byte[]> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(StreamRecord<ReplayStep> element) {
        ReplayStep step = element.getValue();
        if (step.record != null) {
            output.collect(new StreamRecord<>(step.record));
        } else {
            output.emitWatermark(new Watermark(step.watermark));
        }
    }
}
