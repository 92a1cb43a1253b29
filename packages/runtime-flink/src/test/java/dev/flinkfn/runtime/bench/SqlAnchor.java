package dev.flinkfn.runtime.bench;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

/**
 * The window scenarios as a Java-side user would write them in Flink SQL instead of the DataStream API: window
 * table-valued functions (TUMBLE, HOP) with the tuning Flink's performance-tuning page recommends for aggregations.
 * Parsing stays the same as the DataStream variant's ({@link ThroughputBenchmark.JavaKey}, Jackson), and so do the
 * event timestamps and watermarks (taken over with {@code SOURCE_WATERMARK()}), so the two differ in the windowing
 * engine only: SQL's window aggregate (managed-memory buffers, local-global split) against the DataStream window
 * operator with an {@code AggregateFunction}. The results are the same JSON as the DataStream variant's.
 */
final class SqlAnchor {

    private SqlAnchor() {}

    /** Scenarios written in SQL here. */
    static boolean supports(String scenario) {
        return scenario.equals("tumbling-count") || scenario.equals("sliding-average");
    }

    /**
     * Settings of the table environment. Mini-batch is always on for window TVF aggregation (Flink's docs); it is
     * enabled anyway, as a tuned job would, and the aggregation is split into a local and a global phase.
     */
    static Configuration settings() {
        Configuration settings = new Configuration();
        settings.setString("table.exec.mini-batch.enabled", "true");
        settings.setString("table.exec.mini-batch.allow-latency", "1 s");
        settings.setString("table.exec.mini-batch.size", "5000");
        settings.setString("table.optimizer.agg-phase-strategy", "TWO_PHASE");
        // window_start and window_end are TIMESTAMP(3) in the session's time zone: UTC, to read them as epoch ms
        settings.setString("table.local-time-zone", "UTC");
        return settings;
    }

    /** The scenario's query on {@code input} (the generator's bytes); results as the DataStream variant's JSON. */
    static DataStream<byte[]> pipeline(StreamExecutionEnvironment env, DataStream<byte[]> input, String scenario,
            Duration outOfOrderness) {
        StreamTableEnvironment tables = withOrders(env, input, scenario, outOfOrderness);
        Table result = tables.sqlQuery(query(scenario));
        return tables.toDataStream(result).map(new ResultJson()).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
    }

    /** The plan Flink chooses for the scenario (EXPLAIN), to show which aggregation operators run. */
    static String explain(String scenario) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1);
        DataStream<byte[]> none = env.fromData(ThroughputBenchmark.order(0)).returns(PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        return withOrders(env, none, scenario, Duration.ZERO).explainSql(query(scenario));
    }

    /** A table environment with the settings and the view {@code orders (k, ts, total, rowtime)} over the input. */
    private static StreamTableEnvironment withOrders(StreamExecutionEnvironment env, DataStream<byte[]> input,
            String scenario, Duration outOfOrderness) {
        StreamTableEnvironment tables = StreamTableEnvironment.create(env);
        tables.getConfig().addConfiguration(settings());
        String keyField = scenario.equals("sliding-average") ? "page" : "user";
        DataStream<Tuple3<String, Long, Double>> orders = input.map(new ThroughputBenchmark.JavaKey(keyField))
                .returns(Types.TUPLE(Types.STRING, Types.LONG, Types.DOUBLE))
                .assignTimestampsAndWatermarks(WatermarkStrategy
                        .<Tuple3<String, Long, Double>>forBoundedOutOfOrderness(outOfOrderness)
                        .withTimestampAssigner((t, ts) -> t.f1));
        Table table = tables.fromDataStream(orders, Schema.newBuilder()
                .columnByMetadata("rowtime", "TIMESTAMP_LTZ(3)")
                .watermark("rowtime", "SOURCE_WATERMARK()")
                .build())
                .as("k", "ts", "total", "rowtime");
        tables.createTemporaryView("orders", table);
        return tables;
    }

    /** Count and sum per key and window, as the DataStream variant's {@code SumCount} aggregates them. */
    static String query(String scenario) {
        String window = switch (scenario) {
            case "tumbling-count" -> "TUMBLE(TABLE orders, DESCRIPTOR(rowtime), INTERVAL '1' SECOND)";
            // HOP(data, time, slide, size)
            case "sliding-average" -> "HOP(TABLE orders, DESCRIPTOR(rowtime), INTERVAL '1' SECOND, INTERVAL '10' SECOND)";
            default -> throw new IllegalArgumentException("no SQL variant of " + scenario);
        };
        return "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(total) AS total FROM TABLE(" + window
                + ") GROUP BY k, window_start, window_end";
    }

    /** The same JSON as {@link ThroughputBenchmark.Result}. */
    static final class ResultJson implements MapFunction<Row, byte[]> {
        private static final long serialVersionUID = 1L;

        @Override
        public byte[] map(Row row) {
            long count = (Long) row.getField("n");
            double total = (Double) row.getField("total");
            return ("{\"key\":\"" + row.getField("k") + "\",\"start\":" + epochMs(row.getField("window_start"))
                    + ",\"end\":" + epochMs(row.getField("window_end")) + ",\"count\":" + count
                    + ",\"average\":" + (total / count) + "}").getBytes(StandardCharsets.UTF_8);
        }

        private static long epochMs(Object utcTimestamp) {
            return ((LocalDateTime) utcTimestamp).toInstant(ZoneOffset.UTC).toEpochMilli();
        }
    }
}
