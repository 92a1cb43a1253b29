package dev.flinkfn.runtime.sidecar;

import static org.apache.flink.util.Preconditions.checkArgument;
import static org.apache.flink.util.Preconditions.checkNotNull;

import java.io.Serializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How an operator reaches its sidecar. Built on the client when the job graph is created and shipped to the
 * TaskManagers inside the operators, hence {@link Serializable} (the socket path is kept as a string for that).
 *
 * <ul>
 *   <li>{@link Mode#PROCESS}: every operator instance starts its own Node process with {@link #command()} plus
 *       {@code --artifact <file>}, so parallelism spreads user code over several event loops and the sidecar's life
 *       is tied to the task's.
 *   <li>{@link Mode#EXTERNAL}: the sidecar runs beside the TaskManager (a container sharing a socket volume) and was
 *       started with the artifact; the operator only connects to {@link #socketPath()} and checks the artifact id.
 * </ul>
 */
public final class SidecarConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(60);

    /** Whether the operator starts the sidecar or connects to one that runs already. */
    public enum Mode {
        PROCESS,
        EXTERNAL
    }

    private final Mode mode;
    private final List<String> command;
    private final String socketPath;
    private final Duration startupTimeout;
    private final Duration requestTimeout;

    private SidecarConfig(
            Mode mode, List<String> command, String socketPath, Duration startupTimeout, Duration requestTimeout) {
        this.mode = mode;
        this.command = command;
        this.socketPath = socketPath;
        this.startupTimeout = positive(startupTimeout, "startupTimeout");
        this.requestTimeout = positive(requestTimeout, "requestTimeout");
    }

    /**
     * Process mode: the command that starts the sidecar, without {@code --artifact}, e.g. {@code ["node",
     * "/opt/flinkfn/sidecar/bin/flinkfn-sidecar.js"]}.
     */
    public static SidecarConfig process(List<String> command) {
        checkNotNull(command, "command");
        checkArgument(!command.isEmpty(), "the sidecar command is empty");
        return new SidecarConfig(Mode.PROCESS, List.copyOf(command), null,
                DEFAULT_STARTUP_TIMEOUT, DEFAULT_REQUEST_TIMEOUT);
    }

    public static SidecarConfig process(String... command) {
        return process(List.of(command));
    }

    /** External mode: the socket of a sidecar that runs already. */
    public static SidecarConfig external(String socketPath) {
        checkNotNull(socketPath, "socketPath");
        checkArgument(!socketPath.isBlank(), "the sidecar socket path is empty");
        return new SidecarConfig(Mode.EXTERNAL, List.of(), socketPath,
                DEFAULT_STARTUP_TIMEOUT, DEFAULT_REQUEST_TIMEOUT);
    }

    public static SidecarConfig external(Path socketPath) {
        return external(checkNotNull(socketPath, "socketPath").toString());
    }

    /**
     * How long a started sidecar may take to print READY (process mode), or how long to keep trying to connect to a
     * sidecar that is not listening yet (external mode: its container may start after the TaskManager).
     */
    public SidecarConfig withStartupTimeout(Duration timeout) {
        return new SidecarConfig(mode, command, socketPath, timeout, requestTimeout);
    }

    /** How long a request may stay unanswered before the connection is declared broken and the task fails. */
    public SidecarConfig withRequestTimeout(Duration timeout) {
        return new SidecarConfig(mode, command, socketPath, startupTimeout, timeout);
    }

    public Mode mode() {
        return mode;
    }

    /** Process mode: the sidecar command without {@code --artifact}; empty in external mode. */
    public List<String> command() {
        return command;
    }

    /** External mode: the sidecar's socket; null in process mode (the sidecar picks a private one). */
    public Path socketPath() {
        return socketPath == null ? null : Path.of(socketPath);
    }

    public Duration startupTimeout() {
        return startupTimeout;
    }

    public Duration requestTimeout() {
        return requestTimeout;
    }

    private static Duration positive(Duration duration, String name) {
        checkNotNull(duration, name);
        checkArgument(!duration.isNegative() && !duration.isZero(), "%s must be positive, not %s", name, duration);
        return duration;
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof SidecarConfig)) {
            return false;
        }
        SidecarConfig that = (SidecarConfig) o;
        return mode == that.mode
                && command.equals(that.command)
                && Objects.equals(socketPath, that.socketPath)
                && startupTimeout.equals(that.startupTimeout)
                && requestTimeout.equals(that.requestTimeout);
    }

    @Override
    public int hashCode() {
        return Objects.hash(mode, command, socketPath, startupTimeout, requestTimeout);
    }

    @Override
    public String toString() {
        return "SidecarConfig{" + mode
                + (mode == Mode.PROCESS ? ", command=" + command : ", socket=" + socketPath)
                + ", startupTimeout=" + Durations.format(startupTimeout)
                + ", requestTimeout=" + Durations.format(requestTimeout) + "}";
    }
}
