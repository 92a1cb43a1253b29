package dev.flinkfn.runtime.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.JsStageOperator;
import dev.flinkfn.runtime.operators.JsWindowOperator;
import dev.flinkfn.runtime.operators.StageRecord;
import dev.flinkfn.runtime.operators.Tags;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Processing-time conformance cases need a clock the test controls, which a MiniCluster does not offer. Here the
 * job's two operators run in Flink's operator test harnesses, with the real Node sidecar, and the harness clock
 * follows the case's processing-time steps.
 */
class ConformanceInHarnessTest {

    private static List<ConformanceCases.Case> cases;

    @BeforeAll
    static void buildArtifacts() throws Exception {
        cases = ConformanceCases.load();
    }

    @TestFactory
    Stream<DynamicTest> everyProcessingTimeCaseGivesTheSameOutputsInTheOperators() {
        List<ConformanceCases.Case> processingTime = cases.stream().filter(ConformanceCases.Case::processingTime).toList();
        assertThat(processingTime).isNotEmpty();
        return processingTime.stream().map(c -> dynamicTest(c.id(), () -> run(c)));
    }

    private static void run(ConformanceCases.Case testCase) throws Exception {
        Artifact artifact = Artifact.read(testCase.artifact().toString(), null);
        Manifest manifest = artifact.manifest();
        BundleOptions bundles = new BundleOptions(100, Duration.ofMillis(5), 1, Duration.ofSeconds(60));
        var sidecar = ConformanceOnFlinkTest.sidecar(testCase.artifact(), artifact.id());
        Map<String, List<JsonNode>> actual = new HashMap<>();
        try (var stage = new OneInputStreamOperatorTestHarness<byte[], StageRecord>(new JsStageOperator(sidecar, bundles));
                var window = new KeyedOneInputStreamOperatorTestHarness<String, StageRecord, StageRecord>(
                        new JsWindowOperator(
                                dev.flinkfn.runtime.job.FunctionPipeline.assigner(manifest.window()),
                                manifest.window().allowedLatenessMs(), manifest.window().isProcessFunction(),
                                manifest.sideOutputs().late() != null, sidecar, bundles),
                        r -> r.key, Types.STRING)) {
            stage.open();
            window.open();
            for (var step : testCase.json().get("input")) {
                if (step.has("processingTime")) {
                    long time = step.get("processingTime").asLong();
                    stage.setProcessingTime(time);
                    window.setProcessingTime(time);
                    window.prepareSnapshotPreBarrier(0); // sends the FIRE requests of the timers that just ran
                    continue;
                }
                byte[] record = (step.has("event") ? step.get("event").toString() : step.get("raw").asText())
                        .getBytes(StandardCharsets.UTF_8);
                stage.processElement(new StreamRecord<>(record));
                stage.prepareSnapshotPreBarrier(0); // finish the bundle: the element reaches the window now
                for (StageRecord element : stage.extractOutputValues()) {
                    window.processElement(new StreamRecord<>(element));
                }
                stage.getOutput().clear();
            }
            window.prepareSnapshotPreBarrier(0);
            for (StageRecord result : window.extractOutputValues()) {
                add(actual, "sink:" + manifest.sinks().get(result.sinkIndex).name(), result.payload);
            }
            var stageLetters = stage.getSideOutput(Tags.DEAD_LETTERS);
            if (stageLetters != null) {
                stageLetters.forEach(l -> add(actual, "dead-letters", l.getValue()));
            }
            var windowLetters = window.getSideOutput(Tags.DEAD_LETTERS);
            if (windowLetters != null) {
                windowLetters.forEach(l -> add(actual, "dead-letters", l.getValue()));
            }
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

    private static void add(Map<String, List<JsonNode>> outputs, String output, byte[] json) {
        try {
            outputs.computeIfAbsent(output, k -> new ArrayList<>()).add(ConformanceCases.JSON.readTree(json));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
