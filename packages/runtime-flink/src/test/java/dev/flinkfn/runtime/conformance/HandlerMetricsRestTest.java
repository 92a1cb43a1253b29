package dev.flinkfn.runtime.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.job.FunctionPipeline;
import dev.flinkfn.runtime.operators.BundleOptions;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.client.program.ClusterClient;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.test.junit5.InjectClusterClient;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A running job's handler metrics in Flink's REST API, where `flinkfn status` and the dashboard read them: conformance
 * case 043's handler (a counter, a gauge and a histogram per event) on a slow endless input, at parallelism 2.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HandlerMetricsRestTest {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theHandlersCounterGaugeAndHistogramAreVertexMetricsOfTheStage(@InjectClusterClient ClusterClient<?> cluster)
            throws Exception {
        ConformanceCases.Case testCase = ConformanceCases.load().stream()
                .filter(c -> c.id().equals("043-handler-metrics")).findFirst().orElseThrow();
        Artifact artifact = Artifact.read(testCase.artifact().toString(), null);
        Manifest manifest = artifact.manifest();

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        var records = env.fromSequence(1, Long.MAX_VALUE)
                .map(n -> {
                    Thread.sleep(5); // slow and endless: the job runs while the test reads its metrics
                    return ReplayStep.record(0, ("{\"id\":" + n + ",\"key\":\"k" + (n % 3) + "\",\"ts\":" + n + ",\"w\":" + (n % 5 + 1) + "}")
                            .getBytes(StandardCharsets.UTF_8));
                })
                .returns(TypeInformation.of(ReplayStep.class))
                .transform("replay", TypeInformation.of(dev.flinkfn.runtime.operators.SourceRecord.class), new ReplayOperator());
        FunctionPipeline.Streams streams = FunctionPipeline.build(records, manifest,
                ConformanceOnFlinkTest.sidecar(testCase.artifact(), artifact.id()),
                new BundleOptions(100, Duration.ofMillis(5), 4, Duration.ofSeconds(60)),
                FunctionPipeline.partitionWatermarks(manifest.window(), true));
        streams.results().sinkTo(new DiscardingSink<>());
        streams.deadLetters().sinkTo(new DiscardingSink<>());
        JobClient job = env.executeAsync("handler-metrics-rest");
        try {
            String base = cluster.getWebInterfaceURL() + "/jobs/" + job.getJobID();
            String stage = null;
            long started = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            JsonNode vertices = get(base).get("vertices");
            while (vertices.isEmpty() && System.nanoTime() < started) { // the job is still being scheduled
                Thread.sleep(200);
                vertices = get(base).get("vertices");
            }
            for (JsonNode vertex : vertices) {
                if (vertex.get("name").asText().contains("js: handle")) {
                    stage = vertex.get("id").asText();
                }
            }
            assertThat(stage).as("the vertex of the JS stage in %s", vertices).isNotNull();
            String metrics = base + "/vertices/" + stage + "/subtasks/metrics";

            // Flink's REST API names operator metrics <operator>.<metric> with ':' and ' ' in the operator's name as '_'
            String prefix = "js__handle_" + manifest.name() + ".flinkfn.";
            List<String> wanted = List.of(prefix + "events", prefix + "weight", prefix + "last-weight",
                    prefix + "weight-each_min", prefix + "weight-each_max", prefix + "weight-each_mean");
            JsonNode values = null;
            List<String> seen = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (System.nanoTime() < deadline) {
                List<String> ids = new ArrayList<>();
                get(metrics).forEach(row -> ids.add(row.get("id").asText()));
                seen = ids;
                if (ids.containsAll(wanted)) {
                    values = get(metrics + "?agg=sum,min,max&get="
                            + URLEncoder.encode(String.join(",", wanted), StandardCharsets.UTF_8).replace("+", "%20"));
                    if (sum(values, prefix + "events") >= 20) {
                        break;
                    }
                }
                Thread.sleep(500);
            }
            assertThat(values).as("the handler's metrics in %s, which has %s", metrics, seen).isNotNull();
            double events = sum(values, prefix + "events");
            assertThat(events).isGreaterThanOrEqualTo(20);
            // every weight is 1..5, so the sum of weights lies between the count and five times it
            assertThat(sum(values, prefix + "weight")).isBetween(events, 5 * events);
            assertThat(field(values, prefix + "last-weight", "min")).isBetween(1.0, 5.0);
            assertThat(field(values, prefix + "weight-each_min", "min")).isEqualTo(1.0);
            assertThat(field(values, prefix + "weight-each_max", "max")).isEqualTo(5.0);
            assertThat(field(values, prefix + "weight-each_mean", "min")).isBetween(1.0, 5.0);
        } finally {
            job.cancel().get(60, TimeUnit.SECONDS);
        }
    }

    private JsonNode get(String url) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET %s: %s", url, response.body()).isEqualTo(200);
        return ConformanceCases.JSON.readTree(response.body());
    }

    private static double sum(JsonNode rows, String id) {
        return field(rows, id, "sum");
    }

    private static double field(JsonNode rows, String id, String aggregate) {
        for (JsonNode row : rows) {
            if (row.get("id").asText().equals(id)) {
                return row.get(aggregate).asDouble();
            }
        }
        return Double.NaN;
    }
}
