package dev.flinkfn.runtime.job;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Command-line options of the runtime job: {@code --name value} pairs; {@code --kafka-property k=v} and
 * {@code --setting name=value} (a plain setting of the function; secrets come through {@code --secrets}) may repeat.
 * Unknown options are errors, so a typo in a deploy script fails the submission instead of being ignored.
 */
public final class JobOptions {

    static final List<String> KNOWN = List.of(
            "artifact", "artifact-id", "bootstrap-servers", "deployment-id", "sidecar-command", "sidecar-socket",
            "checkpoint-interval-ms", "bundle-size", "bundle-time-ms", "bundle-in-flight", "request-timeout-ms",
            "kafka-property", "parallelism", "setting", "secrets", "secrets-sha256");

    private final Map<String, String> values = new HashMap<>();
    private final Map<String, String> kafkaProperties = new LinkedHashMap<>();
    private final Map<String, String> settings = new LinkedHashMap<>();

    private JobOptions() {}

    public static JobOptions parse(String[] args) {
        JobOptions options = new JobOptions();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || i + 1 >= args.length) {
                problems.add("expected --option value, got " + arg);
                continue;
            }
            String name = arg.substring(2);
            String value = args[++i];
            if (!KNOWN.contains(name)) {
                problems.add("unknown option --" + name + " (known: --" + String.join(", --", KNOWN) + ")");
            } else if (name.equals("kafka-property")) {
                putPair(options.kafkaProperties, "--kafka-property needs key=value", value, problems);
            } else if (name.equals("setting")) {
                putPair(options.settings, "--setting needs name=value", value, problems);
            } else {
                options.values.put(name, value);
            }
        }
        if (!options.values.containsKey("artifact")) {
            problems.add("--artifact <file:// or s3:// location of the .flinkfn artifact> is required");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("invalid job arguments:\n  - " + String.join("\n  - ", problems));
        }
        return options;
    }

    public String get(String name) {
        return values.get(name);
    }

    public String get(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    public long getLong(String name, long fallback) {
        String value = values.get(name);
        try {
            return value == null ? fallback : Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, got " + value, e);
        }
    }

    public Map<String, String> kafkaProperties() {
        return kafkaProperties;
    }

    /** Plain settings of the function ({@code --setting name=value}), in order. */
    public Map<String, String> settings() {
        return settings;
    }

    /** Puts {@code key=value} into {@code into}, or says what is wrong with it. */
    private static void putPair(Map<String, String> into, String expectation, String pair, List<String> problems) {
        int eq = pair.indexOf('=');
        if (eq <= 0) {
            problems.add(expectation + ", got " + pair);
        } else {
            into.put(pair.substring(0, eq), pair.substring(eq + 1));
        }
    }
}
