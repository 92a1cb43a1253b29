package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An async handler on a MiniCluster, through the real sidecar, calling a real HTTP server on loopback started here:
 * examples/order-enrichment enriches every order with its customer. The server answers after a few milliseconds,
 * says 503 once (retried), 404 for customer c0 (a dead letter), and never answers for customer "silent" (a timeout
 * dead letter after the function's 10 s). The expected output is computed here from the customer rule alone.
 */
class AsyncHandlerOnFlinkTest {

    @RegisterExtension
    static final MiniClusterExtension FLINK = new MiniClusterExtension(
            new MiniClusterResourceConfiguration.Builder().setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static final Path REPO = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
    private static final String SIDECAR = REPO.resolve("packages/sidecar/bin/flinkfn-sidecar.js").toString();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ORDERS = 3_000;

    private static HttpServer server;
    private static final AtomicInteger REQUESTS = new AtomicInteger();
    private static final AtomicInteger OPEN = new AtomicInteger();
    private static final AtomicInteger MAX_OPEN = new AtomicInteger();
    private static final Set<String> BUSY_ONCE = ConcurrentHashMap.newKeySet();
    private static Path artifact;

    @BeforeAll
    static void buildTheExampleAndStartTheCustomerApi() throws Exception {
        Process build = new ProcessBuilder("node", "packages/cli/bin/flinkfn.js", "build", "--root", "examples/order-enrichment", "--json")
                .directory(REPO.toFile()).redirectErrorStream(true).start();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(build.waitFor()).as(output).isZero();
        artifact = Path.of(JSON.readTree(output.substring(output.indexOf('{'))).get("file").asText());

        BUSY_ONCE.add("c3");
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
        server.setExecutor(Executors.newFixedThreadPool(128));
        server.createContext("/customers/", AsyncHandlerOnFlinkTest::answer);
        server.start();
    }

    @AfterAll
    static void stopTheCustomerApi() {
        if (server != null) {
            server.stop(0);
        }
    }

    private static void answer(HttpExchange exchange) throws IOException {
        REQUESTS.incrementAndGet();
        MAX_OPEN.accumulateAndGet(OPEN.incrementAndGet(), Math::max);
        try {
            String id = exchange.getRequestURI().getPath().substring("/customers/".length());
            if (id.equals("silent")) {
                return; // never answered: the handler's timeout aborts the request
            }
            Thread.sleep(2 + Math.abs(id.hashCode()) % 5);
            if (BUSY_ONCE.remove(id)) {
                respond(exchange, 503, "{}");
                return;
            }
            JsonNode customer = customer(id);
            respond(exchange, customer == null ? 404 : 200, customer == null ? "{}" : customer.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            OPEN.decrementAndGet();
        }
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("content-type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    /** The customer rule of examples/order-enrichment/src/customers.ts: c1 … (every seventh a VIP); c0 does not exist. */
    private static ObjectNode customer(String id) {
        if (!id.matches("c\\d+") || Integer.parseInt(id.substring(1)) == 0) {
            return null;
        }
        int n = Integer.parseInt(id.substring(1));
        ObjectNode customer = JSON.createObjectNode();
        customer.put("id", id).put("name", "Customer " + n).put("tier", n % 7 == 0 ? "vip" : "regular");
        return customer;
    }

    private static ObjectNode order(int i) {
        ObjectNode order = JSON.createObjectNode();
        order.put("orderId", i).put("customerId", i == ORDERS / 2 ? "silent" : "c" + (i * 7 + 3) % 50)
                .put("cents", 500 + (i * 131) % 9_500).put("ts", 1_700_000_000_000L + i * 1_000L);
        return order;
    }

    @Test
    void ordersAreEnrichedInInputOrderFailuresAndTimeoutsAreDeadLettersAndNothingIsLostOrRepeated() throws Exception {
        Artifact loaded = Artifact.read(artifact.toString(), null);
        Manifest manifest = loaded.manifest();
        assertThat(manifest.asyncOrDefaults().capacity()).isEqualTo(100);
        String url = "http://127.0.0.1:" + server.getAddress().getPort();
        String file = artifact.toString();
        String id = loaded.id();
        // The API's address is the function's customersUrl setting, handed to the sidecar in HELLO.
        SidecarClientFactory sidecar = () -> Sidecars.open(
                SidecarConfig.process(List.of("node", SIDECAR)), Path.of(file), id, java.util.Map.of("customersUrl", url));

        List<byte[]> input = new ArrayList<>();
        for (int i = 1; i <= ORDERS; i++) {
            input.add(JSON.writeValueAsBytes(order(i)));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(1); // one subtask: ordered results come out in input order
        DataStream<SourceRecord> records = env.fromData(input, TypeInformation.of(byte[].class))
                .map(bytes -> SourceRecord.of(0, bytes)).returns(TypeInformation.of(SourceRecord.class));
        FunctionPipeline.Streams streams = FunctionPipeline.build(records, manifest, sidecar, BundleOptions.DEFAULTS, s -> s);
        List<String> sinks = manifest.sinks().stream().map(Manifest.Sink::name).toList();
        DataStream<String> tagged = streams.results()
                .map(r -> sinks.get(r.sinkIndex) + "\t" + new String(r.payload, StandardCharsets.UTF_8)).returns(Types.STRING)
                .union(streams.deadLetters().map(v -> "dead-letters\t" + new String(v, StandardCharsets.UTF_8)).returns(Types.STRING));

        List<String> lines = new ArrayList<>();
        long started = System.nanoTime();
        JobClient job;
        try (CloseableIterator<String> collected = tagged.collectAsync()) {
            job = env.executeAsync("async enrichment");
            collected.forEachRemaining(lines::add);
        }
        job.getJobExecutionResult().get();
        double seconds = (System.nanoTime() - started) / 1e9;

        List<JsonNode> enriched = new ArrayList<>();
        List<JsonNode> vip = new ArrayList<>();
        List<JsonNode> deadLetters = new ArrayList<>();
        for (String line : lines) {
            int tab = line.indexOf('\t');
            JsonNode value = JSON.readTree(line.substring(tab + 1));
            switch (line.substring(0, tab)) {
                case "enriched" -> enriched.add(value);
                case "vip" -> vip.add(value);
                default -> deadLetters.add(withoutContext(value));
            }
        }
        List<JsonNode> expectedEnriched = new ArrayList<>();
        List<JsonNode> expectedVip = new ArrayList<>();
        List<JsonNode> expectedDead = new ArrayList<>();
        for (int i = 1; i <= ORDERS; i++) {
            ObjectNode order = order(i);
            String customerId = order.get("customerId").asText();
            ObjectNode customer = customer(customerId);
            if (customerId.equals("silent")) {
                expectedDead.add(JSON.createObjectNode().put("stage", "handle").put("error", "timed out after 10000 ms").set("event", order));
            } else if (customer == null) {
                expectedDead.add(JSON.createObjectNode().put("stage", "handle").put("error", "Error: customer c0: HTTP 404").set("event", order));
            } else {
                ObjectNode result = order.deepCopy().put("customer", customer.get("name").asText()).put("tier", customer.get("tier").asText());
                (customer.get("tier").asText().equals("vip") ? expectedVip : expectedEnriched).add(result);
            }
        }
        assertThat(enriched).containsExactlyElementsOf(expectedEnriched);
        assertThat(vip).containsExactlyElementsOf(expectedVip);
        assertThat(deadLetters).containsExactlyInAnyOrderElementsOf(expectedDead);
        assertThat(BUSY_ONCE).as("the 503 was answered, and the order retried").isEmpty();
        assertThat(MAX_OPEN.get()).as("at most capacity requests at once").isLessThanOrEqualTo(100);
        System.out.printf("async enrichment on a MiniCluster: %d orders, %d HTTP requests, at most %d open at once, %.1f s"
                + " (one order waits for its 10 s timeout, and ordered results behind it)%n", ORDERS, REQUESTS.get(), MAX_OPEN.get(), seconds);
    }

    /**
     * A dead letter without what varies with the code's layout and the clock: the time the job wrote it (which it must
     * have) and the handler's stack (which a thrown error must have, in the example's handler.ts).
     */
    private static JsonNode withoutContext(JsonNode value) {
        ObjectNode letter = (ObjectNode) value.deepCopy();
        assertThat(letter.path("at").isTextual()).as("a dead letter says when it was written: %s", value).isTrue();
        letter.remove("at");
        if (letter.path("error").asText().startsWith("Error:")) {
            assertThat(letter.path("stack").path(0).asText()).as("a thrown error's stack: %s", value)
                    .matches("handle \\(src/handler\\.ts:\\d+:\\d+\\)");
        }
        letter.remove("stack");
        return letter;
    }
}
