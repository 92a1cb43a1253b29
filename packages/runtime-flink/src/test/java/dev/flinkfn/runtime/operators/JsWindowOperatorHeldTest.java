package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Accumulators kept in the sidecar between bundles (COMBINE, TAKE), one test per thing that sends a bundle or takes
 * the accumulators back: the bundle's size, its time bound, a watermark, a checkpoint barrier, end of input, a late
 * element, and too many kept windows. The fake sidecar keeps counts per connection in the operator's numbered slots and fails a COMBINE, FIRE or TAKE of
 * a slot that keeps nothing, as the real one answers ERROR.
 */
class JsWindowOperatorHeldTest {

    private static KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness(
            WindowAssigner<?, TimeWindow> assigner, long lateness, int bundleSize, FakeSidecarClient sidecar) throws Exception {
        JsWindowOperator operator = new JsWindowOperator(assigner, lateness, false, true, null, () -> sidecar,
                new BundleOptions(bundleSize, Duration.ofMillis(50), 2, Duration.ofSeconds(5))) {
            @Override
            protected SidecarClient createClient() {
                return sidecar;
            }
        };
        return new KeyedOneInputStreamOperatorTestHarness<>(operator, r -> r.key, Types.STRING);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> tumbling(
            long lateness, int bundleSize, FakeSidecarClient sidecar) throws Exception {
        return harness(TumblingEventTimeWindows.of(Duration.ofMillis(10)), lateness, bundleSize, sidecar);
    }

    private static StreamRecord<StageRecord> element(String key, long timestamp) {
        return new StreamRecord<>(StageRecord.element(key, (key + ":" + timestamp).getBytes(StandardCharsets.UTF_8)), timestamp);
    }

    private static List<String> results(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) {
        return harness.extractOutputValues().stream().map(r -> new String(r.payload, StandardCharsets.UTF_8)).sorted().toList();
    }

    @Test
    void aFullBundleIsCombinedInTheSidecarAndTheNextContinuesWhatItKeeps() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = tumbling(0, 3, sidecar)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.processElement(element("b", 2));
            harness.processElement(element("a", 3)); // the bundle is full
            assertThat(sidecar.requests).containsExactly("combine 2 groups 3 events");
            assertThat(sidecar.kept.values()).containsExactlyInAnyOrder(2L, 1L);
            harness.processElement(element("a", 4));
            harness.processElement(element("a", 5));
            harness.processElement(element("c", 6));
            // The fake fails a COMBINE that continues a window it does not keep: the second bundle continued a's.
            assertThat(sidecar.requests).containsExactly("combine 2 groups 3 events", "combine 2 groups 3 events");
            assertThat(sidecar.requests).noneMatch(r -> r.startsWith("aggregate"));
            harness.processWatermark(new Watermark(9));
            assertThat(results(harness)).containsExactly("a@0-10=4", "b@0-10=1", "c@0-10=1");
            assertThat(sidecar.kept).isEmpty();
        }
    }

    @Test
    void theBundleTimeBoundSendsAPartialBundle() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = tumbling(0, 1_000, sidecar)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(element("a", 1));
            assertThat(sidecar.requests).isEmpty();
            harness.setProcessingTime(1_000);
            assertThat(sidecar.requests).containsExactly("combine 1 groups 1 events");
            assertThat(sidecar.kept.values()).containsExactly(1L);
        }
    }

    @Test
    void aWatermarkFiresOnlyTheKeptWindowsItMakesDueStraightFromTheSidecar() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = tumbling(0, 1_000, sidecar)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.processElement(element("a", 11));
            harness.processElement(element("b", 25));
            harness.processWatermark(new Watermark(9));
            assertThat(sidecar.requests).containsExactly("combine 3 groups 3 events", "fire 1");
            assertThat(results(harness)).containsExactly("a@0-10=1");
            assertThat(sidecar.kept).hasSize(2);
            harness.processWatermark(new Watermark(19));
            assertThat(results(harness)).containsExactly("a@0-10=1", "a@10-20=1");
            assertThat(sidecar.kept).hasSize(1);
        }
    }

    @Test
    void slidingWindowsKeepOneAccumulatorPerWindowAndFireEachWhenDue() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = harness(SlidingEventTimeWindows.of(Duration.ofMillis(10), Duration.ofMillis(5)), 0, 1_000, sidecar)) {
            harness.open();
            harness.processElement(element("a", 7)); // [0,10) and [5,15)
            harness.processElement(element("a", 12)); // [5,15) and [10,20)
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(results(harness)).containsExactly("a@0-10=1", "a@10-20=1", "a@5-15=2");
            assertThat(sidecar.kept).isEmpty();
        }
    }

    @Test
    void aCheckpointBarrierTakesEverythingBackSoARestoredOperatorWithANewSidecarLosesNothing() throws Exception {
        List<String> uninterrupted;
        try (var harness = tumbling(0, 2, new FakeSidecarClient())) {
            harness.open();
            feedFirstHalf(harness);
            feedSecondHalf(harness);
            uninterrupted = results(harness);
        }

        FakeSidecarClient before = new FakeSidecarClient();
        OperatorSubtaskState snapshot;
        List<String> beforeSnapshot;
        try (var harness = tumbling(0, 2, before)) {
            harness.open();
            feedFirstHalf(harness);
            assertThat(before.kept).isNotEmpty();
            harness.prepareSnapshotPreBarrier(1);
            assertThat(before.kept).as("kept after the barrier").isEmpty();
            snapshot = harness.snapshot(1, 1);
            beforeSnapshot = results(harness);
        }
        // The restored operator talks to a new sidecar connection, which keeps nothing.
        FakeSidecarClient after = new FakeSidecarClient();
        List<String> afterRestore;
        try (var harness = tumbling(0, 2, after)) {
            harness.setup();
            harness.initializeState(snapshot);
            harness.open();
            feedSecondHalf(harness);
            afterRestore = results(harness);
        }
        assertThat(uninterrupted).containsExactly("a@0-10=3", "a@10-20=1", "b@0-10=2", "c@20-30=1");
        assertThat(Stream.concat(beforeSnapshot.stream(), afterRestore.stream()).sorted().toList()).isEqualTo(uninterrupted);
    }

    private static void feedFirstHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("a", 1));
        h.processElement(element("b", 2));
        h.processElement(element("a", 3)); // a bundle of 2 was sent: a and b are kept
        h.processWatermark(new Watermark(0));
    }

    private static void feedSecondHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("a", 4));
        h.processElement(element("b", 5));
        h.processElement(element("a", 12));
        h.processElement(element("c", 21));
        h.processWatermark(new Watermark(Long.MAX_VALUE));
    }

    @Test
    void aWindowPartlyInStateAfterABarrierFiresOnceWithEverything() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = tumbling(0, 1, sidecar)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.prepareSnapshotPreBarrier(1); // into state, with a timer
            harness.processElement(element("a", 2)); // kept again, starting from state
            harness.processWatermark(new Watermark(9)); // fires from the sidecar; the timer finds nothing left
            assertThat(results(harness)).containsExactly("a@0-10=2");
            assertThat(sidecar.requests).containsExactly("combine 1 groups 1 events", "take 1", "combine 1 groups 1 events", "fire 1");
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(results(harness)).containsExactly("a@0-10=2");
        }
    }

    @Test
    void oneWatermarksFiringsOfAKeyLeaveInWindowOrderWhetherKeptOrInState() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = tumbling(0, 1, sidecar)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.prepareSnapshotPreBarrier(1); // [0,10) into state, fired later by its timer
            harness.processElement(element("a", 12)); // [10,20) kept, fired by the watermark from the sidecar
            harness.processWatermark(new Watermark(25));
            List<String> inOrder = harness.extractOutputValues().stream()
                    .map(r -> new String(r.payload, StandardCharsets.UTF_8)).toList();
            assertThat(inOrder).containsExactly("a@0-10=1", "a@10-20=1");
        }
    }

    @Test
    void finishingTakesEverythingBack() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        var harness = tumbling(0, 1, sidecar);
        harness.open();
        harness.processElement(element("a", 1));
        harness.processElement(element("b", 2));
        assertThat(sidecar.kept).hasSize(2);
        harness.close(); // finish(), then close()
        assertThat(sidecar.kept).isEmpty();
        assertThat(sidecar.requests).last().isEqualTo("take 2");
    }

    @Test
    void aLateElementGoesThroughStateAndFiresItsWindowAgainWithEverythingCounted() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = tumbling(5, 1_000, sidecar)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.processElement(element("a", 2));
            harness.processWatermark(new Watermark(10)); // fires [0,10) with 2; cleanup at 14
            // With lateness the due window goes into state with its timers (late firings read it), then fires.
            assertThat(sidecar.requests).containsExactly("combine 1 groups 2 events", "take 1", "fire 1");
            harness.processElement(element("a", 3)); // late, within lateness: fires again at once
            harness.processElement(element("a", 12)); // [10,20) is not due: kept
            harness.processWatermark(new Watermark(14)); // cleanup of [0,10)
            harness.processElement(element("a", 4)); // too late: the late output
            assertThat(results(harness)).containsExactly("a@0-10=2", "a@0-10=3");
            assertThat(sidecar.requests).contains("aggregate 1 groups 1 events");
            assertThat(sidecar.kept.values()).containsExactly(1L);
            assertThat(harness.getSideOutput(Tags.LATE)).hasSize(1);
            harness.processWatermark(new Watermark(19));
            assertThat(results(harness)).containsExactly("a@0-10=2", "a@0-10=3", "a@10-20=1");
        }
    }

    @Test
    void tooManyKeptWindowsAreTakenBackIntoState() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = tumbling(0, 1, sidecar)) {
            harness.open();
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < JsWindowOperator.MAX_HELD; i++) {
                harness.processElement(element("k" + i, 1));
                expected.add("k" + i + "@0-10=1");
            }
            assertThat(sidecar.kept).hasSize(JsWindowOperator.MAX_HELD);
            assertThat(sidecar.requests).noneMatch(r -> r.startsWith("take"));
            harness.processElement(element("last", 1)); // one more than MAX_HELD kept
            expected.add("last@0-10=1");
            assertThat(sidecar.requests).last().isEqualTo("take " + (JsWindowOperator.MAX_HELD + 1));
            assertThat(sidecar.kept).isEmpty();
            harness.processElement(element("k0", 2)); // starts again from what state holds
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            expected.set(0, "k0@0-10=2");
            assertThat(results(harness)).containsExactlyInAnyOrderElementsOf(expected);
        }
    }
}
