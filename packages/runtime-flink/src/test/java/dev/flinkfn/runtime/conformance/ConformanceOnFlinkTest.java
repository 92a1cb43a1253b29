package dev.flinkfn.runtime.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.job.FunctionPipeline;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every conformance case of the embedded engine, unchanged, on a Flink MiniCluster with the real Node sidecar: the
 * runtime job's pipeline (JS stage, keyBy, window operator) fed by a replay of the case's records and explicit
 * watermarks. Outputs must equal the case's expectations as multisets, as the engine's do. Processing-time cases, and
 * event-time cases with processing-time steps (idle partitions), need a controllable clock and run in
 * {@link ConformanceInHarnessTest} instead.
 */
class ConformanceOnFlinkTest {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static final String SIDECAR = ConformanceCases.REPO.resolve("packages/sidecar/bin/flinkfn-sidecar.js").toString();
    private static List<ConformanceCases.Case> cases;

    @BeforeAll
    static void buildArtifacts() throws Exception {
        cases = ConformanceCases.load();
    }

    @TestFactory
    Stream<DynamicTest> everyEventTimeAndStatelessCaseGivesTheSameOutputsOnFlink() {
        assertThat(cases).hasSizeGreaterThanOrEqualTo(30);
        return cases.stream().filter(c -> !c.processingTime() && !c.needsClock()).map(c -> dynamicTest(c.id(), () -> run(c)));
    }

    private static void run(ConformanceCases.Case testCase) throws Exception {
        Artifact artifact = Artifact.read(testCase.artifact().toString(), null);
        Manifest manifest = artifact.manifest();
        List<String> sinkNames = new ArrayList<>(manifest.sinks().stream().map(Manifest.Sink::name).toList());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1);
        DataStream<SourceRecord> records = env.fromData(testCase.steps(), TypeInformation.of(ReplayStep.class))
                .transform("replay", TypeInformation.of(SourceRecord.class), new ReplayOperator());
        // The job's watermark generator, per partition, emitting after every element: the engine's schedule.
        FunctionPipeline.Streams streams = FunctionPipeline.build(
                records,
                manifest,
                sidecar(testCase.artifact(), artifact.id()),
                new BundleOptions(100, Duration.ofMillis(5), 4, Duration.ofSeconds(60)),
                manifest.window() != null ? FunctionPipeline.partitionWatermarks(manifest.window(), true) : s -> s);

        DataStream<String> tagged = streams.results()
                .map(r -> "sink:" + sinkNames.get(r.sinkIndex) + "\t" + new String(r.payload, StandardCharsets.UTF_8))
                .returns(Types.STRING)
                .union(streams.deadLetters().map(v -> "dead-letters\t" + new String(v, StandardCharsets.UTF_8)).returns(Types.STRING));
        if (streams.late() != null) {
            tagged = tagged.union(streams.late().map(v -> "late\t" + new String(v, StandardCharsets.UTF_8)).returns(Types.STRING));
        }

        Map<String, List<JsonNode>> actual = new HashMap<>();
        for (String line : tagged.executeAndCollect(10_000)) {
            int tab = line.indexOf('\t');
            actual.computeIfAbsent(line.substring(0, tab), k -> new ArrayList<>())
                    .add(ConformanceCases.JSON.readTree(line.substring(tab + 1)));
        }
        Map<String, List<JsonNode>> expected = testCase.expected(sinkNames);
        for (String output : union(expected, actual)) {
            assertThat(ConformanceCases.multiset(actual.getOrDefault(output, List.of())))
                    .as("%s: %s", testCase.id(), output)
                    .isEqualTo(ConformanceCases.multiset(expected.getOrDefault(output, List.of())));
        }
    }

    static SidecarClientFactory sidecar(Path artifact, String id) {
        String file = artifact.toString();
        return () -> Sidecars.open(SidecarConfig.process(List.of("node", SIDECAR)), Path.of(file), id);
    }

    private static List<String> union(Map<String, ?> a, Map<String, ?> b) {
        List<String> keys = new ArrayList<>(a.keySet());
        b.keySet().stream().filter(k -> !keys.contains(k)).forEach(keys::add);
        return keys;
    }
}
