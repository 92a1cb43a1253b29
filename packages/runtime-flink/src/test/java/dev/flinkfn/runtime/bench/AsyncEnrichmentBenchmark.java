package dev.flinkfn.runtime.bench;

import static dev.flinkfn.runtime.bench.BenchArgs.max;
import static dev.flinkfn.runtime.bench.BenchArgs.median;
import static dev.flinkfn.runtime.bench.BenchArgs.min;
import static dev.flinkfn.runtime.bench.BenchArgs.value;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.job.FunctionPipeline;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * An enrichment call of 10 ms per event to an HTTP server on loopback (bench/enrich-server, started by bench/run.mjs
 * and given here as {@code --url}; the same server for both variants), 100 calls in flight: the
 * TypeScript function bench/functions/async-enrichment.ts through the sidecar against the same pipeline in Java with
 * {@link AsyncDataStream#orderedWait} and the JDK's HttpClient, in one run, on the same generated input. Prints one
 * JSON line: records/s (median, min, max of the runs), their ratio, and end-to-end latency percentiles (generator to
 * sink) per variant.
 *
 * <pre>java … AsyncEnrichmentBenchmark --artifact &lt;file&gt; --sidecar &lt;js&gt; --url &lt;server&gt; [--records 50000] [--runs 3]</pre>
 */
public final class AsyncEnrichmentBenchmark {

    static final int CAPACITY = 100;
    static final long DELAY_MS = 10;
    /** End-to-end latencies of the current run, in ms (the local environment runs in this JVM). */
    static final ConcurrentLinkedQueue<Long> LATENCIES = new ConcurrentLinkedQueue<>();

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        Path artifactFile = Path.of(value(a, "--artifact", null));
        String sidecar = value(a, "--sidecar", null);
        long records = Long.parseLong(value(a, "--records", "50000"));
        int runs = Integer.parseInt(value(a, "--runs", "3"));
        String url = value(a, "--url", null);
        Artifact artifact = Artifact.read(artifactFile.toString(), null);

        run(false, artifact, artifactFile, sidecar, url, Math.max(5_000, records / 5)); // warm-up
        run(true, artifact, artifactFile, sidecar, url, Math.max(5_000, records / 5));
        List<Double> java = new ArrayList<>();
        List<Double> js = new ArrayList<>();
        List<long[]> javaLatency = new ArrayList<>();
        List<long[]> jsLatency = new ArrayList<>();
        for (int i = 0; i < runs; i++) {
            java.add(run(false, artifact, artifactFile, sidecar, url, records));
            javaLatency.add(percentiles());
            js.add(run(true, artifact, artifactFile, sidecar, url, records));
            jsLatency.add(percentiles());
        }
        System.out.printf(Locale.ROOT,
                "{\"scenario\":\"async-enrichment\",\"records\":%d,\"runs\":%d,\"capacity\":%d,\"delayMs\":%d,"
                        + "\"java\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f,\"latencyMs\":%s},"
                        + "\"js\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f,\"latencyMs\":%s},\"ratio\":%.3f}%n",
                records, runs, CAPACITY, DELAY_MS, median(java), min(java), max(java), latencyJson(javaLatency),
                median(js), min(js), max(js), latencyJson(jsLatency), median(js) / median(java));
    }

    /** One run at parallelism 1; returns records per second over the job's net runtime. */
    static double run(boolean jsFunction, Artifact artifact, Path file, String sidecar, String url, long records) throws Exception {
        LATENCIES.clear();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, new Configuration());
        DataGeneratorSource<byte[]> generator = new DataGeneratorSource<>(
                (GeneratorFunction<Long, byte[]>) i -> ("{\"id\":" + i + ",\"user\":\"u" + (i % 1_000) + "\",\"t0\":"
                        + System.currentTimeMillis() + "}").getBytes(StandardCharsets.UTF_8),
                records, RateLimiterStrategy.noOp(), PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        DataStream<byte[]> input = env.fromSource(generator, WatermarkStrategy.noWatermarks(), "generator");
        DataStream<byte[]> enriched;
        if (jsFunction) {
            String path = file.toString();
            String id = artifact.id();
            List<String> command = new ArrayList<>(List.of("node"));
            command.addAll(List.of(sidecar.trim().split("\\s+")));
            Map<String, String> settings = Map.of("enrichUrl", url);
            SidecarClientFactory factory = () -> Sidecars.open(SidecarConfig.process(command), Path.of(path), id, settings);
            DataStream<SourceRecord> sourceRecords = input.map(value -> SourceRecord.of(0, value))
                    .returns(TypeInformation.of(SourceRecord.class));
            FunctionPipeline.Streams streams = FunctionPipeline.build(sourceRecords, artifact.manifest(), factory, BundleOptions.DEFAULTS, s -> s);
            enriched = streams.results().map(r -> r.payload).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        } else {
            enriched = AsyncDataStream.orderedWait(input, new JavaEnrichment(url), 30, TimeUnit.SECONDS, CAPACITY)
                    .returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        }
        enriched.map(new RecordLatency()).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO).sinkTo(new DiscardingSink<>());
        JobExecutionResult result = env.execute((jsFunction ? "js" : "java") + " async enrichment");
        if (LATENCIES.size() != records) {
            throw new IllegalStateException((jsFunction ? "js" : "java") + ": " + LATENCIES.size() + " results for " + records + " records");
        }
        return records * 1000.0 / result.getNetRuntime();
    }

    /** p50, p90, p99, max of the last run's latencies, in ms. */
    static long[] percentiles() {
        List<Long> sorted = new ArrayList<>(LATENCIES);
        Collections.sort(sorted);
        return new long[] {at(sorted, 0.50), at(sorted, 0.90), at(sorted, 0.99), sorted.get(sorted.size() - 1)};
    }

    private static long at(List<Long> sorted, double q) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(q * sorted.size())));
    }

    /** Medians over the runs of each percentile. */
    static String latencyJson(List<long[]> runs) {
        String[] names = {"p50", "p90", "p99", "max"};
        StringBuilder json = new StringBuilder("{");
        for (int p = 0; p < names.length; p++) {
            List<Double> values = new ArrayList<>();
            for (long[] run : runs) {
                values.add((double) run[p]);
            }
            json.append(p == 0 ? "" : ",").append('"').append(names[p]).append("\":").append(String.format(Locale.ROOT, "%.0f", median(values)));
        }
        return json.append('}').toString();
    }

    /** The enrichment in Java: GET the user, add its name. */
    static final class JavaEnrichment extends RichAsyncFunction<byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private final String url;
        private transient HttpClient client;
        private transient ObjectMapper json;

        JavaEnrichment(String url) {
            this.url = url;
        }

        @Override
        public void open(OpenContext context) {
            client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            json = new ObjectMapper();
        }

        @Override
        public void asyncInvoke(byte[] input, ResultFuture<byte[]> result) throws Exception {
            ObjectNode order = (ObjectNode) json.readTree(input);
            HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/users/" + order.get("user").asText())).build();
            client.sendAsync(request, HttpResponse.BodyHandlers.ofByteArray()).whenComplete((response, error) -> {
                if (error != null) {
                    result.completeExceptionally(error);
                    return;
                }
                try {
                    order.put("name", json.readTree(response.body()).get("name").asText());
                    result.complete(List.of(json.writeValueAsBytes(order)));
                } catch (Exception e) {
                    result.completeExceptionally(e);
                }
            });
        }
    }

    /** Records generator-to-sink latency from each result's {@code t0}, in front of a discarding sink. */
    static final class RecordLatency implements MapFunction<byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private transient ObjectMapper json;

        @Override
        public byte[] map(byte[] value) throws Exception {
            if (json == null) {
                json = new ObjectMapper();
            }
            LATENCIES.add(System.currentTimeMillis() - json.readTree(value).get("t0").asLong());
            return value;
        }
    }
}
