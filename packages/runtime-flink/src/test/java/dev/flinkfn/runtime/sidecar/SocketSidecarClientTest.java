package dev.flinkfn.runtime.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.flinkfn.runtime.sidecar.SidecarProtocol.DeadLetterOutput;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ErrorMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Output;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ProcessMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ProcessedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Request;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The client's pairing, failure and concurrency rules, against a scripted sidecar that can misbehave on cue. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SocketSidecarClientTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @TempDir
    Path directory;

    @Test
    void theHelloCarriesTheSettingsInOrderAndNeverPrintsTheirValues() throws Exception {
        java.util.concurrent.atomic.AtomicReference<SidecarProtocol.HelloMessage> seen = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();
        settings.put("customersUrl", "http://api:8080");
        settings.put("apiToken", "tok-ünï-secret");
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            // recorded before the answer, so the client cannot finish its handshake first
            SidecarProtocol.HelloMessage hello = (SidecarProtocol.HelloMessage) connection.read();
            seen.set(hello);
            connection.write(new SidecarProtocol.HelloOkMessage(hello.id(), SidecarProtocol.PROTOCOL_VERSION, "f"));
            connection.ignoreEverything();
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", settings, TIMEOUT, null)) {
            assertThat(client.functionName()).isEqualTo("f");
            assertThat(seen.get().settings()).containsExactly(
                    java.util.Map.entry("customersUrl", "http://api:8080"), java.util.Map.entry("apiToken", "tok-ünï-secret"));
            assertThat(seen.get().toString()).contains("customersUrl", "apiToken").doesNotContain("tok-ünï-secret", "http://api:8080");
        }
    }

    @Test
    void anErrorAnswerFailsOnlyItsOwnRequest() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            Request first = connection.read();
            connection.write(new ErrorMessage(first.id(), "ProtocolError: frame ends in the middle of a field"));
            echo(connection);
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            assertThat(client.functionName()).isEqualTo("f");
            CompletableFuture<List<List<Output>>> refused = client.process(List.of(bytes("1")));
            CompletableFuture<List<List<Output>>> answered = client.process(List.of(bytes("2")));
            assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SidecarException.class)
                    .hasMessage("the sidecar could not handle request 2 (PROCESS): ProtocolError: frame ends in the"
                            + " middle of a field (a broken frame or a bug in flinkfn, not an error in user code)");
            assertThat(texts(answered.get(10, TimeUnit.SECONDS))).containsExactly("2");
        }
    }

    @Test
    void metricsFramesReachTheListenerBeforeTheirRequestCompletes() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            Request first = connection.read();
            Request second = connection.read();
            connection.write(new SidecarProtocol.MetricsMessage(first.id(), List.of(
                    new SidecarProtocol.CounterUpdate("orders", 2),
                    new SidecarProtocol.HistogramUpdate("size", new long[] {3, 4}))));
            connection.write(new ProcessedMessage(first.id(), List.of(List.of())));
            connection.write(new ProcessedMessage(second.id(), List.of(List.of()))); // recorded nothing: no frame
            Request third = connection.read();
            connection.write(new SidecarProtocol.MetricsMessage(third.id() + 1, List.of(
                    new SidecarProtocol.GaugeUpdate("depth", 1.5))));
            connection.ignoreEverything();
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
            client.setMetricsListener(updates -> updates.forEach(u -> received.add(u.name())));
            CompletableFuture<List<List<Output>>> first = client.process(List.of(bytes("1")));
            CompletableFuture<List<List<Output>>> second = client.process(List.of(bytes("2")));
            first.get(10, TimeUnit.SECONDS);
            assertThat(received).containsExactly("orders", "size");
            second.get(10, TimeUnit.SECONDS);
            assertThat(received).containsExactly("orders", "size");
            // metrics for a request that is not the oldest pending one break the protocol
            assertThatThrownBy(() -> client.process(List.of(bytes("3"))).get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SidecarException.class)
                    .hasMessageContaining("the sidecar sent METRICS for request 5, which is not the oldest request");
        }
    }

    @Test
    void withAnswersInAnyOrderEachAnswerAndItsMetricsCompleteTheRequestWithTheirId() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            Request first = connection.read();
            Request second = connection.read();
            connection.write(new SidecarProtocol.MetricsMessage(second.id(), List.of(new SidecarProtocol.CounterUpdate("late", 1))));
            connection.write(new ProcessedMessage(second.id(), List.of(List.of(
                    new SidecarProtocol.SinkOutput(0, null, bytes("second"))))));
            connection.write(new ProcessedMessage(first.id(), List.of(List.of(
                    new SidecarProtocol.SinkOutput(0, null, bytes("first"))))));
            Request third = connection.read();
            connection.write(new ProcessedMessage(third.id() + 7, List.of(List.of())));
            connection.ignoreEverything();
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            client.answerInAnyOrder();
            List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
            client.setMetricsListener(updates -> updates.forEach(u -> received.add(u.name())));
            CompletableFuture<List<List<Output>>> first = client.process(List.of(bytes("1")));
            CompletableFuture<List<List<Output>>> second = client.process(List.of(bytes("2")));
            assertThat(new String(((SidecarProtocol.SinkOutput) second.get(10, TimeUnit.SECONDS).get(0).get(0)).value(),
                    StandardCharsets.UTF_8)).isEqualTo("second");
            assertThat(received).containsExactly("late");
            assertThat(new String(((SidecarProtocol.SinkOutput) first.get(10, TimeUnit.SECONDS).get(0).get(0)).value(),
                    StandardCharsets.UTF_8)).isEqualTo("first");
            // an answer to no pending request still breaks the protocol
            assertThatThrownBy(() -> client.process(List.of(bytes("3"))).get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SidecarException.class)
                    .hasMessageContaining("but no such request is waiting for an answer");
        }
    }

    @Test
    void anAnswerToAnotherRequestBreaksTheConnection() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            Request first = connection.read();
            connection.read();
            connection.write(new ProcessedMessage(first.id() + 1, List.of(List.of())));
            connection.ignoreEverything();
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            CompletableFuture<List<List<Output>>> first = client.process(List.of(bytes("1")));
            CompletableFuture<List<List<Output>>> second = client.process(List.of(bytes("2")));
            assertThatThrownBy(() -> first.get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SidecarProtocolException.class)
                    .hasMessage("the sidecar answered request 3 while request 2 (PROCESS) was next");
            assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SidecarException.class)
                    .hasMessageStartingWith("the sidecar broke the protocol: the sidecar answered request 3");
        }
    }

    @Test
    void anAnswerWithTheWrongNumberOfResultsIsAProtocolError() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            Request request = connection.read();
            connection.write(new ProcessedMessage(request.id(), List.of()));
            connection.ignoreEverything();
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            assertThatThrownBy(() -> client.process(List.of(bytes("1"))).get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SidecarProtocolException.class)
                    .hasMessage("the sidecar answered request 2 (PROCESS) with 0 results for 1 inputs");
        }
    }

    @Test
    void aSidecarThatHangsUpFailsEveryPendingRequestAndEveryLaterOne() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            connection.read();
            connection.read();
            connection.close();
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            CompletableFuture<?> first = client.process(List.of(bytes("1")));
            CompletableFuture<?> second = client.aggregate(List.of());
            for (CompletableFuture<?> pending : List.of(first, second)) {
                assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS))
                        .cause()
                        .isInstanceOf(SidecarException.class)
                        .hasMessage("the sidecar closed the connection (did the Node process crash? see its stderr)");
            }
            assertThat(client.merge(List.of())).isCompletedExceptionally();
        }
    }

    @Test
    void aRefusedHandshakeSaysWhy() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            Request hello = connection.read();
            connection.write(new ErrorMessage(hello.id(), "the sidecar speaks protocol 2, the operator 1"));
            connection.ignoreEverything();
        })) {
            assertThatThrownBy(() -> SocketSidecarClient.connect(fake.socket, "a", TIMEOUT))
                    .isInstanceOf(SidecarException.class)
                    .hasMessage("the sidecar refused the handshake: the sidecar speaks protocol 2, the operator 1");
        }
    }

    @Test
    void closingTheClientFailsWhatIsStillPending() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            connection.ignoreEverything();
        })) {
            SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT);
            CompletableFuture<?> pending = client.process(List.of(bytes("1")));
            client.close();
            assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS))
                    .cause()
                    .isInstanceOf(SidecarException.class)
                    .hasMessage("the sidecar client was closed");
            assertThat(client.process(List.of())).isCompletedExceptionally();
        }
    }

    @Test
    void nothingButConnectingFailsWhenNoSidecarListens() {
        assertThatThrownBy(() -> SocketSidecarClient.connect(directory.resolve("nobody.sock"), "a", TIMEOUT))
                .isInstanceOf(SidecarException.class)
                .hasMessageStartingWith("cannot connect to the sidecar at " + directory.resolve("nobody.sock"));
        assertThatThrownBy(() -> Sidecars.open(
                        SidecarConfig.external(directory.resolve("nobody.sock")).withStartupTimeout(Duration.ofMillis(300)),
                        null, "a"))
                .isInstanceOf(SidecarException.class)
                .hasMessageContaining("within 300 ms")
                .hasMessageContaining("is the sidecar container running");
    }

    @Test
    void requestsFromManyThreadsAreEachAnsweredWithTheirOwnResults() throws Exception {
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            echo(connection);
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            ExecutorService threads = Executors.newFixedThreadPool(4);
            try {
                List<Future<Void>> done = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    done.add(threads.submit(() -> {
                        List<CompletableFuture<List<List<Output>>>> inFlight = new ArrayList<>();
                        for (int i = 0; i < 200; i++) {
                            inFlight.add(client.process(List.of(bytes(thread + "-" + i), bytes("x"))));
                        }
                        for (int i = 0; i < 200; i++) {
                            assertThat(texts(inFlight.get(i).get(10, TimeUnit.SECONDS)))
                                    .containsExactly(thread + "-" + i, "x");
                        }
                        return null;
                    }));
                }
                for (Future<Void> thread : done) {
                    thread.get(30, TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
        }
    }

    @Test
    void anAnswerMuchLargerThanTheReadBufferArrivingInSmallPiecesIsReassembled() throws Exception {
        byte[] large = new byte[3 * SocketSidecarClient.READ_BUFFER_BYTES + 17];
        Arrays.fill(large, (byte) 'y');
        try (FakeSidecar fake = FakeSidecar.start(directory, connection -> {
            connection.hello("f");
            Request first = connection.read();
            Request second = connection.read();
            byte[] frames = concat(
                    SidecarProtocol.encodeResponse(
                            new ProcessedMessage(first.id(), List.of(List.of(new DeadLetterOutput(large))))),
                    SidecarProtocol.encodeResponse(
                            new ProcessedMessage(second.id(), List.of(List.of(new DeadLetterOutput(bytes("small")))))));
            for (int offset = 0; offset < frames.length; offset += 1000) {
                connection.writeRaw(Arrays.copyOfRange(frames, offset, Math.min(frames.length, offset + 1000)));
            }
            connection.ignoreEverything();
        }); SocketSidecarClient client = SocketSidecarClient.connect(fake.socket, "a", TIMEOUT)) {
            CompletableFuture<List<List<Output>>> first = client.process(List.of(bytes("1")));
            CompletableFuture<List<List<Output>>> second = client.process(List.of(bytes("2")));
            assertThat(((DeadLetterOutput) first.get(10, TimeUnit.SECONDS).get(0).get(0)).deadLetter()).isEqualTo(large);
            assertThat(texts(second.get(10, TimeUnit.SECONDS))).containsExactly("small");
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    /** Answers every PROCESS with each record back as a dead letter, so a test can tell whose answer it got. */
    private static void echo(FakeSidecar.Connection connection) throws Exception {
        while (true) {
            ProcessMessage process = (ProcessMessage) connection.read();
            List<List<Output>> results = new ArrayList<>();
            for (byte[] record : process.records()) {
                results.add(List.of(new DeadLetterOutput(record)));
            }
            connection.write(new ProcessedMessage(process.id(), results));
        }
    }

    private static List<String> texts(List<List<Output>> results) {
        List<String> texts = new ArrayList<>();
        for (List<Output> outputs : results) {
            for (Output output : outputs) {
                texts.add(new String(((DeadLetterOutput) output).deadLetter(), StandardCharsets.UTF_8));
            }
        }
        return texts;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
