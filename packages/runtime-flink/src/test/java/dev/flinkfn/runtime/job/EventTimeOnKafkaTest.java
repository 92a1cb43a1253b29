package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkfn.runtime.FlinkfnRuntimeJob;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
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
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.jobgraph.SavepointRestoreSettings;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Event time on real multi-partition Kafka topics: the runtime job's graph ({@link FlinkfnRuntimeJob#define}) on a
 * MiniCluster reads pre-filled topics of 1 to 8 partitions, events keyed by Kafka's default partitioner, at parallelism
 * 1 to 3, and its committed output must equal the windows computed here from the input, independently of any flinkfn
 * code: every event is within its own partition's bound, so none may be late. A topic is read partition by partition in
 * chunks, so one partition runs far ahead of another; watermarks per partition keep every window exact.
 *
 * <p>Then a topic that grows from 2 to 4 partitions while the job runs, and a rescale: the same function runs at
 * parallelism 1, 2 and 1 again, stopped with a savepoint between stages
 * while input keeps arriving, and the output is exactly what the whole input gives. Every scenario's line (expected
 * windows, missing, extra) goes to {@code target/event-time-scenarios.md}.
 */
class EventTimeOnKafkaTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final Path REPO = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
    private static final String SIDECAR = REPO.resolve("packages/sidecar/bin/flinkfn-sidecar.js").toString();
    private static final Path TABLE = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
            .resolve("target/event-time-scenarios.md");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long BASE = 1_700_000_000_000L;

    private static Map<String, Path> artifacts;
    private static MiniCluster flink;
    private static final List<String> rows = new ArrayList<>();

    enum Kind { TUMBLING, SLIDING, SESSION }

    /**
     * One run. {@code silentPartitions}: partitions no key maps to (they never deliver); {@code laggingPartition}: its
     * events are {@code bound} older than the others' at the same position; {@code skewed}: partition 0's keys get five
     * times the events.
     */
    record Scenario(String name, int partitions, int parallelism, Kind kind, long lateness, Long idleTimeout,
            int silentPartitions, boolean lagging, boolean skewed) {}

    static final long BOUND = 500;
    static final int EVENTS = 3_000;

    @BeforeAll
    static void start() throws Exception {
        Process build = new ProcessBuilder("node", "packages/conformance/dist/build-cases.js").directory(REPO.toFile())
                .redirectErrorStream(true).start();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(build.waitFor()).as(output).isZero();
        JsonNode index = JSON.readTree(REPO.resolve("packages/conformance/.flinkfn/cases/index.json").toFile());
        artifacts = Map.of(
                "tumbling", Path.of(index.get("001-tumbling-basic").asText()),
                "sliding", Path.of(index.get("009-sliding-overlapping").asText()),
                "session", Path.of(index.get("013-session-gap").asText()));
        Configuration config = new Configuration();
        config.set(TaskManagerOptions.NUM_TASK_SLOTS, 4);
        flink = new MiniCluster(new MiniClusterConfiguration.Builder().setConfiguration(config)
                .setNumTaskManagers(1).setNumSlotsPerTaskManager(4).build());
        flink.start();
        rows.add("| scenario | expected windows | missing | extra |");
        rows.add("|---|---|---|---|");
    }

    @AfterAll
    static void stop() throws Exception {
        if (flink != null) {
            flink.close();
        }
        Files.createDirectories(TABLE.getParent());
        Files.writeString(TABLE, String.join("\n", rows) + "\n");
        System.out.println(String.join("\n", rows));
    }

    @Test
    void windowsAreExactOnTopicsOfSeveralPartitionsAtEveryParallelism() throws Exception {
        List<Scenario> scenarios = List.of(
                new Scenario("1 partition, p=1, tumbling", 1, 1, Kind.TUMBLING, 0, null, 0, false, false),
                new Scenario("1 partition, p=2, sliding (a subtask without partitions)", 1, 2, Kind.SLIDING, 0, null, 0, false, false),
                new Scenario("3 partitions, p=2, tumbling, skewed rates", 3, 2, Kind.TUMBLING, 0, null, 0, false, true),
                new Scenario("4 partitions, p=1, tumbling (the issue's case)", 4, 1, Kind.TUMBLING, 0, null, 0, false, false),
                new Scenario("4 partitions, p=3, session, allowed lateness 1 s", 4, 3, Kind.SESSION, 1_000, null, 0, false, false),
                new Scenario("4 partitions, p=2, tumbling, one partition lags by the bound", 4, 2, Kind.TUMBLING, 0, null, 0, true, false),
                new Scenario("4 partitions, p=2, tumbling, one idle partition, idleTimeout 1 s", 4, 2, Kind.TUMBLING, 0, 1_000L, 1, false, false),
                new Scenario("4 partitions, p=2, sliding, one idle partition, no idleTimeout", 4, 2, Kind.SLIDING, 0, null, 1, false, false),
                new Scenario("8 partitions, p=3, sliding, lagging partition, skewed", 8, 3, Kind.SLIDING, 0, null, 0, true, true),
                new Scenario("8 partitions, p=2, tumbling, allowed lateness 2 s", 8, 2, Kind.TUMBLING, 2_000, null, 0, false, false),
                new Scenario("3 partitions, p=3, session", 3, 3, Kind.SESSION, 0, null, 0, false, false));
        List<String> failures = new ArrayList<>();
        int run = 0;
        for (Scenario scenario : scenarios) {
            String name = "s" + (run++);
            Input input = generate(scenario);
            String in = name + "-in";
            String out = name + "-out";
            String late = name + "-late";
            KAFKA.createTopics(scenario.partitions(), in);
            KAFKA.createTopics(2, out, late, name + "-dead-letters");
            produce(in, input.events(), 0, input.events().size());
            JobID job = submit(scenario, manifest(scenario, name), name, scenario.parallelism(), OffsetsInitializer.latest(), null);
            flink.requestJobResult(job).get(5, TimeUnit.MINUTES);
            Map<String, List<Long>> expected = expectedWindows(scenario, input.events());
            Committed committed = readCommitted(out, expected.size());
            Comparison comparison = compare(expected, committed);
            long lateCount = countCommitted(late);
            rows.add("| " + scenario.name() + " | " + expected.size() + " | " + comparison.missing() + " | "
                    + comparison.extra() + " |");
            if (comparison.missing() != 0 || comparison.extra() != 0 || lateCount != 0 || !committed.keyedInOrder()) {
                failures.add(scenario.name() + ": " + comparison.missing() + " missing, " + comparison.extra() + " extra, "
                        + lateCount + " late events, keyed in order " + committed.keyedInOrder() + "; e.g. "
                        + comparison.examples());
            }
        }
        assertThat(failures).isEmpty();
    }

    /**
     * Rescaling 1 → 2 → 1 in the middle of a stream: each stage reads what has arrived, is stopped with a savepoint
     * once it has committed results, and the next stage restores it at the new parallelism while more input arrives.
     */
    @Test
    void rescalingOneTwoOneThroughSavepointsKeepsEveryWindowExact() throws Exception {
        Scenario scenario = new Scenario("rescale 1 → 2 → 1, 4 partitions, tumbling, allowed lateness 1 s", 4, 1,
                Kind.TUMBLING, 1_000, null, 0, false, false);
        String name = "rescale";
        Input input = generate(scenario);
        KAFKA.createTopics(4, name + "-in");
        KAFKA.createTopics(2, name + "-out", name + "-late", name + "-dead-letters");
        Manifest manifest = manifest(scenario, name);
        Path savepoints = Files.createTempDirectory("flinkfn-rescale");
        int total = input.events().size();
        int third = total / 3;

        produce(name + "-in", input.events(), 0, third);
        JobID first = submit(scenario, manifest, name, 1, null, null);
        awaitCommitted(name + "-out", 1);
        String savepoint1 = flink.stopWithSavepoint(first, savepoints.toUri().toString(), false, SavepointFormatType.CANONICAL)
                .get(2, TimeUnit.MINUTES);

        // Counted while no job runs: counted after the submit, a fast second stage could have committed all its
        // results already, and the wait below would never end (seen in CI).
        long before = countCommitted(name + "-out");
        produce(name + "-in", input.events(), third, 2 * third);
        JobID second = submit(scenario, manifest, name, 2, null, savepoint1);
        awaitCommitted(name + "-out", before + 1);
        String savepoint2 = flink.stopWithSavepoint(second, savepoints.toUri().toString(), false, SavepointFormatType.CANONICAL)
                .get(2, TimeUnit.MINUTES);

        // The restored splits keep the stopping offsets of the unbounded source, so the last stage is unbounded too:
        // one event per partition far after the input closes every window of the input, and the closers' own windows
        // stay open (they are left out of the comparison).
        produce(name + "-in", input.events(), 2 * third, total);
        long closingTime = input.events().stream().mapToLong(Event::ts).max().orElseThrow() + 10_000;
        List<Event> closers = new ArrayList<>();
        for (int k = 0; closers.size() < 4; k++) {
            String key = "close" + k;
            int partition = BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), 4);
            if (closers.stream().noneMatch(e -> e.partition() == partition)) {
                closers.add(new Event(-1 - closers.size(), key, closingTime, partition));
            }
        }
        produce(name + "-in", closers, 0, closers.size());
        JobID last = submit(scenario, manifest, name, 1, null, savepoint2);

        assertExactOutput(scenario, name, expectedWindows(scenario, input.events()), last);
    }

    /**
     * Partitions added to the topic while the job runs: the source discovers them, reads them from their beginning, and
     * until they deliver they hold the watermark back like any assigned partition. The input is in three phases: events
     * on the topic's 2 partitions; after the topic grows to 4, events only on the 2 new ones (later in event time, so
     * the old partitions hold the watermark and none of them can be late, whenever discovery happens); once the job has
     * read and committed the new partitions' offsets, events on all 4. Every window of the whole input must be exact.
     */
    @Test
    void partitionsAddedWhileRunningAreReadAndKeepEveryWindowExact() throws Exception {
        Scenario scenario = new Scenario("2 → 4 partitions while running, p=2, tumbling", 2, 2, Kind.TUMBLING, 0, null, 0,
                false, false);
        String name = "grow";
        KAFKA.createTopics(2, name + "-in");
        KAFKA.createTopics(2, name + "-out", name + "-late", name + "-dead-letters");
        Random random = new Random(7);
        // key k<i> always goes to partition i % 4; phase 1 uses partitions 0-1, phase 2 partitions 2-3, phase 3 all
        long[] phaseStart = {0, 10_000, 15_000, 25_000};
        int[][] phasePartitions = {{0, 1}, {2, 3}, {0, 1, 2, 3}};
        List<List<Event>> phases = new ArrayList<>();
        List<Event> events = new ArrayList<>();
        for (int phase = 0; phase < 3; phase++) {
            List<Event> inPhase = new ArrayList<>();
            for (long t = phaseStart[phase]; t < phaseStart[phase + 1]; t += 5) {
                int partition = phasePartitions[phase][random.nextInt(phasePartitions[phase].length)];
                String key = "k" + (partition + 4 * random.nextInt(3));
                Event event = new Event(events.size(), key, BASE + t + random.nextInt((int) (BOUND / 2)), partition);
                inPhase.add(event);
                events.add(event);
            }
            phases.add(inPhase);
        }
        List<Event> first = phases.get(0);
        List<Event> second = phases.get(1);
        List<Event> third = phases.get(2);

        produceToPartitions(name + "-in", first);
        JobID job = submit(scenario, manifest(scenario, name), name, 2, null, null);
        awaitCommitted(name + "-out", 1);
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            admin.createPartitions(Map.of(name + "-in", NewPartitions.increaseTo(4))).all().get(1, TimeUnit.MINUTES);
        }
        produceToPartitions(name + "-in", second);
        awaitGroupCommittedToEnd("flinkfn-" + name, name + "-in", 4);
        long closingTime = events.stream().mapToLong(Event::ts).max().orElseThrow() + 10_000;
        List<Event> closers = new ArrayList<>(third);
        for (int partition = 0; partition < 4; partition++) {
            closers.add(new Event(-1 - partition, "close" + partition, closingTime, partition));
        }
        produceToPartitions(name + "-in", closers);

        assertExactOutput(scenario, name, expectedWindows(scenario, events), job);
    }

    /**
     * Reads the committed output of a job that ran unbounded, cancels it, adds the scenario's line to the table, and
     * asserts the output is exactly the expected windows, nothing late, each key in one partition in order.
     */
    private static void assertExactOutput(Scenario scenario, String name, Map<String, List<Long>> expected, JobID job)
            throws Exception {
        Committed committed = readCommitted(name + "-out", expected.size());
        flink.cancelJob(job).get(1, TimeUnit.MINUTES);
        Comparison comparison = compare(expected, committed);
        rows.add("| " + scenario.name() + " | " + expected.size() + " | " + comparison.missing() + " | "
                + comparison.extra() + " |");
        assertThat(comparison.examples()).isEmpty();
        assertThat(countCommitted(name + "-late")).as("late events").isZero();
        assertThat(committed.keyedInOrder()).isTrue();
    }

    // --- the job ---------------------------------------------------------------------------------------------------

    private static Manifest manifest(Scenario scenario, String name) throws Exception {
        String kind = scenario.kind().name().toLowerCase();
        Manifest original = Artifact.read(artifacts.get(kind).toString(), null).manifest();
        Manifest.Assigner assigner = switch (scenario.kind()) {
            case TUMBLING -> new Manifest.Assigner("tumbling", 1_000L, null, 0L, null);
            case SLIDING -> new Manifest.Assigner("sliding", 1_000L, 250L, 0L, null);
            case SESSION -> new Manifest.Assigner("session", null, null, null, 300L);
        };
        Manifest.Window window = new Manifest.Window(assigner, new Manifest.Time("event", BOUND, scenario.idleTimeout()),
                scenario.lateness(), original.window().function(), original.window().merges());
        return new Manifest(original.manifestVersion(), original.protocolVersion(), original.sdkVersion(), original.name(),
                new Manifest.Source(name + "-in", "json", "earliest"),
                List.of(new Manifest.Sink("main", name + "-out", "ephemeral", 2)),
                new Manifest.SideOutputs(new Manifest.Topic(name + "-late", "ephemeral", 2),
                        new Manifest.Topic(name + "-dead-letters", "ephemeral", 2)),
                original.handle(), window, null, original.resources(), original.bundle());
    }

    /** The runtime job's graph, bounded at {@code stopAt} when given, restored from {@code savepoint} when given. */
    private static JobID submit(Scenario scenario, Manifest manifest, String deployment, int parallelism,
            OffsetsInitializer stopAt, String savepoint) throws Exception {
        String kind = scenario.kind().name().toLowerCase();
        String file = artifacts.get(kind).toString(); // a Path is not serializable
        String id = Artifact.read(file, null).id();
        SidecarClientFactory sidecar = () -> Sidecars.open(SidecarConfig.process(List.of("node", SIDECAR)), Path.of(file), id);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(parallelism);
        env.enableCheckpointing(500, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnectors kafka = new KafkaConnectors(KAFKA.bootstrapServers(), deployment, Map.of());
        FlinkfnRuntimeJob.define(env, manifest, kafka, kafka.source(manifest.source(), stopAt), sidecar,
                new BundleOptions(250, Duration.ofMillis(5), 4, Duration.ofSeconds(60)));
        StreamGraph graph = env.getStreamGraph();
        if (savepoint != null) {
            graph.setSavepointRestoreSettings(SavepointRestoreSettings.forPath(savepoint, false));
        }
        return flink.submitJob(graph).get(1, TimeUnit.MINUTES).getJobID();
    }

    // --- input and expected windows --------------------------------------------------------------------------------

    /** An event: id, key, timestamp, and the partition Kafka's default partitioner gives its key. */
    record Event(long id, String key, long ts, int partition) {}

    record Input(List<Event> events) {}

    /**
     * Events with keys spread over the partitions by Kafka's default partitioner. Event time advances 5 ms per event
     * with a pause of 1.5 s every 500 events (sessions end there), plus up to bound/2 of jitter, so within each partition
     * no event is more than bound/2 behind an earlier one.
     */
    static Input generate(Scenario scenario) {
        int keys = 24;
        Map<Integer, List<String>> keysByPartition = new TreeMap<>();
        for (int k = 0; k < 400 && keysByPartition.values().stream().mapToInt(List::size).sum() < keys; k++) {
            String key = "k" + k;
            int partition = BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), scenario.partitions());
            if (partition >= scenario.partitions() - scenario.silentPartitions()) {
                continue; // a silent partition: no key of the input maps to it
            }
            keysByPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(key);
        }
        List<String> weighted = new ArrayList<>();
        keysByPartition.forEach((partition, list) -> {
            for (String key : list) {
                for (int w = 0; w < (scenario.skewed() && partition == 0 ? 5 : 1); w++) {
                    weighted.add(key);
                }
            }
        });
        Random random = new Random(42);
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < EVENTS; i++) {
            String key = weighted.get(random.nextInt(weighted.size()));
            int partition = BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), scenario.partitions());
            long ts = BASE + i * 5L + (i / 500) * 1_500L + random.nextInt((int) (BOUND / 2));
            if (scenario.lagging() && partition == 0) {
                ts -= BOUND;
            }
            events.add(new Event(i, key, ts, partition));
        }
        return new Input(events);
    }

    /** "key@start-end" → sorted ids, from Flink's window rules (sessions merge when they touch), without flinkfn code. */
    static Map<String, List<Long>> expectedWindows(Scenario scenario, List<Event> events) {
        Map<String, List<Long>> windows = new TreeMap<>();
        switch (scenario.kind()) {
            case TUMBLING -> events.forEach(e -> {
                long start = Math.floorDiv(e.ts(), 1_000L) * 1_000L;
                add(windows, e.key(), start, start + 1_000, e.id());
            });
            case SLIDING -> events.forEach(e -> {
                for (long start = Math.floorDiv(e.ts(), 250L) * 250L; start > e.ts() - 1_000; start -= 250) {
                    add(windows, e.key(), start, start + 1_000, e.id());
                }
            });
            case SESSION -> {
                Map<String, List<Event>> byKey = new TreeMap<>();
                events.forEach(e -> byKey.computeIfAbsent(e.key(), k -> new ArrayList<>()).add(e));
                byKey.forEach((key, list) -> {
                    list.sort((a, b) -> Long.compare(a.ts(), b.ts()));
                    List<Long> ids = new ArrayList<>();
                    long start = list.get(0).ts();
                    long end = start + 300;
                    for (Event e : list) {
                        if (e.ts() > end) {
                            for (long id : ids) {
                                add(windows, key, start, end, id);
                            }
                            ids.clear();
                            start = e.ts();
                        }
                        ids.add(e.id());
                        end = Math.max(end, e.ts() + 300);
                    }
                    for (long id : ids) {
                        add(windows, key, start, end, id);
                    }
                });
            }
        }
        windows.values().forEach(ids -> ids.sort(Long::compare));
        return windows;
    }

    private static void add(Map<String, List<Long>> windows, String key, long start, long end, long id) {
        windows.computeIfAbsent(key + "@" + start + "-" + end, w -> new ArrayList<>()).add(id);
    }

    // --- Kafka -----------------------------------------------------------------------------------------------------

    /** Events [from, to) with their key as the Kafka key and no explicit partition: Kafka's default partitioner. */
    private static void produce(String topic, List<Event> events, int from, int to) {
        Properties properties = KAFKA.clientProperties();
        properties.put("key.serializer", ByteArraySerializer.class.getName());
        properties.put("value.serializer", ByteArraySerializer.class.getName());
        properties.put("acks", "all");
        properties.put("linger.ms", "5");
        List<Future<?>> sent = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
            for (Event e : events.subList(from, to)) {
                String json = "{\"id\":" + e.id() + ",\"key\":\"" + e.key() + "\",\"ts\":" + e.ts() + "}";
                sent.add(producer.send(new ProducerRecord<>(topic, e.key().getBytes(StandardCharsets.UTF_8),
                        json.getBytes(StandardCharsets.UTF_8))));
            }
            producer.flush();
        }
        for (int i = 0; i < sent.size(); i++) {
            RecordMetadata metadata;
            try {
                metadata = (RecordMetadata) sent.get(i).get();
            } catch (Exception e) {
                throw new IllegalStateException("producing the test input failed, so the run proves nothing: " + e, e);
            }
            assertThat(metadata.partition()).as("Kafka's partitioner and the test agree")
                    .isEqualTo(events.get(from + i).partition());
        }
    }

    /** Events to the partition each names (a topic that grows cannot use the key's default partition). */
    private static void produceToPartitions(String topic, List<Event> events) throws Exception {
        Properties properties = KAFKA.clientProperties();
        properties.put("key.serializer", ByteArraySerializer.class.getName());
        properties.put("value.serializer", ByteArraySerializer.class.getName());
        properties.put("acks", "all");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
            List<Future<RecordMetadata>> sent = new ArrayList<>();
            for (Event e : events) {
                String json = "{\"id\":" + e.id() + ",\"key\":\"" + e.key() + "\",\"ts\":" + e.ts() + "}";
                sent.add(producer.send(new ProducerRecord<>(topic, e.partition(), e.key().getBytes(StandardCharsets.UTF_8),
                        json.getBytes(StandardCharsets.UTF_8))));
            }
            producer.flush();
            for (Future<RecordMetadata> future : sent) {
                future.get(1, TimeUnit.MINUTES);
            }
        }
    }

    /** Until the job's consumer group has committed every one of the topic's partitions up to its end offset. */
    private static void awaitGroupCommittedToEnd(String group, String topic, int partitions) throws Exception {
        long deadline = System.currentTimeMillis() + 300_000;
        try (Admin admin = Admin.create(KAFKA.clientProperties())) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < partitions; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            Map<TopicPartition, Long> ends = new HashMap<>();
            admin.listOffsets(latest).all().get(1, TimeUnit.MINUTES).forEach((tp, info) -> ends.put(tp, info.offset()));
            for (;;) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(1, TimeUnit.MINUTES);
                boolean done = ends.entrySet().stream().allMatch(end -> committed.get(end.getKey()) != null
                        && committed.get(end.getKey()).offset() >= end.getValue());
                if (done) {
                    return;
                }
                assertThat(System.currentTimeMillis()).as(group + " committed " + topic + " up to " + ends + " within 5 minutes; it has "
                        + committed).isLessThan(deadline);
                Thread.sleep(500);
            }
        }
    }

    /** What a read_committed consumer sees: windows by "key@start-end", and whether each key is in one partition, in order. */
    record Committed(Map<String, List<List<Long>>> windows, boolean keyedInOrder) {}

    private static Committed readCommitted(String topic, int expectedWindows) throws Exception {
        Map<String, List<List<Long>>> windows = new TreeMap<>();
        Map<String, Integer> partitionOfKey = new HashMap<>();
        Map<String, Long> lastEndOfKey = new HashMap<>();
        boolean keyedInOrder = true;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(topic)) {
            long deadline = System.currentTimeMillis() + 60_000;
            int quietPolls = 0;
            int received = 0;
            while (System.currentTimeMillis() < deadline && quietPolls < 4) {
                var polled = consumer.poll(Duration.ofMillis(500));
                quietPolls = polled.isEmpty() && received >= expectedWindows ? quietPolls + 1 : 0;
                for (ConsumerRecord<byte[], byte[]> record : polled) {
                    received++;
                    JsonNode result = JSON.readTree(record.value());
                    String key = result.get("key").asText();
                    long end = result.get("end").asLong();
                    List<Long> ids = new ArrayList<>();
                    result.get("ids").forEach(n -> ids.add(n.asLong()));
                    windows.computeIfAbsent(key + "@" + result.get("start").asLong() + "-" + end, w -> new ArrayList<>()).add(ids);
                    keyedInOrder &= key.equals(new String(record.key(), StandardCharsets.UTF_8));
                    keyedInOrder &= partitionOfKey.computeIfAbsent(key, k -> record.partition()) == record.partition();
                    keyedInOrder &= lastEndOfKey.getOrDefault(key, Long.MIN_VALUE) <= end;
                    lastEndOfKey.put(key, end);
                }
            }
        }
        return new Committed(windows, keyedInOrder);
    }

    private static long countCommitted(String topic) {
        long count = 0;
        try (KafkaConsumer<byte[], byte[]> consumer = consumer(topic)) {
            int quietPolls = 0;
            while (quietPolls < 2) {
                int n = consumer.poll(Duration.ofMillis(500)).count();
                count += n;
                quietPolls = n == 0 ? quietPolls + 1 : 0;
            }
        }
        return count;
    }

    private static void awaitCommitted(String topic, long atLeast) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 300_000;
        while (countCommitted(topic) < atLeast) {
            assertThat(System.currentTimeMillis()).as("results committed in " + topic + " within 5 minutes").isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String topic) {
        Properties properties = KAFKA.clientProperties();
        properties.put("group.id", "verify-" + topic + "-" + System.nanoTime());
        properties.put("isolation.level", "read_committed");
        properties.put("auto.offset.reset", "earliest");
        properties.put("key.deserializer", ByteArrayDeserializer.class.getName());
        properties.put("value.deserializer", ByteArrayDeserializer.class.getName());
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties);
        consumer.subscribe(List.of(topic));
        return consumer;
    }

    /** Missing: expected windows not committed with exactly their events; extra: anything else committed. */
    record Comparison(int missing, int extra, List<String> examples) {}

    static Comparison compare(Map<String, List<Long>> expected, Committed committed) {
        int missing = 0;
        int extra = 0;
        List<String> examples = new ArrayList<>();
        for (Map.Entry<String, List<Long>> window : expected.entrySet()) {
            List<List<Long>> got = committed.windows().getOrDefault(window.getKey(), List.of());
            if (!got.contains(window.getValue())) {
                missing++;
                if (examples.size() < 5) {
                    examples.add("missing " + window.getKey() + " " + window.getValue() + " (got " + got + ")");
                }
            }
        }
        for (Map.Entry<String, List<List<Long>>> window : committed.windows().entrySet()) {
            List<Long> want = expected.get(window.getKey());
            // Every result but one exact firing of an expected window is extra (wrong events, or a duplicate).
            int surplus = window.getValue().size() - (want != null && window.getValue().contains(want) ? 1 : 0);
            extra += surplus;
            if (surplus > 0 && examples.size() < 10) {
                examples.add("extra " + window.getKey() + " " + window.getValue());
            }
        }
        return new Comparison(missing, extra, examples);
    }
}
