package dev.flinkfn.runtime.sidecar;

/**
 * The sidecar could not be started, reached, or did not answer as the protocol requires. The message says what
 * happened and, where it can, why (the sidecar's exit code and the last lines of its stderr), because the operator
 * fails its task with it and that message is all a user sees in the Flink UI.
 *
 * <p>It is an {@link java.io.IOException}: the sidecar is a separate process reached over a socket, and callers
 * should treat its failure like any other I/O failure (fail the task, let Flink restore from a checkpoint).
 */
public class SidecarException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    public SidecarException(String message) {
        super(message);
    }

    public SidecarException(String message, Throwable cause) {
        super(message, cause);
    }
}
