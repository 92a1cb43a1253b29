package dev.flinkfn.runtime.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.JsStageOperator;
import dev.flinkfn.runtime.operators.JsWindowOperator;
import dev.flinkfn.runtime.operators.PartitionWatermarkOperator;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.operators.StageRecord;
import dev.flinkfn.runtime.operators.Tags;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.AbstractStreamOperatorTestHarness;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Conformance cases that need a clock the test controls, which a MiniCluster does not offer: processing-time windows,
 * and event-time cases whose partitions go idle after processing-time steps. Here the job's operators (stage,
 * watermarks per partition for event time, window) run in Flink's operator test harnesses, chained by hand, with the
 * real Node sidecar, and every harness clock follows the case's processing-time steps.
 */
class ConformanceInHarnessTest {

    private static List<ConformanceCases.Case> cases;

    @BeforeAll
    static void buildArtifacts() throws Exception {
        cases = ConformanceCases.load();
    }

    @TestFactory
    Stream<DynamicTest> everyCaseThatNeedsAClockGivesTheSameOutputsInTheOperators() {
        List<ConformanceCases.Case> clocked = cases.stream().filter(c -> c.processingTime() || c.needsClock()).toList();
        assertThat(clocked).isNotEmpty();
        assertThat(clocked).anyMatch(c -> !c.processingTime());
        return clocked.stream().map(c -> dynamicTest(c.id(), () -> run(c)));
    }

    private static void run(ConformanceCases.Case testCase) throws Exception {
        Artifact artifact = Artifact.read(testCase.artifact().toString(), null);
        Manifest manifest = artifact.manifest();
        Manifest.Window declared = manifest.window();
        boolean eventTime = declared.isEventTime();
        BundleOptions bundles = new BundleOptions(100, Duration.ofMillis(5), 1, Duration.ofSeconds(60));
        var sidecar = ConformanceOnFlinkTest.sidecar(testCase.artifact(), artifact.id());
        Map<String, List<JsonNode>> actual = new HashMap<>();
        long bound = eventTime ? nonNull(declared.time().outOfOrdernessMs()) : 0;
        long idleTimeout = eventTime ? nonNull(declared.time().idleTimeoutMs()) : 0;
        try (var stage = new OneInputStreamOperatorTestHarness<SourceRecord, StageRecord>(
                        new JsStageOperator(sidecar, bundles, eventTime));
                var watermarks = new OneInputStreamOperatorTestHarness<StageRecord, StageRecord>(
                        new PartitionWatermarkOperator(bound, idleTimeout, true));
                var window = new KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord>(
                        new JsWindowOperator(
                                dev.flinkfn.runtime.job.FunctionPipeline.assigner(declared),
                                declared.allowedLatenessMs(), declared.isProcessFunction(),
                                manifest.sideOutputs().late() != null,
                                dev.flinkfn.runtime.job.FunctionPipeline.slices(declared), sidecar, bundles),
                        r -> r.key, Types.STRING)) {
            stage.open();
            watermarks.open();
            window.open();
            for (int partition = 0; partition < testCase.partitions(); partition++) {
                stage.processElement(new StreamRecord<>(SourceRecord.assigned(partition)));
            }
            for (var step : testCase.json().get("input")) {
                if (step.has("processingTime")) {
                    long time = step.get("processingTime").asLong();
                    stage.setProcessingTime(time);
                    watermarks.setProcessingTime(time);
                    window.setProcessingTime(time);
                } else if (step.has("watermark")) {
                    stage.processWatermark(step.get("watermark").asLong());
                } else {
                    stage.processElement(new StreamRecord<>(
                            SourceRecord.of(step.path("partition").asInt(0), ConformanceCases.recordBytes(step))));
                    stage.prepareSnapshotPreBarrier(0); // finish the bundle: the element reaches the next operator now
                }
                if (eventTime) {
                    pump(stage, watermarks);
                    pump(watermarks, window);
                } else {
                    pump(stage, window);
                }
                window.prepareSnapshotPreBarrier(0); // sends the AGGREGATE and FIRE requests of this step
            }
            // End of input, as at the end of a bounded source.
            stage.endInput();
            stage.processWatermark(Long.MAX_VALUE);
            if (eventTime) {
                pump(stage, watermarks);
                pump(watermarks, window);
            } else {
                pump(stage, window);
            }
            window.prepareSnapshotPreBarrier(0);
            for (StageRecord result : window.extractOutputValues()) {
                add(actual, "sink:" + manifest.sinks().get(result.sinkIndex).name(), result.payload);
            }
            collectSideOutput(actual, "dead-letters", stage.getSideOutput(Tags.DEAD_LETTERS));
            collectSideOutput(actual, "dead-letters", window.getSideOutput(Tags.DEAD_LETTERS));
            collectSideOutput(actual, "late", window.getSideOutput(Tags.LATE));
        }
        List<String> sinkNames = manifest.sinks().stream().map(Manifest.Sink::name).toList();
        Map<String, List<JsonNode>> expected = testCase.expected(sinkNames);
        for (String output : expected.keySet()) {
            assertThat(ConformanceCases.multiset(actual.getOrDefault(output, List.of())))
                    .as("%s: %s", testCase.id(), output)
                    .isEqualTo(ConformanceCases.multiset(expected.get(output)));
        }
        assertThat(expected.keySet()).containsAll(actual.keySet());
    }

    /**
     * Moves what one harness emitted (elements, watermarks, watermark statuses, in order) into the next operator, as a
     * chained output would, and empties the first harness's main output. Window results stay where they are.
     */
    private static void pump(AbstractStreamOperatorTestHarness<StageRecord> from,
            OneInputStreamOperatorTestHarness<StageRecord, StageRecord> to) throws Exception {
        for (Object item : from.getOutput()) {
            if (item instanceof StreamRecord<?> record) {
                @SuppressWarnings("unchecked")
                StreamRecord<StageRecord> element = (StreamRecord<StageRecord>) record;
                to.processElement(element);
            } else if (item instanceof Watermark mark) {
                to.processWatermark(mark);
            } else if (item instanceof WatermarkStatus status) {
                to.processWatermarkStatus(status);
            }
        }
        from.getOutput().clear();
    }

    private static void collectSideOutput(Map<String, List<JsonNode>> actual, String output,
            java.util.Collection<StreamRecord<byte[]>> records) {
        if (records != null) {
            records.forEach(r -> add(actual, output, r.getValue()));
        }
    }

    private static long nonNull(Long value) {
        return value == null ? 0 : value;
    }

    private static void add(Map<String, List<JsonNode>> outputs, String output, byte[] json) {
        try {
            outputs.computeIfAbsent(output, k -> new ArrayList<>())
                    .add(ConformanceCases.asCaseStatesIt(output, ConformanceCases.JSON.readTree(json)));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
