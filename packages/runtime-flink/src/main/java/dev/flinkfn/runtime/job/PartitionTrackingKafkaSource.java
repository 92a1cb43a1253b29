package dev.flinkfn.runtime.job;

import dev.flinkfn.runtime.operators.SourceRecord;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;
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
 * checkpoint at another parallelism, and partitions that partition discovery adds while the job runs. A reader to which
 * the enumerator assigned nothing after discovering the topic's partitions hears so ({@link NoPartitionsAssigned}) and
 * emits {@link SourceRecord#noPartitions}: only then may its subtask be idle without partitions.
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
        TrackingContext tracking = new TrackingContext(context);
        return tracking.wrap(kafka.createEnumerator(tracking));
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context, KafkaSourceEnumState checkpoint) throws Exception {
        TrackingContext tracking = new TrackingContext(context);
        return tracking.wrap(kafka.restoreEnumerator(tracking, checkpoint));
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
                int partition = unannounced.poll();
                output.collect(partition == SourceRecord.NO_PARTITIONS ? SourceRecord.noPartitions() : SourceRecord.assigned(partition));
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
            if (sourceEvent instanceof NoPartitionsAssigned) {
                unannounced.add(SourceRecord.NO_PARTITIONS);
            } else {
                kafka.handleSourceEvents(sourceEvent);
            }
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

    /** Sent to a reader to which the enumerator assigned no partition after it had discovered the topic's partitions. */
    static final class NoPartitionsAssigned implements SourceEvent {
        private static final long serialVersionUID = 1L;
    }

    /**
     * The enumerator's context, watching which readers the Kafka enumerator assigns splits to. Once its first
     * discovery has been handled (the enumerator state says so), a registered reader that got nothing is told, once per
     * registration: until then a subtask without partitions cannot know whether some are on their way.
     */
    static final class TrackingContext implements SplitEnumeratorContext<KafkaPartitionSplit> {
        private final SplitEnumeratorContext<KafkaPartitionSplit> context;
        private final Set<Integer> assigned = new HashSet<>();
        private final Set<Integer> told = new HashSet<>();
        private SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> enumerator;

        TrackingContext(SplitEnumeratorContext<KafkaPartitionSplit> context) {
            this.context = context;
        }

        SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> wrap(
                SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> kafkaEnumerator) {
            this.enumerator = kafkaEnumerator;
            return new SplitEnumerator<>() {
                @Override
                public void start() {
                    kafkaEnumerator.start();
                }

                @Override
                public void handleSplitRequest(int subtaskId, String requesterHostname) {
                    kafkaEnumerator.handleSplitRequest(subtaskId, requesterHostname);
                }

                @Override
                public void addSplitsBack(List<KafkaPartitionSplit> splits, int subtaskId) {
                    kafkaEnumerator.addSplitsBack(splits, subtaskId);
                }

                @Override
                public void addReader(int subtaskId) {
                    assigned.remove(subtaskId); // a restarted reader starts from its restored splits
                    told.remove(subtaskId);
                    kafkaEnumerator.addReader(subtaskId);
                    tellReadersWithoutPartitions();
                }

                @Override
                public KafkaSourceEnumState snapshotState(long checkpointId) throws Exception {
                    return kafkaEnumerator.snapshotState(checkpointId);
                }

                @Override
                public void notifyCheckpointComplete(long checkpointId) throws Exception {
                    kafkaEnumerator.notifyCheckpointComplete(checkpointId);
                }

                @Override
                public void handleSourceEvent(int subtaskId, SourceEvent sourceEvent) {
                    kafkaEnumerator.handleSourceEvent(subtaskId, sourceEvent);
                }

                @Override
                public void close() throws java.io.IOException {
                    kafkaEnumerator.close();
                }
            };
        }

        private void tellReadersWithoutPartitions() {
            boolean discovered;
            try {
                discovered = enumerator != null && enumerator.snapshotState(-1).initialDiscoveryFinished();
            } catch (Exception e) {
                throw new IllegalStateException("reading the Kafka enumerator's state failed", e);
            }
            if (!discovered) {
                return;
            }
            for (int reader : context.registeredReaders().keySet()) {
                if (!assigned.contains(reader) && told.add(reader)) {
                    context.sendEventToSourceReader(reader, new NoPartitionsAssigned());
                }
            }
        }

        @Override
        public void assignSplits(SplitsAssignment<KafkaPartitionSplit> assignment) {
            assigned.addAll(assignment.assignment().keySet());
            context.assignSplits(assignment);
        }

        @Override
        public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler) {
            context.callAsync(callable, (result, error) -> {
                handler.accept(result, error);
                tellReadersWithoutPartitions();
            });
        }

        @Override
        public <T> void callAsync(Callable<T> callable, BiConsumer<T, Throwable> handler, long initialDelayMillis,
                long periodMillis) {
            context.callAsync(callable, (result, error) -> {
                handler.accept(result, error);
                tellReadersWithoutPartitions();
            }, initialDelayMillis, periodMillis);
        }

        @Override
        public SplitEnumeratorMetricGroup metricGroup() {
            return context.metricGroup();
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, SourceEvent event) {
            context.sendEventToSourceReader(subtaskId, event);
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, int attemptNumber, SourceEvent event) {
            context.sendEventToSourceReader(subtaskId, attemptNumber, event);
        }

        @Override
        public int currentParallelism() {
            return context.currentParallelism();
        }

        @Override
        public Map<Integer, ReaderInfo> registeredReaders() {
            return context.registeredReaders();
        }

        @Override
        public Map<Integer, Map<Integer, ReaderInfo>> registeredReadersOfAttempts() {
            return context.registeredReadersOfAttempts();
        }

        @Override
        public void signalNoMoreSplits(int subtask) {
            context.signalNoMoreSplits(subtask);
        }

        @Override
        public void runInCoordinatorThread(Runnable runnable) {
            context.runInCoordinatorThread(runnable);
        }

        @Override
        public void setIsProcessingBacklog(boolean isProcessingBacklog) {
            context.setIsProcessingBacklog(isProcessingBacklog);
        }
    }
}
