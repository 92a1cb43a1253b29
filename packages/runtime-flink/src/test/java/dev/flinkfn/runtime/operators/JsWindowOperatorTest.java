package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class JsWindowOperatorTest {

    private final FakeSidecarClient sidecar = new FakeSidecarClient();

    private KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness(
            WindowAssigner<?, TimeWindow> assigner, long lateness) throws Exception {
        JsWindowOperator operator = new JsWindowOperator(assigner, lateness, false, true, null, () -> sidecar,
                new BundleOptions(1_000, Duration.ofSeconds(10), 2, Duration.ofSeconds(5))) {
            @Override
            protected SidecarClient createClient() {
                return sidecar;
            }
        };
        return new KeyedOneInputStreamOperatorTestHarness<>(operator, r -> r.key, Types.STRING);
    }

    private static StreamRecord<StageRecord> element(String key, long timestamp) {
        return new StreamRecord<>(StageRecord.element(key, (key + ":" + timestamp).getBytes(StandardCharsets.UTF_8)), timestamp);
    }

    private static List<String> results(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) {
        return harness.extractOutputValues().stream().map(r -> new String(r.payload, StandardCharsets.UTF_8)).sorted().toList();
    }

    @Test
    void accumulatorsAreUpdatedInOneRequestPerBundleNotPerElement() throws Exception {
        try (var harness = harness(TumblingEventTimeWindows.of(Duration.ofMillis(10)), 0)) {
            harness.open();
            for (long ts : new long[] {1, 2, 3, 4, 12}) {
                harness.processElement(element(ts < 4 ? "a" : "b", ts));
            }
            assertThat(sidecar.requests).isEmpty();
            harness.processWatermark(new Watermark(9));
            // Not due before the watermark: the sidecar keeps the accumulators (COMBINE), and fires them from there.
            assertThat(sidecar.requests).containsExactly("combine 3 groups 5 events", "fire 2");
            assertThat(results(harness)).containsExactly("a@0-10=3", "b@0-10=1");
        }
    }

    @Test
    void aLateElementWithinLatenessFiresItsWindowAgainAtOnceWithItselfCounted() throws Exception {
        try (var harness = harness(TumblingEventTimeWindows.of(Duration.ofMillis(10)), 5)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.processWatermark(new Watermark(10));
            harness.processElement(element("a", 2));
            harness.processElement(element("a", 3));
            harness.processWatermark(new Watermark(14)); // cleanup of [0,10)
            harness.processElement(element("a", 4));
            assertThat(results(harness)).containsExactly("a@0-10=1", "a@0-10=2", "a@0-10=3");
            assertThat(harness.getSideOutput(Tags.LATE)).hasSize(1);
        }
    }

    @Test
    void sessionsBridgedByAnElementMergeTheirAccumulatorsInTheSidecar() throws Exception {
        try (var harness = harness(EventTimeSessionWindows.withGap(Duration.ofMillis(10)), 0)) {
            harness.open();
            harness.processElement(element("a", 0));
            harness.processElement(element("a", 18));
            harness.processElement(element("a", 9)); // bridges [0,10) and [18,28)
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(sidecar.requests).contains("merge 1");
            assertThat(results(harness)).containsExactly("a@0-28=3");
        }
    }

    @Test
    void aMergeThatFlushesAnotherKeysWindowsStillMergesUnderTheBridgingElementsKey() throws Exception {
        try (var harness = harness(EventTimeSessionWindows.withGap(Duration.ofMillis(10)), 0)) {
            harness.open();
            harness.processElement(element("a", 0));
            harness.processElement(element("a", 18));
            harness.processElement(element("b", 100)); // the bundle's last window is b's
            // Bridges a's sessions: the merge flushes the bundle (writing b's state last), then reads a's accumulators
            // and writes a's session set, so the flush must leave a's key current.
            harness.processElement(element("a", 9));
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(sidecar.requests).contains("merge 1");
            assertThat(results(harness)).containsExactly("a@0-28=3", "b@100-110=1");
        }
    }

    @Test
    void aSnapshotRestoredIntoANewOperatorGivesTheSameResultsAsAnUninterruptedRun() throws Exception {
        List<String> uninterrupted;
        try (var harness = harness(EventTimeSessionWindows.withGap(Duration.ofMillis(10)), 0)) {
            harness.open();
            feedFirstHalf(harness);
            feedSecondHalf(harness);
            uninterrupted = results(harness);
        }

        OperatorSubtaskState snapshot;
        List<String> beforeSnapshot;
        try (var harness = harness(EventTimeSessionWindows.withGap(Duration.ofMillis(10)), 0)) {
            harness.open();
            feedFirstHalf(harness);
            // What the task does at a checkpoint: the operator settles its bundle, then state is snapshotted.
            harness.prepareSnapshotPreBarrier(1);
            snapshot = harness.snapshot(1, 1);
            beforeSnapshot = results(harness);
        }
        List<String> afterRestore;
        try (var harness = harness(EventTimeSessionWindows.withGap(Duration.ofMillis(10)), 0)) {
            harness.setup();
            harness.initializeState(snapshot);
            harness.open();
            feedSecondHalf(harness);
            afterRestore = results(harness);
        }
        assertThat(uninterrupted).isNotEmpty();
        assertThat(concatSorted(beforeSnapshot, afterRestore)).isEqualTo(uninterrupted);
    }

    private static void feedFirstHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("a", 0));
        h.processElement(element("b", 5));
        h.processElement(element("a", 8));
        h.processWatermark(new Watermark(3));
        h.processElement(element("a", 40)); // a new session for a; bundle not yet flushed at the snapshot
    }

    private static void feedSecondHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("b", 12));
        h.processElement(element("a", 45));
        h.processWatermark(new Watermark(30));
        h.processElement(element("c", 31));
        h.processWatermark(new Watermark(Long.MAX_VALUE));
    }

    private static List<String> concatSorted(List<String> a, List<String> b) {
        return java.util.stream.Stream.concat(a.stream(), b.stream()).sorted().toList();
    }
}
