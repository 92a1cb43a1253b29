package dev.flinkfn.runtime.operators;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Event-time watermarks per source partition, generated after the JS stage (which computes the timestamps) at the
 * source's parallelism, as Flink's Kafka source does with split-aware watermark generation:
 *
 * <ul>
 *   <li>a partition's watermark is its maximum timestamp − bound − 1 ms; a subtask's is the minimum over its
 *       partitions that are not idle;
 *   <li>a partition the source assigned to this subtask ({@link StageRecord#assigned} marker) holds the watermark back
 *       until it delivers an element, unless it is idle;
 *   <li>with an idle timeout, a partition without elements for that long (processing time) is idle and stops holding
 *       the watermark back; its next element makes it active again;
 *   <li>a subtask whose partitions are all idle, or to which the source assigned none, is idle ({@link WatermarkStatus#IDLE}), so the
 *       window operator's other inputs move event time on without it;
 *   <li>watermarks from upstream (conformance replays; end of input) raise the watermark, never lower it.
 * </ul>
 *
 * <p>Watermarks are emitted on Flink's periodic schedule ({@code pipeline.auto-watermark-interval}), or after every
 * element when {@code eager} (the schedule the embedded engine and the conformance cases use). The maximum timestamp of
 * every partition is checkpointed in union state, so after a restore, also at another parallelism, a partition's
 * watermark resumes where it was, whichever subtask it is assigned to now.
 */
public class PartitionWatermarkOperator extends AbstractStreamOperator<StageRecord>
        implements OneInputStreamOperator<StageRecord, StageRecord>, ProcessingTimeCallback {

    private static final long serialVersionUID = 1L;

    /** Idleness and empty subtasks are checked at least this often even when watermarks are emitted eagerly. */
    private static final long DEFAULT_CHECK_INTERVAL_MS = 200;

    // --- configuration -----------------------------------------------------------------------------------------

    private final long boundMs;
    /** 0 when partitions never become idle. */
    private final long idleTimeoutMs;
    private final boolean eager;

    // --- state -------------------------------------------------------------------------------------------------

    private transient ListState<Tuple2<Integer, Long>> maxTimestampsState;
    /** Maximum timestamps restored from the last checkpoint, for partitions not (yet) assigned here. */
    private transient Map<Integer, Long> restored;

    // --- runtime -----------------------------------------------------------------------------------------------

    private transient Map<Integer, PartitionClock> partitions;
    private transient long upstreamWatermark;
    private transient long emitted;
    private transient boolean idle;
    /** The source said it assigned this subtask no partition: with none, it may be idle. */
    private transient boolean noPartitionsAssigned;
    private transient long checkInterval;
    /** When the next check runs; timers before it are stale. */
    private transient long nextCheck;

    /**
     * @param boundMs the out-of-orderness bound
     * @param idleTimeoutMs how long a partition may go without elements before it is idle; 0 for never
     * @param eager emit after every element instead of on the periodic schedule
     */
    public PartitionWatermarkOperator(long boundMs, long idleTimeoutMs, boolean eager) {
        this.boundMs = boundMs;
        this.idleTimeoutMs = idleTimeoutMs;
        this.eager = eager;
    }

    // --- lifecycle ---------------------------------------------------------------------------------------------

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        maxTimestampsState = context.getOperatorStateStore().getUnionListState(
                new ListStateDescriptor<>("partition-max-timestamps", Types.TUPLE(Types.INT, Types.LONG)));
        restored = new HashMap<>();
        for (Tuple2<Integer, Long> entry : maxTimestampsState.get()) {
            restored.merge(entry.f0, entry.f1, Math::max);
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        partitions = new HashMap<>();
        upstreamWatermark = Long.MIN_VALUE;
        emitted = Long.MIN_VALUE;
        idle = false;
        long periodic = getExecutionConfig().getAutoWatermarkInterval();
        checkInterval = eager || periodic <= 0 ? DEFAULT_CHECK_INTERVAL_MS : periodic;
        schedule();
    }

    @Override
    public void processElement(StreamRecord<StageRecord> element) throws Exception {
        StageRecord record = element.getValue();
        if (record.isAssignment()) {
            if (record.partition == SourceRecord.NO_PARTITIONS) {
                noPartitionsAssigned = true;
            } else {
                assign(record.partition);
            }
            return;
        }
        output.collect(element);
        if (!element.hasTimestamp()) {
            return;
        }
        PartitionClock clock = assign(record.partition);
        clock.maxTimestamp = Math.max(clock.maxTimestamp, element.getTimestamp());
        clock.lastActive = now();
        if (clock.idle) {
            clock.idle = false;
            scheduleIdleCheck(clock);
        }
        if (idle) {
            idle = false;
            output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
        }
        if (eager) {
            emitIfAdvanced();
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        upstreamWatermark = Math.max(upstreamWatermark, mark.getTimestamp());
        if (mark.getTimestamp() == Long.MAX_VALUE && idle) {
            idle = false;
            output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
        }
        emitIfAdvanced();
    }

    /** This operator decides its own status from its partitions; upstream statuses carry no event time. */
    @Override
    public void processWatermarkStatus(WatermarkStatus status) {}

    /**
     * The periodic check, and the check at a partition's idle deadline: idle partitions, an idle subtask, and (unless
     * eager) watermark emission.
     */
    @Override
    public void onProcessingTime(long time) throws Exception {
        if (time < nextCheck) {
            return; // an idle-deadline timer that an earlier check already covered; the periodic one is still due
        }
        long now = now();
        // Without partitions, idle only once the source has said none is coming: a subtask that started late would
        // otherwise be idle while the others move event time past the partitions it is about to receive.
        boolean allIdle = !partitions.isEmpty() || noPartitionsAssigned;
        for (PartitionClock clock : partitions.values()) {
            if (!clock.idle && idleTimeoutMs > 0 && now - clock.lastActive >= idleTimeoutMs) {
                clock.idle = true;
            }
            allIdle &= clock.idle;
        }
        if (allIdle && upstreamWatermark != Long.MAX_VALUE) {
            if (!idle) {
                idle = true;
                output.emitWatermarkStatus(WatermarkStatus.IDLE);
            }
        } else {
            emitIfAdvanced();
        }
        schedule();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        Map<Integer, Long> maxima = new HashMap<>(restored);
        for (Map.Entry<Integer, PartitionClock> entry : partitions.entrySet()) {
            if (entry.getValue().maxTimestamp != Long.MIN_VALUE) {
                maxima.merge(entry.getKey(), entry.getValue().maxTimestamp, Math::max);
            }
        }
        maxTimestampsState.clear();
        for (Map.Entry<Integer, Long> entry : maxima.entrySet()) {
            maxTimestampsState.add(Tuple2.of(entry.getKey(), entry.getValue()));
        }
    }

    @Override
    public void finish() throws Exception {
        emitIfAdvanced();
        super.finish();
    }

    // --- watermarks --------------------------------------------------------------------------------------------

    private PartitionClock assign(int partition) {
        PartitionClock clock = partitions.get(partition);
        if (clock == null) {
            clock = new PartitionClock(restored.getOrDefault(partition, Long.MIN_VALUE), now());
            partitions.put(partition, clock);
            registerMetrics(partition, clock);
            scheduleIdleCheck(clock);
            if (idle) {
                // A new partition holds the watermark back again: say so before anyone treats this subtask as idle.
                idle = false;
                output.emitWatermarkStatus(WatermarkStatus.ACTIVE);
            }
        }
        return clock;
    }

    /** The minimum watermark over the partitions that are not idle; MIN_VALUE while one of them has none yet. */
    private long partitionsWatermark() {
        long min = Long.MAX_VALUE;
        boolean any = false;
        for (PartitionClock clock : partitions.values()) {
            if (clock.idle) {
                continue;
            }
            any = true;
            long watermark = clock.maxTimestamp == Long.MIN_VALUE ? Long.MIN_VALUE : clock.maxTimestamp - boundMs - 1;
            min = Math.min(min, watermark);
        }
        return any ? min : Long.MIN_VALUE;
    }

    private void emitIfAdvanced() {
        long watermark = Math.max(upstreamWatermark, partitionsWatermark());
        if (watermark > emitted && !idle) {
            emitted = watermark;
            output.emitWatermark(new Watermark(watermark));
        }
    }

    /**
     * The next check: one interval from now, or earlier when an active partition's idle deadline (its last element plus
     * the idle timeout) comes first, so a partition is idle exactly when its timeout has passed, as in the engine.
     */
    /**
     * {@code <operator>.partition.<n>.watermark} and {@code .idle} per partition of this subtask, for status reports
     * (Flink's own watermark metrics are per subtask).
     */
    private void registerMetrics(int partition, PartitionClock clock) {
        var group = getMetricGroup().addGroup("partition", String.valueOf(partition));
        group.gauge("watermark", () -> clock.maxTimestamp == Long.MIN_VALUE ? Long.MIN_VALUE : clock.maxTimestamp - boundMs - 1);
        group.gauge("idle", () -> clock.idle ? 1 : 0);
    }

    private void schedule() {
        long now = now();
        long next = now + checkInterval;
        if (idleTimeoutMs > 0) {
            for (PartitionClock clock : partitions.values()) {
                if (!clock.idle) {
                    next = Math.min(next, Math.max(now + 1, clock.lastActive + idleTimeoutMs));
                }
            }
        }
        nextCheck = next;
        getProcessingTimeService().registerTimer(next, this);
    }

    /** A partition that just became active may go idle before the next scheduled check: check at its deadline too. */
    private void scheduleIdleCheck(PartitionClock clock) {
        long deadline = clock.lastActive + idleTimeoutMs;
        if (idleTimeoutMs > 0 && deadline < nextCheck) {
            nextCheck = deadline;
            getProcessingTimeService().registerTimer(deadline, this);
        }
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    /** What is known of one partition. */
    private static final class PartitionClock {
        long maxTimestamp;
        long lastActive;
        boolean idle;

        PartitionClock(long maxTimestamp, long lastActive) {
            this.maxTimestamp = maxTimestamp;
            this.lastActive = lastActive;
        }
    }
}
