package dev.flinkfn.runtime.operators;

import dev.flinkfn.runtime.sidecar.SidecarProtocol;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The stateless JS stage: source records (raw Kafka values) go to the sidecar in bundles, which decodes them, runs
 * {@code handle}, and, for windowed functions, extracts key and event timestamp. Its outputs are sink records
 * (stateless functions) or window elements stamped with their event time, plus dead letters on a side output.
 *
 * <p>Bundles close on count, on a short time bound, before a watermark, before a checkpoint barrier and at end of
 * input. Closed bundles are sent without waiting (several may be in flight) and their outputs are emitted in bundle
 * order as they arrive, so the JVM keeps reading while Node computes. A watermark is held until every bundle sent
 * before it has been answered, so no element can end up behind a watermark that overtook it. A sidecar that does not
 * answer within the request timeout fails the task, and Flink restores from the last checkpoint.
 *
 * <p>Each window element carries the source partition of the record it came from, and partition assignments are
 * passed on as markers when {@code forwardsPartitions} is set (event-time windows), so that
 * {@link PartitionWatermarkOperator} can generate watermarks per partition after the stage.
 */
public class JsStageOperator extends AbstractSidecarOperator<SourceRecord> implements BoundedOneInput {

    private static final long serialVersionUID = 1L;

    // --- configuration -----------------------------------------------------------------------------------------

    private final boolean forwardsPartitions;

    // --- runtime state (not checkpointed: bundles are always empty at a barrier) -------------------------------

    private transient List<byte[]> bundle;
    /** The source partition of each record of {@link #bundle}. */
    private transient IntList bundlePartitions;
    /** The partitions of the bundles in flight, in the order of {@link #inFlight}. */
    private transient ArrayDeque<IntList> inFlightPartitions;
    private transient long bundleStartedAt;
    private transient ArrayDeque<CompletableFuture<List<List<SidecarProtocol.Output>>>> inFlight;

    /** A stage whose outputs go to sinks, or to processing-time windows: partitions do not matter downstream. */
    public JsStageOperator(SidecarClientFactory clientFactory, BundleOptions bundleOptions) {
        this(clientFactory, bundleOptions, false);
    }

    /** @param forwardsPartitions emit partition assignments as {@link StageRecord#assigned} markers (event time) */
    public JsStageOperator(SidecarClientFactory clientFactory, BundleOptions bundleOptions, boolean forwardsPartitions) {
        super(clientFactory, bundleOptions);
        this.forwardsPartitions = forwardsPartitions;
    }

    // --- lifecycle ---------------------------------------------------------------------------------------------

    @Override
    public void open() throws Exception {
        super.open();
        bundle = new ArrayList<>(bundleOptions.maxSize());
        bundlePartitions = new IntList(bundleOptions.maxSize());
        inFlight = new ArrayDeque<>();
        inFlightPartitions = new ArrayDeque<>();
    }

    @Override
    public void processElement(StreamRecord<SourceRecord> element) throws Exception {
        SourceRecord record = element.getValue();
        if (record.isAssignment()) {
            // Ahead of the records still in bundles: an assignment can only hold the watermark back, never let it pass.
            if (forwardsPartitions) {
                output.collect(new StreamRecord<>(StageRecord.assigned(record.partition)));
            }
            return;
        }
        if (bundle.isEmpty()) {
            bundleStartedAt = getProcessingTimeService().getCurrentProcessingTime();
            scheduleBundleTimer();
        }
        bundle.add(record.value);
        bundlePartitions.add(record.partition);
        if (bundle.size() >= bundleOptions.maxSize()) {
            sendBundle();
        }
        emitCompleted();
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        // Hold the watermark until everything before it has come back from the sidecar (as PyFlink does): elements
        // emitted after a watermark that overtook them would be wrongly late downstream.
        finishAllBundles();
        super.processWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        // Nothing may be in flight at a barrier: this operator keeps no state, so unfinished bundles would be lost.
        finishAllBundles();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void endInput() throws Exception {
        finishAllBundles();
    }

    @Override
    public void finish() throws Exception {
        try {
            finishAllBundles();
        } finally {
            super.finish();
        }
    }

    /** The bundle time bound: send a bundle that has waited long enough, and emit answers that arrived meanwhile. */
    @Override
    protected void onBundleTimer(long time) throws Exception {
        if (!bundle.isEmpty() && time - bundleStartedAt >= bundleOptions.maxTime().toMillis()) {
            sendBundle();
        }
        emitCompleted();
        if (!bundle.isEmpty() || !inFlight.isEmpty()) {
            scheduleBundleTimer();
        }
    }

    // --- bundles -----------------------------------------------------------------------------------------------

    private void sendBundle() throws Exception {
        if (bundle.isEmpty()) {
            return;
        }
        while (inFlight.size() >= bundleOptions.maxInFlight()) {
            emitNext();
        }
        inFlight.add(client.process(bundle));
        inFlightPartitions.add(bundlePartitions);
        bundle = new ArrayList<>(bundleOptions.maxSize());
        bundlePartitions = new IntList(bundleOptions.maxSize());
    }

    private void finishAllBundles() throws Exception {
        sendBundle();
        while (!inFlight.isEmpty()) {
            emitNext();
        }
    }

    private void emitCompleted() throws Exception {
        while (!inFlight.isEmpty() && inFlight.peek().isDone()) {
            emitNext();
        }
    }

    /** Waits for the oldest bundle in flight and emits its outputs; results come back one list per input record. */
    private void emitNext() throws Exception {
        IntList partitions = inFlightPartitions.poll();
        List<List<SidecarProtocol.Output>> results = await(inFlight.poll());
        for (int i = 0; i < results.size(); i++) {
            for (SidecarProtocol.Output output : results.get(i)) {
                emitOne(partitions.get(i), output);
            }
        }
    }

    private void emitOne(int partition, SidecarProtocol.Output output) {
        if (output instanceof SidecarProtocol.ElementOutput element) {
            StageRecord record = StageRecord.element(partition, element.key(), element.event());
            this.output.collect(element.timestamp() == SidecarProtocol.NO_TIMESTAMP
                    ? new StreamRecord<>(record)
                    : new StreamRecord<>(record, element.timestamp()));
        } else if (output instanceof SidecarProtocol.SinkOutput sink) {
            this.output.collect(new StreamRecord<>(StageRecord.sink(sink.sinkIndex(), sink.key(), sink.value())));
        } else if (output instanceof SidecarProtocol.DeadLetterOutput letter) {
            this.output.collect(Tags.DEAD_LETTERS, new StreamRecord<>(letter.deadLetter()));
        }
    }

    /** A growable list of ints without boxing: one entry per record on the hot path. */
    private static final class IntList {
        private int[] values;
        private int size;

        IntList(int capacity) {
            values = new int[Math.max(1, capacity)];
        }

        void add(int value) {
            if (size == values.length) {
                values = java.util.Arrays.copyOf(values, size * 2);
            }
            values[size++] = value;
        }

        int get(int index) {
            return values[index];
        }
    }
}
