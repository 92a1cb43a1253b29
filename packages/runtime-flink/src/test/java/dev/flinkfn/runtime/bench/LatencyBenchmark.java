package dev.flinkfn.runtime.bench;

import dev.flinkfn.runtime.artifact.Artifact;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
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

/**
 * Added latency and checkpoint cost of a function in TypeScript (through the sidecar) against the same function in
 * Java, on a MiniCluster, with a rate-limited in-job generator.
 *
 * <ul>
 *   <li>{@code --mode latency}: each record carries its creation time ({@code System.nanoTime()} in field "t"); a sink
 *       in the same JVM records now − t for every result after the warm-up seconds. Prints p50/p95/p99/max in ms.
 *   <li>{@code --mode checkpoints}: checkpoints every {@code --interval-ms}; prints the median and max end-to-end
 *       duration and the median state size of the completed checkpoints, read from the job's checkpoint statistics.
 * </ul>
 *
 * <pre>java … LatencyBenchmark --mode latency|checkpoints --scenario stateless-map|tumbling-count --artifact &lt;file&gt;
 *     --sidecar &lt;js&gt; --rate 50000 --seconds 20 [--warmup 5] [--interval-ms 1000]</pre>
 */
public final class LatencyBenchmark {

    /** Creation times are relative to this, so they stay far below 2^53 where JavaScript numbers are exact. */
    private static final long BASE = System.nanoTime();

    /** Latencies (ns) seen by the sink of the running job; one job at a time, parallelism 1. */
    private static final List<long[]> SAMPLES = new ArrayList<>();
    private static long[] current = new long[0];
    private static int count;

    public static void main(String[] args) throws Exception {
        List<String> a = Arrays.asList(args);
        String mode = value(a, "--mode", "latency");
        String scenario = value(a, "--scenario", "stateless-map");
        Path file = Path.of(value(a, "--artifact", null));
        String sidecar = value(a, "--sidecar", null);
        long rate = Long.parseLong(value(a, "--rate", "50000"));
        int seconds = Integer.parseInt(value(a, "--seconds", "20"));
        int warmup = Integer.parseInt(value(a, "--warmup", "5"));
        long intervalMs = Long.parseLong(value(a, "--interval-ms", "1000"));
        Artifact artifact = Artifact.read(file.toString(), null);

        StringBuilder json = new StringBuilder("{\"mode\":\"" + mode + "\",\"scenario\":\"" + scenario + "\",\"rate\":" + rate
                + ",\"seconds\":" + seconds);
        for (boolean js : new boolean[] {false, true}) {
            String variant = js ? "js" : "java";
            if (mode.equals("latency")) {
                long[] latencies = runLatency(scenario, js, artifact, file, sidecar, rate, seconds, warmup);
                json.append(String.format(Locale.ROOT, ",\"%s\":{\"samples\":%d,\"p50\":%.3f,\"p95\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
                        variant, latencies.length, ms(latencies, 0.50), ms(latencies, 0.95), ms(latencies, 0.99),
                        latencies.length == 0 ? 0 : latencies[latencies.length - 1] / 1e6));
            } else {
                List<AbstractCheckpointStats> checkpoints = runCheckpoints(scenario, js, artifact, file, sidecar, rate, seconds, intervalMs);
                long[] durations = checkpoints.stream().mapToLong(AbstractCheckpointStats::getEndToEndDuration).sorted().toArray();
                long[] sizes = checkpoints.stream().mapToLong(AbstractCheckpointStats::getStateSize).sorted().toArray();
                json.append(String.format(Locale.ROOT,
                        ",\"%s\":{\"completed\":%d,\"durationMedianMs\":%d,\"durationMaxMs\":%d,\"stateSizeMedianBytes\":%d}",
                        variant, durations.length, percentile(durations, 0.5), durations.length == 0 ? 0 : durations[durations.length - 1],
                        percentile(sizes, 0.5)));
            }
        }
        System.out.println(json.append('}'));
    }

    static long[] runLatency(String scenario, boolean js, Artifact artifact, Path file, String sidecar, long rate, int seconds,
            int warmup) throws Exception {
        synchronized (SAMPLES) {
            current = new long[(int) (rate * seconds)];
            count = 0;
        }
        long skip = rate * warmup;
        run(scenario, js, artifact, file, sidecar, rate, seconds, 0, skip);
        synchronized (SAMPLES) {
            long[] result = Arrays.copyOf(current, count);
            Arrays.sort(result);
            return result;
        }
    }

    static List<AbstractCheckpointStats> runCheckpoints(String scenario, boolean js, Artifact artifact, Path file, String sidecar,
            long rate, int seconds, long intervalMs) throws Exception {
        return run(scenario, js, artifact, file, sidecar, rate, seconds, intervalMs, Long.MAX_VALUE);
    }

    /** One job on a fresh MiniCluster; returns its completed checkpoints. */
    private static List<AbstractCheckpointStats> run(String scenario, boolean js, Artifact artifact, Path file, String sidecar,
            long rate, int seconds, long checkpointIntervalMs, long skipRecords) throws Exception {
        MiniClusterConfiguration config = new MiniClusterConfiguration.Builder()
                .setConfiguration(new Configuration())
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(2)
                .build();
        try (MiniCluster cluster = new MiniCluster(config)) {
            cluster.start();
            StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
            env.setParallelism(1);
            if (checkpointIntervalMs > 0) {
                env.enableCheckpointing(checkpointIntervalMs, CheckpointingMode.EXACTLY_ONCE);
            }
            DataGeneratorSource<byte[]> generator = new DataGeneratorSource<>(
                    (GeneratorFunction<Long, byte[]>) LatencyBenchmark::timedOrder, rate * seconds,
                    RateLimiterStrategy.perSecond(rate), PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
            DataStream<byte[]> input = env.fromSource(generator, WatermarkStrategy.noWatermarks(), "generator");
            ThroughputBenchmark.pipeline(input, scenario, js, artifact, file, sidecar).sinkTo(new LatencySink(skipRecords));
            JobID job = cluster.submitJob(env.getStreamGraph()).get().getJobID();
            cluster.requestJobResult(job).get();
            AccessExecutionGraph graph = cluster.getArchivedExecutionGraph(job).get();
            List<AbstractCheckpointStats> completed = new ArrayList<>();
            for (AbstractCheckpointStats stats : graph.getCheckpointStatsSnapshot().getHistory().getCheckpoints()) {
                if (stats.getStatus() == CheckpointStatsStatus.COMPLETED) {
                    completed.add(stats);
                }
            }
            return completed;
        }
    }

    /** {@link ThroughputBenchmark#order} plus the creation time. */
    static byte[] timedOrder(long i) {
        String order = new String(ThroughputBenchmark.order(i), StandardCharsets.UTF_8);
        return (order.substring(0, order.length() - 1) + ",\"t\":" + (System.nanoTime() - BASE) + "}").getBytes(StandardCharsets.UTF_8);
    }

    /** Records now − t of every result after the first {@code skip} (the warm-up). */
    static final class LatencySink implements Sink<byte[]> {
        private static final long serialVersionUID = 1L;
        private final long skip;

        LatencySink(long skip) {
            this.skip = skip;
        }

        @Override
        public SinkWriter<byte[]> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                private long seen;

                @Override
                public void write(byte[] element, Context context) {
                    long now = System.nanoTime() - BASE;
                    if (seen++ < skip) {
                        return;
                    }
                    long created = createdAt(element);
                    if (created < 0) {
                        return;
                    }
                    synchronized (SAMPLES) {
                        if (count < current.length) {
                            current[count++] = now - created;
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

    /** The number after "t": without parsing the whole JSON document. */
    static long createdAt(byte[] json) {
        for (int i = json.length - 5; i >= 0; i--) {
            if (json[i] == '"' && json[i + 1] == 't' && json[i + 2] == '"' && json[i + 3] == ':') {
                long value = 0;
                for (int j = i + 4; j < json.length && json[j] >= '0' && json[j] <= '9'; j++) {
                    value = value * 10 + (json[j] - '0');
                }
                return value;
            }
        }
        return -1;
    }

    private static double ms(long[] sorted, double q) {
        return percentile(sorted, q) / 1e6;
    }

    private static long percentile(long[] sorted, double q) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
    }

    private static String value(List<String> args, String name, String fallback) {
        int i = args.indexOf(name);
        if (i >= 0 && i + 1 < args.size()) {
            return args.get(i + 1);
        }
        if (fallback == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        return fallback;
    }

    private LatencyBenchmark() {}
}
