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
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.util.CloseableIterator;
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

    /** Keeps every metric of a job after it finished, so a case's handler metrics can be read at its end. */
    static final InMemoryReporter METRICS = InMemoryReporter.createWithRetainedMetrics();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder()
                    .setConfiguration(METRICS.addToConfiguration(new Configuration()))
                    .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static final String SIDECAR = ConformanceCases.REPO.resolve("packages/sidecar/bin/flinkfn-sidecar.js").toString();
    private static List<ConformanceCases.Case> cases;

    @BeforeAll
    static void buildArtifacts() throws Exception {
        cases = ConformanceCases.load();
    }

    @TestFactory
    Stream<DynamicTest> everyEventTimeAndStatelessCaseGivesTheSameOutputsOnFlink() {
        assertThat(cases).hasSizeGreaterThanOrEqualTo(30);
        return cases.stream().filter(c -> !c.processingTime() && !c.needsClock()).filter(ConformanceCases::selected)
                .map(c -> dynamicTest(c.id(), () -> run(c)));
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
        List<String> lines = new ArrayList<>();
        JobClient job;
        try (CloseableIterator<String> collected = tagged.collectAsync()) {
            job = env.executeAsync(testCase.id());
            collected.forEachRemaining(lines::add);
        }
        job.getJobExecutionResult().get();
        for (String line : lines) {
            int tab = line.indexOf('\t');
            String output = line.substring(0, tab);
            actual.computeIfAbsent(output, k -> new ArrayList<>())
                    .add(ConformanceCases.asCaseStatesIt(output, ConformanceCases.JSON.readTree(line.substring(tab + 1))));
        }
        Map<String, List<JsonNode>> expected = testCase.expected(sinkNames);
        for (String output : union(expected, actual)) {
            assertThat(ConformanceCases.multiset(actual.getOrDefault(output, List.of())))
                    .as("%s: %s", testCase.id(), output)
                    .isEqualTo(ConformanceCases.multiset(expected.getOrDefault(output, List.of())));
        }
        JsonNode metrics = testCase.expectedMetrics();
        if (!metrics.isMissingNode()) {
            assertThat(handlerMetrics(job.getJobID()))
                    .as("%s: the handler's metrics, over every operator and subtask", testCase.id())
                    .isEqualTo(ConformanceCases.JSON.readTree(
                            "{\"counters\":" + metrics.path("counters") + ",\"histograms\":" + metrics.path("histograms") + "}"));
        }
    }

    /**
     * The handler's counters (summed) and histograms (count, min, max) as Flink registered them: metrics of the job's
     * operators in their {@code flinkfn} group ({@code <operator>.flinkfn.<name>}).
     */
    private static JsonNode handlerMetrics(JobID job) {
        Map<String, Long> counters = new java.util.TreeMap<>();
        Map<String, long[]> histograms = new java.util.TreeMap<>();
        // by group, not by identifier: the job's operators' names are not unique (two "Map"s), their groups are
        for (Map.Entry<MetricGroup, Map<String, Metric>> group : METRICS.getMetricsByGroup().entrySet()) {
            String[] scope = group.getKey().getScopeComponents();
            if (!job.toString().equals(group.getKey().getAllVariables().get("<job_id>"))
                    || !scope[scope.length - 1].equals("flinkfn")) {
                continue;
            }
            for (Map.Entry<String, Metric> entry : group.getValue().entrySet()) {
                String name = entry.getKey();
                if (entry.getValue() instanceof Counter counter) {
                    counters.merge(name, counter.getCount(), Long::sum);
                } else if (entry.getValue() instanceof Histogram histogram && histogram.getCount() > 0) {
                    long[] stats = {histogram.getCount(), histogram.getStatistics().getMin(), histogram.getStatistics().getMax()};
                    histograms.merge(name, stats, (a, b) -> new long[] {a[0] + b[0], Math.min(a[1], b[1]), Math.max(a[2], b[2])});
                }
            }
        }
        com.fasterxml.jackson.databind.node.ObjectNode json = ConformanceCases.JSON.createObjectNode();
        com.fasterxml.jackson.databind.node.ObjectNode counterNode = json.putObject("counters");
        counters.forEach(counterNode::put);
        com.fasterxml.jackson.databind.node.ObjectNode histogramNode = json.putObject("histograms");
        histograms.forEach((name, h) -> histogramNode.putObject(name).put("count", h[0]).put("min", h[1]).put("max", h[2]));
        try {
            return ConformanceCases.JSON.readTree(json.toString()); // numbers as the expectation's parse gives them
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
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
