package dev.flinkfn.runtime.job;

import static org.apache.flink.util.Preconditions.checkNotNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.core.fs.FileSystem;

/**
 * The values of a function's settings for its sidecars: plain ones travel with the job ({@code --setting name=value}),
 * secrets are read at {@code open()} on the TaskManager from one object that {@code flinkfn deploy} wrote next to the
 * deployment's state ({@code --secrets <location> --secrets-sha256 <hex>}), so they are never in the job graph, its
 * arguments or its configuration, which the Flink web UI and REST API show. The object's sha256 is checked, as the
 * artifact's is, so an object swapped after the deploy is refused.
 *
 * <p>The object: {@code {"format": "flinkfn-secrets", "nonce": "<random>", "values": {"<name>": "<value>"}}} (the
 * nonce makes its digest useless for guessing a value). Which settings a function needs, and their defaults, is the
 * sidecar's business: it answers HELLO with an error naming a missing one.
 */
public final class FunctionSettings implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String SECRETS_FORMAT = "flinkfn-secrets";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final LinkedHashMap<String, String> plain;
    private final String secretsLocation;
    private final String secretsSha256;

    public FunctionSettings(Map<String, String> plain, String secretsLocation, String secretsSha256) {
        this.plain = new LinkedHashMap<>(checkNotNull(plain, "plain"));
        if ((secretsLocation == null) != (secretsSha256 == null)) {
            throw new IllegalArgumentException("--secrets and --secrets-sha256 go together");
        }
        this.secretsLocation = secretsLocation;
        this.secretsSha256 = secretsSha256;
    }

    /** No settings: the sidecar fills in the defaults. */
    public static FunctionSettings none() {
        return new FunctionSettings(Map.of(), null, null);
    }

    /** From the job's arguments. */
    public static FunctionSettings fromOptions(JobOptions options) {
        return new FunctionSettings(options.settings(), options.get("secrets"), options.get("secrets-sha256"));
    }

    /** Every value: the plain ones, then the secrets (read now; a name in both is an error). */
    public Map<String, String> read() throws IOException {
        Map<String, String> values = new LinkedHashMap<>(plain);
        if (secretsLocation == null) {
            return Collections.unmodifiableMap(values);
        }
        byte[] bytes = load(secretsLocation);
        String actual = sha256(bytes);
        if (!actual.equals(secretsSha256)) {
            throw new IOException("the secrets object " + secretsLocation + " does not match the deployment: sha256 "
                    + actual + ", expected " + secretsSha256 + " (changed after the deploy; deploy again)");
        }
        JsonNode document;
        try {
            document = MAPPER.readTree(bytes);
        } catch (IOException e) {
            // Jackson quotes the text it could not parse: never put that into a message.
            throw new IOException("the secrets object " + secretsLocation + " is not valid JSON");
        }
        if (!SECRETS_FORMAT.equals(document.path("format").asText()) || !document.path("values").isObject()) {
            throw new IOException("the secrets object " + secretsLocation + " is not a " + SECRETS_FORMAT + " document");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = document.get("values").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (!entry.getValue().isTextual()) {
                throw new IOException("the secrets object " + secretsLocation + ": " + entry.getKey() + " is not a string");
            }
            if (values.put(entry.getKey(), entry.getValue().asText()) != null) {
                throw new IOException("the setting " + entry.getKey() + " is given both as a plain setting and as a secret");
            }
        }
        return Collections.unmodifiableMap(values);
    }

    /** Names only: this object may be logged; the secrets' values are not in it anyway. */
    @Override
    public String toString() {
        return "FunctionSettings[plain=" + plain.keySet() + ", secrets=" + (secretsLocation == null ? "none" : secretsLocation) + "]";
    }

    private static byte[] load(String location) throws IOException {
        URI uri = location.contains("://") ? URI.create(location) : Path.of(location).toAbsolutePath().toUri();
        try (InputStream in = FileSystem.get(uri).open(new org.apache.flink.core.fs.Path(uri))) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IOException("cannot read the secrets object " + location + ": " + e.getMessage(), e);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
