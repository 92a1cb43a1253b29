package dev.flinkfn.runtime.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Locale;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.accumulators.DoubleCounter;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;

/**
 * What a variant's results add up to, so that variants written differently can be checked against each other: the
 * number of results, the sum of their keys' hash codes (the key is {@code key}, {@code user} or {@code page}), of
 * their windows' {@code start}, the sum of their {@code count} fields, of their {@code average} fields and of their
 * {@code total} fields (each where the results have it: the TypeScript tumbling count has no average, its sliding
 * average no count). Collected with Flink accumulators (summed over subtasks) by {@link Collect} in a check run, not
 * in a measured one: parsing every result would slow the variants down.
 */
record ResultDigest(long results, long keySum, long startSum, long countSum, double averageSum, double totalSum) {

    static final String RESULTS = "digest.results";
    static final String KEY = "digest.key";
    static final String START = "digest.start";
    static final String COUNT = "digest.count";
    static final String AVERAGE = "digest.average";
    static final String TOTAL = "digest.total";

    static ResultDigest of(JobExecutionResult job) {
        return new ResultDigest(job.<Long>getAccumulatorResult(RESULTS), job.<Long>getAccumulatorResult(KEY),
                job.<Long>getAccumulatorResult(START), job.<Long>getAccumulatorResult(COUNT),
                job.<Double>getAccumulatorResult(AVERAGE), job.<Double>getAccumulatorResult(TOTAL));
    }

    /**
     * Null when {@code other} agrees with this digest, else what differs. Sums of fields only one of them has (0)
     * are not compared; doubles are compared to a relative 1e-9 (summation order differs between variants).
     */
    String disagreement(ResultDigest other) {
        if (results != other.results) {
            return results + " results against " + other.results;
        }
        if (keySum != other.keySum) {
            return "keys' hash codes add up to " + keySum + " against " + other.keySum;
        }
        if (startSum != other.startSum) {
            return "window starts add up to " + startSum + " against " + other.startSum;
        }
        if (countSum != 0 && other.countSum != 0 && countSum != other.countSum) {
            return "counts add up to " + countSum + " against " + other.countSum;
        }
        if (!close(averageSum, other.averageSum)) {
            return "averages add up to " + averageSum + " against " + other.averageSum;
        }
        if (!close(totalSum, other.totalSum)) {
            return "totals add up to " + totalSum + " against " + other.totalSum;
        }
        return null;
    }

    private static boolean close(double a, double b) {
        return a == 0 || b == 0 || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
    }

    String json() {
        return String.format(Locale.ROOT, "{\"results\":%d,\"keySum\":%d,\"startSum\":%d,\"countSum\":%d,\"averageSum\":%.6f,\"totalSum\":%.6f}",
                results, keySum, startSum, countSum, averageSum, totalSum);
    }

    /** Passes the results through, adding them to the digest's accumulators. */
    static final class Collect extends RichMapFunction<byte[], byte[]> {
        private static final long serialVersionUID = 1L;
        private transient ObjectMapper json;
        private transient LongCounter results;
        private transient LongCounter keys;
        private transient LongCounter starts;
        private transient LongCounter counts;
        private transient DoubleCounter averages;
        private transient DoubleCounter totals;

        @Override
        public void open(OpenContext context) {
            json = new ObjectMapper();
            results = getRuntimeContext().getLongCounter(RESULTS);
            keys = getRuntimeContext().getLongCounter(KEY);
            starts = getRuntimeContext().getLongCounter(START);
            counts = getRuntimeContext().getLongCounter(COUNT);
            averages = getRuntimeContext().getDoubleCounter(AVERAGE);
            totals = getRuntimeContext().getDoubleCounter(TOTAL);
        }

        @Override
        public byte[] map(byte[] value) throws Exception {
            JsonNode result = json.readTree(value);
            results.add(1);
            for (String field : new String[] {"key", "user", "page"}) {
                if (result.has(field)) {
                    keys.add(result.get(field).asText().hashCode());
                    break;
                }
            }
            if (result.has("start")) {
                starts.add(result.get("start").asLong());
            }
            if (result.has("count")) {
                counts.add(result.get("count").asLong());
            }
            if (result.has("average")) {
                averages.add(result.get("average").asDouble());
            }
            if (result.has("total")) {
                totals.add(result.get("total").asDouble());
            }
            return value;
        }
    }
}
