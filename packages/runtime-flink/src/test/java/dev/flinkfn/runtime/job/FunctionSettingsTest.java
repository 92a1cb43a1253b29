package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.apache.flink.util.InstantiationUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a function's settings at open(): plain ones from the job's arguments, secrets from their object. */
class FunctionSettingsTest {

    private static final String SECRET = "tok-3f9a-very-secret";

    @TempDir
    Path directory;

    @Test
    void plainSettingsFromTheArgumentsAndSecretsFromTheirObjectAreReadTogether() throws Exception {
        Path object = secretsObject("{\"format\":\"flinkfn-secrets\",\"nonce\":\"ab12\",\"values\":{\"apiToken\":\"" + SECRET + "\"}}");
        JobOptions options = JobOptions.parse(new String[] {
            "--artifact", "file:///a.flinkfn",
            "--setting", "customersUrl=http://api:8080/?a=b",
            "--setting", "region=eu",
            "--secrets", object.toUri().toString(),
            "--secrets-sha256", sha256(Files.readAllBytes(object)),
        });
        FunctionSettings settings = FunctionSettings.fromOptions(options);

        // what the job graph carries: serialized with the operator, and it holds no secret value
        byte[] serialized = InstantiationUtil.serializeObject(settings);
        assertThat(new String(serialized, StandardCharsets.ISO_8859_1)).doesNotContain(SECRET);
        FunctionSettings onTaskManager = InstantiationUtil.deserializeObject(serialized, getClass().getClassLoader());

        assertThat(onTaskManager.read()).containsExactly(
                Map.entry("customersUrl", "http://api:8080/?a=b"), Map.entry("region", "eu"), Map.entry("apiToken", SECRET));
        assertThat(onTaskManager.toString()).contains("customersUrl", "region").doesNotContain(SECRET);
    }

    @Test
    void aSecretsObjectChangedAfterTheDeployIsRefusedWithoutShowingItsContent() throws Exception {
        Path object = secretsObject("{\"format\":\"flinkfn-secrets\",\"nonce\":\"ab12\",\"values\":{\"apiToken\":\"old\"}}");
        String digest = sha256(Files.readAllBytes(object));
        Files.writeString(object, "{\"format\":\"flinkfn-secrets\",\"nonce\":\"ab12\",\"values\":{\"apiToken\":\"" + SECRET + "\"}}");
        FunctionSettings settings = new FunctionSettings(Map.of(), object.toUri().toString(), digest);
        assertThatThrownBy(settings::read)
                .isInstanceOf(IOException.class)
                .hasMessageContaining("does not match the deployment")
                .message().doesNotContain(SECRET);
    }

    @Test
    void brokenOrAmbiguousObjectsAreErrorsThatNameNoValue() throws Exception {
        Path broken = secretsObject("{\"values\": \"" + SECRET);
        assertThatThrownBy(() -> new FunctionSettings(Map.of(), broken.toUri().toString(), sha256(Files.readAllBytes(broken))).read())
                .hasMessageContaining("is not valid JSON").message().doesNotContain(SECRET);

        Path both = secretsObject("{\"format\":\"flinkfn-secrets\",\"nonce\":\"1\",\"values\":{\"region\":\"" + SECRET + "\"}}");
        assertThatThrownBy(() -> new FunctionSettings(Map.of("region", "eu"), both.toUri().toString(), sha256(Files.readAllBytes(both))).read())
                .hasMessageContaining("region is given both as a plain setting and as a secret").message().doesNotContain(SECRET);

        assertThatThrownBy(() -> new FunctionSettings(Map.of(), "file:///x", null))
                .hasMessageContaining("--secrets and --secrets-sha256 go together");
        assertThatThrownBy(() -> JobOptions.parse(new String[] {"--artifact", "a", "--setting", "novalue"}))
                .hasMessageContaining("--setting needs name=value");
    }

    @Test
    void withoutSettingsNothingIsRead() throws Exception {
        assertThat(FunctionSettings.none().read()).isEmpty();
    }

    private Path secretsObject(String text) throws IOException {
        Path file = Files.createTempFile(directory, "secrets", ".json");
        Files.writeString(file, text);
        return file;
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
