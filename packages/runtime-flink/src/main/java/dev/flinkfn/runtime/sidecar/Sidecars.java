package dev.flinkfn.runtime.sidecar;

import static org.apache.flink.util.Preconditions.checkNotNull;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/** Opens an operator's sidecar client the way a {@link SidecarConfig} says. */
public final class Sidecars {

    private static final long FIRST_RETRY_MILLIS = 50;
    private static final long MAX_RETRY_MILLIS = 1000;

    private Sidecars() {}

    /**
     * Process mode: starts a sidecar on {@code artifactFile}, connects to the socket it reports and checks it serves
     * {@code artifactId}; closing the client stops the process. External mode: connects to the configured socket,
     * retrying for the startup timeout while nothing listens there yet, and checks the artifact id ({@code
     * artifactFile} is not used: the external sidecar was started with its artifact).
     */
    public static SidecarClient open(SidecarConfig config, Path artifactFile, String artifactId)
            throws SidecarException, InterruptedException {
        return open(config, artifactFile, artifactId, Map.of(), null);
    }

    /** As {@link #open(SidecarConfig, Path, String)}, handing the function's setting values over in HELLO. */
    public static SidecarClient open(SidecarConfig config, Path artifactFile, String artifactId,
            Map<String, String> settings) throws SidecarException, InterruptedException {
        return open(config, artifactFile, artifactId, settings, null);
    }

    /**
     * As {@link #open(SidecarConfig, Path, String, Map)}; a sidecar this process starts attributes its handler log
     * lines to {@code attribution} (null: logged as ordinary stderr). An external sidecar's stderr is its container's
     * log.
     */
    public static SidecarClient open(SidecarConfig config, Path artifactFile, String artifactId,
            Map<String, String> settings, HandlerLogLine.Attribution attribution)
            throws SidecarException, InterruptedException {
        checkNotNull(config, "config");
        checkNotNull(settings, "settings");
        checkNotNull(artifactId, "artifactId");
        switch (config.mode()) {
            case PROCESS:
                checkNotNull(artifactFile, "artifactFile");
                SidecarProcess process = SidecarProcess.start(
                        config.command(), artifactFile, config.startupTimeout(), attribution);
                try {
                    return SocketSidecarClient.connect(
                            process.socketPath(), artifactId, settings, config.requestTimeout(), process);
                } catch (SidecarException | InterruptedException | RuntimeException e) {
                    process.close();
                    throw e;
                }
            case EXTERNAL:
                Path socket = config.socketPath();
                return SocketSidecarClient.handshake(
                        connectWithRetry(socket, config.startupTimeout()), socket, artifactId, settings,
                        config.requestTimeout(), null);
            default:
                throw new IllegalArgumentException("unknown sidecar mode " + config.mode());
        }
    }

    /** An external sidecar's container may come up after the TaskManager: retry until the deadline. */
    private static SocketChannel connectWithRetry(Path socket, Duration timeout)
            throws SidecarException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long backoff = FIRST_RETRY_MILLIS;
        while (true) {
            try {
                return SocketSidecarClient.openChannel(socket);
            } catch (IOException e) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new SidecarException("cannot connect to the sidecar at " + socket + " within "
                            + Durations.format(timeout) + ": " + e + " (is the sidecar container running, and is"
                            + " its socket directory shared with the TaskManager?)", e);
                }
                Thread.sleep(Math.min(backoff, Math.max(1, left / 1_000_000)));
                backoff = Math.min(backoff * 2, MAX_RETRY_MILLIS);
            }
        }
    }
}
