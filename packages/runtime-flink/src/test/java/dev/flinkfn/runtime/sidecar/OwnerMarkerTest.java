package dev.flinkfn.runtime.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner-marker contract of packages/sidecar/src/owner.ts: the golden cases both sides parse, and liveness against
 * real processes killed with SIGKILL.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OwnerMarkerTest {

    @TestFactory
    List<DynamicTest> theGoldenCasesParseAsTheTypeScriptSideParsesThem() throws Exception {
        JsonNode golden = GoldenFrames.MAPPER.readTree(
                GoldenFrames.repositoryRoot().resolve("packages/sidecar/test/golden/owner.json").toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : golden.get("markers")) {
            tests.add(DynamicTest.dynamicTest("marker: " + c.get("name").asText(), () -> {
                JsonNode expected = c.get("parsed");
                assertThat(OwnerMarker.parse(c.get("text").asText())).isEqualTo(expected.isNull()
                        ? java.util.Optional.empty()
                        : java.util.Optional.of(new OwnerMarker(expected.get("pid").asLong(),
                                expected.get("startTicks").isNull() ? null : expected.get("startTicks").asLong(),
                                expected.get("bootId").isNull() ? null : expected.get("bootId").asText())));
            }));
        }
        for (JsonNode c : golden.get("stat")) {
            tests.add(DynamicTest.dynamicTest("/proc/<pid>/stat: " + c.get("name").asText(), () -> {
                JsonNode expected = c.get("parsed");
                assertThat(OwnerMarker.parseProcStat(c.get("line").asText())).isEqualTo(expected.isNull()
                        ? java.util.Optional.empty()
                        : java.util.Optional.of(new OwnerMarker.ProcStat(
                                expected.get("state").asText(), expected.get("startTicks").asLong())));
            }));
        }
        assertThat(tests).hasSizeGreaterThan(10);
        return tests;
    }

    @Test
    void thisJvmIsItsOwnLiveOwnerAndAWrittenMarkerReadsBackTheSame(@TempDir Path folder) throws Exception {
        OwnerMarker owner = OwnerMarker.current();
        assertThat(owner.pid()).isEqualTo(ProcessHandle.current().pid());
        assertThat(owner.startTicks()).as("Linux has /proc").isNotNull();
        assertThat(owner.isAlive()).isTrue();
        assertThat(OwnerMarker.readFrom(folder)).as("no marker yet").isEmpty();
        owner.writeTo(folder);
        assertThat(OwnerMarker.readFrom(folder)).contains(owner);
        try (var files = Files.list(folder)) {
            assertThat(files).as("no temporary file left").containsExactly(folder.resolve(OwnerMarker.FILE));
        }
    }

    @Test
    void aSigkilledOwnerIsDeadAndItsPidWithAnotherStartTimeIsNotItsOwner() throws Exception {
        Process child = new ProcessBuilder("sleep", "600").start();
        try {
            OwnerMarker owner = OwnerMarker.of(child.pid());
            assertThat(owner.isAlive()).isTrue();
            assertThat(new OwnerMarker(owner.pid(), owner.startTicks() + 1, owner.bootId()).isAlive())
                    .as("same pid, another start time: a reused pid").isFalse();
            assertThat(new OwnerMarker(owner.pid(), owner.startTicks(), "another-boot").isAlive())
                    .as("same pid and start time in another boot").isFalse();
            kill9(child);
            assertThat(owner.isAlive()).isFalse();
        } finally {
            child.destroyForcibly();
        }
    }

    /** SIGKILL with the kill command, and wait until the child is reaped. */
    static void kill9(Process child) throws Exception {
        assertThat(new ProcessBuilder("kill", "-9", Long.toString(child.pid())).inheritIO().start().waitFor()).isZero();
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isEqualTo(128 + 9);
    }
}
