package dev.flinkfn.runtime.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handler log line contract of packages/sidecar/src/log-lines.ts: the golden cases both sides use, and a sidecar
 * process whose stderr lines the supervisor logs as the handler's, naming job and function, at console's level.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HandlerLogLineTest {

    private static final String JOB = "0123456789abcdef0123456789abcdef";

    @TestFactory
    List<DynamicTest> theGoldenCasesDecodeAndFormatAsTheTypeScriptSideExpects() throws Exception {
        JsonNode golden = GoldenFrames.MAPPER.readTree(
                GoldenFrames.repositoryRoot().resolve("packages/sidecar/test/golden/log-lines.json").toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : golden.get("decode")) {
            tests.add(DynamicTest.dynamicTest("decode: " + c.get("name").asText(), () -> {
                Optional<HandlerLogLine> decoded = HandlerLogLine.decode(c.get("line").asText());
                JsonNode expected = c.get("parsed");
                if (expected.isNull()) {
                    assertThat(decoded).isEmpty();
                } else {
                    assertThat(decoded).contains(
                            new HandlerLogLine(expected.get("level").asText(), expected.get("text").asText()));
                    assertThat(decoded.get().javaLevel()).isEqualTo(expected.get("javaLevel").asText());
                }
            }));
        }
        for (JsonNode c : golden.get("encode")) {
            tests.add(DynamicTest.dynamicTest("what the sidecar writes: " + c.get("name").asText(), () -> {
                String level = c.get("level").asText();
                String[] textLines = c.get("text").asText().split("\r?\n", -1);
                int i = 0;
                for (JsonNode line : c.get("lines")) {
                    assertThat(HandlerLogLine.decode(line.asText())).contains(new HandlerLogLine(level, textLines[i++]));
                }
                assertThat(i).isEqualTo(textLines.length);
            }));
        }
        for (JsonNode c : golden.get("messages")) {
            tests.add(DynamicTest.dynamicTest("message: " + c.get("name").asText(), () -> assertThat(
                            new HandlerLogLine(c.get("level").asText(), c.get("text").asText()).message(
                                    new HandlerLogLine.Attribution(c.get("jobId").asText(), c.get("function").asText())))
                    .isEqualTo(c.get("message").asText())));
        }
        assertThat(tests).hasSizeGreaterThan(15);
        return tests;
    }

    /**
     * A stand-in sidecar (a shell script: the supervisor cares only about READY, stdin and the output streams) writes
     * handler log lines and ordinary stderr; the handler's lines reach the {@code dev.flinkfn.handler} logger with job
     * and function at console's level, the rest the supervisor's own logger as before.
     */
    @Test
    void aSidecarsHandlerLogLinesAreLoggedAsTheHandlersNamingJobAndFunction(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("sidecar.sock");
        Files.createFile(socket);
        String script = "printf '%s\\n' 'flinkfn-handler-log log saw a 1' 'flinkfn-handler-log warn careful'"
                + " 'flinkfn-handler-log error boom' 'flinkfn-handler-log trace Trace: here' 'plain stderr'"
                + " 'flinkfn-handler-log fatal not a level' >&2;"
                + " echo \"READY " + socket + "\"; cat > /dev/null";
        List<LogEvent> handler = new CopyOnWriteArrayList<>();
        List<LogEvent> supervisor = new CopyOnWriteArrayList<>();
        try (Capture a = Capture.of(HandlerLogLine.LOGGER, handler);
                Capture b = Capture.of(SidecarProcess.class.getName(), supervisor)) {
            try (SidecarProcess process = SidecarProcess.start(List.of("sh", "-c", script, "sh"),
                    dir.resolve("a.flinkfn"), Duration.ofSeconds(60),
                    new HandlerLogLine.Attribution(JOB, "squares"))) {
                // The lines come through a drain thread: wait (generously) for the last one.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline && (handler.size() < 4 || supervisor.stream().noneMatch(
                        e -> e.getMessage().getFormattedMessage().contains("not a level")))) {
                    Thread.sleep(20);
                }
            }
        }
        assertThat(handler).extracting(e -> e.getLevel() + " " + e.getMessage().getFormattedMessage()).containsExactly(
                "INFO flinkfn handler log job " + JOB + " squares [log]: saw a 1",
                "WARN flinkfn handler log job " + JOB + " squares [warn]: careful",
                "ERROR flinkfn handler log job " + JOB + " squares [error]: boom",
                "INFO flinkfn handler log job " + JOB + " squares [trace]: Trace: here");
        assertThat(supervisor).extracting(e -> e.getMessage().getFormattedMessage())
                .anyMatch(m -> m.matches("sidecar \\d+ stderr: plain stderr"))
                .anyMatch(m -> m.matches("sidecar \\d+ stderr: flinkfn-handler-log fatal not a level"))
                .noneMatch(m -> m.contains("saw a 1"));
    }

    @Test
    void withoutAnAttributionHandlerLogLinesAreOrdinaryStderr(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("sidecar.sock");
        Files.createFile(socket);
        String script = "echo 'flinkfn-handler-log log saw a 1' >&2; echo \"READY " + socket + "\"; cat > /dev/null";
        List<LogEvent> handler = new CopyOnWriteArrayList<>();
        List<LogEvent> supervisor = new CopyOnWriteArrayList<>();
        try (Capture a = Capture.of(HandlerLogLine.LOGGER, handler);
                Capture b = Capture.of(SidecarProcess.class.getName(), supervisor)) {
            try (SidecarProcess process = SidecarProcess.start(
                    List.of("sh", "-c", script, "sh"), dir.resolve("a.flinkfn"), Duration.ofSeconds(60))) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (System.nanoTime() < deadline && supervisor.stream().noneMatch(
                        e -> e.getMessage().getFormattedMessage().contains("saw a 1"))) {
                    Thread.sleep(20);
                }
            }
        }
        assertThat(handler).isEmpty();
        assertThat(supervisor).extracting(e -> e.getMessage().getFormattedMessage())
                .anyMatch(m -> m.matches("sidecar \\d+ stderr: flinkfn-handler-log log saw a 1"));
    }

    /** Records what one logger logs (at every level) while it is open; the test configuration logs WARN and up. */
    private static final class Capture implements AutoCloseable {
        private final LoggerContext context;
        private final String name;

        private Capture(LoggerContext context, String name) {
            this.context = context;
            this.name = name;
        }

        static Capture of(String name, List<LogEvent> events) {
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            Configuration configuration = context.getConfiguration();
            AbstractAppender appender = new AbstractAppender("capture-" + name, null, null, true, Property.EMPTY_ARRAY) {
                @Override
                public void append(LogEvent event) {
                    events.add(event.toImmutable());
                }
            };
            appender.start();
            LoggerConfig logger = new LoggerConfig(name, Level.ALL, false);
            logger.addAppender(appender, Level.ALL, null);
            configuration.addLogger(name, logger);
            context.updateLoggers();
            return new Capture(context, name);
        }

        @Override
        public void close() {
            context.getConfiguration().removeLogger(name);
            context.updateLoggers();
        }
    }
}
