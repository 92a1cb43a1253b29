package dev.flinkfn.runtime.bench;

import java.util.ArrayList;
import java.util.List;

/** Command-line options and summary statistics shared by the benchmark programs. */
final class BenchArgs {

    private BenchArgs() {}

    /** The value after {@code name}, or {@code fallback}; a missing option without fallback is an error. */
    static String value(List<String> args, String name, String fallback) {
        int i = args.indexOf(name);
        if (i >= 0 && i + 1 < args.size()) {
            return args.get(i + 1);
        }
        if (fallback == null) {
            throw new IllegalArgumentException(name + " is required");
        }
        return fallback;
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        return sorted.get(sorted.size() / 2);
    }

    static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
    }

    static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }
}
