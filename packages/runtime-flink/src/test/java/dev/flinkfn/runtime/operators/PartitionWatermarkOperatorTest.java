package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** One test per trigger of {@link PartitionWatermarkOperator}: elements, assignments, the periodic check, upstream watermarks, restore. */
class PartitionWatermarkOperatorTest {

    private static final long BOUND = 100;

    private static OneInputStreamOperatorTestHarness<StageRecord, StageRecord> harness(long idleTimeout, boolean eager)
            throws Exception {
        var harness = new OneInputStreamOperatorTestHarness<StageRecord, StageRecord>(
                new PartitionWatermarkOperator(BOUND, idleTimeout, eager));
        harness.getExecutionConfig().setAutoWatermarkInterval(50);
        harness.setup();
        return harness;
    }

    private static void assign(OneInputStreamOperatorTestHarness<StageRecord, StageRecord> harness, int... partitions)
            throws Exception {
        for (int partition : partitions) {
            harness.processElement(new StreamRecord<>(StageRecord.assigned(partition)));
        }
    }

    private static void element(OneInputStreamOperatorTestHarness<StageRecord, StageRecord> harness, int partition, long timestamp)
            throws Exception {
        byte[] event = ("{\"ts\":" + timestamp + "}").getBytes(StandardCharsets.UTF_8);
        harness.processElement(new StreamRecord<>(StageRecord.element(partition, "k", event), timestamp));
    }

    /** Watermarks and statuses emitted so far, in order, e.g. "899", "IDLE"; elements are left out. */
    private static List<String> signals(OneInputStreamOperatorTestHarness<StageRecord, StageRecord> harness) {
        List<String> signals = new ArrayList<>();
        for (Object item : harness.getOutput()) {
            if (item instanceof Watermark mark) {
                signals.add(mark.getTimestamp() == Long.MAX_VALUE ? "MAX" : String.valueOf(mark.getTimestamp()));
            } else if (item instanceof WatermarkStatus status) {
                signals.add(status.isIdle() ? "IDLE" : "ACTIVE");
            }
        }
        return signals;
    }

    @Test
    void theWatermarkIsTheMinimumOverPartitionsOfMaxTimestampMinusBoundMinusOne() throws Exception {
        try (var harness = harness(0, true)) {
            harness.open();
            assign(harness, 0, 1);
            element(harness, 0, 5_000);
            element(harness, 0, 6_000); // partition 1 has delivered nothing: no watermark yet
            assertThat(signals(harness)).isEmpty();
            element(harness, 1, 1_000);
            element(harness, 1, 900); // out of order within its partition: the maximum stays
            element(harness, 1, 7_000);
            assertThat(signals(harness)).containsExactly("899", "5899");
            assertThat(harness.extractOutputValues()).hasSize(5); // every element passes through
        }
    }

    @Test
    void aLaggingPartitionKeepsItsEventsOnTime() throws Exception {
        try (var harness = harness(0, true)) {
            harness.open();
            assign(harness, 0, 1);
            for (long t = 0; t < 10_000; t += 1_000) {
                element(harness, 0, t + 5_000); // partition 0 is read far ahead of partition 1
            }
            for (long t = 0; t < 10_000; t += 1_000) {
                element(harness, 1, t);
            }
            // Never above partition 1's own watermark when its event arrived: none of its events is late.
            assertThat(signals(harness)).containsExactly("-101", "899", "1899", "2899", "3899", "4899", "5899", "6899",
                    "7899", "8899");
        }
    }

    @Test
    void anAssignedPartitionWithoutDataHoldsTheWatermarkUntilItIsIdle() throws Exception {
        try (var harness = harness(1_000, true)) {
            harness.setProcessingTime(0);
            harness.open();
            assign(harness, 0, 1);
            element(harness, 0, 4_000);
            harness.setProcessingTime(999);
            element(harness, 0, 5_000);
            assertThat(signals(harness)).isEmpty();
            harness.setProcessingTime(1_000); // partition 1: nothing for the idle timeout since its assignment
            assertThat(signals(harness)).containsExactly("4899");
        }
    }

    @Test
    void anIdlePartitionRejoinsWhenDataArrivesAndTheWatermarkNeverGoesBack() throws Exception {
        try (var harness = harness(1_000, true)) {
            harness.setProcessingTime(0);
            harness.open();
            assign(harness, 0, 1);
            element(harness, 0, 1_000);
            element(harness, 1, 1_000);
            harness.setProcessingTime(500);
            element(harness, 0, 3_000);
            harness.setProcessingTime(1_200); // partition 1 idle since 1,000
            element(harness, 0, 4_000);
            element(harness, 1, 2_000); // active again, behind: holds the watermark from here on
            element(harness, 0, 9_000);
            element(harness, 1, 5_000);
            assertThat(signals(harness)).containsExactly("899", "2899", "3899", "4899");
        }
    }

    @Test
    void withoutIdleTimeoutASilentPartitionHoldsTheWatermarkForever() throws Exception {
        try (var harness = harness(0, true)) {
            harness.setProcessingTime(0);
            harness.open();
            assign(harness, 0, 1);
            element(harness, 0, 5_000);
            harness.setProcessingTime(3_600_000);
            assertThat(signals(harness)).isEmpty();
        }
    }

    @Test
    void aSubtaskWithoutPartitionsIsIdleOnceTheSourceSaysNoneIsComingUntilOneIsAssigned() throws Exception {
        try (var harness = harness(0, true)) {
            harness.setProcessingTime(0);
            harness.open();
            harness.setProcessingTime(200); // its partitions may still be on their way
            assertThat(signals(harness)).isEmpty();
            harness.processElement(new StreamRecord<>(StageRecord.assigned(SourceRecord.NO_PARTITIONS)));
            harness.setProcessingTime(400);
            assertThat(signals(harness)).containsExactly("IDLE");
            assign(harness, 2);
            element(harness, 2, 1_000);
            assertThat(signals(harness)).containsExactly("IDLE", "ACTIVE", "899");
        }
    }

    @Test
    void aSubtaskWhosePartitionsAreAllIdleIsIdleUntilDataArrives() throws Exception {
        try (var harness = harness(1_000, true)) {
            harness.setProcessingTime(0);
            harness.open();
            assign(harness, 0);
            element(harness, 0, 1_000);
            harness.setProcessingTime(999);
            element(harness, 0, 2_000);
            harness.setProcessingTime(1_998);
            assertThat(signals(harness)).containsExactly("899", "1899");
            harness.setProcessingTime(1_999); // the idle timeout after the last element
            assertThat(signals(harness)).containsExactly("899", "1899", "IDLE");
            element(harness, 0, 2_500);
            assertThat(signals(harness)).containsExactly("899", "1899", "IDLE", "ACTIVE", "2399");
        }
    }

    @Test
    void periodicEmissionWaitsForTheTimer() throws Exception {
        try (var harness = harness(0, false)) {
            harness.setProcessingTime(0);
            harness.open();
            assign(harness, 0);
            element(harness, 0, 1_000);
            element(harness, 0, 2_000);
            assertThat(signals(harness)).isEmpty();
            harness.setProcessingTime(50);
            assertThat(signals(harness)).containsExactly("1899");
        }
    }

    @Test
    void upstreamWatermarksRaiseTheWatermarkAndEndOfInputPassesThrough() throws Exception {
        try (var harness = harness(0, true)) {
            harness.open();
            assign(harness, 0, 1);
            harness.processWatermark(new Watermark(300));
            element(harness, 0, 1_000);
            element(harness, 1, 200);
            harness.processWatermark(new Watermark(250)); // lower than the current one: ignored
            harness.processWatermark(Long.MAX_VALUE);
            assertThat(signals(harness)).containsExactly("300", "MAX");
        }
    }

    @Test
    void maximumTimestampsSurviveARestoreAtAnotherParallelism() throws Exception {
        OperatorSubtaskState snapshot;
        try (var harness = harness(0, true)) {
            harness.open();
            assign(harness, 0, 1, 2);
            element(harness, 0, 5_000);
            element(harness, 1, 7_000);
            element(harness, 2, 9_000);
            snapshot = harness.snapshot(1, 1);
        }
        // From one subtask to two: union state gives every new subtask every partition's maximum.
        for (int subtask = 0; subtask < 2; subtask++) {
            OperatorSubtaskState state = AbstractStreamOperatorTestHarness.repartitionOperatorState(snapshot, 128, 1, 2, subtask);
            try (var harness = new OneInputStreamOperatorTestHarness<StageRecord, StageRecord>(
                    new PartitionWatermarkOperator(BOUND, 0, true), 128, 2, subtask)) {
                harness.initializeState(state);
                harness.open();
                if (subtask == 0) {
                    assign(harness, 0, 2);
                    element(harness, 2, 9_500); // partition 0 is known: the watermark does not wait for it
                    assertThat(signals(harness)).containsExactly("4899");
                } else {
                    assign(harness, 1);
                    element(harness, 1, 6_000); // older than the restored maximum of its partition
                    assertThat(signals(harness)).containsExactly("6899");
                }
            }
        }
    }
}
