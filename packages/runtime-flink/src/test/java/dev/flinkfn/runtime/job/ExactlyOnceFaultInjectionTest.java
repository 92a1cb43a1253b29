package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.testing.KafkaBrokerExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exactly-once end to end against a real Kafka broker: 100,000 events flow through the runtime job's pipeline (Kafka
 * source → JS stage → watermarks → window operator → transactional Kafka sinks) while sidecar processes are killed,
 * or a task fails, several times. Flink restarts from the last checkpoint; what a read_committed consumer sees must
 * equal the expected output exactly: every window once, with exactly its events.
 *
 * <p>The function is conformance case 001 (tumbling windows of 10 ms collecting event ids). The expected output is
 * computed here from the generated input, independently of any flinkfn code.
 */
class ExactlyOnceFaultInjectionTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int EVENTS = 100_000;
    private static final int KEYS = 7;
    private static final Path REPO = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
    private static final String SIDECAR = REPO.resolve("packages/sidecar/bin/flinkfn-sidecar.js").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Faults happen once each, at these input counts, across restarts (the MiniCluster runs in this JVM). */
    static final Set<Long> FIRED = ConcurrentHashMap.newKeySet();
    static final AtomicLong SEEN = new AtomicLong();

    private static Path artifact;

    @BeforeAll
    static void buildArtifact() throws Exception {
        Process build = new ProcessBuilder("node", "packages/conformance/dist/build-cases.js").directory(REPO.toFile())
                .redirectErrorStream(true).start();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(build.waitFor()).as(output).isZero();
        JsonNode index = JSON.readTree(REPO.resolve("packages/conformance/.flinkfn/cases/index.json").toFile());
        artifact = Path.of(index.get("001-tumbling-basic").asText());
    }

    @BeforeEach
    void resetFaults() {
        FIRED.clear();
        SEEN.set(0);
    }

    @Test
    void killingTheSidecarThreeTimesLosesAndDuplicatesNothing() throws Exception {
        Map<String, List<Long>> committed = runWithFaults("kill-sidecar", Fault.KILL_SIDECARS);
        assertThat(FIRED).hasSize(3);
        assertThat(differences(committed)).isEmpty();
        assertThat(committed).isEqualTo(expected());
    }

    @Test
    void failingATaskThreeTimesLosesAndDuplicatesNothing() throws Exception {
        Map<String, List<Long>> committed = runWithFaults("fail-task", Fault.THROW);
        assertThat(FIRED).hasSize(3);
        assertThat(differences(committed)).isEmpty();
        assertThat(committed).isEqualTo(expected());
    }

    enum Fault { KILL_SIDECARS, THROW }

    private Map<String, List<Long>> runWithFaults(String run, Fault fault) throws Exception {
        String input = "in-" + run;
        String output = "out-" + run;
        KAFKA.createTopics(2, input, output, "dead-letters-" + run);
        produce(input);

        Artifact loaded = Artifact.read(artifact.toString(), null);
        Manifest original = loaded.manifest();
        // The same function, reading and writing this run's topics.
        Manifest manifest = new Manifest(original.manifestVersion(), original.protocolVersion(), original.sdkVersion(),
                original.name(), new Manifest.Source(input, "json", "earliest"),
                List.of(new Manifest.Sink("main", output, "ephemeral", 2)),
                new Manifest.SideOutputs(null, new Manifest.Topic("dead-letters-" + run, "ephemeral", 1)),
                original.handle(), original.window(), 2, original.resources(), original.bundle());

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Configuration config = new Configuration();
        config.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 20);
        config.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        env.configure(config);
        env.enableCheckpointing(300, CheckpointingMode.EXACTLY_ONCE);
        env.setParallelism(2);

        KafkaConnectors kafka = new KafkaConnectors(KAFKA.bootstrapServers(), run, Map.of());
        DataStream<SourceRecord> records = env
                .fromSource(kafka.source(manifest.source(), OffsetsInitializer.latest()), WatermarkStrategy.noWatermarks(), "kafka")
                .map(new FaultInjector(fault));
        String file = artifact.toString();
        String id = loaded.id();
        FunctionPipeline.Streams streams = FunctionPipeline.build(records, manifest,
                () -> dev.flinkfn.runtime.sidecar.Sidecars.open(SidecarConfig.process(List.of("node", SIDECAR)), Path.of(file), id),
                new BundleOptions(500, Duration.ofMillis(5), 4, Duration.ofSeconds(30)),
                FunctionPipeline.partitionWatermarks(manifest.window(), false));
        kafka.attachSinks(manifest, streams);
        env.execute("exactly-once " + run);
        return readCommitted(output);
    }

    /** Kills this JVM's sidecar processes, or throws, when the input count crosses 20k, 50k and 80k (once each). */
    static final class FaultInjector implements MapFunction<SourceRecord, SourceRecord> {
        private static final long serialVersionUID = 1L;
        private final Fault fault;

        FaultInjector(Fault fault) {
            this.fault = fault;
        }

        @Override
        public SourceRecord map(SourceRecord value) {
            long seen = SEEN.incrementAndGet();
            for (long at : new long[] {20_000, 50_000, 80_000}) {
                if (seen >= at && FIRED.add(at)) {
                    if (fault == Fault.THROW) {
                        throw new IllegalStateException("injected task failure at " + at);
                    }
                    ProcessHandle.current().descendants()
                            .filter(p -> p.info().commandLine().orElse("").contains("flinkfn-sidecar"))
                            .forEach(ProcessHandle::destroyForcibly);
                }
            }
            return value;
        }
    }

    private static void produce(String topic) {
        Properties properties = KAFKA.clientProperties();
        properties.put("key.serializer", ByteArraySerializer.class.getName());
        properties.put("value.serializer", ByteArraySerializer.class.getName());
        properties.put("linger.ms", "5");
        properties.put("acks", "all");
        properties.put("max.in.flight.requests.per.connection", "1");
        properties.put("delivery.timeout.ms", "60000");
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>(EVENTS);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
            for (int i = 0; i < EVENTS; i++) {
                // Keys spread over both partitions; within a partition timestamps only grow, so nothing is late.
                String event = "{\"id\":" + i + ",\"key\":\"k" + (i % KEYS) + "\",\"ts\":" + i + "}";
                sent.add(producer.send(new ProducerRecord<>(topic, i % 2, null, event.getBytes(StandardCharsets.UTF_8))));
            }
            producer.flush();
        }
        // The expected output assumes every event is in the topic: a send that failed would look like data loss in
        // the job, so check each one (seen under heavy load: OutOfOrderSequenceException from the broker).
        for (java.util.concurrent.Future<?> future : sent) {
            try {
                future.get();
            } catch (Exception e) {
                throw new IllegalStateException("producing the test input failed, so the run proves nothing: " + e, e);
            }
        }
    }

    /** A short account of what differs from the expected output: missing and unexpected event ids. */
    private static List<String> differences(Map<String, List<Long>> committed) {
        java.util.TreeSet<Long> want = new java.util.TreeSet<>();
        java.util.TreeSet<Long> got = new java.util.TreeSet<>();
        expected().values().forEach(want::addAll);
        committed.values().forEach(got::addAll);
        java.util.TreeSet<Long> missing = new java.util.TreeSet<>(want);
        missing.removeAll(got);
        java.util.TreeSet<Long> extra = new java.util.TreeSet<>(got);
        extra.removeAll(want);
        List<String> problems = new ArrayList<>();
        if (!missing.isEmpty()) {
            problems.add(missing.size() + " events missing, e.g. " + missing.stream().limit(30).toList()
                    + " (" + missing.stream().filter(i -> i % 2 == 0).count() + " from partition 0)");
        }
        if (!extra.isEmpty()) {
            problems.add(extra.size() + " unexpected events, e.g. " + extra.stream().limit(30).toList());
        }
        int windows = expected().size();
        if (committed.size() != windows) {
            problems.add(committed.size() + " windows committed, " + windows + " expected");
        }
        return problems;
    }

    /** (key, window start) → sorted ids, computed from the generated input without any flinkfn code. */
    private static Map<String, List<Long>> expected() {
        Map<String, List<Long>> expected = new TreeMap<>();
        for (long i = 0; i < EVENTS; i++) {
            expected.computeIfAbsent("k" + (i % KEYS) + "@" + (i - i % 10), k -> new ArrayList<>()).add(i);
        }
        return expected;
    }

    private static Map<String, List<Long>> readCommitted(String topic) throws Exception {
        Properties properties = KAFKA.clientProperties();
        properties.put("group.id", "verify-" + topic);
        properties.put("isolation.level", "read_committed");
        properties.put("auto.offset.reset", "earliest");
        properties.put("key.deserializer", ByteArrayDeserializer.class.getName());
        properties.put("value.deserializer", ByteArrayDeserializer.class.getName());
        Map<String, List<Long>> windows = new TreeMap<>();
        Map<String, Integer> duplicates = new HashMap<>();
        int expectedWindows = expected().size();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 60_000;
            int quietPolls = 0;
            while (System.currentTimeMillis() < deadline && quietPolls < 5) {
                var polled = consumer.poll(Duration.ofMillis(500));
                quietPolls = polled.isEmpty() && windows.size() >= expectedWindows ? quietPolls + 1 : 0;
                for (ConsumerRecord<byte[], byte[]> record : polled) {
                    JsonNode result = JSON.readTree(record.value());
                    String window = result.get("key").asText() + "@" + result.get("start").asLong();
                    List<Long> ids = new ArrayList<>();
                    result.get("ids").forEach(n -> ids.add(n.asLong()));
                    if (windows.put(window, ids) != null) {
                        duplicates.merge(window, 1, Integer::sum);
                    }
                }
            }
        }
        assertThat(duplicates).as("windows committed more than once").isEmpty();
        return windows;
    }
}
