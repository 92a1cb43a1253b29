package dev.flinkfn.runtime.sidecar;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * The owner of a folder on a TaskManager host: the process that created it for itself, so that a later process can
 * tell whether anyone still uses it. Mirrors {@code packages/sidecar/src/owner.ts}, whose header is the contract
 * (file {@code owner.json}: {@code {"format":"flinkfn-owner","version":1,"pid","startTicks","bootId"}}; alive = same
 * boot, and /proc/&lt;pid&gt;/stat names a non-zombie with the recorded start time); both sides test against
 * {@code packages/sidecar/test/golden/owner.json}.
 *
 * @param startTicks field 22 of /proc/&lt;pid&gt;/stat, null where there is no /proc
 * @param bootId the host's boot id, null where there is no /proc
 */
public record OwnerMarker(long pid, Long startTicks, String bootId) {

    public static final String FILE = "owner.json";
    public static final String FORMAT = "flinkfn-owner";
    public static final int VERSION = 1;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path PROC = Path.of("/proc");

    /** What /proc/&lt;pid&gt;/stat says that matters here. */
    public record ProcStat(String state, long startTicks) {}

    /** This JVM as owner. */
    public static OwnerMarker current() {
        return of(ProcessHandle.current().pid());
    }

    /** The running process {@code pid} as owner. */
    public static OwnerMarker of(long pid) {
        Optional<ProcStat> stat = readProcStat(pid);
        return new OwnerMarker(pid, stat.map(ProcStat::startTicks).orElse(null),
                stat.isPresent() ? readBootId() : null);
    }

    /** Whether the process this marker names still runs (the rule in owner.ts). */
    public boolean isAlive() {
        String boot = readBootId();
        if (bootId != null && boot != null && !bootId.equals(boot)) {
            return false;
        }
        if (startTicks == null) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        return readProcStat(pid)
                .filter(stat -> !stat.state().equals("Z") && !stat.state().equals("X"))
                .map(stat -> stat.startTicks() == startTicks)
                .orElse(false);
    }

    /** Writes this marker into {@code folder} under a temporary name and renames it, so no reader sees half of it. */
    public void writeTo(Path folder) throws IOException {
        ObjectNode node = JSON.createObjectNode()
                .put("format", FORMAT)
                .put("version", VERSION)
                .put("pid", pid);
        node.put("startTicks", startTicks);
        node.put("bootId", bootId);
        Path temporary = folder.resolve("." + FILE + "." + ProcessHandle.current().pid() + ".tmp");
        Files.writeString(temporary, JSON.writeValueAsString(node) + "\n", StandardCharsets.UTF_8);
        Files.move(temporary, folder.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The marker in {@code folder}; empty when there is none or it is not a marker of this version. */
    public static Optional<OwnerMarker> readFrom(Path folder) {
        try {
            return parse(Files.readString(folder.resolve(FILE), StandardCharsets.UTF_8));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Parses a marker's text; empty if it is not a marker of this version. */
    public static Optional<OwnerMarker> parse(String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (IOException e) {
            return Optional.empty();
        }
        if (node == null || !node.isObject()
                || !FORMAT.equals(node.path("format").textValue())
                || !node.path("version").isIntegralNumber() || node.path("version").asInt() != VERSION) {
            return Optional.empty();
        }
        JsonNode pid = node.path("pid");
        JsonNode ticks = node.path("startTicks");
        JsonNode boot = node.path("bootId");
        if (!pid.isIntegralNumber() || !pid.canConvertToLong() || pid.asLong() <= 0) {
            return Optional.empty();
        }
        if (!ticks.isNull() && !(ticks.isIntegralNumber() && ticks.canConvertToLong() && ticks.asLong() >= 0)) {
            return Optional.empty();
        }
        if (!boot.isNull() && !boot.isTextual()) {
            return Optional.empty();
        }
        return Optional.of(new OwnerMarker(pid.asLong(), ticks.isNull() ? null : ticks.asLong(),
                boot.isNull() ? null : boot.textValue()));
    }

    /**
     * Parses a /proc/&lt;pid&gt;/stat line: {@code pid (comm) state …}. comm may hold spaces and parentheses, so the
     * fields are counted after the last ')': the state is field 3, the start time field 22.
     */
    public static Optional<ProcStat> parseProcStat(String line) {
        int close = line.lastIndexOf(')');
        if (close < 0) {
            return Optional.empty();
        }
        String[] fields = line.substring(close + 1).trim().split("\\s+");
        if (fields.length < 20 || fields[0].isEmpty() || !fields[19].matches("\\d+")) {
            return Optional.empty();
        }
        try {
            return Optional.of(new ProcStat(fields[0], Long.parseLong(fields[19])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static Optional<ProcStat> readProcStat(long pid) {
        try {
            return parseProcStat(Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat")));
        } catch (IOException e) {
            return Optional.empty(); // no such process (any more)
        }
    }

    private static String readBootId() {
        try {
            String id = Files.readString(PROC.resolve("sys/kernel/random/boot_id")).trim();
            return id.isEmpty() ? null : id;
        } catch (IOException e) {
            return null;
        }
    }
}
