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
 */
public class JsStageOperator extends AbstractSidecarOperator<byte[]> implements BoundedOneInput {

    private static final long serialVersionUID = 1L;

    // --- runtime state (not checkpointed: bundles are always empty at a barrier) -------------------------------

    private transient List<byte[]> bundle;
    private transient long bundleStartedAt;
    private transient ArrayDeque<CompletableFuture<List<List<SidecarProtocol.Output>>>> inFlight;

    public JsStageOperator(SidecarClientFactory clientFactory, BundleOptions bundleOptions) {
        super(clientFactory, bundleOptions);
    }

    // --- lifecycle ---------------------------------------------------------------------------------------------

    @Override
    public void open() throws Exception {
        super.open();
        bundle = new ArrayList<>(bundleOptions.maxSize());
        inFlight = new ArrayDeque<>();
    }

    @Override
    public void processElement(StreamRecord<byte[]> element) throws Exception {
        if (bundle.isEmpty()) {
            bundleStartedAt = getProcessingTimeService().getCurrentProcessingTime();
            scheduleBundleTimer();
        }
        bundle.add(element.getValue());
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
            emit(await(inFlight.poll()));
        }
        inFlight.add(client.process(bundle));
        bundle = new ArrayList<>(bundleOptions.maxSize());
    }

    private void finishAllBundles() throws Exception {
        sendBundle();
        while (!inFlight.isEmpty()) {
            emit(await(inFlight.poll()));
        }
    }

    private void emitCompleted() throws Exception {
        while (!inFlight.isEmpty() && inFlight.peek().isDone()) {
            emit(await(inFlight.poll()));
        }
    }

    private void emit(List<List<SidecarProtocol.Output>> results) {
        for (List<SidecarProtocol.Output> outputs : results) {
            for (SidecarProtocol.Output output : outputs) {
                emitOne(output);
            }
        }
    }

    private void emitOne(SidecarProtocol.Output output) {
        if (output instanceof SidecarProtocol.ElementOutput element) {
            StageRecord record = StageRecord.element(element.key(), element.event());
            this.output.collect(element.timestamp() == SidecarProtocol.NO_TIMESTAMP
                    ? new StreamRecord<>(record)
                    : new StreamRecord<>(record, element.timestamp()));
        } else if (output instanceof SidecarProtocol.SinkOutput sink) {
            this.output.collect(new StreamRecord<>(StageRecord.sink(sink.sinkIndex(), sink.key(), sink.value())));
        } else if (output instanceof SidecarProtocol.DeadLetterOutput letter) {
            this.output.collect(Tags.DEAD_LETTERS, new StreamRecord<>(letter.deadLetter()));
        }
    }
}
