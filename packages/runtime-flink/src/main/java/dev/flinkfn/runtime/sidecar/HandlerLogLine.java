package dev.flinkfn.runtime.sidecar;

import static org.apache.flink.util.Preconditions.checkNotNull;

import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A line of a handler's console output, as the sidecar writes it on stderr, and how the TaskManager logs it: the
 * contract of {@code packages/sidecar/src/log-lines.ts} (rules there; golden cases in
 * {@code packages/sidecar/test/golden/log-lines.json}). The sidecar writes {@code flinkfn-handler-log <level> <text>};
 * the process supervisor logs it with the {@link #LOGGER} logger as
 * {@code flinkfn handler log job <jobId> <function> [<level>]: <text>}, at WARN for warn, ERROR for error and INFO
 * for log, info, debug and trace.
 *
 * @param level the console method: log, info, debug, warn, error or trace
 * @param text one line of what it printed
 */
public record HandlerLogLine(String level, String text) {

    /** The logger handler log lines go to, so that a TaskManager's log configuration can treat them apart. */
    public static final String LOGGER = "dev.flinkfn.handler";

    static final String PREFIX = "flinkfn-handler-log ";
    static final String MESSAGE = "flinkfn handler log job ";
    private static final Set<String> LEVELS = Set.of("log", "info", "debug", "warn", "error", "trace");
    private static final Logger HANDLER_LOG = LoggerFactory.getLogger(LOGGER);

    public HandlerLogLine {
        checkNotNull(level, "level");
        checkNotNull(text, "text");
    }

    /** The job and function a sidecar runs for: what its handler log lines are attributed to. */
    public record Attribution(String jobId, String function) {
        public Attribution {
            checkNotNull(jobId, "jobId");
            checkNotNull(function, "function");
        }
    }

    /** A stderr line of the sidecar as a handler log line, or empty for ordinary stderr. */
    public static Optional<HandlerLogLine> decode(String line) {
        if (!line.startsWith(PREFIX)) {
            return Optional.empty();
        }
        String rest = line.substring(PREFIX.length());
        int space = rest.indexOf(' ');
        if (space < 0 || !LEVELS.contains(rest.substring(0, space))) {
            return Optional.empty();
        }
        return Optional.of(new HandlerLogLine(rest.substring(0, space), rest.substring(space + 1)));
    }

    /** The log level it is written at: WARN, ERROR or INFO (Node prints log, info, debug and trace alike). */
    public String javaLevel() {
        switch (level) {
            case "warn":
                return "WARN";
            case "error":
                return "ERROR";
            default:
                return "INFO";
        }
    }

    /** The message in the TaskManager log. */
    public String message(Attribution attribution) {
        return MESSAGE + attribution.jobId() + " " + attribution.function() + " [" + level + "]: " + text;
    }

    /** Writes it to the TaskManager log. */
    void log(Attribution attribution) {
        String message = message(attribution);
        switch (javaLevel()) {
            case "WARN":
                HANDLER_LOG.warn("{}", message);
                break;
            case "ERROR":
                HANDLER_LOG.error("{}", message);
                break;
            default:
                HANDLER_LOG.info("{}", message);
        }
    }
}
