package dev.flinkfn.runtime.artifact;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.flink.core.fs.FileSystem;

/**
 * A verified flinkfn artifact: one JSON file {@code {format, formatVersion, manifest, code, sourceMap}} whose id is
 * the sha256 of its bytes (see packages/artifact/src/format.ts). Reading checks, in order: the bytes hash to the
 * expected id, the document is an artifact of a known version, the manifest is valid, and the code hashes to the
 * manifest's {@code bundle.sha256}. Locations go through Flink's FileSystem, so {@code file://} works everywhere
 * and {@code s3://} wherever the cluster has an S3 file system plugin.
 */
public final class Artifact {

    public static final String FORMAT = "flinkfn-artifact";
    public static final int FORMAT_VERSION = 1;
    private static final Pattern ID = Pattern.compile("^[0-9a-f]{64}$");
    private static final Pattern NAME = Pattern.compile("^[a-z][a-z0-9-]{0,62}$");
    private static final Pattern TOPIC = Pattern.compile("^[a-zA-Z0-9._-]{1,249}$");
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final String id;
    private final byte[] bytes;
    private final Manifest manifest;

    private Artifact(String id, byte[] bytes, Manifest manifest) {
        this.id = id;
        this.bytes = bytes;
        this.manifest = manifest;
    }

    public String id() {
        return id;
    }

    public Manifest manifest() {
        return manifest;
    }

    /** The artifact's bytes, to hand to the sidecar. */
    public byte[] bytes() {
        return bytes.clone();
    }

    /**
     * Reads an artifact from a location. {@code expectedId} may be null when the file name is content-addressed
     * ({@code <sha256>.flinkfn}), which is then the expected id.
     */
    public static Artifact read(String location, String expectedId) {
        String id = expectedId != null ? expectedId : idFromName(location);
        if (id == null) {
            throw new ArtifactException("artifact " + location + " has no id: pass --artifact-id <sha256>, or use the"
                    + " content-addressed file that `flinkfn build` writes (<sha256>.flinkfn)");
        }
        if (!ID.matcher(id).matches()) {
            throw new ArtifactException("artifact id " + id + " is not a sha256 (64 lower-case hex digits)");
        }
        return parse(load(location), location, id);
    }

    /** Parses and checks artifact bytes against their expected id. */
    public static Artifact parse(byte[] bytes, String where, String expectedId) {
        String actual = sha256(bytes);
        if (!actual.equals(expectedId)) {
            throw new ArtifactException("artifact " + where + " does not match its id: expected sha256 " + expectedId
                    + ", the content hashes to " + actual
                    + ". The file was changed or truncated after it was built; rebuild it with `flinkfn build`.");
        }
        JsonNode document;
        try {
            document = JSON.readTree(bytes);
        } catch (IOException e) {
            throw new ArtifactException(where + " is not a flinkfn artifact (not JSON)", e);
        }
        if (document == null || !FORMAT.equals(document.path("format").asText())) {
            throw new ArtifactException(where + " is not a flinkfn artifact (no \"format\": \"" + FORMAT + "\")");
        }
        if (document.path("formatVersion").asInt(-1) != FORMAT_VERSION) {
            throw new ArtifactException(where + " has artifact format version " + document.path("formatVersion")
                    + "; this runtime reads version " + FORMAT_VERSION + ". Rebuild it with a matching flinkfn.");
        }
        Manifest manifest;
        try {
            manifest = JSON.treeToValue(document.get("manifest"), Manifest.class);
        } catch (IOException e) {
            throw new ArtifactException("invalid manifest in " + where + ": " + e.getMessage(), e);
        }
        List<String> problems = validate(manifest);
        if (!problems.isEmpty()) {
            throw new ArtifactException("invalid manifest in " + where + ":\n  - " + String.join("\n  - ", problems));
        }
        String code = document.path("code").asText(null);
        if (code == null) {
            throw new ArtifactException(where + " has no code");
        }
        String codeHash = sha256(code.getBytes(StandardCharsets.UTF_8));
        if (!codeHash.equals(manifest.bundle().sha256())) {
            throw new ArtifactException("the code in " + where + " hashes to " + codeHash + " but its manifest says "
                    + manifest.bundle().sha256() + "; the artifact was tampered with. Rebuild it with `flinkfn build`.");
        }
        return new Artifact(expectedId, bytes, manifest);
    }

    /** Writes the artifact to a local file named by its id (for the sidecar), once per directory. */
    public Path writeTo(Path directory) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(id + ".flinkfn");
        if (!Files.exists(file) || Files.size(file) != bytes.length) {
            Path temporary = Files.createTempFile(directory, id, ".tmp");
            Files.write(temporary, bytes);
            Files.move(temporary, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    /** The rules of the schema that the runtime depends on; the TS side validates the full schema. */
    static List<String> validate(Manifest m) {
        List<String> problems = new ArrayList<>();
        if (m.manifestVersion() != 1) {
            problems.add("manifestVersion: " + m.manifestVersion() + " is not supported (expected 1)");
        }
        if (m.protocolVersion() != 1) {
            problems.add("protocolVersion: " + m.protocolVersion() + " is not supported (expected 1)");
        }
        if (m.name() == null || !NAME.matcher(m.name()).matches()) {
            problems.add("name: must be lower-case letters, digits and dashes");
        }
        if (m.source() == null || m.source().topic() == null || !TOPIC.matcher(m.source().topic()).matches()) {
            problems.add("source.topic: missing or not a valid topic name");
        } else if (!List.of("json", "string", "bytes").contains(m.source().format())) {
            problems.add("source.format: must be json, string or bytes");
        }
        if (m.sinks() == null || m.sinks().isEmpty()) {
            problems.add("sinks: at least one sink is required");
        }
        if (m.sideOutputs() == null || m.sideOutputs().deadLetter() == null) {
            problems.add("sideOutputs.deadLetter: required");
        }
        if (m.bundle() == null || m.bundle().sha256() == null || !ID.matcher(m.bundle().sha256()).matches()) {
            problems.add("bundle.sha256: required, 64 hex digits");
        }
        Manifest.Window w = m.window();
        if (w != null) {
            if (w.assigner() == null || w.time() == null) {
                problems.add("window: assigner and time are required");
                return problems;
            }
            switch (String.valueOf(w.assigner().kind())) {
                case "tumbling" -> require(problems, w.assigner().sizeMs(), "window.assigner.sizeMs");
                case "sliding" -> {
                    require(problems, w.assigner().sizeMs(), "window.assigner.sizeMs");
                    require(problems, w.assigner().slideMs(), "window.assigner.slideMs");
                }
                case "session" -> require(problems, w.assigner().gapMs(), "window.assigner.gapMs");
                default -> problems.add("window.assigner.kind: " + w.assigner().kind() + " is not a window kind");
            }
            if (!List.of("event", "processing").contains(w.time().kind())) {
                problems.add("window.time.kind: must be event or processing");
            }
            if (!List.of("aggregate", "process").contains(w.function())) {
                problems.add("window.function: must be aggregate or process");
            }
        }
        return problems;
    }

    private static void require(List<String> problems, Long value, String path) {
        if (value == null || value <= 0) {
            problems.add(path + ": required, a positive number of milliseconds");
        }
    }

    private static byte[] load(String location) {
        try {
            URI uri = location.contains("://") ? URI.create(location) : Path.of(location).toAbsolutePath().toUri();
            org.apache.flink.core.fs.Path path = new org.apache.flink.core.fs.Path(uri);
            try (InputStream in = FileSystem.get(uri).open(path)) {
                return in.readAllBytes();
            }
        } catch (IOException | IllegalArgumentException e) {
            throw new ArtifactException("cannot read artifact " + location + ": " + e.getMessage()
                    + ". Check the location (file:// or s3://; s3 needs the cluster's S3 file system plugin).", e);
        }
    }

    private static String idFromName(String location) {
        String name = location.substring(location.lastIndexOf('/') + 1);
        if (name.endsWith(".flinkfn") && ID.matcher(name.substring(0, name.length() - 8)).matches()) {
            return name.substring(0, name.length() - 8);
        }
        return null;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
