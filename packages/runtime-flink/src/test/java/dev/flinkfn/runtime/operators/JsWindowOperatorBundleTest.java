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
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * Bundling on the window operator's paths that keep nothing in the sidecar, one test per thing that sends a bundle or
 * a FIRE: event-time sessions (AGGREGATE into keyed state, MERGE when an element bridges two sessions), processing-time
 * windows (whose timers fire one at a time and leave their FIRE to the next bundle-timer flush), and {@code process}
 * functions (events in list state, no request before the window fires). The kept path (COMBINE, TAKE) is
 * {@link JsWindowOperatorHeldTest}'s. "Bundled" is checked on the requests the fake sidecar records; that nothing is
 * lost or counted twice on the results (the fake's accumulators count events).
 */
class JsWindowOperatorBundleTest {

    private static final Duration BUNDLE_TIME = Duration.ofMillis(50);
    private static final long LATENESS = 10;

    private static KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness(
            WindowAssigner<?, TimeWindow> assigner, long lateness, boolean processFunction, int bundleSize,
            FakeSidecarClient sidecar) throws Exception {
        JsWindowOperator operator = new JsWindowOperator(assigner, lateness, processFunction, true, null, () -> sidecar,
                new BundleOptions(bundleSize, BUNDLE_TIME, 2, Duration.ofSeconds(5))) {
            @Override
            protected SidecarClient createClient() {
                return sidecar;
            }
        };
        return new KeyedOneInputStreamOperatorTestHarness<>(operator, r -> r.key, Types.STRING);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> sessions(
            long lateness, int bundleSize, FakeSidecarClient sidecar) throws Exception {
        return harness(EventTimeSessionWindows.withGap(Duration.ofMillis(10)), lateness, false, bundleSize, sidecar);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> processingTime(
            long size, FakeSidecarClient sidecar) throws Exception {
        return harness(TumblingProcessingTimeWindows.of(Duration.ofMillis(size)), 0, false, 1_000, sidecar);
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> processFunction(
            int bundleSize, FakeSidecarClient sidecar) throws Exception {
        return harness(TumblingEventTimeWindows.of(Duration.ofMillis(10)), 0, true, bundleSize, sidecar);
    }

    private static StreamRecord<StageRecord> element(String key, long timestamp) {
        return new StreamRecord<>(StageRecord.element(key, (key + ":" + timestamp).getBytes(StandardCharsets.UTF_8)), timestamp);
    }

    /** Every result, sorted. */
    private static List<String> results(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) {
        return emitted(harness).stream().sorted().toList();
    }

    /** The results of one key in the order they were emitted. */
    private static List<String> resultsOf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness, String key) {
        return emitted(harness).stream().filter(r -> r.startsWith(key + "@")).toList();
    }

    private static List<String> emitted(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) {
        return harness.extractOutputValues().stream().map(r -> new String(r.payload, StandardCharsets.UTF_8)).toList();
    }

    private static List<String> late(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) {
        var late = harness.getSideOutput(Tags.LATE);
        return late == null ? List.of() : late.stream().map(r -> new String(r.getValue(), StandardCharsets.UTF_8)).toList();
    }

    // --- event-time sessions: AGGREGATE into state, MERGE -----------------------------------------------------------

    @Test
    void sessionsAFullBundleIsAggregatedIntoStateInOneRequest() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = sessions(0, 3, sidecar)) {
            harness.open();
            harness.processElement(element("a", 0));
            harness.processElement(element("b", 1));
            assertThat(sidecar.requests).isEmpty();
            harness.processElement(element("a", 3)); // the bundle is full: a's session [0,13) and b's [1,11)
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 3 events");
            harness.processElement(element("a", 5)); // extends a's session to [0,15): no state to merge
            harness.processElement(element("b", 30)); // a new session for b
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 3 events");
            harness.processWatermark(new Watermark(20));
            // The second bundle continues a's accumulator in state: the fire counts all three of a's elements.
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 3 events", "aggregate 2 groups 2 events", "fire 2");
            assertThat(results(harness)).containsExactly("a@0-15=3", "b@1-11=1");
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(sidecar.requests).last().isEqualTo("fire 1");
            assertThat(resultsOf(harness, "b")).containsExactly("b@1-11=1", "b@30-40=1");
            assertThat(sidecar.requests).noneMatch(r -> r.startsWith("merge") || r.startsWith("combine"));
        }
    }

    @Test
    void sessionsTheBundleTimeBoundSendsAPartialBundle() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = sessions(0, 1_000, sidecar)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(element("a", 1));
            harness.processElement(element("b", 2));
            harness.processElement(element("a", 4));
            harness.setProcessingTime(BUNDLE_TIME.toMillis() - 1);
            assertThat(sidecar.requests).isEmpty();
            harness.setProcessingTime(BUNDLE_TIME.toMillis());
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 3 events");
            assertThat(results(harness)).isEmpty(); // time sends the bundle; only the watermark fires
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            // Everything was in state already: the watermark has no bundle to send.
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 3 events", "fire 2");
            assertThat(results(harness)).containsExactly("a@1-14=2", "b@2-12=1");
        }
    }

    @Test
    void aBundleStartedAfterAnEarlierOneWasSentWaitsNoLongerThanTheTimeBound() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = sessions(0, 1_000, sidecar)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(element("a", 1)); // its bundle's timer: at 50
            harness.setProcessingTime(10);
            harness.processWatermark(new Watermark(0)); // sends that bundle; its timer stays
            harness.setProcessingTime(40);
            harness.processElement(element("b", 2)); // a new bundle, due at 90
            harness.setProcessingTime(50);
            assertThat(sidecar.requests).containsExactly("aggregate 1 groups 1 events");
            harness.setProcessingTime(40 + BUNDLE_TIME.toMillis() - 1);
            assertThat(sidecar.requests).hasSize(1);
            harness.setProcessingTime(40 + BUNDLE_TIME.toMillis());
            assertThat(sidecar.requests).containsExactly("aggregate 1 groups 1 events", "aggregate 1 groups 1 events");
        }
    }

    @Test
    void sessionsAWatermarkSendsTheBundleBeforeFiringAndFiresEveryDueSessionInOneRequest() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = sessions(0, 1_000, sidecar)) {
            harness.open();
            harness.processElement(element("a", 0));
            harness.processElement(element("b", 2));
            harness.processElement(element("a", 5));
            harness.processElement(element("c", 40));
            harness.processWatermark(new Watermark(9)); // no session ends by 9, but timers may not run on a bundle
            assertThat(sidecar.requests).containsExactly("aggregate 3 groups 4 events");
            assertThat(results(harness)).isEmpty();
            harness.processElement(element("a", 7)); // a's session [0,17), in the bundle only
            harness.processElement(element("a", 30));
            harness.processWatermark(new Watermark(17));
            assertThat(sidecar.requests).containsExactly(
                    "aggregate 3 groups 4 events", "aggregate 2 groups 2 events", "fire 2");
            assertThat(results(harness)).containsExactly("a@0-17=3", "b@2-12=1");
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(sidecar.requests).last().isEqualTo("fire 2");
            assertThat(resultsOf(harness, "a")).containsExactly("a@0-17=3", "a@30-40=1");
            assertThat(resultsOf(harness, "c")).containsExactly("c@40-50=1");
        }
    }

    @Test
    void sessionsACheckpointBarrierSendsTheBundleSoARestoredOperatorWithANewSidecarLosesNothing() throws Exception {
        List<String> uninterrupted;
        try (var harness = sessions(0, 1_000, new FakeSidecarClient())) {
            harness.open();
            feedSessionsFirstHalf(harness);
            feedSessionsSecondHalf(harness);
            uninterrupted = results(harness);
        }

        FakeSidecarClient before = new FakeSidecarClient();
        OperatorSubtaskState snapshot;
        try (var harness = sessions(0, 1_000, before)) {
            harness.open();
            feedSessionsFirstHalf(harness);
            assertThat(before.requests).containsExactly("aggregate 2 groups 2 events");
            harness.prepareSnapshotPreBarrier(1);
            // The bundle lives in memory only: the barrier sends it (and nothing else) into state before the snapshot.
            assertThat(before.requests).containsExactly("aggregate 2 groups 2 events", "aggregate 3 groups 3 events");
            snapshot = harness.snapshot(1, 1);
            assertThat(results(harness)).isEmpty();
        }
        FakeSidecarClient after = new FakeSidecarClient();
        List<String> afterRestore;
        try (var harness = sessions(0, 1_000, after)) {
            harness.setup();
            harness.initializeState(snapshot);
            harness.open();
            feedSessionsSecondHalf(harness);
            afterRestore = results(harness);
        }
        // Every element counted once: b@5, b@9 and b@12 in one session although b@9 waited in a bundle at the barrier.
        assertThat(uninterrupted).containsExactly("a@0-18=2", "a@40-55=2", "b@5-22=3", "c@31-41=1");
        assertThat(afterRestore).isEqualTo(uninterrupted);
    }

    private static void feedSessionsFirstHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("a", 0));
        h.processElement(element("b", 5));
        h.processWatermark(new Watermark(3)); // sends a@0 and b@5
        h.processElement(element("a", 8)); // extends a's session; these three wait in the bundle
        h.processElement(element("a", 40));
        h.processElement(element("b", 9));
    }

    private static void feedSessionsSecondHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("b", 12));
        h.processElement(element("a", 45));
        h.processWatermark(new Watermark(30));
        h.processElement(element("c", 31));
        h.processWatermark(new Watermark(Long.MAX_VALUE));
    }

    @Test
    void sessionsFinishingSendsTheBundleSoTheFinalSnapshotHoldsIt() throws Exception {
        FakeSidecarClient before = new FakeSidecarClient();
        OperatorSubtaskState snapshot;
        try (var harness = sessions(0, 1_000, before)) {
            harness.open();
            harness.processElement(element("a", 0));
            harness.processElement(element("b", 1));
            harness.processElement(element("a", 3));
            assertThat(before.requests).isEmpty();
            // End of input: finish(), then the final checkpoint snapshots what finish() left in state.
            harness.getOperator().finish();
            assertThat(before.requests).containsExactly("aggregate 2 groups 3 events");
            snapshot = harness.snapshot(1, 1);
        }
        assertThat(before.requests).containsExactly("aggregate 2 groups 3 events"); // close() sent nothing more
        try (var harness = sessions(0, 1_000, new FakeSidecarClient())) {
            harness.setup();
            harness.initializeState(snapshot);
            harness.open();
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(results(harness)).containsExactly("a@0-13=2", "b@1-11=1");
        }
    }

    @Test
    void sessionsALateElementWithinLatenessFiresAgainAtOnceWithItselfCountedAndOneBeyondGoesToTheLateOutput() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = sessions(LATENESS, 1_000, sidecar)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.processElement(element("a", 3));
            harness.processWatermark(new Watermark(20)); // fires a's [1,13); its state stays until 12 + 10
            assertThat(sidecar.requests).containsExactly("aggregate 1 groups 2 events", "fire 1");
            harness.processElement(element("b", 15)); // not late: waits in the bundle
            harness.processElement(element("a", 2)); // [2,12) falls in a's fired session: a late firing, now
            // The firing settles the whole bundle first (b's element too) and counts the late element.
            assertThat(sidecar.requests).containsExactly(
                    "aggregate 1 groups 2 events", "fire 1", "aggregate 2 groups 2 events", "fire 1");
            assertThat(resultsOf(harness, "a")).containsExactly("a@1-13=2", "a@1-13=3");
            harness.processWatermark(new Watermark(22)); // the cleanup time of a's session
            harness.processElement(element("a", 3)); // [3,13) ends by 12 + 10: too late for any session
            assertThat(sidecar.requests).hasSize(4);
            assertThat(late(harness)).containsExactly("a:3");
            assertThat(resultsOf(harness, "a")).containsExactly("a@1-13=2", "a@1-13=3");
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(results(harness)).containsExactly("a@1-13=2", "a@1-13=3", "b@15-25=1");
        }
    }

    @Test
    void sessionsAnElementBridgingTwoSessionsMergesThemAfterTheirBundledElementsAreSent() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = sessions(0, 3, sidecar)) {
            harness.open();
            harness.processElement(element("a", 0));
            harness.processElement(element("a", 1));
            harness.processElement(element("a", 18)); // a full bundle: sessions [0,11) and [18,28) in state
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 3 events");
            harness.processElement(element("a", 2)); // [0,12), in the bundle only
            harness.processElement(element("a", 17)); // [17,28), in the bundle only
            harness.processElement(element("a", 9)); // bridges them into [0,28)
            // Both sessions' bundled elements reach their accumulators before MERGE reads them.
            assertThat(sidecar.requests).containsExactly(
                    "aggregate 2 groups 3 events", "aggregate 2 groups 2 events", "merge 1");
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(sidecar.requests).containsExactly(
                    "aggregate 2 groups 3 events", "aggregate 2 groups 2 events", "merge 1", "aggregate 1 groups 1 events", "fire 1");
            assertThat(results(harness)).containsExactly("a@0-28=6");
        }
    }

    // --- processing-time windows ------------------------------------------------------------------------------------

    @Test
    void processingTimeAWindowTimerSendsTheBundleBeforeFiringSoTheResultCountsEveryElement() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = processingTime(10, sidecar)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(element("a", 0));
            harness.processElement(element("b", 0));
            harness.processElement(element("a", 0));
            harness.setProcessingTime(3);
            harness.processElement(element("a", 3));
            assertThat(sidecar.requests).isEmpty();
            harness.setProcessingTime(9); // [0,10)'s timers: the bundle first, then the firings
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 4 events");
            assertThat(results(harness)).isEmpty(); // the FIRE waits for the bundle timer
            harness.setProcessingTime(BUNDLE_TIME.toMillis()); // the bundle timer the first element set
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 4 events", "fire 2");
            assertThat(results(harness)).containsExactly("a@0-10=3", "b@0-10=1");
        }
    }

    @Test
    void processingTimeFiringsOfSeveralTimersGoInOneFireWithTheNextBundleTimerFlush() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = processingTime(100, sidecar)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(element("a", 0));
            harness.processElement(element("b", 0));
            harness.setProcessingTime(BUNDLE_TIME.toMillis()); // the time bound: the bundle goes into state
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 2 events");
            // No bundle waits, so no bundle timer is set: the window timers at 99 must set one for their FIRE.
            harness.setProcessingTime(99);
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 2 events");
            assertThat(results(harness)).isEmpty();
            harness.setProcessingTime(99 + BUNDLE_TIME.toMillis() - 1);
            assertThat(sidecar.requests).containsExactly("aggregate 2 groups 2 events");
            harness.setProcessingTime(99 + BUNDLE_TIME.toMillis());
            assertThat(sidecar.requests).last().isEqualTo("fire 2");
            assertThat(results(harness)).containsExactly("a@0-100=1", "b@0-100=1");
        }
    }

    @Test
    void processingTimeABarrierSendsTheBundleAndTheWaitingFiresSoARestoredOperatorFiresNothingTwice() throws Exception {
        FakeSidecarClient before = new FakeSidecarClient();
        OperatorSubtaskState snapshot;
        try (var harness = processingTime(10, before)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(element("a", 0));
            harness.processElement(element("a", 0));
            harness.processElement(element("b", 0));
            harness.setProcessingTime(12); // [0,10) fired at 9: its state is cleared, its FIRE waits in memory
            harness.processElement(element("a", 12)); // [10,20), in the bundle
            assertThat(before.requests).containsExactly("aggregate 2 groups 3 events");
            harness.prepareSnapshotPreBarrier(1);
            assertThat(before.requests).containsExactly(
                    "aggregate 2 groups 3 events", "aggregate 1 groups 1 events", "fire 2");
            assertThat(results(harness)).containsExactly("a@0-10=2", "b@0-10=1");
            snapshot = harness.snapshot(1, 1);
        }
        FakeSidecarClient after = new FakeSidecarClient();
        try (var harness = processingTime(10, after)) {
            harness.setup();
            harness.initializeState(snapshot);
            harness.open();
            harness.setProcessingTime(12);
            harness.setProcessingTime(19); // the restored timer of a's [10,20)
            harness.setProcessingTime(19 + BUNDLE_TIME.toMillis());
            assertThat(after.requests).containsExactly("fire 1");
            assertThat(results(harness)).containsExactly("a@10-20=1");
        }
    }

    @Test
    void processingTimeFinishingSendsTheBundleAndTheWaitingFires() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        var harness = processingTime(10, sidecar);
        harness.open();
        harness.setProcessingTime(0);
        harness.processElement(element("a", 0));
        harness.setProcessingTime(12); // [0,10) fired at 9; its FIRE waits for the bundle timer at 50
        harness.processElement(element("a", 12));
        assertThat(sidecar.requests).containsExactly("aggregate 1 groups 1 events");
        harness.close(); // finish(), then close(); processing time stops first, so no timer runs
        assertThat(sidecar.requests).containsExactly(
                "aggregate 1 groups 1 events", "aggregate 1 groups 1 events", "fire 1");
        assertThat(results(harness)).containsExactly("a@0-10=1");
    }

    // --- process functions: events in list state -------------------------------------------------------------------

    @Test
    void processEventsGoToListStateWithNoRequestUntilTheirWindowFires() throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        try (var harness = processFunction(2, sidecar)) {
            harness.open();
            harness.setProcessingTime(0);
            harness.processElement(element("a", 1));
            harness.processElement(element("b", 2));
            harness.processElement(element("a", 3)); // more than a bundle of aggregate elements
            harness.processElement(element("a", 12));
            harness.setProcessingTime(BUNDLE_TIME.toMillis() * 10);
            harness.processWatermark(new Watermark(5));
            assertThat(sidecar.requests).isEmpty();
            harness.processWatermark(new Watermark(9));
            assertThat(sidecar.requests).containsExactly("fire 2");
            assertThat(sidecar.firedEvents).containsExactlyInAnyOrder("a@0-10 [a:1, a:3]", "b@0-10 [b:2]");
            assertThat(results(harness)).containsExactly("a@0-10=2", "b@0-10=1");
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(sidecar.requests).containsExactly("fire 2", "fire 1");
            assertThat(resultsOf(harness, "a")).containsExactly("a@0-10=2", "a@10-20=1");
        }
    }

    @Test
    void processEventsSurviveABarrierAndARestoreIntoANewSidecar() throws Exception {
        FakeSidecarClient before = new FakeSidecarClient();
        OperatorSubtaskState snapshot;
        try (var harness = processFunction(1_000, before)) {
            harness.open();
            harness.processElement(element("a", 1));
            harness.processElement(element("b", 2));
            harness.processElement(element("a", 11));
            harness.prepareSnapshotPreBarrier(1);
            snapshot = harness.snapshot(1, 1);
            assertThat(before.requests).isEmpty(); // events are state already: nothing to send at a barrier
        }
        FakeSidecarClient after = new FakeSidecarClient();
        try (var harness = processFunction(1_000, after)) {
            harness.setup();
            harness.initializeState(snapshot);
            harness.open();
            harness.processElement(element("a", 3));
            harness.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(after.requests).containsExactly("fire 3");
            // One FIRE for the watermark, in window-end order; a's events restored and new in arrival order.
            assertThat(after.firedEvents).hasSize(3).endsWith("a@10-20 [a:11]")
                    .contains("a@0-10 [a:1, a:3]", "b@0-10 [b:2]");
            assertThat(resultsOf(harness, "a")).containsExactly("a@0-10=2", "a@10-20=1");
            assertThat(resultsOf(harness, "b")).containsExactly("b@0-10=1");
        }
    }
}
