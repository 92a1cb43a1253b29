package dev.flinkfn.runtime.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads real artifacts built by the TypeScript side (the conformance cases' artifacts). */
class ArtifactTest {

    private static Path built;

    @BeforeAll
    static void findABuiltArtifact() throws Exception {
        Path repo = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
        Path root = repo.resolve("packages/conformance/.flinkfn/cases/001-tumbling-basic/.flinkfn/artifacts");
        if (!Files.isDirectory(root)) {
            Process p = new ProcessBuilder("node", "packages/conformance/dist/build-cases.js")
                    .directory(repo.toFile()).inheritIO().start();
            assertThat(p.waitFor()).isZero();
        }
        try (Stream<Path> files = Files.list(root)) {
            built = files.filter(f -> f.toString().endsWith(".flinkfn"))
                    .max(Comparator.comparingLong(f -> f.toFile().lastModified())).orElseThrow();
        }
    }

    @Test
    void aBuiltArtifactIsReadWithItsManifestAndVerifiedAgainstItsFileName() {
        Artifact artifact = Artifact.read(built.toString(), null);
        assertThat(built.getFileName().toString()).isEqualTo(artifact.id() + ".flinkfn");
        assertThat(artifact.manifest().name()).isEqualTo("case-001-tumbling-basic");
        assertThat(artifact.manifest().window().assigner().sizeMs()).isEqualTo(10L);
        assertThat(Artifact.read("file://" + built.toAbsolutePath(), artifact.id()).id()).isEqualTo(artifact.id());
    }

    @Test
    void aTamperedArtifactIsRefusedBecauseItNoLongerMatchesItsId(@TempDir Path dir) throws Exception {
        String id = built.getFileName().toString().replace(".flinkfn", "");
        byte[] bytes = Files.readAllBytes(built);
        String text = new String(bytes, StandardCharsets.UTF_8).replace("ids: [...acc.ids, e.id]", "ids: [...acc.ids, 666]");
        assertThat(text).isNotEqualTo(new String(bytes, StandardCharsets.UTF_8));
        Path tampered = dir.resolve(id + ".flinkfn");
        Files.writeString(tampered, text);
        assertThatThrownBy(() -> Artifact.read(tampered.toString(), null))
                .isInstanceOf(ArtifactException.class)
                .hasMessageContaining("does not match its id")
                .hasMessageContaining(tampered.toString());
    }

    @Test
    void codeChangedTogetherWithTheIdIsRefusedBecauseItNoLongerMatchesTheManifestHash(@TempDir Path dir) throws Exception {
        String text = Files.readString(built).replace("ids: [...acc.ids, e.id]", "ids: [...acc.ids, 666]");
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        String newId = Artifact.sha256(bytes);
        assertThatThrownBy(() -> Artifact.parse(bytes, "forged.flinkfn", newId))
                .isInstanceOf(ArtifactException.class)
                .hasMessageContaining("tampered with");
    }

    @Test
    void aManifestThatBreaksTheSchemaIsRefusedWithEveryProblem() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode document = (ObjectNode) json.readTree(built.toFile());
        ObjectNode manifest = (ObjectNode) document.get("manifest");
        manifest.put("name", "Not A Name");
        manifest.put("protocolVersion", 7);
        byte[] bytes = json.writeValueAsBytes(document);
        assertThatThrownBy(() -> Artifact.parse(bytes, "bad.flinkfn", Artifact.sha256(bytes)))
                .isInstanceOf(ArtifactException.class)
                .hasMessageContaining("name: must be lower-case")
                .hasMessageContaining("protocolVersion: 7 is not supported");
        manifest.put("surprise", true);
        byte[] unknown = json.writeValueAsBytes(document);
        assertThatThrownBy(() -> Artifact.parse(unknown, "bad.flinkfn", Artifact.sha256(unknown)))
                .hasMessageContaining("invalid manifest in bad.flinkfn")
                .hasMessageContaining("surprise");
    }

    @Test
    void asyncOptionsAreReadAndWithoutThemTheDefaultsAreTheSdks() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode document = (ObjectNode) json.readTree(built.toFile());
        ObjectNode manifest = (ObjectNode) document.get("manifest");
        manifest.remove("async");
        byte[] without = json.writeValueAsBytes(document);
        assertThat(Artifact.parse(without, "a.flinkfn", Artifact.sha256(without)).manifest().asyncOrDefaults())
                .isEqualTo(Manifest.Async.DEFAULTS);
        ObjectNode async = manifest.putObject("async").put("capacity", 20).put("timeoutMs", 2_000).put("ordered", false);
        async.putObject("retry").put("retries", 3).put("backoffMs", 50).put("maxBackoffMs", 10_000);
        byte[] with = json.writeValueAsBytes(document);
        assertThat(Artifact.parse(with, "b.flinkfn", Artifact.sha256(with)).manifest().asyncOrDefaults())
                .isEqualTo(new Manifest.Async(20, 2_000, false, new Manifest.Retry(3, 50, 10_000)));
        // the defaults' one home is packages/sdk/src/async.ts
        Path repo = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
        String sdk = Files.readString(repo.resolve("packages/sdk/src/async.ts"));
        Manifest.Async d = Manifest.Async.DEFAULTS;
        assertThat(sdk).contains(String.format("ASYNC_DEFAULTS: ManifestAsync = Object.freeze({ capacity: %d, timeoutMs: %s, ordered: %s, retry: null });",
                d.capacity(), String.format("%,d", d.timeoutMs()).replace(',', '_'), d.ordered()));
        assertThat(d.retry()).isNull();
    }

    @Test
    void aSharedBoundedSourceAndALifetimeAreRead() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode document = (ObjectNode) json.readTree(built.toFile());
        ObjectNode manifest = (ObjectNode) document.get("manifest");
        ObjectNode source = (ObjectNode) manifest.get("source");
        source.putObject("create").put("partitions", 4);
        source.put("until", "latest");
        manifest.putObject("lifetime").put("ttlMs", 7_200_000).putNull("idleTimeoutMs");
        byte[] bytes = json.writeValueAsBytes(document);
        Manifest read = Artifact.parse(bytes, "shared.flinkfn", Artifact.sha256(bytes)).manifest();
        assertThat(read.source().create().partitions()).isEqualTo(4);
        assertThat(read.source().isBounded()).isTrue();
        assertThat(read.lifetime().ttlMs()).isEqualTo(7_200_000L);
        assertThat(read.lifetime().idleTimeoutMs()).isNull();
        assertThat(new dev.flinkfn.runtime.job.KafkaConnectors("127.0.0.1:9", "shared", java.util.Map.of())
                        .source(read.source()).getBoundedness())
                .isEqualTo(org.apache.flink.api.connector.source.Boundedness.BOUNDED);
        assertThat(Artifact.read(built.toString(), null).manifest().source().isBounded()).isFalse();
    }

    @Test
    void aMissingArtifactNamesTheLocation() {
        assertThatThrownBy(() -> Artifact.read("/nonexistent/" + "a".repeat(64) + ".flinkfn", null))
                .isInstanceOf(ArtifactException.class)
                .hasMessageContaining("cannot read artifact /nonexistent/");
    }
}
