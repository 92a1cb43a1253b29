package dev.flinkfn.runtime.sidecar;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateGroup;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CombineGroup;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CombineMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CombinedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.TakeMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.TakenMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateResult;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregatedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ErrorMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FireMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FireRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FiredMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.HelloMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.HelloOkMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeResult;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MetricUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MetricsMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Output;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ProcessMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.ProcessedMessage;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Request;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Response;
import java.io.IOException;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SidecarClient} over the sidecar's Unix domain socket, with requests pipelined.
 *
 * <p>Threading: callers send from any thread; a lock serialises writes so frames never interleave, and the same lock
 * assigns ids and queues the pending request, so the queue's order is the order on the wire. One daemon reader thread
 * per connection reads response frames and completes the oldest pending request, checking that the response carries
 * its id (the sidecar answers strictly in order) — unless {@link #answerInAnyOrder} was called: the sidecar of a
 * function with unordered async results answers PROCESS requests as they are ready, and each answer completes the
 * pending request with its id (protocol.ts). A second, small lock guards the queue and the failure state, so a
 * failure can be declared while a writer is blocked on a full socket.
 *
 * <p>Failures: an ERROR response fails its own request only (the sidecar goes on serving). An I/O error, end of
 * stream, protocol violation or request timeout makes the connection unusable: every pending request fails with the
 * same explanation, the socket is closed, and later requests fail at once. The operator then fails its task and Flink
 * restores it, starting a fresh sidecar.
 *
 * <p>Timeouts: each request fails if its answer has not arrived within the request timeout after it was sent
 * ({@link CompletableFuture#orTimeout}, whose JDK scheduler thread cancels the timer when the answer comes), so an
 * operator blocking on a future fails its task instead of hanging on a stuck function.
 *
 * <p>Buffers: frames are encoded into one reused heap buffer and written with one {@code write} per frame (large
 * frames in 1 MiB chunks); responses are read through one reused 64 KiB direct buffer and decoded in place, and only
 * frames larger than it are assembled separately.
 */
public final class SocketSidecarClient implements SidecarClient {

    private static final Logger LOG = LoggerFactory.getLogger(SocketSidecarClient.class);

    static final int READ_BUFFER_BYTES = 64 * 1024;

    /** How long to wait for a crashed sidecar process to be reaped, to quote its exit code in the message. */
    private static final Duration EXIT_WAIT = Duration.ofSeconds(2);

    private final Path socketPath;
    private final SocketChannel channel;
    private final Duration requestTimeout;
    /** The sidecar process this client started and stops on close; null for an external sidecar. */
    private final SidecarProcess process;
    private final Thread reader;

    private final Object writeLock = new Object();
    /** Guarded by writeLock. */
    private final FrameWriter writer = new FrameWriter();
    /** Guarded by writeLock. Unsigned on the wire; wraps around after 2^32 requests. */
    private int nextId = 1;

    private final Object stateLock = new Object();
    /** Guarded by stateLock: requests sent and not yet answered, oldest first. */
    private final ArrayDeque<Pending<?>> pending = new ArrayDeque<>();
    /** Guarded by stateLock: why the connection is unusable, or null while it works. */
    private SidecarException failure;

    private volatile boolean closed;
    /** Whether answers are paired by id rather than by order (unordered async results). */
    private volatile boolean answersInAnyOrder;
    private volatile Consumer<List<MetricUpdate>> metricsListener;
    private volatile String functionName;

    private SocketSidecarClient(
            SocketChannel channel, Path socketPath, Duration requestTimeout, SidecarProcess process) {
        this.channel = channel;
        this.socketPath = socketPath;
        this.requestTimeout = requestTimeout;
        this.process = process;
        this.reader = new Thread(this::readLoop, "flinkfn-sidecar-reader " + socketPath);
        this.reader.setDaemon(true);
        this.reader.start();
    }

    /** Connects to a sidecar serving on {@code socketPath} and checks that it serves {@code artifactId}. */
    public static SocketSidecarClient connect(Path socketPath, String artifactId, Duration requestTimeout)
            throws SidecarException, InterruptedException {
        return connect(socketPath, artifactId, requestTimeout, null);
    }

    /**
     * Connects to the sidecar that {@code process} started (null: an external one). The client owns the process from
     * here on: closing the client, or a failed handshake, stops it; its exit code and stderr go into error messages.
     */
    public static SocketSidecarClient connect(
            Path socketPath, String artifactId, Duration requestTimeout, SidecarProcess process)
            throws SidecarException, InterruptedException {
        return connect(socketPath, artifactId, java.util.Map.of(), requestTimeout, process);
    }

    /** As {@link #connect(Path, String, Duration, SidecarProcess)}, with the function's setting values for HELLO. */
    public static SocketSidecarClient connect(Path socketPath, String artifactId, java.util.Map<String, String> settings,
            Duration requestTimeout, SidecarProcess process) throws SidecarException, InterruptedException {
        checkNotNull(socketPath, "socketPath");
        SocketChannel channel;
        try {
            channel = openChannel(socketPath);
        } catch (IOException e) {
            SidecarException failure = new SidecarException("cannot connect to the sidecar at " + socketPath + ": " + e
                    + (process != null ? "; " + process.describe(EXIT_WAIT) : ""), e);
            if (process != null) {
                process.close();
            }
            throw failure;
        }
        return handshake(channel, socketPath, artifactId, settings, requestTimeout, process);
    }

    static SocketChannel openChannel(Path socketPath) throws IOException {
        return SocketChannel.open(UnixDomainSocketAddress.of(socketPath));
    }

    /** Starts a client on a connected channel and says HELLO; closes everything if the sidecar refuses. */
    static SocketSidecarClient handshake(SocketChannel channel, Path socketPath, String artifactId,
            java.util.Map<String, String> settings, Duration requestTimeout, SidecarProcess process)
            throws SidecarException, InterruptedException {
        checkNotNull(artifactId, "artifactId");
        checkNotNull(settings, "settings");
        checkNotNull(requestTimeout, "requestTimeout");
        checkArgument(!requestTimeout.isNegative() && !requestTimeout.isZero(), "the request timeout must be positive");
        SocketSidecarClient client = new SocketSidecarClient(channel, socketPath, requestTimeout, process);
        try {
            HelloOkMessage ok = client.send(
                            id -> new HelloMessage(id, SidecarProtocol.PROTOCOL_VERSION, artifactId, settings),
                            SidecarProtocol.HELLO_OK,
                            -1,
                            response -> (HelloOkMessage) response)
                    .get();
            if (ok.protocolVersion() != SidecarProtocol.PROTOCOL_VERSION) {
                throw new SidecarException("the sidecar at " + socketPath + " answered HELLO with protocol version "
                        + ok.protocolVersion() + ", this operator speaks " + SidecarProtocol.PROTOCOL_VERSION);
            }
            client.functionName = ok.functionName();
            LOG.info("Connected to the sidecar at {} serving function {} (artifact {})",
                    socketPath, ok.functionName(), artifactId);
            return client;
        } catch (ExecutionException e) {
            client.close();
            Throwable cause = e.getCause();
            throw cause instanceof SidecarException ? (SidecarException) cause
                    : new SidecarException(
                            "the handshake with the sidecar at " + socketPath + " failed: " + cause, cause);
        } catch (SidecarException | InterruptedException | RuntimeException e) {
            client.close();
            throw e;
        }
    }

    /** The name of the function the sidecar serves (from its HELLO_OK). */
    public String functionName() {
        return functionName;
    }

    public Path socketPath() {
        return socketPath;
    }

    @Override
    public void answerInAnyOrder() {
        answersInAnyOrder = true;
    }

    @Override
    public CompletableFuture<List<List<Output>>> process(List<byte[]> records) {
        checkNotNull(records, "records");
        return send(id -> new ProcessMessage(id, records), SidecarProtocol.PROCESSED, records.size(),
                response -> ((ProcessedMessage) response).results());
    }

    @Override
    public CompletableFuture<List<AggregateResult>> aggregate(List<AggregateGroup> groups) {
        checkNotNull(groups, "groups");
        return send(id -> new AggregateMessage(id, groups), SidecarProtocol.AGGREGATED, groups.size(),
                response -> ((AggregatedMessage) response).results());
    }

    @Override
    public CompletableFuture<List<List<byte[]>>> combine(List<CombineGroup> groups) {
        checkNotNull(groups, "groups");
        return send(id -> new CombineMessage(id, groups), SidecarProtocol.COMBINED, groups.size(),
                response -> ((CombinedMessage) response).deadLetters());
    }

    @Override
    public CompletableFuture<List<AggregateResult>> take(List<Integer> slots) {
        checkNotNull(slots, "slots");
        return send(id -> new TakeMessage(id, slots), SidecarProtocol.TAKEN, slots.size(),
                response -> ((TakenMessage) response).results());
    }

    @Override
    public CompletableFuture<List<MergeResult>> merge(List<MergeRequest> merges) {
        checkNotNull(merges, "merges");
        return send(id -> new MergeMessage(id, merges), SidecarProtocol.MERGED, merges.size(),
                response -> ((MergedMessage) response).results());
    }

    @Override
    public CompletableFuture<List<List<Output>>> fire(List<FireRequest> fires) {
        checkNotNull(fires, "fires");
        return send(id -> new FireMessage(id, fires), SidecarProtocol.FIRED, fires.size(),
                response -> ((FiredMessage) response).results());
    }

    @Override
    public void setMetricsListener(Consumer<List<MetricUpdate>> listener) {
        this.metricsListener = listener;
    }

    /** Fails what is pending, closes the socket, and stops the sidecar process if this client started it. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        fail(new SidecarException("the sidecar client was closed"));
        if (Thread.currentThread() != reader) {
            try {
                reader.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (process != null) {
            process.close();
        }
    }

    // --- sending ---------------------------------------------------------------------------------------------------

    /**
     * Encodes and writes one request and returns the future of its mapped answer. {@code expectedCount} is the number
     * of results the answer must carry (one per record, group, merge or fire), or −1 not to check.
     */
    private <T> CompletableFuture<T> send(
            IntFunction<Request> message, int expectedType, int expectedCount, Function<Response, T> result) {
        CompletableFuture<T> answer = new CompletableFuture<>();
        Pending<T> request;
        synchronized (writeLock) {
            int id = nextId++;
            Request frame = message.apply(id);
            try {
                writer.reset();
                SidecarProtocol.writeRequest(writer, frame);
            } catch (SidecarProtocolException | RuntimeException e) {
                // Nothing was written: the connection is still fine, only this request is refused.
                writer.reset();
                return CompletableFuture.failedFuture(e);
            }
            request = new Pending<>(id, frame.type(), expectedType, expectedCount, result, answer);
            synchronized (stateLock) {
                if (failure != null) {
                    return CompletableFuture.failedFuture(new SidecarException(
                            "the sidecar connection is unusable: " + failure.getMessage(), failure));
                }
                pending.addLast(request);
            }
            // The clock starts before the write: a sidecar too stuck to read must not block the writer forever.
            answer.orTimeout(requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            try {
                writeFully(writer.written());
            } catch (IOException e) {
                fail(connectionFailure("writing to the sidecar failed: " + e, e));
            } finally {
                writer.reset();
            }
        }
        return answer.handle((value, error) -> {
            if (error == null) {
                return value;
            }
            Throwable cause =
                    error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            if (cause instanceof TimeoutException) {
                SidecarException timeout = new SidecarException("the sidecar did not answer request "
                        + request.describe() + " within " + Durations.format(requestTimeout)
                        + "; is user code stuck (an endless loop, a promise that never settles) or the Node process"
                        + " overloaded? see its stderr" + diagnostics(false));
                fail(timeout);
                throw new CompletionException(timeout);
            }
            throw error instanceof CompletionException ? (CompletionException) error : new CompletionException(cause);
        });
    }

    /** Writes one encoded frame; a huge one in chunks, so the JDK's temporary direct buffer stays small. */
    private void writeFully(ByteBuffer frame) throws IOException {
        int end = frame.limit();
        while (frame.position() < end) {
            frame.limit(Math.min(end, frame.position() + FrameWriter.MAX_WRITE_CHUNK));
            channel.write(frame);
        }
    }

    // --- receiving -------------------------------------------------------------------------------------------------

    private void readLoop() {
        ByteBuffer in = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
        try {
            while (true) {
                if (channel.read(in) < 0) {
                    fail(connectionFailure(
                            "the sidecar closed the connection (did the Node process crash? see its stderr)", null));
                    return;
                }
                in.flip();
                dispatchFrames(in);
                in.compact();
            }
        } catch (ClosedChannelException e) {
            fail(connectionFailure("the connection to the sidecar was closed: " + e, e));
        } catch (SidecarProtocolException e) {
            fail(connectionFailure("the sidecar broke the protocol: " + e.getMessage()
                    + " (is the sidecar a different flinkfn version than the runtime?)", e));
        } catch (SocketException e) {
            // a reset: the sidecar went away with our requests unread, typically killed
            fail(connectionFailure("the sidecar closed the connection abruptly (" + e.getMessage()
                    + "; did the Node process crash? see its stderr)", e));
        } catch (IOException e) {
            fail(connectionFailure("reading from the sidecar failed: " + e
                    + " (did the Node process crash? see its stderr)", e));
        } catch (Throwable t) {
            fail(connectionFailure("the sidecar reader failed: " + t, t));
            if (t instanceof Error) {
                throw (Error) t;
            }
        }
    }

    /**
     * Handles every complete frame in {@code in} (in read mode), leaving a partial one in it. A frame larger than the
     * buffer is assembled in a heap buffer of its own, reading the rest of it from the channel right here.
     */
    private void dispatchFrames(ByteBuffer in) throws IOException {
        while (in.remaining() >= 4) {
            int length = in.getInt(in.position());
            if (length < SidecarProtocol.HEADER_BYTES - 4 || length > SidecarProtocol.MAX_FRAME_LENGTH) {
                throw new SidecarProtocolException("a frame length of " + Integer.toUnsignedString(length)
                        + " bytes is impossible");
            }
            if (in.remaining() - 4 >= length) {
                int frameStart = in.position();
                int frameEnd = frameStart + 4 + length;
                ByteBuffer body = in.duplicate();
                body.limit(frameEnd).position(frameStart + SidecarProtocol.HEADER_BYTES);
                in.position(frameEnd);
                dispatch(in.get(frameStart + 4) & 0xFF, in.getInt(frameStart + 5), body);
            } else if (4 + length > in.capacity()) {
                ByteBuffer frame = ByteBuffer.allocate(4 + length);
                frame.put(in);
                while (frame.hasRemaining()) {
                    in.clear();
                    if (channel.read(in) < 0) {
                        throw new IOException("end of stream in the middle of a frame");
                    }
                    in.flip();
                    int take = Math.min(in.remaining(), frame.remaining());
                    ByteBuffer part = in.duplicate();
                    part.limit(in.position() + take);
                    frame.put(part);
                    in.position(in.position() + take);
                }
                dispatch(frame.get(4) & 0xFF, frame.getInt(5), frame.position(SidecarProtocol.HEADER_BYTES).slice());
            } else {
                return;
            }
        }
    }

    private void dispatch(int type, int id, ByteBuffer body) throws SidecarProtocolException {
        Response response = SidecarProtocol.decodeResponse(type, id, body);
        if (response instanceof MetricsMessage metrics) {
            // not an answer: the metrics of a pending request (the oldest, unless answers come in any order), whose
            // answer follows
            Pending<?> owner;
            synchronized (stateLock) {
                owner = answersInAnyOrder ? find(id, false) : pending.peekFirst();
            }
            if (owner == null || owner.id != id) {
                throw new SidecarProtocolException("the sidecar sent METRICS for request " + Integer.toUnsignedString(id)
                        + (answersInAnyOrder ? ", which is not waiting for an answer"
                                : ", which is not the oldest request waiting for an answer"));
            }
            Consumer<List<MetricUpdate>> listener = metricsListener;
            if (listener != null) {
                listener.accept(metrics.metrics());
            }
            return;
        }
        Pending<?> request;
        synchronized (stateLock) {
            request = answersInAnyOrder ? find(id, true) : pending.pollFirst();
        }
        if (request == null) {
            throw new SidecarProtocolException("the sidecar sent " + SidecarProtocol.typeName(type) + " for request "
                    + Integer.toUnsignedString(id) + ", but no " + (answersInAnyOrder ? "such " : "")
                    + "request is waiting for an answer");
        }
        request.complete(response);
    }

    /** Guarded by stateLock: the pending request with this id, removed if asked; null if there is none. */
    private Pending<?> find(int id, boolean remove) {
        for (Iterator<Pending<?>> it = pending.iterator(); it.hasNext(); ) {
            Pending<?> candidate = it.next();
            if (candidate.id == id) {
                if (remove) {
                    it.remove();
                }
                return candidate;
            }
        }
        return null;
    }

    // --- failing ---------------------------------------------------------------------------------------------------

    /** Declares the connection unusable (the first reason wins), fails everything pending and closes the socket. */
    private void fail(SidecarException reason) {
        List<Pending<?>> failed;
        synchronized (stateLock) {
            if (failure != null) {
                return;
            }
            failure = reason;
            failed = new ArrayList<>(pending);
            pending.clear();
        }
        if (!closed) {
            LOG.warn("The connection to the sidecar at {} failed: {}", socketPath, reason.getMessage());
        }
        try {
            channel.close();
        } catch (IOException e) {
            LOG.debug("Closing the sidecar socket failed", e);
        }
        for (Pending<?> request : failed) {
            request.answer.completeExceptionally(reason);
        }
    }

    private SidecarException connectionFailure(String what, Throwable cause) {
        String message = what + diagnostics(true);
        return cause == null ? new SidecarException(message) : new SidecarException(message, cause);
    }

    /** What the sidecar process says about itself (exit code, last stderr lines), for error messages. */
    private String diagnostics(boolean expectExit) {
        if (closed || process == null) {
            return "";
        }
        try {
            return "; " + process.describe(expectExit ? EXIT_WAIT : Duration.ZERO);
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** A request on the wire, waiting for its answer. */
    private static final class Pending<T> {
        final int id;
        final int requestType;
        final int expectedType;
        final int expectedCount;
        final Function<Response, T> result;
        final CompletableFuture<T> answer;

        Pending(int id, int requestType, int expectedType, int expectedCount, Function<Response, T> result,
                CompletableFuture<T> answer) {
            this.id = id;
            this.requestType = requestType;
            this.expectedType = expectedType;
            this.expectedCount = expectedCount;
            this.result = result;
            this.answer = answer;
        }

        String describe() {
            return Integer.toUnsignedString(id) + " (" + SidecarProtocol.typeName(requestType) + ")";
        }

        /** Completes the answer; throws (after failing the answer) if the response cannot belong to this request. */
        void complete(Response response) throws SidecarProtocolException {
            SidecarProtocolException violation = null;
            if (response.id() != id) {
                violation = new SidecarProtocolException("the sidecar answered request "
                        + Integer.toUnsignedString(response.id()) + " while request " + describe() + " was next");
            } else if (response instanceof ErrorMessage error) {
                answer.completeExceptionally(new SidecarException(requestType == SidecarProtocol.HELLO
                        ? "the sidecar refused the handshake: " + error.message()
                        : "the sidecar could not handle request " + describe() + ": " + error.message()
                                + " (a broken frame or a bug in flinkfn, not an error in user code)"));
                return;
            } else if (response.type() != expectedType) {
                violation = new SidecarProtocolException("the sidecar answered request " + describe() + " with "
                        + SidecarProtocol.typeName(response.type()) + " instead of "
                        + SidecarProtocol.typeName(expectedType));
            }
            T value = violation == null ? result.apply(response) : null;
            if (violation == null && expectedCount >= 0 && ((List<?>) value).size() != expectedCount) {
                violation = new SidecarProtocolException("the sidecar answered request " + describe() + " with "
                        + ((List<?>) value).size() + " results for " + expectedCount + " inputs");
            }
            if (violation != null) {
                answer.completeExceptionally(violation);
                throw violation;
            }
            answer.complete(value);
        }
    }
}
