package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The slicing path of {@link JsWindowOperator} (sliding event-time windows of a merging accumulator), one test per
 * trigger. Every scenario also runs through the per-window path, which must give the same results and late output.
 */
class JsWindowOperatorSlicesTest {

    private interface Feed {
        void into(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) throws Exception;
    }

    /** One operator of either path, with its own fake sidecar (whose requests a test may read). */
    private record Run(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness, FakeSidecarClient sidecar) {}

    private static Run run(long size, long slide, long offset, long lateness, boolean sliced) throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        JsWindowOperator operator = new JsWindowOperator(
                SlidingEventTimeWindows.of(Duration.ofMillis(size), Duration.ofMillis(slide), Duration.ofMillis(offset)),
                lateness, false, true, sliced ? new SlidingSlices(size, slide, offset) : null, () -> sidecar,
                new BundleOptions(1_000, Duration.ofSeconds(10), 2, Duration.ofSeconds(5))) {
            @Override
            protected SidecarClient createClient() {
                return sidecar;
            }
        };
        return new Run(new KeyedOneInputStreamOperatorTestHarness<>(operator, r -> r.key, Types.STRING), sidecar);
    }

    private static StreamRecord<StageRecord> element(String key, long timestamp) {
        return new StreamRecord<>(StageRecord.element(key, (key + ":" + timestamp).getBytes(StandardCharsets.UTF_8)), timestamp);
    }

    private static List<String> results(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) {
        return harness.extractOutputValues().stream().map(r -> new String(r.payload, StandardCharsets.UTF_8)).sorted().toList();
    }

    private static List<String> late(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) {
        var late = harness.getSideOutput(Tags.LATE);
        return late == null ? List.of() : late.stream().map(r -> new String(r.getValue(), StandardCharsets.UTF_8)).sorted().toList();
    }

    /** Feeds both paths; returns the slicing path's run (still open) after checking it agrees with the per-window one. */
    private static List<String> bothPaths(long size, long slide, long offset, long lateness, Feed feed, List<String> lateOut) throws Exception {
        List<String> perWindow;
        List<String> perWindowLate;
        Run reference = run(size, slide, offset, lateness, false);
        try (var h = reference.harness()) {
            h.open();
            feed.into(h);
            perWindow = results(h);
            perWindowLate = late(h);
        }
        Run sliced = run(size, slide, offset, lateness, true);
        try (var h = sliced.harness()) {
            h.open();
            feed.into(h);
            assertThat(results(h)).isEqualTo(perWindow);
            assertThat(late(h)).isEqualTo(perWindowLate);
            lateOut.addAll(late(h));
            return results(h);
        }
    }

    @Test
    void aWatermarkFiresEveryWindowItPassesWithItsSlicesMergedAndOneAccumulatorPerSlice() throws Exception {
        Run sliced = run(10, 5, 0, 0, true);
        try (var h = sliced.harness()) {
            h.open();
            for (long ts : new long[] {1, 2, 7}) {
                h.processElement(element("a", ts));
            }
            h.processElement(element("b", 3));
            h.processWatermark(new Watermark(9));
            // Three slices hold data (a [0,5), a [5,10), b [0,5)), kept in the sidecar until the watermark makes their
            // first window due; one window of a covers two of them.
            assertThat(sliced.sidecar().requests).containsExactly("combine 3 groups 4 events", "take 3", "merge 1", "fire 4");
            assertThat(results(h)).containsExactly("a@-5-5=2", "a@0-10=3", "b@-5-5=1", "b@0-10=1");
            h.processWatermark(new Watermark(14));
            assertThat(results(h)).containsExactly("a@-5-5=2", "a@0-10=3", "a@5-15=1", "b@-5-5=1", "b@0-10=1");
        }
        List<String> late = new ArrayList<>();
        assertThat(bothPaths(10, 5, 0, 0, h -> {
            for (long ts : new long[] {1, 2, 7}) {
                h.processElement(element("a", ts));
            }
            h.processElement(element("b", 3));
            h.processWatermark(new Watermark(9));
            h.processWatermark(new Watermark(14));
        }, late)).hasSize(5);
    }

    @Test
    void aSliceIsKeptInTheSidecarUntilItsFirstWindowIsDueThenTakenIntoStateAndALateElementGoesToState() throws Exception {
        Run sliced = run(10, 5, 0, 5, true);
        try (var h = sliced.harness()) {
            h.open();
            h.processElement(element("a", 1)); // slice [0,5): first window [-5,5), due at 4
            h.processElement(element("a", 7)); // slice [5,10): first window [0,10), due at 9
            h.processWatermark(new Watermark(3));
            h.processElement(element("a", 2));
            h.processElement(element("a", 8));
            h.processWatermark(new Watermark(4));
            assertThat(sliced.sidecar().requests).containsExactly(
                    "combine 2 groups 2 events", "combine 2 groups 2 events", "take 1", "fire 1");
            assertThat(results(h)).containsExactly("a@-5-5=2");
            h.processWatermark(new Watermark(9));
            h.processElement(element("a", 3)); // [0,10) fires late from state: slice [0,5) is no longer kept
            assertThat(sliced.sidecar().requests).containsExactly(
                    "combine 2 groups 2 events", "combine 2 groups 2 events", "take 1", "fire 1",
                    "take 1", "merge 1", "fire 1", "aggregate 1 groups 1 events", "merge 1", "fire 1");
            // [-5,5) is past its cleanup (9): only [0,10) fires again.
            assertThat(results(h)).containsExactly("a@-5-5=2", "a@0-10=4", "a@0-10=5");
        }
    }

    @Test
    void anElementRegistersOneTimerForItsSliceNotOnePerWindow() throws Exception {
        Run sliced = run(10, 1, 0, 0, true);
        try (var h = sliced.harness()) {
            h.open();
            h.processElement(element("a", 3));
            h.processElement(element("a", 3));
            assertThat(h.numEventTimeTimers()).isEqualTo(1);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            // Each of the ten windows of the slice fired once, each registering the next while the slice holds data.
            assertThat(results(h)).hasSize(10).allMatch(r -> r.endsWith("=2"));
            assertThat(h.numEventTimeTimers()).isZero();
        }
        // (The per-window path keeps its ten windows in the sidecar without timers, indexed by end; in state, after a
        // barrier, they would have ten.)
    }

    @Test
    void aLateElementWithinLatenessFiresEachOfItsWindowsAgainWithItselfCounted() throws Exception {
        List<String> late = new ArrayList<>();
        List<String> results = bothPaths(10, 5, 0, 5, h -> {
            h.processElement(element("a", 1));
            h.processWatermark(new Watermark(10));
            h.processElement(element("a", 6)); // [0,10) fires late with both slices; [5,15) waits for its end
            h.processElement(element("a", 2)); // [-5,5) is past its cleanup, [0,10) fires late again
            h.processWatermark(new Watermark(14)); // [5,15) fires; cleanup of [0,10) drops slice [0,5)
            h.processElement(element("a", 8)); // [0,10) is past its cleanup, [5,15) fires late
        }, late);
        assertThat(results).containsExactly("a@-5-5=1", "a@0-10=1", "a@0-10=2", "a@0-10=3", "a@5-15=1", "a@5-15=2");
        assertThat(late).isEmpty();
    }

    @Test
    void anElementBeyondTheLatenessOfAllItsWindowsGoesToTheLateOutputOnly() throws Exception {
        List<String> late = new ArrayList<>();
        List<String> results = bothPaths(10, 5, 0, 3, h -> {
            h.processElement(element("a", 1));
            h.processWatermark(new Watermark(20));
            h.processElement(element("a", 3)); // both windows of [0,5) are cleaned up: late
            h.processElement(element("a", 12)); // [5,15) is cleaned up (17), [10,20) not yet (22): a late firing
            h.processElement(element("a", 18)); // fires [10,20) late again; [15,25) is still to fire
            h.processWatermark(new Watermark(Long.MAX_VALUE));
        }, late);
        assertThat(late).containsExactly("a:3");
        assertThat(results).containsExactly("a@-5-5=1", "a@0-10=1", "a@10-20=1", "a@10-20=2", "a@15-25=1");
    }

    @Test
    void theEndOfInputFiresEveryWindowStillHoldingData() throws Exception {
        Run sliced = run(10, 5, 0, 0, true);
        try (var h = sliced.harness()) {
            h.open();
            h.processElement(element("a", 1));
            h.processElement(element("a", 7));
            h.processElement(element("b", 12));
            h.processWatermark(new Watermark(Long.MAX_VALUE)); // what a finished source sends before the end of input
            h.endInput();
            assertThat(results(h)).containsExactly("a@-5-5=1", "a@0-10=2", "a@5-15=1", "b@10-20=1", "b@5-15=1");
            assertThat(sliced.sidecar().requests).containsExactly("combine 3 groups 3 events", "take 3", "merge 1", "fire 5");
        }
    }

    @Test
    void aSnapshotOfSliceStateRestoredIntoANewOperatorGivesTheSameResultsAsAnUninterruptedRun() throws Exception {
        List<String> uninterrupted;
        try (var h = run(10, 5, 0, 4, true).harness()) {
            h.open();
            feedFirstHalf(h);
            feedSecondHalf(h);
            uninterrupted = results(h);
        }
        OperatorSubtaskState snapshot;
        List<String> beforeSnapshot;
        try (var h = run(10, 5, 0, 4, true).harness()) {
            h.open();
            feedFirstHalf(h);
            h.prepareSnapshotPreBarrier(1); // the bundle is settled into slice state before the barrier
            snapshot = h.snapshot(1, 1);
            beforeSnapshot = results(h);
        }
        List<String> afterRestore;
        try (var h = run(10, 5, 0, 4, true).harness()) {
            h.setup();
            h.initializeState(snapshot);
            h.open();
            feedSecondHalf(h);
            afterRestore = results(h);
        }
        assertThat(beforeSnapshot).isNotEmpty();
        assertThat(afterRestore).isNotEmpty();
        assertThat(Stream.concat(beforeSnapshot.stream(), afterRestore.stream()).sorted().toList()).isEqualTo(uninterrupted);
        List<String> late = new ArrayList<>();
        assertThat(bothPaths(10, 5, 0, 4, h -> {
            feedFirstHalf(h);
            feedSecondHalf(h);
        }, late)).isEqualTo(uninterrupted);
    }

    private static void feedFirstHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("a", 1));
        h.processElement(element("b", 6));
        h.processWatermark(new Watermark(9));
        h.processElement(element("a", 8)); // a late firing of [0,10); bundle for [5,15) not flushed at the snapshot
        h.processElement(element("a", 13));
    }

    private static void feedSecondHalf(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) throws Exception {
        h.processElement(element("b", 11));
        h.processWatermark(new Watermark(16));
        h.processElement(element("a", 14)); // late firing of [5,15), within lateness
        h.processElement(element("b", 2)); // beyond lateness
        h.processWatermark(new Watermark(Long.MAX_VALUE));
    }

    @Test
    void randomInputWithLatenessGivesTheResultsOfThePerWindowPath() throws Exception {
        // Slices of gcd(10, 4) = 2 with an offset: windows overlap unevenly and slices are smaller than the slide.
        for (long seed = 1; seed <= 20; seed++) {
            Random random = new Random(seed);
            List<long[]> steps = new ArrayList<>(); // {0, ts, key} an element, {1, watermark} a watermark
            long watermark = -20;
            for (int i = 0; i < 60; i++) {
                if (random.nextInt(4) == 0) {
                    watermark += random.nextInt(8);
                    steps.add(new long[] {1, watermark});
                } else {
                    steps.add(new long[] {0, watermark - 15 + random.nextInt(30), random.nextInt(3)});
                }
            }
            List<String> late = new ArrayList<>();
            bothPaths(10, 4, 1, 7, h -> {
                for (long[] step : steps) {
                    if (step[0] == 1) {
                        h.processWatermark(new Watermark(step[1]));
                    } else {
                        h.processElement(element("k" + step[2], step[1]));
                    }
                }
                h.processWatermark(new Watermark(Long.MAX_VALUE));
            }, late);
        }
    }
}
