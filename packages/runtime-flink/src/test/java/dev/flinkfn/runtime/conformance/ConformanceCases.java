package dev.flinkfn.runtime.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The conformance cases of packages/conformance/cases, unchanged, with the artifacts the TypeScript side builds for
 * them (`node packages/conformance/dist/build-cases.js`, run once per test class).
 */
final class ConformanceCases {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path REPO = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
    static final Path CASES = REPO.resolve("packages/conformance/cases");

    /** A case: its JSON and the artifact built from it. */
    record Case(String id, JsonNode json, Path artifact) {
        boolean processingTime() {
            return "processing".equals(json.path("function").path("time").path("kind").asText());
        }

        /** Event-time cases with processing-time steps (idleness) need a controllable clock too. */
        boolean needsClock() {
            for (JsonNode step : json.get("input")) {
                if (step.has("processingTime")) {
                    return true;
                }
            }
            return false;
        }

        /** The source topic's partitions: all assigned to the one source subtask of a replay. */
        int partitions() {
            return json.path("partitions").asInt(1);
        }

        List<ReplayStep> steps() {
            List<ReplayStep> steps = new ArrayList<>();
            for (int partition = 0; partition < partitions(); partition++) {
                steps.add(ReplayStep.assigned(partition));
            }
            for (JsonNode step : json.get("input")) {
                if (step.has("event") || step.has("raw")) {
                    steps.add(ReplayStep.record(step.path("partition").asInt(0), recordBytes(step)));
                } else if (step.has("watermark")) {
                    steps.add(ReplayStep.watermark(step.get("watermark").asLong()));
                } else {
                    throw new IllegalArgumentException(id + ": processing-time steps need a controllable clock");
                }
            }
            return steps;
        }

        /** Expected totals of the handler's metrics ({@code counters}, {@code histograms}), or a missing node. */
        JsonNode expectedMetrics() {
            return json.path("expected").path("metrics");
        }

        /** Expected values per output: "sink:<name>", "late", "dead-letters". */
        Map<String, List<JsonNode>> expected(List<String> sinkNames) {
            Map<String, List<JsonNode>> expected = new HashMap<>();
            JsonNode outputs = json.path("expected").path("outputs");
            if (outputs.isArray()) {
                expected.put("sink:" + sinkNames.get(0), list(outputs));
            } else {
                for (Iterator<Map.Entry<String, JsonNode>> it = outputs.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> entry = it.next();
                    expected.put("sink:" + entry.getKey(), list(entry.getValue()));
                }
            }
            expected.put("late", list(json.path("expected").path("late")));
            expected.put("dead-letters", list(json.path("expected").path("deadLetters")));
            return expected;
        }
    }

    private ConformanceCases() {}

    /** A record step's bytes: the event as JSON, or the raw text. */
    static byte[] recordBytes(JsonNode step) {
        return (step.has("event") ? step.get("event").toString() : step.get("raw").asText()).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Whether a case runs in this build: all of them, unless {@code -Dflinkfn.cases=044,045} names the prefixes of the
     * ones to run (for working on a few cases without replaying every one).
     */
    static boolean selected(Case testCase) {
        String only = System.getProperty("flinkfn.cases", "");
        return only.isBlank() || java.util.Arrays.stream(only.split(",")).anyMatch(p -> testCase.id().startsWith(p.trim()));
    }

    static List<Case> load() throws IOException, InterruptedException {
        Map<String, Path> artifacts = build();
        List<Case> cases = new ArrayList<>();
        File[] files = CASES.toFile().listFiles((dir, name) -> name.endsWith(".json"));
        if (files == null || files.length == 0) {
            throw new IllegalStateException("no conformance cases in " + CASES);
        }
        java.util.Arrays.sort(files);
        for (File file : files) {
            String id = file.getName().substring(0, file.getName().length() - 5);
            Path artifact = artifacts.get(id);
            if (artifact == null) {
                throw new IllegalStateException("no artifact was built for case " + id);
            }
            cases.add(new Case(id, JSON.readTree(file), artifact));
        }
        return cases;
    }

    private static Map<String, Path> build() throws IOException, InterruptedException {
        Path script = REPO.resolve("packages/conformance/dist/build-cases.js");
        if (!Files.exists(script)) {
            throw new IllegalStateException(script + " is missing: build the TypeScript packages first (pnpm run build)");
        }
        Process process = new ProcessBuilder("node", script.toString()).directory(REPO.toFile()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(5, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IllegalStateException("building the conformance artifacts failed:\n" + output);
        }
        JsonNode index = JSON.readTree(REPO.resolve("packages/conformance/.flinkfn/cases/index.json").toFile());
        Map<String, Path> artifacts = new HashMap<>();
        index.fields().forEachRemaining(e -> artifacts.put(e.getKey(), Path.of(e.getValue().asText())));
        return artifacts;
    }

    private static List<JsonNode> list(JsonNode array) {
        List<JsonNode> values = new ArrayList<>();
        if (array != null && array.isArray()) {
            array.forEach(values::add);
        }
        return values;
    }

    /**
     * A dead letter as the cases state it: without {@code at}, the time the job wrote it, which every dead letter of the
     * job must have (the cases' records are replayed, not read from Kafka, so none has a {@code source}).
     */
    static JsonNode asCaseStatesIt(String output, JsonNode value) {
        if (!output.equals("dead-letters")) {
            return value;
        }
        if (!value.path("at").isTextual() || value.has("source")) {
            throw new AssertionError("a dead letter of the job says when it was written and no source: " + value);
        }
        com.fasterxml.jackson.databind.node.ObjectNode copy = ((com.fasterxml.jackson.databind.node.ObjectNode) value).deepCopy();
        copy.remove("at");
        return copy;
    }

    /** Values as a multiset: Flink does not order results of different keys or of one watermark's firings. */
    static Map<JsonNode, Integer> multiset(List<JsonNode> values) {
        Map<JsonNode, Integer> counts = new HashMap<>();
        for (JsonNode value : values) {
            counts.merge(value, 1, Integer::sum);
        }
        return counts;
    }
}
