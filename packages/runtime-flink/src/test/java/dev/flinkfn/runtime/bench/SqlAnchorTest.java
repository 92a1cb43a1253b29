package dev.flinkfn.runtime.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.datagen.source.GeneratorFunction;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's Flink SQL anchor computes what the Java DataStream variant computes: the same results, to the
 * letter, on the generator's records (12,000: twelve 1-second windows of event time, 1,000 users each; every page's
 * sliding windows). And {@link ResultDigest} tells results apart that differ in one window.
 */
class SqlAnchorTest {

    private static final long RECORDS = 12_000;

    @Test
    void tumblingCountInSqlGivesTheDataStreamResults() throws Exception {
        List<String> java = results("tumbling-count", false);
        assertThat(java).hasSize((int) RECORDS); // every user orders once a second: one result per order
        assertThat(results("tumbling-count", true)).isEqualTo(java);
    }

    @Test
    void slidingAverageInSqlGivesTheDataStreamResults() throws Exception {
        List<String> java = results("sliding-average", false);
        // 50 pages; windows of 10 s every second over 12 s of event time: 21 windows each (9 starting before the first order)
        assertThat(java).hasSize(50 * 21);
        assertThat(results("sliding-average", true)).isEqualTo(java);
    }

    @Test
    void theDigestTellsResultsApartThatDifferInOneWindow() {
        ResultDigest a = new ResultDigest(3, 10, 3000, 3, 37.5, 0);
        assertThat(a.disagreement(new ResultDigest(3, 10, 3000, 3, 37.5, 0))).isNull();
        assertThat(a.disagreement(new ResultDigest(3, 10, 4000, 3, 37.5, 0))).contains("window starts");
        assertThat(a.disagreement(new ResultDigest(3, 10, 3000, 4, 37.5, 0))).contains("counts");
        assertThat(a.disagreement(new ResultDigest(2, 10, 3000, 3, 37.5, 0))).contains("results");
        // a side without counts (the TypeScript sliding average) is compared on what it has
        assertThat(a.disagreement(new ResultDigest(3, 10, 3000, 0, 37.5, 0))).isNull();
        assertThat(a.disagreement(new ResultDigest(3, 10, 3000, 0, 37.6, 0))).contains("averages");
    }

    /** The scenario's results (JSON) on the generator's records, sorted. */
    private static List<String> results(String scenario, boolean sql) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
        DataStream<byte[]> input = env.fromSource(new DataGeneratorSource<>(
                (GeneratorFunction<Long, byte[]>) ThroughputBenchmark::order, RECORDS, RateLimiterStrategy.noOp(),
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO), WatermarkStrategy.noWatermarks(), "generator");
        DataStream<byte[]> out = sql ? SqlAnchor.pipeline(env, input, scenario, Duration.ZERO)
                : ThroughputBenchmark.javaPipeline(input, scenario, Duration.ZERO, false);
        List<String> results = new ArrayList<>();
        try (var collected = out.executeAndCollect()) {
            collected.forEachRemaining(bytes -> results.add(new String(bytes, StandardCharsets.UTF_8)));
        }
        results.sort(null);
        return results;
    }
}
