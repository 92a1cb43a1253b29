package dev.flinkfn.runtime.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * A real single-node Apache Kafka 4.3 broker (KRaft, broker + controller in one JVM) for the tests of one class.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();
 * ...
 * props.put("bootstrap.servers", KAFKA.bootstrapServers());
 * }</pre>
 *
 * <p>It must be registered on a {@code static} field: the broker is started in {@code beforeAll} and stopped in
 * {@code afterAll}. The broker is started by the repository's local stack,
 * {@code node packages/local-stack/kafka.mjs start --data <dir> --port 0 --json}, so the broker configuration
 * ({@code server.properties}), storage formatting and readiness check live in one place. Needs {@code node}
 * (20+), {@code java} and {@code mvn} on the PATH; the broker classpath is resolved by Maven once and cached in
 * {@code target/kafka-broker.classpath}.
 *
 * <p>The data directory is {@code target/kafka-test-<TestClass>-<random>}; it is deleted after the class unless a
 * test failed (then its {@code broker.log} is kept for inspection).
 *
 * <p>System properties: {@code flinkfn.repoRoot} (default: the module's {@code ../..}), {@code flinkfn.node}
 * (default {@code node}), {@code flinkfn.kafka.overrides} (extra broker properties, {@code k=v,k=v}),
 * {@code flinkfn.kafka.keepData=true} (never delete the data directory).
 */
public final class KafkaBrokerExtension implements BeforeAllCallback, AfterAllCallback, TestWatcher {

    private static final Duration START_TIMEOUT = Duration.ofMinutes(4);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final Map<String, String> brokerProperties = new LinkedHashMap<>();
    private final Map<String, String> saslUsers = new LinkedHashMap<>();

    private Path repoRoot;
    private Path script;
    private Path dataDir;
    private String bootstrapServers;
    private SecureListeners secure;
    private long pid = -1;
    private long startMillis = -1;
    private volatile boolean anyTestFailed;
    private Thread shutdownHook;

    public KafkaBrokerExtension() {}

    /** Adds a {@code server.properties} entry (wins over the local stack's defaults). */
    public KafkaBrokerExtension withBrokerProperty(String key, String value) {
        brokerProperties.put(key, value);
        return this;
    }

    /**
     * Adds a SASL user (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512): the broker then also has SASL_PLAINTEXT, SASL_SSL and
     * SSL listeners and a CA made for it ({@code kafka.mjs --user}); see {@link #secureListeners()}.
     */
    public KafkaBrokerExtension withSaslUser(String name, String password) {
        saslUsers.put(name, password);
        return this;
    }

    /** Where the secured listeners are, and the CA certificate (PEM) that clients trust. */
    public record SecureListeners(String saslPlaintext, String saslSsl, String ssl, Path caFile) {}

    /** The secured listeners; only with {@link #withSaslUser}. */
    public SecureListeners secureListeners() {
        bootstrapServers();
        if (secure == null) {
            throw new IllegalStateException("the broker has no secured listeners: add a user with withSaslUser(name, password)");
        }
        return secure;
    }

    /** {@code host:port} of the broker's PLAINTEXT listener, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        if (bootstrapServers == null) {
            throw new IllegalStateException(
                    "the Kafka broker is not running: register KafkaBrokerExtension on a static field"
                            + " (@RegisterExtension static final KafkaBrokerExtension ...)");
        }
        return bootstrapServers;
    }

    /** The broker's data directory (server.properties, broker.log, kraft/). */
    public Path dataDir() {
        return dataDir;
    }

    /** Wall time of the broker start, in milliseconds, as measured by the local stack. */
    public long startMillis() {
        return startMillis;
    }

    /** Properties with {@code bootstrap.servers} set, as a base for clients. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return p;
    }

    /** Creates topics with the given partition count (replication factor 1) and waits for them. */
    public void createTopics(int partitions, String... names) {
        try (Admin admin = Admin.create(clientProperties())) {
            List<NewTopic> topics = new ArrayList<>();
            for (String name : names) {
                topics.add(new NewTopic(name, partitions, (short) 1));
            }
            admin.createTopics(topics).all().get(60, TimeUnit.SECONDS);
            awaitLeaders(admin, List.of(names));
        } catch (ExecutionException e) {
            throw new IllegalStateException("creating topics " + List.of(names) + " failed", e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException("creating topics " + List.of(names) + " failed", e);
        }
    }

    /**
     * Waits until every partition has a leader. Producing into a partition whose leader is not elected yet gets
     * NOT_LEADER_OR_FOLLOWER, and an idempotent producer's retries can then loop on OUT_OF_ORDER_SEQUENCE_NUMBER.
     */
    private static void awaitLeaders(Admin admin, List<String> names) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            boolean ready;
            try {
                ready = admin.describeTopics(names).allTopicNames().get(30, TimeUnit.SECONDS).values().stream()
                        .flatMap(d -> d.partitions().stream())
                        .allMatch(p -> p.leader() != null && p.leader().id() >= 0);
            } catch (ExecutionException e) {
                // Right after creation the broker's metadata may not list a topic yet: ask again.
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)) {
                    throw e;
                }
                ready = false;
            }
            if (ready) {
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("partitions of " + names + " have no leader after 60 s");
            }
            Thread.sleep(50);
        }
    }

    // ------------------------------------------------------------------------------------------------------

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        Path basedir = Paths.get(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        repoRoot = Paths.get(System.getProperty("flinkfn.repoRoot", basedir.resolve("../..").toString()))
                .toAbsolutePath()
                .normalize();
        script = repoRoot.resolve("packages/local-stack/kafka.mjs");
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException("local stack not found: " + script + " (set -Dflinkfn.repoRoot)");
        }
        Path target = basedir.resolve("target");
        Files.createDirectories(target);
        String name = context.getTestClass().map(Class::getSimpleName).orElse("kafka");
        dataDir = target.resolve("kafka-test-" + name + "-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectories(dataDir);

        List<String> cmd = new ArrayList<>(List.of(
                System.getProperty("flinkfn.node", "node"),
                script.toString(),
                "start",
                "--data", dataDir.toString(),
                "--port", "0",
                "--classpath-file", target.resolve("kafka-broker.classpath").toString(),
                "--timeout", Long.toString(START_TIMEOUT.toSeconds()),
                "--json"));
        Map<String, String> props = new LinkedHashMap<>(parseOverrides(System.getProperty("flinkfn.kafka.overrides", "")));
        props.putAll(brokerProperties);
        props.forEach((k, v) -> {
            cmd.add("--set");
            cmd.add(k + "=" + v);
        });
        saslUsers.forEach((user, password) -> {
            cmd.add("--user");
            cmd.add(user + ":" + password);
        });
        String repoLocal = System.getProperty("maven.repo.local");
        if (repoLocal != null && !repoLocal.isBlank()) {
            cmd.add("--maven-repo");
            cmd.add(repoLocal);
        }

        // stdout: one JSON line; stderr (progress, Maven errors) goes to a file, not into Surefire's channel
        Path out = dataDir.resolve("start.out");
        Path err = dataDir.resolve("start.err");
        ProcessResult r = run(cmd, repoRoot, out, err, START_TIMEOUT.plusSeconds(30));
        if (r.exitCode != 0) {
            throw new IllegalStateException("starting the Kafka broker failed (exit " + r.exitCode + "): "
                    + String.join(" ", cmd) + "\n" + r.stderr + brokerLogTail());
        }
        bootstrapServers = jsonString(r.stdout, "bootstrap")
                .orElseThrow(() -> new IllegalStateException("no bootstrap in kafka.mjs output: " + r.stdout));
        pid = jsonNumber(r.stdout, "pid").orElse(-1L);
        if (!saslUsers.isEmpty()) {
            java.util.function.Function<String, String> field = key -> jsonString(r.stdout, key)
                    .orElseThrow(() -> new IllegalStateException("no " + key + " in kafka.mjs output: " + r.stdout));
            secure = new SecureListeners(field.apply("saslPlaintext"), field.apply("saslSsl"), field.apply("ssl"),
                    Path.of(field.apply("caFile")));
        }
        startMillis = jsonNumber(r.stdout, "startMs").orElse(-1L);
        System.out.printf("[KafkaBrokerExtension] %s: Kafka broker on %s ready in %d ms (%s)%n",
                name, bootstrapServers, startMillis, dataDir);

        // if the test JVM dies before afterAll, do not leave a broker behind
        long brokerPid = pid;
        shutdownHook = new Thread(() -> ProcessHandle.of(brokerPid).ifPresent(ProcessHandle::destroyForcibly),
                "kafka-broker-reaper");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (dataDir == null) {
            return;
        }
        try {
            stopBroker();
        } finally {
            if (shutdownHook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(shutdownHook);
                } catch (IllegalStateException ignored) {
                    // the JVM is shutting down already
                }
            }
            bootstrapServers = null;
            secure = null;
            boolean keep = anyTestFailed
                    || context.getExecutionException().isPresent()
                    || Boolean.getBoolean("flinkfn.kafka.keepData");
            if (!keep) {
                deleteRecursively(dataDir);
            }
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        anyTestFailed = true;
    }

    private void stopBroker() throws IOException, InterruptedException {
        List<String> cmd = List.of(
                System.getProperty("flinkfn.node", "node"),
                script.toString(),
                "stop",
                "--data", dataDir.toString(),
                "--timeout", Long.toString(STOP_TIMEOUT.toSeconds() - 20));
        ProcessResult r = null;
        try {
            r = run(cmd, repoRoot, dataDir.resolve("stop.out"), dataDir.resolve("stop.err"), STOP_TIMEOUT);
        } catch (IOException e) {
            // node vanished? fall through to the direct kill below
        }
        // belt and braces: whatever kafka.mjs did, the broker process must be gone
        Optional<ProcessHandle> broker = pid > 0 ? ProcessHandle.of(pid) : Optional.empty();
        if (broker.isPresent() && broker.get().isAlive()) {
            broker.get().destroy();
            try {
                broker.get().onExit().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                broker.get().destroyForcibly();
            }
        }
        if (r != null && r.exitCode != 0) {
            throw new IllegalStateException("stopping the Kafka broker failed (exit " + r.exitCode + "): " + r.stderr);
        }
    }

    // ------------------------------------------------------------------------------------------------------

    private record ProcessResult(int exitCode, String stdout, String stderr) {}

    private static ProcessResult run(List<String> cmd, Path cwd, Path out, Path err, Duration timeout)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd)
                .directory(cwd.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        p.getOutputStream().close();
        if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out after " + timeout + ": " + String.join(" ", cmd)
                    + "\n" + Files.readString(err, StandardCharsets.UTF_8));
        }
        return new ProcessResult(p.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8).trim(),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private String brokerLogTail() {
        Path log = dataDir.resolve("broker.log");
        if (!Files.exists(log)) {
            return "";
        }
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return "\n--- last lines of " + log + " ---\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "";
        }
    }

    static Map<String, String> parseOverrides(String spec) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : spec.split(",")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                m.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        return m;
    }

    // kafka.mjs prints one flat JSON object; two tiny extractors avoid a JSON dependency here
    static Optional<String> jsonString(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    static Optional<Long> jsonNumber(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(-?\\d+)").matcher(json);
        return m.find() ? Optional.of(Long.parseLong(m.group(1))) : Optional.empty();
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // best effort: target/ is cleaned by mvn clean anyway
        }
    }
}
