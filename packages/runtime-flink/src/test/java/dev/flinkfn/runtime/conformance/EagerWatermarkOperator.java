package dev.flinkfn.runtime.conformance;

import dev.flinkfn.runtime.operators.StageRecord;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Bounded out-of-orderness watermarks emitted after every element (max timestamp − bound − 1), plus the explicit
 * watermarks of the case: the most eager schedule Flink's periodic generator can produce, and the one the embedded
 * engine uses, so results do not depend on when a periodic timer happens to run. Replaces the job's
 * {@code assignTimestampsAndWatermarks} in conformance runs only.
 */
final class EagerWatermarkOperator extends AbstractStreamOperator<StageRecord>
        implements OneInputStreamOperator<StageRecord, StageRecord> {
    private static final long serialVersionUID = 1L;

    private final long bound;
    private transient long maxTimestamp;
    private transient long current;

    EagerWatermarkOperator(long bound) {
        this.bound = bound;
    }

    @Override
    public void open() throws Exception {
        super.open();
        maxTimestamp = Long.MIN_VALUE;
        current = Long.MIN_VALUE;
    }

    @Override
    public void processElement(StreamRecord<StageRecord> element) {
        output.collect(element);
        if (element.hasTimestamp()) {
            maxTimestamp = Math.max(maxTimestamp, element.getTimestamp());
            advance(maxTimestamp - bound - 1);
        }
    }

    @Override
    public void processWatermark(Watermark mark) {
        advance(mark.getTimestamp());
    }

    private void advance(long timestamp) {
        if (timestamp > current) {
            current = timestamp;
            output.emitWatermark(new Watermark(timestamp));
        }
    }
}
