package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.hashmap.HashMapStateBackend;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Restoring {@link JsWindowOperator}'s sliding windows of a merging accumulator on both state backends: a snapshot of
 * the per-window path (what an earlier version wrote) restored into the slicing path, a snapshot of slices into slices,
 * and both mixed by a rescale. Each run is cut by a snapshot and must give what one uninterrupted per-window run gives.
 */
class JsWindowOperatorRestoreTest {

    enum Backend { HEAP, ROCKSDB }

    // Slices of gcd(10, 4) = 2 with an offset: windows overlap unevenly and a slice is smaller than the slide.
    private static final long SIZE = 10;
    private static final long SLIDE = 4;
    private static final long OFFSET = 1;
    private static final long LATENESS = 7;
    private static final int MAX_PARALLELISM = 128;

    private interface Step {
        void into(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness) throws Exception;
    }

    private static KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> harness(
            boolean sliced, Backend backend, int parallelism, int subtask, long lateness) throws Exception {
        FakeSidecarClient sidecar = new FakeSidecarClient();
        JsWindowOperator operator = new JsWindowOperator(
                SlidingEventTimeWindows.of(Duration.ofMillis(SIZE), Duration.ofMillis(SLIDE), Duration.ofMillis(OFFSET)),
                lateness, false, true, sliced ? new SlidingSlices(SIZE, SLIDE, OFFSET) : null, () -> sidecar,
                new BundleOptions(1_000, Duration.ofSeconds(10), 2, Duration.ofSeconds(5))) {
            @Override
            protected SidecarClient createClient() {
                return sidecar;
            }
        };
        var harness = new KeyedOneInputStreamOperatorTestHarness<>(
                operator, (StageRecord r) -> r.key, Types.STRING, MAX_PARALLELISM, parallelism, subtask);
        harness.setStateBackend(backend == Backend.ROCKSDB ? new EmbeddedRocksDBStateBackend() : new HashMapStateBackend());
        return harness;
    }

    private static Step element(String key, long timestamp) {
        return h -> h.processElement(new StreamRecord<>(
                StageRecord.element(key, (key + ":" + timestamp).getBytes(StandardCharsets.UTF_8)), timestamp));
    }

    private static Step watermark(long watermark) {
        return h -> h.processWatermark(new Watermark(watermark));
    }

    /** Results and late output of a harness, sorted. */
    private static List<String> emitted(KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord> h) {
        List<String> all = new ArrayList<>();
        h.extractOutputValues().forEach(r -> all.add(new String(r.payload, StandardCharsets.UTF_8)));
        var late = h.getSideOutput(Tags.LATE);
        if (late != null) {
            late.forEach(r -> all.add("late " + new String(r.getValue(), StandardCharsets.UTF_8)));
        }
        return all.stream().sorted().toList();
    }

    private static List<String> uninterrupted(List<Step> steps, long lateness) throws Exception {
        try (var h = harness(false, Backend.HEAP, 1, 0, lateness)) {
            h.open();
            for (Step step : steps) {
                step.into(h);
            }
            return emitted(h);
        }
    }

    /** Runs steps[0, cut) in one operator, snapshots it, restores into another and runs the rest there. */
    private static List<String> cut(
            List<Step> steps, int cut, boolean slicedBefore, boolean slicedAfter, Backend backend, long lateness) throws Exception {
        List<String> all = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = harness(slicedBefore, backend, 1, 0, lateness)) {
            h.open();
            for (Step step : steps.subList(0, cut)) {
                step.into(h);
            }
            h.prepareSnapshotPreBarrier(1);
            snapshot = h.snapshot(1, 1);
            all.addAll(emitted(h));
        }
        try (var h = harness(slicedAfter, backend, 1, 0, lateness)) {
            h.setup();
            h.initializeState(snapshot);
            h.open();
            for (Step step : steps.subList(cut, steps.size())) {
                step.into(h);
            }
            all.addAll(emitted(h));
        }
        return all.stream().sorted().toList();
    }

    /** Windows open at the cut, windows fired before it and refired after it within lateness, late output. */
    private static List<Step> scenario() {
        return List.of(
                element("a", 1), element("a", 3), element("b", 6), element("a", 8),
                watermark(9), // fires the windows ending at 5 and 9
                element("a", 4), // a late firing of [-1,9), within lateness
                element("a", 11), element("b", 12),
                // the cut: [1,11), [5,15), [9,19) are open with events on both sides of it. A restored operator's
                // watermark starts over; the source's next one comes first, as its sources re-emit theirs.
                watermark(9),
                element("a", 7), element("a", 13), element("b", 9), element("b", 14),
                watermark(16), // cleanup of [-1,9) (16): [-1,9) and [3,13) do not fire again below
                element("a", -4), // late for every window of its slice: late output
                element("a", 10), // refires [1,11) and [5,15) late, within lateness
                watermark(Long.MAX_VALUE));
    }

    private static final int SCENARIO_CUT = 8;

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aSnapshotOfThePerWindowPathRestoresIntoSlicesWithEveryWindowsEvents(Backend backend) throws Exception {
        List<String> expected = uninterrupted(scenario(), LATENESS);
        // Events from both sides of the cut in one window, and a late refiring of a window open at the cut.
        assertThat(expected).contains("a@1-11=5", "a@1-11=6", "b@5-15=4", "late a:-4");
        assertThat(cut(scenario(), SCENARIO_CUT, false, true, backend, LATENESS)).isEqualTo(expected);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aSnapshotOfSlicesRestoresIntoSlices(Backend backend) throws Exception {
        assertThat(cut(scenario(), SCENARIO_CUT, true, true, backend, LATENESS)).isEqualTo(uninterrupted(scenario(), LATENESS));
    }

    @Test
    void randomInputCutAnywhereGivesTheResultsOfAnUninterruptedRun() throws Exception {
        // Without lateness a window's cleanup is its end (one timer fires and drops it), and the per-window path fires
        // kept windows straight from the sidecar; with lateness they go through state and fire late.
        for (long lateness : new long[] {0, LATENESS}) {
            for (long seed = 1; seed <= 25; seed++) {
                Random random = new Random(seed);
                List<Raw> input = randomInput(random, 50);
                int cut = 1 + random.nextInt(input.size() - 1);
                List<Step> steps = steps(watermarkAgainAt(input, cut), "k0", "k1");
                List<String> expected = uninterrupted(steps, lateness);
                assertThat(cut(steps, cut, false, true, Backend.HEAP, lateness))
                        .as("lateness %d, seed %d, per window to slices", lateness, seed).isEqualTo(expected);
                assertThat(cut(steps, cut, true, true, Backend.HEAP, lateness))
                        .as("lateness %d, seed %d, slices to slices", lateness, seed).isEqualTo(expected);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aRescaleMergingAPerWindowSubtaskAndASlicingOneIntoOneSubtaskLosesNothing(Backend backend) throws Exception {
        // Two subtasks: the first restored an earlier version's per-window state, the second kept slices. Scaled down
        // to one subtask, it restores both kinds of state, for keys of either.
        String first = keyOfSubtask(0);
        String second = keyOfSubtask(1);
        for (long seed = 1; seed <= 5; seed++) {
            Random random = new Random(seed);
            List<Raw> input = watermarkAgainAt(randomInput(random, 80), 40);
            List<Raw> before = input.subList(0, 40);
            List<Raw> after = input.subList(40, input.size());
            List<Step> all = new ArrayList<>(steps(before, first, second));
            all.addAll(steps(after, first, second));
            List<String> expected = uninterrupted(all, LATENESS);

            List<String> got = new ArrayList<>();
            OperatorSubtaskState[] snapshots = new OperatorSubtaskState[2];
            for (int subtask = 0; subtask < 2; subtask++) {
                try (var h = harness(subtask == 1, backend, 2, subtask, LATENESS)) {
                    h.open();
                    for (Step step : steps(before, subtask == 0 ? first : null, subtask == 1 ? second : null)) {
                        step.into(h);
                    }
                    h.prepareSnapshotPreBarrier(1);
                    snapshots[subtask] = h.snapshot(1, 1);
                    got.addAll(emitted(h));
                }
            }
            try (var h = harness(true, backend, 1, 0, LATENESS)) {
                h.setup();
                h.initializeState(AbstractStreamOperatorTestHarness.repackageState(snapshots));
                h.open();
                for (Step step : steps(after, first, second)) {
                    step.into(h);
                }
                got.addAll(emitted(h));
            }
            assertThat(got.stream().sorted().toList()).as("seed %d", seed).isEqualTo(expected);
        }
    }

    // --- random input ----------------------------------------------------------------------------------------------

    /** A step of random input before its key is named: a watermark, or an element of key 0 or 1. */
    private record Raw(boolean isWatermark, long time, int key) {}

    private static List<Raw> randomInput(Random random, int count) {
        List<Raw> raw = new ArrayList<>();
        long watermark = random.nextInt(10) - 20;
        for (int i = 0; i < count; i++) {
            if (random.nextInt(4) == 0) {
                watermark += random.nextInt(8);
                raw.add(new Raw(true, watermark, 0));
            } else {
                raw.add(new Raw(false, watermark - 15 + random.nextInt(30), random.nextInt(2)));
            }
        }
        return raw;
    }

    /**
     * The input with the last watermark before {@code cut} repeated at {@code cut}: a restored operator's watermark
     * starts over, and the source's next one comes before its next element (a no-op for an uninterrupted run).
     */
    private static List<Raw> watermarkAgainAt(List<Raw> raw, int cut) {
        List<Raw> with = new ArrayList<>(raw);
        for (int i = cut - 1; i >= 0; i--) {
            if (raw.get(i).isWatermark()) {
                with.add(cut, raw.get(i));
                break;
            }
        }
        return with;
    }

    /** The steps of random input with keys 0 and 1 named; a null name leaves that key's elements out. */
    private static List<Step> steps(List<Raw> raw, String key0, String key1) {
        List<Step> steps = new ArrayList<>();
        for (Raw r : raw) {
            String key = r.key() == 0 ? key0 : key1;
            if (r.isWatermark()) {
                steps.add(watermark(r.time()));
            } else if (key != null) {
                steps.add(element(key, r.time()));
            }
        }
        return steps;
    }

    /** A key that Flink assigns to this subtask of two. */
    private static String keyOfSubtask(int subtask) {
        for (int i = 0; ; i++) {
            String key = "key" + i;
            if (KeyGroupRangeAssignment.assignKeyToParallelOperator(key, MAX_PARALLELISM, 2) == subtask) {
                return key;
            }
        }
    }
}
