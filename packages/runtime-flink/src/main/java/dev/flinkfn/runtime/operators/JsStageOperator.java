package dev.flinkfn.runtime.operators;

import dev.flinkfn.runtime.sidecar.SidecarProtocol;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
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
 * <p>An async {@code handle} runs in the sidecar up to the function's capacity at once while further bundles keep
 * arriving (protocol.ts). With unordered results ({@code ordered} false) a bundle's outputs are emitted as soon as its
 * answer arrives, before older bundles' — the sidecar then answers bundles in completion order — but a watermark
 * still waits for every bundle before it, so no result crosses a watermark, as in Flink's unordered
 * AsyncWaitOperator. Exactly-once: instead of keeping in-flight elements in operator state as AsyncWaitOperator
 * does, the stage finishes every bundle before it forwards a checkpoint barrier, so its state is always empty; the
 * sidecar ends every record within the async timeout (a timed-out record becomes a dead letter), so the barrier waits
 * at most that long.
 *
 * <p>Each window element carries the source partition of the record it came from, and partition assignments are
 * passed on as markers when {@code forwardsPartitions} is set (event-time windows), so that
 * {@link PartitionWatermarkOperator} can generate watermarks per partition after the stage.
 */
public class JsStageOperator extends AbstractSidecarOperator<SourceRecord> implements BoundedOneInput {

    private static final long serialVersionUID = 1L;

    // --- configuration -----------------------------------------------------------------------------------------

    private final boolean forwardsPartitions;
    /** Whether bundles' outputs are emitted in bundle order (true) or as their answers arrive. */
    private final boolean ordered;

    // --- runtime state (not checkpointed: bundles are always empty at a barrier) -------------------------------

    private transient List<byte[]> bundle;
    /** The source record of each value of {@link #bundle}: its partition, and where a dead letter says it was read. */
    private transient List<SourceRecord> bundleRecords;
    private transient long bundleStartedAt;
    /** Bundles sent and not emitted, oldest first. */
    private transient ArrayDeque<SentBundle> inFlight;

    /** A stage whose outputs go to sinks, or to processing-time windows: partitions do not matter downstream. */
    public JsStageOperator(SidecarClientFactory clientFactory, BundleOptions bundleOptions) {
        this(clientFactory, bundleOptions, false);
    }

    /** @param forwardsPartitions emit partition assignments as {@link StageRecord#assigned} markers (event time) */
    public JsStageOperator(SidecarClientFactory clientFactory, BundleOptions bundleOptions, boolean forwardsPartitions) {
        this(clientFactory, bundleOptions, forwardsPartitions, true);
    }

    /** @param ordered emit bundles' outputs in bundle order; false: as answers arrive (unordered async results) */
    public JsStageOperator(
            SidecarClientFactory clientFactory, BundleOptions bundleOptions, boolean forwardsPartitions, boolean ordered) {
        super(clientFactory, bundleOptions);
        this.forwardsPartitions = forwardsPartitions;
        this.ordered = ordered;
    }

    // --- lifecycle ---------------------------------------------------------------------------------------------

    @Override
    public void open() throws Exception {
        super.open();
        if (!ordered) {
            client.answerInAnyOrder();
        }
        bundle = new ArrayList<>(bundleOptions.maxSize());
        bundleRecords = new ArrayList<>(bundleOptions.maxSize());
        inFlight = new ArrayDeque<>();
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
            scheduleBundleTimer(bundleStartedAt);
        }
        bundle.add(record.value);
        bundleRecords.add(record);
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
            scheduleBundleTimer(bundle.isEmpty() ? time : bundleStartedAt);
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
        inFlight.add(new SentBundle(client.process(bundle), bundleRecords));
        bundle = new ArrayList<>(bundleOptions.maxSize());
        bundleRecords = new ArrayList<>(bundleOptions.maxSize());
    }

    private void finishAllBundles() throws Exception {
        sendBundle();
        while (!inFlight.isEmpty()) {
            emitNext();
        }
    }

    /** Emits the bundles whose answers have arrived: the oldest ones (ordered), or any (unordered). */
    private void emitCompleted() throws Exception {
        if (ordered) {
            while (!inFlight.isEmpty() && inFlight.peek().answer.isDone()) {
                emitNext();
            }
            return;
        }
        for (Iterator<SentBundle> it = inFlight.iterator(); it.hasNext(); ) {
            SentBundle sent = it.next();
            if (sent.answer.isDone()) {
                it.remove();
                emit(sent);
            }
        }
    }

    /** Waits for a bundle and emits it: the oldest (ordered), or the first to be answered (unordered). */
    private void emitNext() throws Exception {
        if (ordered || inFlight.size() == 1) {
            emit(inFlight.poll());
            return;
        }
        CompletableFuture<?>[] answers = inFlight.stream().map(sent -> sent.answer).toArray(CompletableFuture[]::new);
        await(CompletableFuture.anyOf(answers));
        emitCompleted();
    }

    /** Waits for one bundle's answer and emits its outputs; results come back one list per input record. */
    private void emit(SentBundle sent) throws Exception {
        List<List<SidecarProtocol.Output>> results = await(sent.answer);
        for (int i = 0; i < results.size(); i++) {
            for (SidecarProtocol.Output output : results.get(i)) {
                emitOne(sent.records.get(i), output);
            }
        }
    }

    private void emitOne(SourceRecord source, SidecarProtocol.Output output) {
        if (output instanceof SidecarProtocol.ElementOutput element) {
            StageRecord record = StageRecord.element(source.partition, element.key(), element.event());
            this.output.collect(element.timestamp() == SidecarProtocol.NO_TIMESTAMP
                    ? new StreamRecord<>(record)
                    : new StreamRecord<>(record, element.timestamp()));
        } else if (output instanceof SidecarProtocol.SinkOutput sink) {
            this.output.collect(new StreamRecord<>(StageRecord.sink(sink.sinkIndex(), sink.key(), sink.value())));
        } else if (output instanceof SidecarProtocol.DeadLetterOutput letter) {
            this.output.collect(Tags.DEAD_LETTERS, new StreamRecord<>(DeadLetterContext.withSource(
                    letter.deadLetter(), source, getProcessingTimeService().getCurrentProcessingTime())));
        }
    }

    /** A bundle on its way: the sidecar's answer and the source record of each of its values. */
    private record SentBundle(CompletableFuture<List<List<SidecarProtocol.Output>>> answer, List<SourceRecord> records) {}
}
