package dev.flinkfn.runtime.sidecar;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkNotNull;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Node sidecar as a child process of the TaskManager: {@code <command> --artifact <file>}.
 *
 * <p>Starting races the sidecar's {@code READY <socket path>} line on stdout against its early exit and a startup
 * timeout, so a broken artifact fails the task at once with the sidecar's own reason (it prints it on stderr and
 * exits with code 3) instead of after a timeout, and a hanging start fails instead of blocking the task forever.
 *
 * <p>Its stdin stays open for the life of this object: the sidecar exits when stdin closes, which is how it follows
 * a TaskManager that dies without closing anything. stdout and stderr are drained continuously (a full pipe would
 * block the sidecar) by two daemon threads into the log; the last {@link #STDERR_LINES} lines of stderr are kept
 * for error messages. Started with an {@link HandlerLogLine.Attribution}, the handler log lines among its stderr
 * lines (a handler's console output) are logged as the handler's, naming job and function ({@link HandlerLogLine});
 * without one they are logged as any other stderr line.
 *
 * <p>Closing removes the sidecar's private socket folder if the sidecar could not (it was killed); what a killed
 * TaskManager leaves is swept by the next sidecar that starts on the host ({@link OwnerMarker}).
 */
public final class SidecarProcess implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SidecarProcess.class);

    static final int STDERR_LINES = 64;
    private static final int MAX_LINE_LENGTH = 2000;

    /** How long {@link #close()} waits for the sidecar to exit after closing its stdin. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

    private static final String READY_PREFIX = "READY ";

    /** The name prefix of the sidecar's private socket folder (SOCKET_FOLDER_PREFIX in packages/sidecar/src/server.ts). */
    static final String SOCKET_FOLDER_PREFIX = "flinkfn-sidecar-";

    private final Process process;
    private final List<String> command;
    private final OutputStream stdin;
    /** Whom handler log lines on stderr are attributed to; null: they are logged as ordinary stderr. */
    private final HandlerLogLine.Attribution attribution;
    private final LineTail stderr = new LineTail(STDERR_LINES, MAX_LINE_LENGTH);
    /** The socket path from the READY line; completed with null when stdout ends or the process exits first. */
    private final CompletableFuture<Path> ready = new CompletableFuture<>();
    private final Thread stdoutDrain;
    private final Thread stderrDrain;
    private volatile Path socketPath;
    private volatile boolean closed;

    private SidecarProcess(Process process, List<String> command, HandlerLogLine.Attribution attribution) {
        this.process = process;
        this.command = command;
        this.attribution = attribution;
        this.stdin = process.getOutputStream();
        long pid = process.pid();
        this.stdoutDrain = drain(process.getInputStream(), "flinkfn-sidecar-stdout-" + pid, this::onStdout,
                () -> ready.complete(null));
        this.stderrDrain = drain(process.getErrorStream(), "flinkfn-sidecar-stderr-" + pid, this::onStderr, () -> {});
        process.onExit().thenRun(() -> ready.complete(null));
    }

    /**
     * Starts {@code command + ["--artifact", artifactFile]} and waits until the sidecar is ready.
     *
     * @param command the sidecar command, e.g. {@code ["node", "/opt/flinkfn/sidecar/bin/flinkfn-sidecar.js"]}
     * @throws SidecarException if it cannot be started, exits early (the message has its exit code and stderr) or is
     *     not ready within {@code startupTimeout} (it is killed then)
     */
    public static SidecarProcess start(List<String> command, Path artifactFile, Duration startupTimeout)
            throws SidecarException, InterruptedException {
        return start(command, artifactFile, startupTimeout, null);
    }

    /**
     * As {@link #start(List, Path, Duration)}, attributing the handler log lines on its stderr to {@code attribution}
     * (null: they are logged as ordinary stderr).
     */
    public static SidecarProcess start(List<String> command, Path artifactFile, Duration startupTimeout,
            HandlerLogLine.Attribution attribution) throws SidecarException, InterruptedException {
        checkNotNull(command, "command");
        checkArgument(!command.isEmpty(), "the sidecar command is empty");
        checkNotNull(artifactFile, "artifactFile");
        checkNotNull(startupTimeout, "startupTimeout");
        List<String> full = new ArrayList<>(command);
        full.add("--artifact");
        full.add(artifactFile.toAbsolutePath().toString());

        Process process;
        try {
            process = new ProcessBuilder(full).start();
        } catch (IOException e) {
            throw new SidecarException("cannot start the sidecar " + full + ": " + e.getMessage()
                    + " (is Node.js installed on the TaskManager and the sidecar command right?)", e);
        }
        SidecarProcess sidecar = new SidecarProcess(process, List.copyOf(full), attribution);
        try {
            sidecar.awaitReady(startupTimeout);
            LOG.info("Sidecar {} is ready on {}", sidecar.pid(), sidecar.socketPath);
            return sidecar;
        } catch (SidecarException | InterruptedException | RuntimeException e) {
            sidecar.kill();
            throw e;
        }
    }

    private void awaitReady(Duration timeout) throws SidecarException, InterruptedException {
        Path path;
        try {
            path = ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new SidecarException("the sidecar did not report READY within " + Durations.format(timeout)
                    + " (" + command + "); it was killed. A very large artifact or a slow machine needs a longer"
                    + " startup timeout" + stderrSuffix());
        } catch (ExecutionException e) {
            throw new SidecarException("waiting for the sidecar failed: " + e.getCause(), e.getCause());
        }
        if (path == null) {
            boolean exited = process.waitFor(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            stderrDrain.join(1000);
            throw new SidecarException((exited
                            ? "the sidecar exited with code " + process.exitValue() + " before it was ready"
                            : "the sidecar closed its stdout before it was ready")
                    + " (" + command + ")" + stderrSuffix());
        }
        socketPath = path;
    }

    /** The socket the sidecar serves on (from its READY line). */
    public Path socketPath() {
        return socketPath;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The last lines the sidecar wrote to stderr. */
    public String stderrTail() {
        return stderr.text();
    }

    /** The child process itself, for tests that need to crash it. */
    Process process() {
        return process;
    }

    /**
     * A sentence about the process for error messages: whether (and how) it exited, waiting up to {@code waitForExit}
     * for a dying process to be reaped, and the last lines of its stderr.
     */
    String describe(Duration waitForExit) {
        boolean exited = !process.isAlive();
        if (!exited && !waitForExit.isZero()) {
            try {
                exited = process.waitFor(waitForExit.toMillis(), TimeUnit.MILLISECONDS);
                stderrDrain.join(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return "the sidecar process " + process.pid()
                + (exited ? " exited with code " + process.exitValue() : " is still running")
                + stderrSuffix();
    }

    private String stderrSuffix() {
        return stderr.isEmpty() ? "; it wrote nothing to stderr" : "; its last stderr lines:\n" + stderr.text();
    }

    /**
     * Stops the sidecar: closes its stdin (it exits by itself), waits up to {@link #SHUTDOWN_GRACE}, then kills it.
     * Removes its socket and the private directory the socket was in.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stdin.close();
        } catch (IOException e) {
            LOG.debug("Closing the sidecar's stdin failed", e);
        }
        try {
            if (!process.waitFor(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Sidecar {} did not exit within {} of its stdin closing; killing it",
                        process.pid(), Durations.format(SHUTDOWN_GRACE));
                kill();
            }
        } catch (InterruptedException e) {
            kill();
            Thread.currentThread().interrupt();
        }
        removeSocket();
    }

    private void kill() {
        closed = true;
        process.destroyForcibly();
        try {
            stdin.close();
        } catch (IOException ignored) {
            // the process is gone either way
        }
        try {
            process.waitFor(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The sidecar removes its private folder (socket, owner marker, imported bundle) on every exit that runs its code;
     * when it was killed, this removes it, as the process that knows its child is dead. A folder it does not own (a
     * marker naming another process) keeps everything but the socket; a child that is somehow still alive keeps all.
     */
    private void removeSocket() {
        Path path = socketPath;
        if (path == null || process.isAlive()) {
            return;
        }
        Path directory = path.getParent();
        boolean ownFolder = directory != null
                && directory.getFileName().toString().startsWith(SOCKET_FOLDER_PREFIX)
                && OwnerMarker.readFrom(directory).map(owner -> owner.pid() == process.pid()).orElse(true);
        if (ownFolder) {
            LeftoverSweeper.deleteRecursively(directory);
            return;
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.debug("Removing the sidecar socket {} failed", path, e);
        }
    }

    private void onStdout(String line) {
        if (!ready.isDone() && line.startsWith(READY_PREFIX)) {
            ready.complete(Path.of(line.substring(READY_PREFIX.length())));
        } else {
            LOG.info("sidecar {} stdout: {}", process.pid(), line);
        }
    }

    private void onStderr(String line) {
        stderr.add(line);
        if (attribution != null) {
            Optional<HandlerLogLine> handlerLine = HandlerLogLine.decode(line);
            if (handlerLine.isPresent()) {
                handlerLine.get().log(attribution);
                return;
            }
        }
        LOG.info("sidecar {} stderr: {}", process.pid(), line);
    }

    /** A daemon thread that hands every line of {@code stream} to {@code lines} and runs {@code atEnd} at its end. */
    private static Thread drain(InputStream stream, String name, Consumer<String> lines, Runnable atEnd) {
        Thread thread = new Thread(() -> {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                String line;
                while ((line = reader.readLine()) != null) {
                    lines.accept(line);
                }
            } catch (IOException e) {
                // the process is gone or the stream was closed: nothing left to drain
            } finally {
                atEnd.run();
            }
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
