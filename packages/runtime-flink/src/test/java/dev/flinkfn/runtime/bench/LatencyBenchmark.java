package dev.flinkfn.runtime.bench;

import static dev.flinkfn.runtime.bench.BenchArgs.value;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkfn.runtime.artifact.Artifact;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.CheckpointStatsStatus;
import org.apache.flink.runtime.executiongraph.AccessExecutionGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

/**
 * Added latency and checkpoint cost of a function in TypeScript (through the sidecar) against the same function in
 * Java, on a MiniCluster in this JVM, with a rate-limited in-job generator ({@link RateLimiterStrategy#perSecond}).
 * The input is {@link ThroughputBenchmark}'s 100-byte order, except that event time advances with wall time
 * ({@code ts} grows by 1 ms every {@code rate / 1000} records), so windows cover all 10,000 users as in a live stream.
 *
 * <ul>
 *   <li>{@code --mode latency --scenario stateless-map}: each record carries its creation time ({@code System.nanoTime()}
 *       at generation, field "t"); a sink records now − t for every result after {@code --warmup} seconds.
 *   <li>{@code --mode latency --scenario tumbling-count}: one sample per window after the warm-up: from the emission
 *       of the watermark that closed it ({@link RecordedWatermarks}; both variants use the same watermark generator,
 *       periodic every 200 ms, Flink's default) to the arrival of its last result (10,000 keys) in the sink. It
 *       includes the keyBy exchange (Flink's default 100 ms buffer timeout) for both variants.
 *   <li>{@code --mode checkpoints}: checkpoints every {@code --interval-ms} (hashmap state backend, file checkpoint
 *       storage in a temporary directory); after {@code --seconds} the job is cancelled and the checkpoints
 *       completed after the warm-up are summarised from the job's checkpoint statistics (end-to-end duration, state
 *       size, checkpointed size).
 * </ul>
 *
 * Every variant runs {@code --runs} times (Java, then TypeScript, alternating); each run is a fresh job (and, for
 * TypeScript, a fresh sidecar) and skips its own warm-up. Prints one JSON line starting with {@code {"mode"}.
 *
 * <pre>java … LatencyBenchmark --mode latency|checkpoints --scenario stateless-map|tumbling-count --artifact &lt;file&gt;
 *     --sidecar &lt;js&gt; --rate 50000 --seconds 15 [--warmup 3] [--runs 3] [--interval-ms 1000]</pre>
 */
public final class LatencyBenchmark {

    private static final long START = 1_700_000_000_000L;

    /** Creation times are relative to this, so they stay far below 2^53 where JavaScript numbers are exact. */
    private static final long BASE = System.nanoTime();

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the sink of the running job saw: a key (creation time "t", or window "start") and the arrival time. */
    private static final Object LOCK = new Object();
    private static long[] keys = new long[0];
    private static long[] arrivals = new long[0];
    private static int count;

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        String mode = value(a, "--mode", "latency");
        String scenario = value(a, "--scenario", "stateless-map");
        Path file = Path.of(value(a, "--artifact", null));
        String sidecar = value(a, "--sidecar", null);
        long rate = Long.parseLong(value(a, "--rate", "50000"));
        int seconds = Integer.parseInt(value(a, "--seconds", "15"));
        int warmup = Integer.parseInt(value(a, "--warmup", "3"));
        int runs = Integer.parseInt(value(a, "--runs", "3"));
        long intervalMs = Long.parseLong(value(a, "--interval-ms", "1000"));
        Artifact artifact = Artifact.read(file.toString(), null);
        Job job = new Job(scenario, artifact, file, sidecar, rate, seconds, warmup);

        ObjectNode out = JSON.createObjectNode()
                .put("mode", mode).put("scenario", scenario).put("rate", rate).put("seconds", seconds)
                .put("warmup", warmup).put("runs", runs);
        if (mode.equals("checkpoints")) {
            out.put("intervalMs", intervalMs);
        }
        ObjectNode java = out.putObject("java");
        ObjectNode js = out.putObject("js");
        List<ObjectNode> javaRuns = new ArrayList<>();
        List<ObjectNode> jsRuns = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            for (boolean variantJs : new boolean[] {false, true}) {
                ObjectNode result = mode.equals("latency")
                        ? latencyRun(job, variantJs)
                        : checkpointRun(job, variantJs, intervalMs);
                (variantJs ? jsRuns : javaRuns).add(result);
                System.err.println("[LatencyBenchmark] " + mode + " " + scenario + " " + (variantJs ? "js" : "java")
                        + " run " + (run + 1) + ": " + result);
            }
        }
        String[] fields = mode.equals("latency")
                ? new String[] {"p50", "p95", "p99", "max"}
                : new String[] {"durationMedianMs", "durationMaxMs", "stateSizeMedianBytes", "checkpointedSizeMedianBytes"};
        summarise(java, javaRuns, fields);
        summarise(js, jsRuns, fields);
        System.out.println(JSON.writeValueAsString(out));
    }

    /** The parameters shared by all runs. */
    record Job(String scenario, Artifact artifact, Path file, String sidecar, long rate, int seconds, int warmup) {}

    // --- latency -----------------------------------------------------------------------------------------------

    static ObjectNode latencyRun(Job job, boolean js) throws Exception {
        int capacity = (int) (job.rate * job.seconds + 1000);
        synchronized (LOCK) {
            keys = new long[capacity];
            arrivals = new long[capacity];
            count = 0;
        }
        RecordedWatermarks.reset();
        boolean windowed = job.artifact.manifest().window() != null;
        String keyField = windowed ? "start" : "t";
        runJob(job, js, job.rate * job.seconds, 0, new LatencySink(keyField), windowed, null);

        long[] latencies;
        synchronized (LOCK) {
            latencies = new long[count];
            int n = 0;
            if (!windowed) {
                long skip = job.rate * job.warmup;
                for (int i = (int) Math.min(skip, count); i < count; i++) {
                    latencies[n++] = arrivals[i] - keys[i];
                }
            } else {
                // one sample per window: from the watermark that closed it to the last of its results in the sink
                long size = job.artifact.manifest().window().assigner().sizeMs();
                long firstWindow = START + job.warmup * 1000L;
                Map<Long, Long> lastArrival = new TreeMap<>();
                for (int i = 0; i < count; i++) {
                    if (keys[i] >= firstWindow) {
                        lastArrival.merge(keys[i], arrivals[i], Math::max);
                    }
                }
                for (Map.Entry<Long, Long> window : lastArrival.entrySet()) {
                    long emitted = RecordedWatermarks.emittedAt(window.getKey() + size - 1);
                    if (emitted >= 0) { // else closed by the end-of-input watermark, not by a generated one
                        latencies[n++] = window.getValue() + BASE - emitted;
                    }
                }
            }
            latencies = Arrays.copyOf(latencies, n);
        }
        Arrays.sort(latencies);
        return JSON.createObjectNode()
                .put("samples", latencies.length)
                .put("p50", ms(latencies, 0.50))
                .put("p95", ms(latencies, 0.95))
                .put("p99", ms(latencies, 0.99))
                .put("max", latencies.length == 0 ? 0 : round(latencies[latencies.length - 1] / 1e6));
    }

    // --- checkpoints -------------------------------------------------------------------------------------------

    static ObjectNode checkpointRun(Job job, boolean js, long intervalMs) throws Exception {
        List<AbstractCheckpointStats> all = new ArrayList<>();
        // unbounded in practice: the job is cancelled after --seconds, so no end-of-input checkpoint is counted
        long[] runningAt = new long[1];
        runJob(job, js, Long.MAX_VALUE, intervalMs, new DiscardingSink<>(), false, (cluster, id) -> {
            runningAt[0] = awaitRunning(cluster, id);
            Thread.sleep(job.seconds * 1000L);
            AccessExecutionGraph graph = cluster.getExecutionGraph(id).get();
            all.addAll(graph.getCheckpointStatsSnapshot().getHistory().getCheckpoints());
            cluster.cancelJob(id).get();
        });
        long from = runningAt[0] + job.warmup * 1000L;
        List<AbstractCheckpointStats> completed = new ArrayList<>();
        int failed = 0;
        for (AbstractCheckpointStats stats : all) {
            if (stats.getTriggerTimestamp() < from) {
                continue;
            }
            if (stats.getStatus() == CheckpointStatsStatus.COMPLETED) {
                completed.add(stats);
            } else if (stats.getStatus() == CheckpointStatsStatus.FAILED) {
                failed++;
            }
        }
        long[] durations = completed.stream().mapToLong(AbstractCheckpointStats::getEndToEndDuration).sorted().toArray();
        long[] sizes = completed.stream().mapToLong(AbstractCheckpointStats::getStateSize).sorted().toArray();
        long[] checkpointed = completed.stream().mapToLong(AbstractCheckpointStats::getCheckpointedSize).sorted().toArray();
        return JSON.createObjectNode()
                .put("completed", durations.length)
                .put("failed", failed)
                .put("durationMedianMs", percentile(durations, 0.5))
                .put("durationMinMs", durations.length == 0 ? 0 : durations[0])
                .put("durationMaxMs", durations.length == 0 ? 0 : durations[durations.length - 1])
                .put("stateSizeMedianBytes", percentile(sizes, 0.5))
                .put("stateSizeMaxBytes", sizes.length == 0 ? 0 : sizes[sizes.length - 1])
                .put("checkpointedSizeMedianBytes", percentile(checkpointed, 0.5));
    }

    /** Wall time (ms) at which the job was RUNNING. */
    private static long awaitRunning(MiniCluster cluster, JobID id) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (cluster.getJobStatus(id).get() != JobStatus.RUNNING) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("job " + id + " not running after 120 s");
            }
            Thread.sleep(20);
        }
        return System.currentTimeMillis();
    }

    // --- the job -----------------------------------------------------------------------------------------------

    @FunctionalInterface
    interface WhileRunning {
        void accept(MiniCluster cluster, JobID id) throws Exception;
    }

    /**
     * One job on a fresh MiniCluster (one TaskManager, parallelism 1): generator → the scenario's function → sink.
     * Waits for its end, or hands it to {@code whileRunning} (which cancels it).
     */
    private static void runJob(Job job, boolean js, long records, long checkpointIntervalMs, Sink<byte[]> sink,
            boolean recordWatermarks, WhileRunning whileRunning) throws Exception {
        Configuration config = new Configuration();
        Path checkpoints = null;
        if (checkpointIntervalMs > 0) {
            checkpoints = Files.createTempDirectory("flinkfn-bench-checkpoints-");
            config.set(StateBackendOptions.STATE_BACKEND, "hashmap");
            config.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            config.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
            config.set(WebOptions.CHECKPOINTS_HISTORY_SIZE, 10_000); // default 10: we want all of them
        }
        MiniClusterConfiguration cluster = new MiniClusterConfiguration.Builder()
                .setConfiguration(config)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2)
                .build();
        try (MiniCluster miniCluster = new MiniCluster(cluster)) {
            miniCluster.start();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
            env.setParallelism(1);
            if (checkpointIntervalMs > 0) {
                env.enableCheckpointing(checkpointIntervalMs, CheckpointingMode.EXACTLY_ONCE);
            }
            DataGeneratorSource<byte[]> generator = new DataGeneratorSource<>(new PacedOrders(job.rate), records,
                    RateLimiterStrategy.perSecond(job.rate), PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
            DataStream<byte[]> input = env.fromSource(generator, WatermarkStrategy.noWatermarks(), "generator");
            ThroughputBenchmark.pipeline(input, job.scenario, js, job.artifact, job.file, job.sidecar, recordWatermarks)
                    .sinkTo(sink);
            JobID id = miniCluster.submitJob(env.getStreamGraph()).get().getJobID();
            if (whileRunning != null) {
                whileRunning.accept(miniCluster, id);
            }
            miniCluster.requestJobResult(id).get();
        } finally {
            if (checkpoints != null) {
                deleteRecursively(checkpoints);
            }
        }
    }

    /**
     * {@link ThroughputBenchmark#order}'s 100-byte order with event time advancing with wall time at the given rate,
     * plus its creation time "t" (ns since {@link #BASE}).
     */
    static final class PacedOrders implements GeneratorFunction<Long, byte[]> {
        private static final long serialVersionUID = 1L;
        private final long rate;

        PacedOrders(long rate) {
            this.rate = rate;
        }

        @Override
        public byte[] map(Long index) {
            long i = index;
            return ("{\"id\":" + i + ",\"user\":\"u" + (i % 10_000) + "\",\"page\":\"/products/" + (i % 50)
                    + "\",\"price\":12.5,\"qty\":" + (1 + i % 5) + ",\"ts\":" + (START + i * 1000 / rate)
                    + ",\"t\":" + (System.nanoTime() - BASE) + "}").getBytes(StandardCharsets.UTF_8);
        }
    }

    /** Records, for every result, its {@code keyField} ("t" or "start") and its arrival time (ns since BASE). */
    static final class LatencySink implements Sink<byte[]> {
        private static final long serialVersionUID = 1L;
        private final String keyField;

        LatencySink(String keyField) {
            this.keyField = keyField;
        }

        @Override
        public SinkWriter<byte[]> createWriter(WriterInitContext context) {
            byte[] pattern = ("\"" + keyField + "\":").getBytes(StandardCharsets.UTF_8);
            return new SinkWriter<>() {
                @Override
                public void write(byte[] element, Context context) {
                    long now = System.nanoTime() - BASE;
                    long key = numberAfter(element, pattern);
                    if (key == Long.MIN_VALUE) {
                        return;
                    }
                    synchronized (LOCK) {
                        if (count < keys.length) {
                            keys[count] = key;
                            arrivals[count++] = now;
                        }
                    }
                }

                @Override
                public void flush(boolean endOfInput) {}

                @Override
                public void close() {}
            };
        }
    }

    /** The non-negative integer after the last {@code pattern} ({@code "name":}), without parsing the document. */
    static long numberAfter(byte[] json, byte[] pattern) {
        outer:
        for (int i = json.length - pattern.length; i >= 0; i--) {
            for (int k = 0; k < pattern.length; k++) {
                if (json[i + k] != pattern[k]) {
                    continue outer;
                }
            }
            long value = 0;
            for (int j = i + pattern.length; j < json.length && json[j] >= '0' && json[j] <= '9'; j++) {
                value = value * 10 + (json[j] - '0');
            }
            return value;
        }
        return Long.MIN_VALUE;
    }

    // --- statistics --------------------------------------------------------------------------------------------

    /** Per field: the median over the runs, with min and max; plus every run. */
    private static void summarise(ObjectNode target, List<ObjectNode> runs, String[] fields) {
        ArrayNode all = target.putArray("runs");
        runs.forEach(all::add);
        for (String field : fields) {
            double[] values = runs.stream().mapToDouble(r -> r.get(field).asDouble()).sorted().toArray();
            target.putObject(field)
                    .put("median", values[values.length / 2])
                    .put("min", values[0])
                    .put("max", values[values.length - 1]);
        }
    }

    private static double ms(long[] sorted, double q) {
        return round(percentile(sorted, q) / 1e6);
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    private static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a temporary directory
        }
    }

    private LatencyBenchmark() {}
}
