package dev.flinkfn.runtime.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateGroup;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateResult;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregatedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CombineGroup;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CombineMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CombinedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.TakeMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.TakenMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.DeadLetterOutput;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ElementOutput;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CounterUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ErrorMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.GaugeUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.HistogramUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MetricUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MetricsMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FireMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FireRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FiredMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.HelloMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.HelloOkMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeResult;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Message;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Output;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ProcessMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ProcessedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Request;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Response;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ShutdownMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.SinkOutput;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Function;

/**
 * The golden frames of {@code packages/sidecar/test/golden/frames.json}, and the JSON form they describe messages in
 * (type names, bytes as UTF-8 text, 64-bit integers as decimal strings), converted to and from {@link Message}s.
 */
final class GoldenFrames {

    static final ObjectMapper MAPPER = new ObjectMapper();

    /** One golden frame: its name, direction ("request" or "response"), exact bytes and JSON form. */
    record Frame(String name, String direction, byte[] bytes, JsonNode message) {
        boolean isRequest() {
            return direction.equals("request");
        }

        @Override
        public String toString() {
            return direction + " " + name;
        }
    }

    private GoldenFrames() {}

    /** The module directory: Maven's basedir, or the working directory (Maven runs tests there too). */
    static Path moduleDirectory() {
        return Paths.get(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    }

    /** The repository root: the module is packages/runtime-flink. */
    static Path repositoryRoot() {
        return moduleDirectory().resolve("../..").normalize();
    }

    static List<Frame> load() {
        Path file = moduleDirectory().resolve(Paths.get("..", "sidecar", "test", "golden", "frames.json")).normalize();
        try {
            List<Frame> frames = new ArrayList<>();
            for (JsonNode entry : MAPPER.readTree(Files.readString(file))) {
                frames.add(new Frame(entry.get("name").asText(), entry.get("direction").asText(),
                        HexFormat.of().parseHex(entry.get("hex").asText()), entry.get("message")));
            }
            return frames;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the golden frames at " + file, e);
        }
    }

    // --- message → JSON form ---------------------------------------------------------------------------------------

    /** The JSON form of a message, normalised through text so number node types match a parsed file's. */
    static JsonNode toJson(Message message) {
        ObjectNode json = MAPPER.createObjectNode();
        json.put("type", SidecarProtocol.typeName(message.type()));
        json.put("id", Integer.toUnsignedLong(message.id()));
        if (message instanceof HelloMessage hello) {
            json.put("protocolVersion", hello.protocolVersion()).put("artifactId", hello.artifactId());
            ObjectNode settings = json.putObject("settings");
            hello.settings().forEach(settings::put);
        } else if (message instanceof ProcessMessage process) {
            json.set("records", texts(process.records()));
        } else if (message instanceof AggregateMessage aggregate) {
            json.set("groups", array(aggregate.groups(), g -> window(g.key(), g.start(), g.end())
                    .put("accumulator", text(g.accumulator()))
                    .set("events", texts(g.events()))));
        } else if (message instanceof CombineMessage combine) {
            json.set("groups", array(combine.groups(), g -> {
                ObjectNode node = MAPPER.createObjectNode().put("slot", g.slot()).put("held", g.held());
                if (!g.held()) {
                    node.put("accumulator", text(g.accumulator()));
                }
                return node.set("events", texts(g.events()));
            }));
        } else if (message instanceof TakeMessage take) {
            ArrayNode slots = json.putArray("slots");
            take.slots().forEach(slots::add);
        } else if (message instanceof MergeMessage merge) {
            json.set("merges", array(merge.merges(), m -> window(m.key(), m.start(), m.end())
                    .set("accumulators", texts(m.accumulators()))));
        } else if (message instanceof FireMessage fire) {
            json.set("fires", array(fire.fires(), f -> {
                ObjectNode node = window(f.key(), f.start(), f.end()).put("mode", f.mode());
                return f.accumulator() != null ? node.put("accumulator", text(f.accumulator()))
                        : f.events() != null ? node.set("events", texts(f.events())) : node.put("slot", f.slot());
            }));
        } else if (message instanceof HelloOkMessage ok) {
            json.put("protocolVersion", ok.protocolVersion()).put("functionName", ok.functionName());
        } else if (message instanceof ProcessedMessage processed) {
            json.set("results", array(processed.results(), outputs -> array(outputs, GoldenFrames::output)));
        } else if (message instanceof FiredMessage fired) {
            json.set("results", array(fired.results(), outputs -> array(outputs, GoldenFrames::output)));
        } else if (message instanceof AggregatedMessage aggregated) {
            json.set("results", array(aggregated.results(), r -> MAPPER.createObjectNode()
                    .put("accumulator", text(r.accumulator())).set("deadLetters", texts(r.deadLetters()))));
        } else if (message instanceof TakenMessage taken) {
            json.set("results", array(taken.results(), r -> MAPPER.createObjectNode()
                    .put("accumulator", text(r.accumulator())).set("deadLetters", texts(r.deadLetters()))));
        } else if (message instanceof CombinedMessage combined) {
            json.set("results", array(combined.deadLetters(), letters -> MAPPER.createObjectNode()
                    .set("deadLetters", texts(letters))));
        } else if (message instanceof MergedMessage merged) {
            json.set("results", array(merged.results(), r -> MAPPER.createObjectNode()
                    .put("accumulator", text(r.accumulator())).set("deadLetters", texts(r.deadLetters()))));
        } else if (message instanceof MetricsMessage metrics) {
            json.set("metrics", array(metrics.metrics(), GoldenFrames::metric));
        } else if (message instanceof ErrorMessage error) {
            json.put("message", error.message());
        }
        try {
            return MAPPER.readTree(MAPPER.writeValueAsString(json));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode metric(MetricUpdate metric) {
        ObjectNode node = MAPPER.createObjectNode().put("kind", metric.kind()).put("name", metric.name());
        if (metric instanceof CounterUpdate counter) {
            return node.put("increment", Long.toString(counter.increment()));
        } else if (metric instanceof GaugeUpdate gauge) {
            return node.put("value", gauge.value());
        }
        ArrayNode values = node.putArray("values");
        for (long value : ((HistogramUpdate) metric).values()) {
            values.add(Long.toString(value));
        }
        return node;
    }

    private static ObjectNode output(Output output) {
        ObjectNode node = MAPPER.createObjectNode().put("kind", output.kind());
        if (output instanceof SinkOutput sink) {
            return node.put("sinkIndex", sink.sinkIndex()).put("key", sink.key()).put("value", text(sink.value()));
        } else if (output instanceof ElementOutput element) {
            return node.put("key", element.key()).put("timestamp", Long.toString(element.timestamp()))
                    .put("event", text(element.event()));
        }
        return node.put("deadLetter", text(((DeadLetterOutput) output).deadLetter()));
    }

    private static ObjectNode window(String key, long start, long end) {
        return MAPPER.createObjectNode().put("key", key).put("start", Long.toString(start)).put("end", Long.toString(end));
    }

    private static <T> ArrayNode array(List<T> items, Function<T, JsonNode> item) {
        ArrayNode array = MAPPER.createArrayNode();
        items.forEach(i -> array.add(item.apply(i)));
        return array;
    }

    private static ArrayNode texts(List<byte[]> values) {
        ArrayNode array = MAPPER.createArrayNode();
        values.forEach(v -> array.add(text(v)));
        return array;
    }

    static String text(byte[] value) {
        return value == null ? null : new String(value, StandardCharsets.UTF_8);
    }

    // --- JSON form → message ---------------------------------------------------------------------------------------

    static Request toRequest(JsonNode json) {
        int id = (int) json.get("id").asLong();
        switch (json.get("type").asText()) {
            case "HELLO":
                java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
                json.get("settings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
                return new HelloMessage(id, json.get("protocolVersion").asInt(), json.get("artifactId").asText(), settings);
            case "PROCESS":
                return new ProcessMessage(id, bytesList(json.get("records")));
            case "AGGREGATE":
                return new AggregateMessage(id, list(json.get("groups"), g -> new AggregateGroup(g.get("key").asText(),
                        i64(g.get("start")), i64(g.get("end")), bytes(g.get("accumulator")), bytesList(g.get("events")))));
            case "COMBINE":
                return new CombineMessage(id, list(json.get("groups"), g -> new CombineGroup(g.get("slot").asInt(),
                        g.get("held").asBoolean(), g.get("held").asBoolean() ? null : bytes(g.get("accumulator")),
                        bytesList(g.get("events")))));
            case "TAKE":
                return new TakeMessage(id, list(json.get("slots"), JsonNode::asInt));
            case "MERGE":
                return new MergeMessage(id, list(json.get("merges"), m -> new MergeRequest(m.get("key").asText(),
                        i64(m.get("start")), i64(m.get("end")), bytesList(m.get("accumulators")))));
            case "FIRE":
                return new FireMessage(id, list(json.get("fires"), f -> new FireRequest(f.get("key").asText(),
                        i64(f.get("start")), i64(f.get("end")),
                        f.get("mode").asInt() == 0 ? bytes(f.get("accumulator")) : null,
                        f.get("mode").asInt() == 1 ? bytesList(f.get("events")) : null,
                        f.get("mode").asInt() == 2 ? f.get("slot").asInt() : -1)));
            case "SHUTDOWN":
                return new ShutdownMessage(id);
            default:
                throw new IllegalArgumentException("not a request: " + json);
        }
    }

    static Response toResponse(JsonNode json) {
        int id = (int) json.get("id").asLong();
        switch (json.get("type").asText()) {
            case "HELLO_OK":
                return new HelloOkMessage(id, json.get("protocolVersion").asInt(), json.get("functionName").asText());
            case "PROCESSED":
                return new ProcessedMessage(id, list(json.get("results"), r -> list(r, GoldenFrames::toOutput)));
            case "FIRED":
                return new FiredMessage(id, list(json.get("results"), r -> list(r, GoldenFrames::toOutput)));
            case "AGGREGATED":
                return new AggregatedMessage(id, list(json.get("results"),
                        r -> new AggregateResult(bytes(r.get("accumulator")), bytesList(r.get("deadLetters")))));
            case "TAKEN":
                return new TakenMessage(id, list(json.get("results"),
                        r -> new AggregateResult(bytes(r.get("accumulator")), bytesList(r.get("deadLetters")))));
            case "COMBINED":
                return new CombinedMessage(id, list(json.get("results"), r -> bytesList(r.get("deadLetters"))));
            case "MERGED":
                return new MergedMessage(id, list(json.get("results"),
                        r -> new MergeResult(bytes(r.get("accumulator")), bytesList(r.get("deadLetters")))));
            case "METRICS":
                return new MetricsMessage(id, list(json.get("metrics"), GoldenFrames::toMetric));
            case "ERROR":
                return new ErrorMessage(id, json.get("message").asText());
            default:
                throw new IllegalArgumentException("not a response: " + json);
        }
    }

    private static MetricUpdate toMetric(JsonNode json) {
        String name = json.get("name").asText();
        switch (json.get("kind").asInt()) {
            case SidecarProtocol.METRIC_COUNTER:
                return new CounterUpdate(name, i64(json.get("increment")));
            case SidecarProtocol.METRIC_GAUGE:
                return new GaugeUpdate(name, json.get("value").asDouble());
            case SidecarProtocol.METRIC_HISTOGRAM:
                return new HistogramUpdate(name, list(json.get("values"), GoldenFrames::i64).stream()
                        .mapToLong(Long::longValue).toArray());
            default:
                throw new IllegalArgumentException("unknown metric " + json);
        }
    }

    private static Output toOutput(JsonNode json) {
        switch (json.get("kind").asInt()) {
            case SidecarProtocol.OUTPUT_SINK:
                return new SinkOutput(json.get("sinkIndex").asInt(),
                        json.get("key").isNull() ? null : json.get("key").asText(), bytes(json.get("value")));
            case SidecarProtocol.OUTPUT_ELEMENT:
                return new ElementOutput(json.get("key").asText(), i64(json.get("timestamp")), bytes(json.get("event")));
            case SidecarProtocol.OUTPUT_DEAD_LETTER:
                return new DeadLetterOutput(bytes(json.get("deadLetter")));
            default:
                throw new IllegalArgumentException("unknown output " + json);
        }
    }

    private static long i64(JsonNode decimal) {
        return Long.parseLong(decimal.asText());
    }

    private static byte[] bytes(JsonNode textOrNull) {
        return textOrNull.isNull() ? null : textOrNull.asText().getBytes(StandardCharsets.UTF_8);
    }

    private static List<byte[]> bytesList(JsonNode texts) {
        return list(texts, GoldenFrames::bytes);
    }

    private static <T> List<T> list(JsonNode array, Function<JsonNode, T> item) {
        List<T> items = new ArrayList<>();
        array.forEach(node -> items.add(item.apply(node)));
        return items;
    }
}
