package dev.flinkfn.runtime.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateGroup;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateResult;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.DeadLetterOutput;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ElementOutput;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FireRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Output;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.SinkOutput;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client and process supervisor against the real Node sidecar, serving a real artifact: conformance case 022
 * (a tumbling window whose handler throws for events marked bad). The answers are the ones
 * {@code packages/sidecar/test/sidecar.test.ts} expects from the same artifact.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RealSidecarTest {

    private static final String CASE = "022-handle-throws-dead-letter";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static List<String> command;
    private static Path artifact;
    private static String artifactId;

    @BeforeAll
    static void buildTheConformanceArtifacts() throws Exception {
        Path repository = GoldenFrames.repositoryRoot();
        String node = findNode();
        Process build = new ProcessBuilder(node, "packages/conformance/dist/build-cases.js")
                .directory(repository.toFile())
                .redirectErrorStream(true)
                .start();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(build.waitFor(5, TimeUnit.MINUTES)).as("build-cases finished").isTrue();
        assertThat(build.exitValue()).as("build-cases failed:\n%s", output).isZero();

        JsonNode index = GoldenFrames.MAPPER.readTree(
                repository.resolve("packages/conformance/.flinkfn/cases/index.json").toFile());
        artifact = Path.of(index.get(CASE).asText());
        artifactId = artifact.getFileName().toString().replaceFirst("\\.flinkfn$", "");
        command = List.of(node, repository.resolve("packages/sidecar/bin/flinkfn-sidecar.js").toString());
    }

    @Test
    void inExternalModeTheOperatorConnectsToASidecarStartedBesideIt(@org.junit.jupiter.api.io.TempDir Path dir)
            throws Exception {
        // The Kubernetes sidecar pattern: the sidecar runs on its own (--external) and outlives connections.
        Path socket = dir.resolve("sidecar.sock");
        List<String> external = new java.util.ArrayList<>(command);
        external.addAll(List.of("--artifact", artifact.toString(), "--socket", socket.toString(), "--external"));
        Process sidecar = new ProcessBuilder(external).redirectErrorStream(true).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                    new java.io.InputStreamReader(sidecar.getInputStream(), StandardCharsets.UTF_8));
            assertThat(out.readLine()).isEqualTo("READY " + socket);
            for (int connection = 0; connection < 2; connection++) {
                try (SidecarClient client = Sidecars.open(SidecarConfig.external(socket.toString()), artifact, artifactId)) {
                    List<List<SidecarProtocol.Output>> results =
                            client.process(List.of(bytes("{\"id\":1,\"key\":\"a\",\"ts\":5}"))).get(30, TimeUnit.SECONDS);
                    assertThat(results.get(0).get(0)).isInstanceOf(SidecarProtocol.ElementOutput.class);
                }
            }
            assertThat(sidecar.isAlive()).as("an external sidecar keeps serving after clients close").isTrue();
        } finally {
            sidecar.destroy();
            sidecar.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void pipelinedProcessAggregateAndFireRequestsGetTheFunctionsAnswers() throws Exception {
        SidecarProcess process = SidecarProcess.start(command, artifact, TIMEOUT);
        try (SocketSidecarClient client =
                SocketSidecarClient.connect(process.socketPath(), artifactId, TIMEOUT, process)) {
            assertThat(client.functionName()).isEqualTo("case-022-handle-throws-dead-letter");

            // three requests in flight before the first answer is read
            CompletableFuture<List<List<Output>>> processed = client.process(List.of(
                    bytes("{\"id\":1,\"key\":\"a\",\"ts\":5}"),
                    bytes("{\"id\":2,\"key\":\"a\",\"ts\":6,\"bad\":true}"),
                    bytes("{oops")));
            CompletableFuture<List<AggregateResult>> aggregated = client.aggregate(List.of(
                    new AggregateGroup("a", 0, 10, null, List.of(bytes("{\"id\":1}"), bytes("{\"id\":3}")))));
            CompletableFuture<List<List<Output>>> fired = client.fire(List.of(
                    new FireRequest("a", 0, 10, bytes("{\"ids\":[3,1]}"), null)));

            List<List<Output>> records = processed.get(30, TimeUnit.SECONDS);
            assertThat(records).hasSize(3);
            assertThat(records.get(0)).singleElement().isInstanceOfSatisfying(ElementOutput.class, element -> {
                assertThat(element.key()).isEqualTo("a");
                assertThat(element.timestamp()).isEqualTo(5);
                assertThat(json(element.event())).isEqualTo(json("{\"id\":1,\"key\":\"a\",\"ts\":5}"));
            });
            assertThat(records.get(1)).singleElement().isInstanceOfSatisfying(DeadLetterOutput.class, letter ->
                    assertThat(json(letter.deadLetter())).isEqualTo(json(
                            "{\"stage\":\"handle\",\"error\":\"Error: bad event 2\","
                                    + "\"stack\":[\"handle (src/handler.ts:9:37)\"],"
                                    + "\"event\":{\"id\":2,\"key\":\"a\",\"ts\":6,\"bad\":true}}")));
            assertThat(records.get(2)).singleElement().isInstanceOfSatisfying(DeadLetterOutput.class, letter ->
                    assertThat(json(letter.deadLetter()).get("stage").asText()).isEqualTo("decode"));

            AggregateResult aggregate = aggregated.get(30, TimeUnit.SECONDS).get(0);
            assertThat(json(aggregate.accumulator())).isEqualTo(json("{\"ids\":[1,3]}"));
            assertThat(aggregate.deadLetters()).isEmpty();

            assertThat(fired.get(30, TimeUnit.SECONDS)).singleElement().satisfies(outputs ->
                    assertThat(outputs).singleElement().isInstanceOfSatisfying(SinkOutput.class, sink -> {
                        assertThat(sink.sinkIndex()).isZero();
                        assertThat(sink.key()).isEqualTo("a");
                        assertThat(json(sink.value()))
                                .isEqualTo(json("{\"key\":\"a\",\"start\":0,\"end\":10,\"ids\":[1,3]}"));
                    }));
        }
        assertThat(process.isAlive()).as("closing the client stops its sidecar").isFalse();
    }

    @Test
    void sidecarsOpenStartsAProcessWhoseSocketGoesAwayOnClose() throws Exception {
        SidecarClient client = Sidecars.open(SidecarConfig.process(command), artifact, artifactId);
        Path socket = ((SocketSidecarClient) client).socketPath();
        try {
            assertThat(socket).exists();
            assertThat(client.process(List.of(bytes("{\"id\":7,\"key\":\"k\",\"ts\":1}"))).get(30, TimeUnit.SECONDS))
                    .singleElement().asList().singleElement().isInstanceOf(ElementOutput.class);
        } finally {
            client.close();
        }
        assertThat(socket).doesNotExist();
        assertThat(socket.getParent()).doesNotExist();
    }

    @Test
    void theSocketFolderIsMarkedWithTheSidecarAsOwnerAndRemovedOnCloseEvenAfterASigkill() throws Exception {
        SidecarProcess process = SidecarProcess.start(command, artifact, TIMEOUT);
        Path folder = process.socketPath().getParent();
        try {
            assertThat(folder.getFileName().toString()).startsWith(SidecarProcess.SOCKET_FOLDER_PREFIX);
            OwnerMarker owner = OwnerMarker.readFrom(folder).orElseThrow();
            assertThat(owner.pid()).isEqualTo(process.pid());
            assertThat(owner.isAlive()).isTrue();
            assertThat(folder.resolve("modules")).as("the imported bundle lives in the folder too").isDirectory();

            signal("KILL", process.pid());
            assertThat(process.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(owner.isAlive()).isFalse();
            assertThat(folder).as("a killed sidecar cannot remove its folder").exists();
        } finally {
            process.close();
        }
        assertThat(folder).as("closing removes what the killed sidecar left").doesNotExist();
    }

    @Test
    void bundlesLargerThanTheBuffersTravelBothWays() throws Exception {
        String padding = "x".repeat(700_000);
        List<byte[]> records = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            records.add(bytes("{\"id\":" + i + ",\"key\":\"k\",\"ts\":" + i + ",\"pad\":\"" + padding + "\"}"));
        }
        try (SidecarClient client = Sidecars.open(SidecarConfig.process(command), artifact, artifactId)) {
            List<List<Output>> results = client.process(records).get(60, TimeUnit.SECONDS);
            assertThat(results).hasSize(4);
            for (int i = 0; i < 4; i++) {
                ElementOutput element = (ElementOutput) results.get(i).get(0);
                assertThat(element.timestamp()).isEqualTo(i);
                assertThat(json(element.event()).get("pad").asText()).isEqualTo(padding);
            }
        }
    }

    @Test
    void aWrongArtifactIdFailsTheHandshakeWithTheSidecarsReason() throws Exception {
        SidecarProcess process = SidecarProcess.start(command, artifact, TIMEOUT);
        String expected = "f".repeat(64);
        assertThatThrownBy(() -> SocketSidecarClient.connect(process.socketPath(), expected, TIMEOUT, process))
                .isInstanceOf(SidecarException.class)
                .hasMessage("the sidecar refused the handshake: the sidecar serves artifact " + artifactId
                        + ", the operator expects " + expected);
        assertThat(process.isAlive()).as("a refused handshake stops the sidecar").isFalse();
    }

    @Test
    void aMissingArtifactMakesTheSidecarFailAtStartWithExitCode3AndTheReason() {
        assertThatThrownBy(() -> SidecarProcess.start(command, Path.of("/nonexistent/abc.flinkfn"), TIMEOUT))
                .isInstanceOf(SidecarException.class)
                .hasMessageContaining("the sidecar exited with code 3 before it was ready")
                .hasMessageContaining("cannot read artifact /nonexistent/abc.flinkfn: it does not exist");
    }

    @Test
    void aCommandThatCannotRunFailsAtStartWithAHint() {
        assertThatThrownBy(() -> SidecarProcess.start(List.of("/nonexistent/node"), artifact, TIMEOUT))
                .isInstanceOf(SidecarException.class)
                .hasMessageContaining("cannot start the sidecar [/nonexistent/node, --artifact")
                .hasMessageContaining("is Node.js installed");
    }

    @Test
    void aSidecarThatNeverGetsReadyIsKilledAfterTheStartupTimeout() {
        // The start returns (rather than hanging the test) and says why; how soon is not asserted on a loaded machine.
        assertThatThrownBy(() -> SidecarProcess.start(
                        List.of(findNode(), "-e", "console.error('loading forever'); setInterval(() => {}, 1000)", "--"),
                        artifact, Duration.ofMillis(1500)))
                .isInstanceOf(SidecarException.class)
                .hasMessageContaining("did not report READY within 1500 ms")
                .hasMessageContaining("loading forever");
    }

    @Test
    void aKilledSidecarFailsPendingAndLaterRequestsInsteadOfHanging() throws Exception {
        SidecarProcess process = SidecarProcess.start(command, artifact, TIMEOUT);
        try (SocketSidecarClient client =
                SocketSidecarClient.connect(process.socketPath(), artifactId, TIMEOUT, process)) {
            assertThat(client.process(List.of(bytes("{\"id\":1,\"key\":\"a\",\"ts\":1}"))).get(30, TimeUnit.SECONDS))
                    .hasSize(1);

            // Stopped, the sidecar cannot answer before it dies: the request is certainly pending.
            signal("STOP", process.pid());
            CompletableFuture<List<List<Output>>> pending =
                    client.process(List.of(bytes("{\"id\":2,\"key\":\"a\",\"ts\":2}")));
            process.process().destroyForcibly();

            assertThatThrownBy(() -> pending.get(30, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause()
                    .isInstanceOf(SidecarException.class)
                    // EOF or a reset (the killed process had our request unread), depending on timing
                    .hasMessageStartingWith("the sidecar closed the connection")
                    .hasMessageContaining("did the Node process crash? see its stderr")
                    .hasMessageContaining("the sidecar process " + process.pid() + " exited with code 137");

            CompletableFuture<List<List<Output>>> later = client.process(List.of(bytes("{}")));
            assertThat(later).isCompletedExceptionally();
            assertThatThrownBy(later::get)
                    .cause()
                    .isInstanceOf(SidecarException.class)
                    .hasMessageStartingWith("the sidecar connection is unusable: the sidecar closed the connection");
        }
    }

    @Test
    void aSidecarThatDoesNotAnswerFailsTheRequestAfterTheRequestTimeout(@TempDir Path directory) throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("silent");
            connection.ignoreEverything();
        })) {
            SidecarConfig config = SidecarConfig.external(fake.socket).withRequestTimeout(Duration.ofMillis(400));
            try (SidecarClient client = Sidecars.open(config, artifact, "any")) {
                long sent = System.nanoTime();
                CompletableFuture<List<List<Output>>> unanswered = client.process(List.of(bytes("{}")));
                assertThatThrownBy(() -> unanswered.get(30, TimeUnit.SECONDS))
                        .cause()
                        .isInstanceOf(SidecarException.class)
                        .hasMessageStartingWith("the sidecar did not answer request 2 (PROCESS) within 400 ms; ");
                assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
                assertThat(client.aggregate(List.of())).isCompletedExceptionally();
            }
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    /** Node from the PATH (what {@code which node} answers). */
    static String findNode() {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(directory, "node");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException("node is not on the PATH; these tests run the real Node sidecar");
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        assertThat(kill.waitFor()).isZero();
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static JsonNode json(byte[] value) {
        try {
            return GoldenFrames.MAPPER.readTree(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode json(String value) {
        return json(bytes(value));
    }
}
