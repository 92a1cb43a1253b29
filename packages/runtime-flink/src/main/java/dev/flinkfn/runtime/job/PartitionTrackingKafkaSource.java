package dev.flinkfn.runtime.job;

import dev.flinkfn.runtime.operators.SourceRecord;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Flink's {@link KafkaSource}, unchanged (same enumerator, splits, state and serializers, so savepoints stay
 * compatible), whose readers also announce every partition assigned to them: before the partition's first record, the
 * reader emits {@link SourceRecord#assigned}. Event time is computed by the user's code after the source, so the
 * watermark generator that follows the JS stage cannot see the reader's splits; the markers tell it which partitions
 * must hold its watermark back, including partitions that have not delivered anything yet, partitions restored from a
 * checkpoint at another parallelism, and partitions that partition discovery adds while the job runs.
 */
public final class PartitionTrackingKafkaSource
        implements Source<SourceRecord, KafkaPartitionSplit, KafkaSourceEnumState>, ResultTypeQueryable<SourceRecord> {

    private static final long serialVersionUID = 1L;

    private final KafkaSource<SourceRecord> kafka;

    public PartitionTrackingKafkaSource(KafkaSource<SourceRecord> kafka) {
        this.kafka = kafka;
    }

    @Override
    public Boundedness getBoundedness() {
        return kafka.getBoundedness();
    }

    @Override
    public SourceReader<SourceRecord, KafkaPartitionSplit> createReader(SourceReaderContext context) throws Exception {
        return new Reader(kafka.createReader(context));
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context) throws Exception {
        return kafka.createEnumerator(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context, KafkaSourceEnumState checkpoint) throws Exception {
        return kafka.restoreEnumerator(context, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
        return kafka.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
        return kafka.getEnumeratorCheckpointSerializer();
    }

    @Override
    public TypeInformation<SourceRecord> getProducedType() {
        return kafka.getProducedType();
    }

    /** The Kafka reader, with assignment markers emitted ahead of its records. */
    static final class Reader implements SourceReader<SourceRecord, KafkaPartitionSplit> {
        private final SourceReader<SourceRecord, KafkaPartitionSplit> kafka;
        /** Partitions assigned (at start, on restore, by discovery) and not yet announced downstream. */
        private final ArrayDeque<Integer> unannounced = new ArrayDeque<>();

        Reader(SourceReader<SourceRecord, KafkaPartitionSplit> kafka) {
            this.kafka = kafka;
        }

        @Override
        public void start() {
            kafka.start();
        }

        @Override
        public InputStatus pollNext(ReaderOutput<SourceRecord> output) throws Exception {
            if (!unannounced.isEmpty()) {
                output.collect(SourceRecord.assigned(unannounced.poll()));
                return InputStatus.MORE_AVAILABLE;
            }
            return kafka.pollNext(output);
        }

        @Override
        public List<KafkaPartitionSplit> snapshotState(long checkpointId) {
            return kafka.snapshotState(checkpointId);
        }

        @Override
        public CompletableFuture<Void> isAvailable() {
            return unannounced.isEmpty() ? kafka.isAvailable() : CompletableFuture.completedFuture(null);
        }

        @Override
        public void addSplits(List<KafkaPartitionSplit> splits) {
            // Called on the task thread, like pollNext: the markers are queued before the splits can produce records.
            for (KafkaPartitionSplit split : splits) {
                unannounced.add(split.getPartition());
            }
            kafka.addSplits(splits);
        }

        @Override
        public void notifyNoMoreSplits() {
            kafka.notifyNoMoreSplits();
        }

        @Override
        public void handleSourceEvents(SourceEvent sourceEvent) {
            kafka.handleSourceEvents(sourceEvent);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            kafka.notifyCheckpointComplete(checkpointId);
        }

        @Override
        public void notifyCheckpointAborted(long checkpointId) throws Exception {
            kafka.notifyCheckpointAborted(checkpointId);
        }

        @Override
        public void pauseOrResumeSplits(Collection<String> splitsToPause, Collection<String> splitsToResume) {
            kafka.pauseOrResumeSplits(splitsToPause, splitsToResume);
        }

        @Override
        public void close() throws Exception {
            kafka.close();
        }
    }
}
