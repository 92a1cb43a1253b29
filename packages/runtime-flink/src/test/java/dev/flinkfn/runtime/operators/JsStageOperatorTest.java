package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.groups.OperatorMetricGroup;
import org.apache.flink.runtime.metrics.util.InterceptingOperatorMetricGroup;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class JsStageOperatorTest {

    private final FakeSidecarClient sidecar = new FakeSidecarClient();

    private OneInputStreamOperatorTestHarness<SourceRecord, StageRecord> harness(int maxSize, Duration maxTime, Duration timeout)
            throws Exception {
        return harness(maxSize, maxTime, timeout, false);
    }

    private OneInputStreamOperatorTestHarness<SourceRecord, StageRecord> harness(int maxSize, Duration maxTime, Duration timeout,
            boolean forwardsPartitions) throws Exception {
        BundleOptions bundles = new BundleOptions(maxSize, maxTime, 2, timeout);
        JsStageOperator operator = new JsStageOperator(() -> sidecar, bundles, forwardsPartitions) {
            @Override
            protected dev.flinkfn.runtime.sidecar.SidecarClient createClient() {
                return sidecar;
            }
        };
        OneInputStreamOperatorTestHarness<SourceRecord, StageRecord> harness = new OneInputStreamOperatorTestHarness<>(operator);
        harness.open();
        return harness;
    }

    private OneInputStreamOperatorTestHarness<SourceRecord, StageRecord> asyncHarness(boolean ordered) throws Exception {
        // Bundles of 2, up to 3 in flight, as an async function's answers may take their time.
        JsStageOperator operator = new JsStageOperator(() -> sidecar,
                new BundleOptions(2, Duration.ofSeconds(10), 3, Duration.ofSeconds(60)), false, ordered) {
            @Override
            protected dev.flinkfn.runtime.sidecar.SidecarClient createClient() {
                return sidecar;
            }
        };
        OneInputStreamOperatorTestHarness<SourceRecord, StageRecord> harness = new OneInputStreamOperatorTestHarness<>(operator);
        harness.open();
        return harness;
    }

    /** Releases the held answer of request {@code index} from another thread, after the operator started waiting. */
    private void releaseLater(int... indexes) {
        CompletableFuture.runAsync(() -> {
            for (int index : indexes) {
                sidecar.held.get(index).run();
            }
        }, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS));
    }

    private static List<String> keys(OneInputStreamOperatorTestHarness<SourceRecord, StageRecord> harness) {
        List<String> keys = new ArrayList<>();
        for (Object element : harness.getOutput()) {
            if (element instanceof StreamRecord<?> r) {
                keys.add(((StageRecord) r.getValue()).key);
            } else if (element instanceof Watermark w) {
                keys.add("W" + w.getTimestamp());
            }
        }
        return keys;
    }

    @Test
    void unorderedABundleAnsweredFirstIsEmittedBeforeAnOlderBundleStillInFlight() throws Exception {
        sidecar.holdAnswers = true;
        try (var harness = asyncHarness(false)) {
            harness.processElement(record("a:1"));
            harness.processElement(record("b:2")); // bundle 0 sent, held
            harness.processElement(record("c:3"));
            harness.processElement(record("d:4")); // bundle 1 sent, held
            sidecar.held.get(1).run();
            harness.processElement(record("e:5")); // the next element emits what has come back
            assertThat(keys(harness)).containsExactly("c", "d");
            sidecar.held.get(0).run();
            harness.setProcessingTime(20_000); // the bundle timer sends e's bundle and emits answers
            assertThat(keys(harness)).containsExactly("c", "d", "a", "b");
            sidecar.holdAnswers = false;
            sidecar.held.get(2).run();
            harness.endInput();
            assertThat(keys(harness)).containsExactly("c", "d", "a", "b", "e");
        }
    }

    @Test
    void orderedABundleAnsweredFirstWaitsForTheOlderOne() throws Exception {
        sidecar.holdAnswers = true;
        try (var harness = asyncHarness(true)) {
            harness.processElement(record("a:1"));
            harness.processElement(record("b:2"));
            harness.processElement(record("c:3"));
            harness.processElement(record("d:4"));
            sidecar.held.get(1).run();
            harness.processElement(record("e:5"));
            assertThat(keys(harness)).isEmpty();
            sidecar.held.get(0).run();
            harness.setProcessingTime(20_000);
            assertThat(keys(harness)).containsExactly("a", "b", "c", "d");
            sidecar.held.get(2).run();
            harness.endInput();
            assertThat(keys(harness)).containsExactly("a", "b", "c", "d", "e");
        }
    }

    @Test
    void unorderedResultsNeverCrossAWatermarkTheWatermarkWaitsForEveryBundleBeforeIt() throws Exception {
        sidecar.holdAnswers = true;
        try (var harness = asyncHarness(false)) {
            harness.processElement(record("a:1"));
            harness.processElement(record("b:2"));
            harness.processElement(record("c:3"));
            harness.processElement(record("d:4"));
            releaseLater(1, 0); // answered in reverse order while the watermark waits
            harness.processWatermark(new Watermark(10));
            harness.processElement(record("e:5"));
            harness.processElement(record("f:6")); // a bundle after the watermark: its results come after it
            sidecar.held.get(2).run();
            sidecar.holdAnswers = false;
            harness.processElement(record("g:7"));
            List<String> out = keys(harness);
            assertThat(out).hasSize(7).containsSubsequence("W10", "e", "f");
            assertThat(out.get(4)).isEqualTo("W10");
            assertThat(out.subList(0, 4)).containsExactlyInAnyOrder("a", "b", "c", "d");
        }
    }

    @Test
    void unorderedAtACheckpointEveryBundleInFlightIsEmittedBeforeTheBarrierAndNothingIsInState() throws Exception {
        sidecar.holdAnswers = true;
        try (var harness = asyncHarness(false)) {
            harness.processElement(record("a:1"));
            harness.processElement(record("b:2"));
            harness.processElement(record("c:3"));
            harness.processElement(record("d:4"));
            harness.processElement(record("e:5")); // in the open bundle: sent at the barrier
            releaseLater(1, 0);
            CompletableFuture.runAsync(() -> {
                while (sidecar.held.size() < 3) {
                    Thread.onSpinWait();
                }
                sidecar.held.get(2).run();
            });
            harness.prepareSnapshotPreBarrier(1);
            assertThat(keys(harness)).containsExactlyInAnyOrder("a", "b", "c", "d", "e");
            var snapshot = harness.snapshot(1, 1);
            assertThat(snapshot.getManagedOperatorState()).isEmpty();
        }
    }

    private static StreamRecord<SourceRecord> record(String text) {
        return record(0, text);
    }

    private static StreamRecord<SourceRecord> record(int partition, String text) {
        return new StreamRecord<>(SourceRecord.of(partition, text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void theHandlersMetricsAreRegisteredInTheOperatorsFlinkfnGroupAtTheirFirstUpdate() throws Exception {
        InterceptingOperatorMetricGroup handlerGroup = new InterceptingOperatorMetricGroup();
        InterceptingOperatorMetricGroup operatorGroup = new InterceptingOperatorMetricGroup() {
            @Override
            public MetricGroup addGroup(String name) {
                return name.equals("flinkfn") ? handlerGroup : super.addGroup(name);
            }
        };
        JsStageOperator operator = new JsStageOperator(() -> sidecar,
                new BundleOptions(2, Duration.ofSeconds(10), 2, Duration.ofSeconds(5)), false) {
            @Override
            protected dev.flinkfn.runtime.sidecar.SidecarClient createClient() {
                return sidecar;
            }

            @Override
            public OperatorMetricGroup getMetricGroup() {
                return operatorGroup;
            }
        };
        try (var harness = new OneInputStreamOperatorTestHarness<SourceRecord, StageRecord>(operator)) {
            harness.open();
            harness.processElement(record("a:1"));
            harness.processElement(record("b:2")); // a bundle that records nothing
            assertThat(handlerGroup.get("counted")).isNull();
            harness.processElement(record("counted:3"));
            harness.processElement(record("counted:4"));
            harness.processElement(record("counted:5"));
            harness.endInput();
            assertThat(((Counter) handlerGroup.get("counted")).getCount()).isEqualTo(3);
            assertThat(((Gauge<?>) handlerGroup.get("last-bundle")).getValue()).isEqualTo(1.0);
            Histogram sizes = (Histogram) handlerGroup.get("bundle-size");
            assertThat(sizes.getCount()).isEqualTo(2);
            assertThat(sizes.getStatistics().getMax()).isEqualTo(2);
        }
    }

    @Test
    void elementsCarryThePartitionOfTheirRecordAcrossBundlesInFlight() throws Exception {
        sidecar.answer = task -> CompletableFuture.runAsync(task, CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS));
        try (var harness = harness(2, Duration.ofSeconds(10), Duration.ofSeconds(5), true)) {
            harness.processElement(record(3, "a:1"));
            harness.processElement(record(1, "b:2")); // bundle full: sent
            harness.processElement(record(1, "bad"));
            harness.processElement(record(7, "c:3")); // second bundle in flight
            harness.processElement(record(0, "d:4"));
            harness.endInput();
            assertThat(harness.extractOutputValues()).extracting(r -> r.key + "@" + r.partition)
                    .containsExactly("a@3", "b@1", "c@7", "d@0");
        }
    }

    @Test
    void assignmentsAreForwardedAheadOfBundlesOnlyWhenTheStageFeedsPartitionWatermarks() throws Exception {
        try (var harness = harness(10, Duration.ofSeconds(10), Duration.ofSeconds(5), true)) {
            harness.processElement(record(0, "a:1"));
            harness.processElement(new StreamRecord<>(SourceRecord.assigned(4)));
            harness.endInput();
            assertThat(harness.extractOutputValues()).extracting(r -> r.isAssignment() + "@" + r.partition)
                    .containsExactly("true@4", "false@0");
        }
        try (var harness = harness(10, Duration.ofSeconds(10), Duration.ofSeconds(5), false)) {
            harness.processElement(new StreamRecord<>(SourceRecord.assigned(4)));
            harness.processElement(record(0, "a:1"));
            harness.endInput();
            assertThat(harness.extractOutputValues()).extracting(r -> r.key).containsExactly("a");
        }
    }

    @Test
    void aBundleIsSentWhenItReachesItsMaximumSizeNotPerElement() throws Exception {
        try (var harness = harness(3, Duration.ofSeconds(10), Duration.ofSeconds(5))) {
            for (int i = 0; i < 7; i++) {
                harness.processElement(record("k:" + i));
            }
            assertThat(sidecar.requests).containsExactly("process 3", "process 3");
            harness.endInput();
            assertThat(sidecar.requests).containsExactly("process 3", "process 3", "process 1");
            assertThat(harness.extractOutputValues()).hasSize(7);
        }
    }

    @Test
    void aBundleIsSentWhenItsTimeBoundPasses() throws Exception {
        try (var harness = harness(1_000, Duration.ofMillis(5), Duration.ofSeconds(5))) {
            harness.setProcessingTime(100);
            harness.processElement(record("k:1"));
            harness.setProcessingTime(104);
            assertThat(sidecar.requests).isEmpty();
            harness.setProcessingTime(105);
            assertThat(sidecar.requests).containsExactly("process 1");
            assertThat(harness.extractOutputValues()).extracting(r -> r.key).containsExactly("k");
        }
    }

    @Test
    void aCheckpointBarrierFlushesTheBundleSoNothingIsInFlightInTheSnapshot() throws Exception {
        try (var harness = harness(1_000, Duration.ofSeconds(10), Duration.ofSeconds(5))) {
            harness.processElement(record("a:1"));
            harness.processElement(record("b:2"));
            harness.prepareSnapshotPreBarrier(1);
            assertThat(sidecar.requests).containsExactly("process 2");
            assertThat(harness.extractOutputValues()).extracting(r -> r.key).containsExactly("a", "b");
        }
    }

    @Test
    void theWatermarkWaitsForBundlesInFlightAndIsEmittedAfterTheirElements() throws Exception {
        sidecar.answer = task -> CompletableFuture.runAsync(task, CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS));
        try (var harness = harness(2, Duration.ofSeconds(10), Duration.ofSeconds(5))) {
            harness.processElement(record("a:1"));
            harness.processElement(record("b:2")); // bundle full: sent, answer pending
            harness.processElement(record("c:3")); // in the next bundle
            harness.processWatermark(new Watermark(50));
            List<Object> order = new ArrayList<>();
            for (Object item : harness.getOutput()) {
                order.add(item instanceof Watermark w ? "watermark " + w.getTimestamp() : ((StageRecord) ((StreamRecord<?>) item).getValue()).key);
            }
            assertThat(order).containsExactly("a", "b", "c", "watermark 50");
        }
    }

    @Test
    void elementsCarryTheirEventTimestampAndDeadLettersGoToTheSideOutput() throws Exception {
        try (var harness = harness(10, Duration.ofSeconds(10), Duration.ofSeconds(5))) {
            harness.processElement(record("a:1234"));
            harness.processElement(record("bad record"));
            harness.endInput();
            @SuppressWarnings("unchecked")
            StreamRecord<StageRecord> element = (StreamRecord<StageRecord>) harness.getOutput().peek();
            assertThat(element.getTimestamp()).isEqualTo(1234L);
            assertThat(harness.getSideOutput(Tags.DEAD_LETTERS)).hasSize(1);
        }
    }

    @Test
    void aSidecarThatStopsAnsweringFailsTheTaskInsteadOfHanging() throws Exception {
        sidecar.neverAnswer = true;
        try (var harness = harness(1, Duration.ofSeconds(10), Duration.ofMillis(200))) {
            harness.processElement(record("a:1"));
            assertThatThrownBy(() -> harness.processWatermark(new Watermark(10)))
                    .isInstanceOf(TimeoutException.class)
                    .hasMessageContaining("did not answer");
        }
    }
}
