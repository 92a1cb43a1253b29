package dev.flinkfn.runtime.bench;

import static dev.flinkfn.runtime.bench.BenchArgs.value;
import static dev.flinkfn.runtime.bench.BenchArgs.median;
import static dev.flinkfn.runtime.bench.BenchArgs.min;
import static dev.flinkfn.runtime.bench.BenchArgs.max;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.job.FunctionPipeline;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.operators.StageRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.util.EnvironmentInformation;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.streaming.api.functions.windowing.ProcessWindowFunction;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;
import org.apache.flink.util.Collector;

/**
 * Throughput of a function written in TypeScript (through the sidecar) against the same function written in Java,
 * in the same JVM, on the same generated input, with an in-job generator and a discarding sink so Kafka does not
 * dominate. Variants: {@code js} (the TypeScript function), {@code java} (DataStream API) and, for the tumbling
 * count and the sliding average, {@code sql} (Flink SQL window TVFs, {@link SqlAnchor}).
 *
 * <p>First a check run of each variant on a tenth of the records (also the JIT warm-up): its results are added up
 * ({@link ResultDigest}) and every variant must agree with the DataStream variant, else the benchmark fails. Then
 * each variant runs {@code --runs} times, in turn; a run's figure is records / the job's net runtime (Flink's
 * {@link JobExecutionResult#getNetRuntime()}: from the job's start to its end, so it includes deploying the tasks and
 * starting the sidecars, not building the job graph). Prints one JSON line per scenario: median, min and max
 * records/s per variant, the JS/Java and JS/SQL ratios, the check runs' digests and Flink's version.
 *
 * <pre>java … ThroughputBenchmark --scenario stateless-map|tumbling-count|… --artifact &lt;file&gt; --sidecar &lt;js&gt;
 *     [--records 1000000] [--runs 3] [--parallelism 1] [--variants js,java,sql]</pre>
 *
 * {@code --variant js|java} runs one variant only (profiling; its ratios are then 0).
 *
 * <p>{@code --write-input <folder> --records N --parallelism P} writes the generator's records instead, one per line,
 * in P files of consecutive ids (as the generator splits them between its P readers): the PyFlink anchor
 * (bench/pyflink/throughput.py) reads them with a file source, so all variants see the same records.
 */
public final class ThroughputBenchmark {

    private static final long START = 1_700_000_000_000L;

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        if (a.contains("--write-input")) {
            writeInput(Path.of(value(a, "--write-input", null)), Long.parseLong(value(a, "--records", null)),
                    Integer.parseInt(value(a, "--parallelism", "1")));
            return;
        }
        String scenario = value(a, "--scenario", "stateless-map");
        Path artifactFile = Path.of(value(a, "--artifact", null));
        String sidecar = value(a, "--sidecar", null);
        long records = Long.parseLong(value(a, "--records", "1000000"));
        int runs = Integer.parseInt(value(a, "--runs", "3"));
        int parallelism = Integer.parseInt(value(a, "--parallelism", "1"));
        List<String> variants = a.contains("--variant") ? List.of(value(a, "--variant", null))
                : List.of(value(a, "--variants", "java,js").split(","));
        for (String variant : variants) {
            if (!List.of("java", "js", "sql").contains(variant) || variant.equals("sql") && !SqlAnchor.supports(scenario)) {
                throw new IllegalArgumentException("no variant " + variant + " of " + scenario);
            }
        }
        Artifact artifact = Artifact.read(artifactFile.toString(), null);

        // check runs, which also warm up the JIT
        long checkRecords = checkRecords(records);
        Map<String, ResultDigest> digests = new LinkedHashMap<>();
        for (String variant : variants) {
            digests.put(variant, ResultDigest.of(execute(scenario, variant, artifact, artifactFile, sidecar, checkRecords, parallelism, true)));
        }
        ResultDigest reference = digests.get("java");
        for (Map.Entry<String, ResultDigest> digest : digests.entrySet()) {
            String disagreement = reference == null ? null : digest.getValue().disagreement(reference);
            if (disagreement != null) {
                throw new IllegalStateException(scenario + ": the " + digest.getKey() + " variant's results differ from the DataStream variant's: " + disagreement);
            }
        }
        Map<String, List<Double>> rates = new LinkedHashMap<>();
        Map<String, List<Double>> cpu = new LinkedHashMap<>();
        for (int i = 0; i < runs; i++) {
            for (String variant : variants) {
                long cpuBefore = ProcessCpu.millis();
                JobExecutionResult result = execute(scenario, variant, artifact, artifactFile, sidecar, records, parallelism, false);
                long cpuAfter = ProcessCpu.millis();
                rates.computeIfAbsent(variant, v -> new ArrayList<>()).add(records * 1000.0 / result.getNetRuntime());
                if (cpuBefore >= 0 && cpuAfter >= 0) {
                    // The JVM (job, MiniCluster, generator, GC, JIT) and the sidecars it started and reaped.
                    cpu.computeIfAbsent(variant, v -> new ArrayList<>()).add((cpuAfter - cpuBefore) * 1000.0 / records);
                }
            }
        }
        StringBuilder json = new StringBuilder(String.format(Locale.ROOT,
                "{\"scenario\":\"%s\",\"parallelism\":%d,\"records\":%d,\"runs\":%d,\"flinkVersion\":\"%s\"",
                scenario, parallelism, records, runs, EnvironmentInformation.getVersion()));
        for (String variant : List.of("java", "js", "sql")) {
            List<Double> r = rates.getOrDefault(variant, variant.equals("sql") ? List.of() : List.of(0.0)); // 0: not run
            if (!r.isEmpty()) {
                List<Double> c = cpu.getOrDefault(variant, List.of());
                json.append(String.format(Locale.ROOT, ",\"%s\":{\"median\":%.0f,\"min\":%.0f,\"max\":%.0f%s}", variant, median(r), min(r), max(r),
                        c.isEmpty() ? "" : String.format(Locale.ROOT, ",\"cpuUsPerRecord\":%.3f", median(c))));
            }
        }
        json.append(String.format(Locale.ROOT, ",\"ratio\":%.3f", ratio(rates, "js", "java")));
        if (rates.containsKey("sql")) {
            json.append(String.format(Locale.ROOT, ",\"ratioSql\":%.3f", ratio(rates, "js", "sql")));
        }
        json.append(",\"check\":{\"records\":").append(checkRecords);
        digests.forEach((variant, digest) -> json.append(",\"").append(variant).append("\":").append(digest.json()));
        if (digests.containsKey("sql")) {
            json.append(",\"sqlPlan\":\"").append(SqlAnchor.explain(scenario).contains("LocalWindowAggregate") ? "local-global" : "one phase").append('"');
        }
        System.out.println(json.append("}}"));
    }

    /** The generator's records, one per line, in {@code files} files of consecutive ids. */
    static void writeInput(Path folder, long records, int files) throws IOException {
        Files.createDirectories(folder);
        for (int f = 0; f < files; f++) {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(folder.resolve("orders-" + f + ".jsonl")), 1 << 16)) {
                for (long i = records * f / files; i < records * (f + 1) / files; i++) {
                    out.write(order(i));
                    out.write('\n');
                }
            }
        }
    }

    /** Records of the check (and warm-up) run: a tenth, at least 10,000. The PyFlink anchor's check uses the same. */
    static long checkRecords(long records) {
        return Math.max(10_000, records / 10);
    }

    private static double ratio(Map<String, List<Double>> rates, String a, String b) {
        return rates.containsKey(a) && rates.containsKey(b) ? median(rates.get(a)) / median(rates.get(b)) : 0;
    }

    /** One run of one variant: generator, the scenario, a discarding sink (after the digest in a check run). */
    static JobExecutionResult execute(String scenario, String variant, Artifact artifact, Path file, String sidecar,
            long records, int parallelism, boolean check) throws Exception {
        Configuration config = new Configuration();
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism, config);
        DataGeneratorSource<byte[]> generator = new DataGeneratorSource<>(
                (GeneratorFunction<Long, byte[]>) ThroughputBenchmark::order, records, RateLimiterStrategy.noOp(),
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        DataStream<byte[]> input = env.fromSource(generator, WatermarkStrategy.noWatermarks(), "generator");
        DataStream<byte[]> results = variant.equals("sql")
                ? SqlAnchor.pipeline(env, input, scenario, Duration.ofMillis(outOfOrderness(artifact)))
                : pipeline(input, scenario, variant.equals("js"), artifact, file, sidecar);
        if (check) {
            results = results.map(new ResultDigest.Collect()).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        }
        results.sinkTo(new DiscardingSink<>());
        return env.execute(variant + " " + scenario + (check ? " (check)" : ""));
    }

    /**
     * The scenario's function on {@code input}: through the sidecar ({@code jsFunction}) or written in Java. Returns
     * the results as bytes; the JS variant's dead letters are discarded.
     */
    static DataStream<byte[]> pipeline(DataStream<byte[]> input, String scenario, boolean jsFunction, Artifact artifact,
            Path file, String sidecar) {
        return pipeline(input, scenario, jsFunction, artifact, file, sidecar, false);
    }

    /**
     * As above; with {@code recordWatermarks} both variants use {@link RecordedWatermarks} (the same bounded
     * out-of-orderness watermarks, with the emission time of each one kept for the latency benchmark).
     */
    static DataStream<byte[]> pipeline(DataStream<byte[]> input, String scenario, boolean jsFunction, Artifact artifact,
            Path file, String sidecar, boolean recordWatermarks) {
        if (jsFunction) {
            String path = file.toString();
            String id = artifact.id();
            List<String> command = List.of(("node " + sidecar).trim().split("\\s+"));
            SidecarClientFactory factory = () -> Sidecars.open(SidecarConfig.process(command), Path.of(path), id);
            Manifest.Window window = artifact.manifest().window();
            UnaryOperator<DataStream<StageRecord>> watermarks = window == null ? s -> s
                    : recordWatermarks
                            ? s -> s.assignTimestampsAndWatermarks(RecordedWatermarks.<StageRecord>strategy(
                                    Duration.ofMillis(outOfOrderness(window)), (r, ts) -> ts))
                            : FunctionPipeline.partitionWatermarks(window, false);
            // the generator is one source partition
            DataStream<SourceRecord> records = input.map(value -> SourceRecord.of(0, value))
                    .returns(TypeInformation.of(SourceRecord.class));
            FunctionPipeline.Streams streams = FunctionPipeline.build(records, artifact.manifest(), factory, bundleOptions(), watermarks);
            streams.deadLetters().sinkTo(new DiscardingSink<>());
            return streams.results().map(r -> r.payload).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        }
        return javaPipeline(input, scenario, Duration.ofMillis(outOfOrderness(artifact)), recordWatermarks);
    }

    /** The scenario's function written in Java (DataStream API), with the TypeScript function's out-of-orderness. */
    static DataStream<byte[]> javaPipeline(DataStream<byte[]> input, String scenario, Duration outOfOrderness,
            boolean recordWatermarks) {
        if (scenario.equals("stateless-map")) {
            return input.map(new JavaTotal()).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        }
        String keyField = scenario.equals("sliding-average") ? "page" : "user";
        WindowAssigner<Object, TimeWindow> windows = switch (scenario) {
            case "tumbling-count" -> TumblingEventTimeWindows.of(Duration.ofSeconds(1));
            case "sliding-average" -> SlidingEventTimeWindows.of(Duration.ofSeconds(10), Duration.ofSeconds(1));
            case "session-windows" -> EventTimeSessionWindows.withGap(Duration.ofSeconds(15));
            default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        };
        WatermarkStrategy<Tuple3<String, Long, Double>> strategy = recordWatermarks
                ? RecordedWatermarks.<Tuple3<String, Long, Double>>strategy(outOfOrderness, (t, ts) -> t.f1)
                : WatermarkStrategy.<Tuple3<String, Long, Double>>forBoundedOutOfOrderness(outOfOrderness)
                        .withTimestampAssigner((t, ts) -> t.f1);
        return input.map(new JavaKey(keyField)).returns(Types.TUPLE(Types.STRING, Types.LONG, Types.DOUBLE))
                .assignTimestampsAndWatermarks(strategy)
                .keyBy(t -> t.f0, Types.STRING)
                .window(windows)
                .aggregate(new SumCount(), new Result())
                .returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    }

    /** The out-of-orderness the TypeScript function declares (0 for every benchmark function), for the others too. */
    static long outOfOrderness(Artifact artifact) {
        return artifact.manifest().window() == null ? 0 : outOfOrderness(artifact.manifest().window());
    }

    static long outOfOrderness(Manifest.Window window) {
        Long ms = window.time().outOfOrdernessMs();
        return ms == null ? 0 : ms;
    }

    /** The runtime's defaults, or -Dflinkfn.bundle.size / -Dflinkfn.bundle.timeMs to compare settings. */
    static BundleOptions bundleOptions() {
        BundleOptions d = BundleOptions.DEFAULTS;
        return new BundleOptions(Integer.getInteger("flinkfn.bundle.size", d.maxSize()),
                Duration.ofMillis(Long.getLong("flinkfn.bundle.timeMs", d.maxTime().toMillis())), d.maxInFlight(), d.requestTimeout());
    }

    /**
     * About 100 bytes of JSON, the same for both variants: 10,000 users (each orders every 10 s of event time), 50
     * pages, one order per millisecond of event time.
     */
    static byte[] order(long i) {
        return ("{\"id\":" + i + ",\"user\":\"u" + (i % 10_000) + "\",\"page\":\"/products/" + (i % 50)
                + "\",\"price\":12.5,\"qty\":" + (1 + i % 5) + ",\"ts\":" + (START + i) + "}")
                .getBytes(StandardCharsets.UTF_8);
    }

    /** The stateless map in Java: parse, compute total, serialize. */
    static final class JavaTotal implements MapFunction<byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private transient ObjectMapper json;

        @Override
        public byte[] map(byte[] value) throws Exception {
            if (json == null) {
                json = new ObjectMapper();
            }
            ObjectNode order = (ObjectNode) json.readTree(value);
            order.put("total", order.get("price").asDouble() * order.get("qty").asDouble());
            return json.writeValueAsBytes(order);
        }
    }

    /** Key, timestamp and order value in Java (parsing the same JSON). */
    static final class JavaKey implements MapFunction<byte[], Tuple3<String, Long, Double>> {
        private static final long serialVersionUID = 1L;
        private final String keyField;
        private transient ObjectMapper json;

        JavaKey(String keyField) {
            this.keyField = keyField;
        }

        @Override
        public Tuple3<String, Long, Double> map(byte[] value) throws Exception {
            if (json == null) {
                json = new ObjectMapper();
            }
            JsonNode order = json.readTree(value);
            return Tuple3.of(order.get(keyField).asText(), order.get("ts").asLong(),
                    order.get("price").asDouble() * order.get("qty").asDouble());
        }
    }

    /** Count and sum: the count scenarios use the count, the average the sum too. */
    static final class SumCount implements AggregateFunction<Tuple3<String, Long, Double>, Tuple2<Long, Double>, Tuple2<Long, Double>> {
        private static final long serialVersionUID = 1L;

        @Override
        public Tuple2<Long, Double> createAccumulator() {
            return Tuple2.of(0L, 0.0);
        }

        @Override
        public Tuple2<Long, Double> add(Tuple3<String, Long, Double> value, Tuple2<Long, Double> acc) {
            return Tuple2.of(acc.f0 + 1, acc.f1 + value.f2);
        }

        @Override
        public Tuple2<Long, Double> getResult(Tuple2<Long, Double> acc) {
            return acc;
        }

        @Override
        public Tuple2<Long, Double> merge(Tuple2<Long, Double> a, Tuple2<Long, Double> b) {
            return Tuple2.of(a.f0 + b.f0, a.f1 + b.f1);
        }
    }

    static final class Result extends ProcessWindowFunction<Tuple2<Long, Double>, byte[], String, TimeWindow> {
        private static final long serialVersionUID = 1L;

        @Override
        public void process(String key, Context context, Iterable<Tuple2<Long, Double>> results, Collector<byte[]> out) {
            Tuple2<Long, Double> r = results.iterator().next();
            out.collect(("{\"key\":\"" + key + "\",\"start\":" + context.window().getStart() + ",\"end\":"
                    + context.window().getEnd() + ",\"count\":" + r.f0 + ",\"average\":" + (r.f1 / r.f0) + "}")
                    .getBytes(StandardCharsets.UTF_8));
        }
    }
}
