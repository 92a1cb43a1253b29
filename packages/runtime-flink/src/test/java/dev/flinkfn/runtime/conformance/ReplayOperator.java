package dev.flinkfn.runtime.conformance;

import dev.flinkfn.runtime.operators.SourceRecord;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Turns replay steps into what the job's Kafka source emits (records with their partition, partition assignments) and
 * explicit Flink watermarks, at exactly their place in the input.
 */
final class ReplayOperator extends AbstractStreamOperator<SourceRecord>
        implements OneInputStreamOperator<ReplayStep, SourceRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void processElement(StreamRecord<ReplayStep> element) {
        ReplayStep step = element.getValue();
        if (step.assignment) {
            output.collect(new StreamRecord<>(SourceRecord.assigned(step.partition)));
        } else if (step.record != null) {
            output.collect(new StreamRecord<>(SourceRecord.of(step.partition, step.record)));
        } else {
            output.emitWatermark(new Watermark(step.watermark));
        }
    }
}
