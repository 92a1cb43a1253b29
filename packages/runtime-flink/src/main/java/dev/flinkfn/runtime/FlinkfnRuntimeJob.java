package dev.flinkfn.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Entry point of the flinkfn runtime job (the shaded jar's Main-Class).
 *
 * <p>PLACEHOLDER for the runtime issue: it does not read a job spec or host TypeScript functions yet. It only
 * builds a tiny pipeline (fromData -> map -> print) so that the module's classpath, the shaded jar and a Flink
 * submission can be checked end to end. Optional {@code args[0]}: a JSON array of strings to use as input
 * (parsed with the relocated Jackson bundled in the jar).
 */
public final class FlinkfnRuntimeJob {

    static final List<String> DEFAULT_INPUT = List.of("hello", "flinkfn", "runtime");

    private FlinkfnRuntimeJob() {}

    public static void main(String[] args) throws Exception {
        List<String> input = args.length > 0 ? parseInput(args[0]) : DEFAULT_INPUT;
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        pipeline(env, input).print();
        env.execute("flinkfn-runtime-placeholder");
    }

    /** The placeholder pipeline: upper-cases every input string. */
    static DataStream<String> pipeline(StreamExecutionEnvironment env, List<String> input) {
        return env.fromData(input).map(String::toUpperCase).name("upper-case");
    }

    /** Parses a JSON array of strings, e.g. {@code ["a","b"]}. */
    static List<String> parseInput(String json) throws Exception {
        JsonNode node = new ObjectMapper().readTree(json);
        if (node == null || !node.isArray() || node.isEmpty()) {
            throw new IllegalArgumentException("expected a non-empty JSON array of strings, got: " + json);
        }
        List<String> out = new ArrayList<>();
        for (JsonNode item : node) {
            if (!item.isTextual()) {
                throw new IllegalArgumentException("expected only strings in the JSON array, got: " + item);
            }
            out.add(item.textValue());
        }
        return out;
    }
}
