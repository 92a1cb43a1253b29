package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import dev.flinkfn.runtime.testing.KafkaBrokerExtension;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Exactly-once with an async handler: 100,000 orders from a real Kafka broker go through examples/order-enrichment
 * (every order an HTTP request to a server on loopback, up to 100 in flight per subtask) into transactional Kafka
 * sinks, while the sidecars are SIGKILLed, or a task fails, three times with requests in flight. What a read_committed
 * consumer sees must be every order enriched exactly once: the stage drains in-flight work before every barrier, so a
 * restore re-reads from the checkpoint what was in flight and nothing was committed twice.
 */
class AsyncExactlyOnceFaultInjectionTest {

    @RegisterExtension
    static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(4).build());

    private static final int ORDERS = 100_000;
    private static final Path REPO = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
    private static final String SIDECAR = REPO.resolve("packages/sidecar/bin/flinkfn-sidecar.js").toString();
    private static final ObjectMapper JSON = new ObjectMapper();

    static final Set<Long> FIRED = ConcurrentHashMap.newKeySet();
    static final AtomicLong SEEN = new AtomicLong();
    private static final AtomicInteger OPEN = new AtomicInteger();
    private static final AtomicInteger MAX_OPEN = new AtomicInteger();
    private static final AtomicLong REQUESTS = new AtomicLong();

    private static HttpServer server;
    private static Path artifact;

    @BeforeAll
    static void buildTheExampleAndStartTheCustomerApi() throws Exception {
        Process build = new ProcessBuilder("node", "packages/cli/bin/flinkfn.js", "build", "--root", "examples/order-enrichment", "--json")
                .directory(REPO.toFile()).redirectErrorStream(true).start();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(build.waitFor()).as(output).isZero();
        artifact = Path.of(JSON.readTree(output.substring(output.indexOf('{'))).get("file").asText());
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 400);
        server.setExecutor(Executors.newFixedThreadPool(256));
        server.createContext("/customers/", AsyncExactlyOnceFaultInjectionTest::answer);
        server.start();
    }

    @AfterAll
    static void stopTheCustomerApi() {
        if (server != null) {
            server.stop(0);
        }
    }

    @BeforeEach
    void resetFaults() {
        FIRED.clear();
        SEEN.set(0);
        REQUESTS.set(0);
        MAX_OPEN.set(0);
    }

    /** Customer {@code c<n>} after 1–3 ms: "Customer n", a VIP when n is a multiple of 7 (examples' customers.ts). */
    private static void answer(HttpExchange exchange) throws IOException {
        REQUESTS.incrementAndGet();
        MAX_OPEN.accumulateAndGet(OPEN.incrementAndGet(), Math::max);
        try {
            int n = Integer.parseInt(exchange.getRequestURI().getPath().substring("/customers/c".length()));
            Thread.sleep(1 + n % 3);
            byte[] body = ("{\"id\":\"c" + n + "\",\"name\":\"Customer " + n + "\",\"tier\":\"" + (n % 7 == 0 ? "vip" : "regular") + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            exchange.close();
            OPEN.decrementAndGet();
        }
    }

    @Test
    void killingTheSidecarsWithRequestsInFlightLosesAndDuplicatesNothing() throws Exception {
        Map<Long, String> committed = runWithFaults("async-kill", ExactlyOnceFaultInjectionTest.Fault.KILL_SIDECARS);
        assertThat(FIRED).hasSize(3);
        assertThat(missing(committed)).isEmpty();
        assertThat(committed).hasSize(ORDERS);
    }

    @Test
    void failingATaskWithRequestsInFlightLosesAndDuplicatesNothing() throws Exception {
        Map<Long, String> committed = runWithFaults("async-fail", ExactlyOnceFaultInjectionTest.Fault.THROW);
        assertThat(FIRED).hasSize(3);
        assertThat(missing(committed)).isEmpty();
        assertThat(committed).hasSize(ORDERS);
    }

    private Map<Long, String> runWithFaults(String run, ExactlyOnceFaultInjectionTest.Fault fault) throws Exception {
        String input = "orders-" + run;
        String enriched = "enriched-" + run;
        String vip = "vip-" + run;
        KAFKA.createTopics(2, input, enriched, vip, "dead-letters-" + run);
        produce(input);

        Artifact loaded = Artifact.read(artifact.toString(), null);
        Manifest original = loaded.manifest();
        Manifest manifest = new Manifest(original.manifestVersion(), original.protocolVersion(), original.sdkVersion(),
                original.name(), new Manifest.Source(input, "json", "earliest"),
                List.of(new Manifest.Sink("enriched", enriched, "ephemeral", 2), new Manifest.Sink("vip", vip, "ephemeral", 2)),
                new Manifest.SideOutputs(null, new Manifest.Topic("dead-letters-" + run, "ephemeral", 1)),
                original.handle(), original.window(), 2, original.resources(), original.bundle(), null, original.async());

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
        String url = "http://127.0.0.1:" + server.getAddress().getPort();
        FunctionPipeline.Streams streams = FunctionPipeline.build(records, manifest,
                () -> Sidecars.open(SidecarConfig.process(List.of("node", SIDECAR)), Path.of(file), id,
                        java.util.Map.of("customersUrl", url)),
                new BundleOptions(500, Duration.ofMillis(5), 4, Duration.ofSeconds(30)), s -> s);
        kafka.attachSinks(manifest, streams);
        long started = System.nanoTime();
        env.execute("async exactly-once " + run);
        System.out.printf("async exactly-once (%s): %d orders, %d HTTP requests (retries after faults included), at most %d open"
                + " at once, %.1f s%n", run, ORDERS, REQUESTS.get(), MAX_OPEN.get(), (System.nanoTime() - started) / 1e9);
        Map<Long, String> committed = readCommitted(enriched, null);
        readCommitted(vip, committed);
        Map<Long, String> deadLetters = new TreeMap<>();
        readCommitted("dead-letters-" + run, deadLetters);
        assertThat(deadLetters.values()).as("dead letters (the customer API never fails)").isEmpty();
        return committed;
    }

    /** Kills this JVM's sidecar processes, or throws, when the input count crosses 20k, 50k and 80k (once each). */
    static final class FaultInjector implements MapFunction<SourceRecord, SourceRecord> {
        private static final long serialVersionUID = 1L;
        private final ExactlyOnceFaultInjectionTest.Fault fault;

        FaultInjector(ExactlyOnceFaultInjectionTest.Fault fault) {
            this.fault = fault;
        }

        @Override
        public SourceRecord map(SourceRecord value) {
            long seen = SEEN.incrementAndGet();
            for (long at : new long[] {20_000, 50_000, 80_000}) {
                if (seen >= at && FIRED.add(at)) {
                    System.out.printf("fault at %d with %d HTTP requests open%n", at, OPEN.get());
                    if (fault == ExactlyOnceFaultInjectionTest.Fault.THROW) {
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

    private static String order(long i) {
        return "{\"orderId\":" + i + ",\"customerId\":\"c" + (1 + i % 49) + "\",\"cents\":" + (500 + i % 9_500) + ",\"ts\":" + i + "}";
    }

    /** The enriched order, as the handler writes it (JSON.stringify keeps the order's fields first). */
    private static String enrichedOrder(long i) {
        long n = 1 + i % 49;
        return order(i).substring(0, order(i).length() - 1) + ",\"customer\":\"Customer " + n + "\",\"tier\":\""
                + (n % 7 == 0 ? "vip" : "regular") + "\"}";
    }

    private static void produce(String topic) {
        Properties properties = KAFKA.clientProperties();
        properties.put("key.serializer", ByteArraySerializer.class.getName());
        properties.put("value.serializer", ByteArraySerializer.class.getName());
        properties.put("linger.ms", "5");
        properties.put("acks", "all");
        properties.put("max.in.flight.requests.per.connection", "1");
        properties.put("delivery.timeout.ms", "60000");
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>(ORDERS);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(properties)) {
            for (long i = 0; i < ORDERS; i++) {
                sent.add(producer.send(new ProducerRecord<>(topic, (int) (i % 2), null, order(i).getBytes(StandardCharsets.UTF_8))));
            }
            producer.flush();
        }
        for (java.util.concurrent.Future<?> future : sent) {
            try {
                future.get();
            } catch (Exception e) {
                throw new IllegalStateException("producing the test input failed, so the run proves nothing: " + e, e);
            }
        }
    }

    /** Order ids missing from what was committed, or committed with the wrong content (at most 30 of each). */
    private static List<String> missing(Map<Long, String> committed) {
        List<String> problems = new ArrayList<>();
        for (long i = 0; i < ORDERS && problems.size() < 30; i++) {
            String got = committed.get(i);
            if (got == null) {
                problems.add("order " + i + " missing");
            } else if (!got.equals(enrichedOrder(i))) {
                problems.add("order " + i + ": " + got + " instead of " + enrichedOrder(i));
            }
        }
        return problems;
    }

    /** orderId → committed value, read_committed; fails on an order committed twice. */
    private static Map<Long, String> readCommitted(String topic, Map<Long, String> into) throws Exception {
        Properties properties = KAFKA.clientProperties();
        properties.put("group.id", "verify-" + topic);
        properties.put("isolation.level", "read_committed");
        properties.put("auto.offset.reset", "earliest");
        properties.put("key.deserializer", ByteArrayDeserializer.class.getName());
        properties.put("value.deserializer", ByteArrayDeserializer.class.getName());
        Map<Long, String> orders = into != null ? into : new TreeMap<>();
        List<Long> duplicates = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(properties)) {
            consumer.subscribe(List.of(topic));
            long deadline = System.currentTimeMillis() + 120_000;
            int quietPolls = 0;
            int read = 0;
            long joinedBy = System.currentTimeMillis() + 15_000;
            // The job has finished: stop once the topic was read (or, empty, once the group had time to join) and
            // stays quiet.
            while (System.currentTimeMillis() < deadline && quietPolls < 10) {
                var polled = consumer.poll(Duration.ofMillis(500));
                read += polled.count();
                boolean settled = read > 0 || System.currentTimeMillis() > joinedBy;
                quietPolls = polled.isEmpty() && settled ? quietPolls + 1 : 0;
                for (ConsumerRecord<byte[], byte[]> record : polled) {
                    String value = new String(record.value(), StandardCharsets.UTF_8);
                    JsonNode order = JSON.readTree(value);
                    JsonNode orderId = order.has("orderId") ? order.get("orderId") : order.path("event").path("orderId");
                    if (orders.put(orderId.asLong(), value) != null) {
                        duplicates.add(orderId.asLong());
                    }
                }
            }
        }
        assertThat(duplicates).as("orders committed more than once").isEmpty();
        return orders;
    }
}
