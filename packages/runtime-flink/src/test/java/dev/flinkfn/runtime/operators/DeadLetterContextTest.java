package dev.flinkfn.runtime.operators;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Against {@code packages/host/test/golden/dead-letter-context.json}, which the host's TypeScript tests check too. */
class DeadLetterContextTest {

    private static final JsonNode GOLDEN = golden();

    @Test
    void aRecordStageDeadLetterGetsItsKafkaRecordAndTheTimeExactlyAsTheGoldenSays() {
        JsonNode r = GOLDEN.get("record");
        SourceRecord record = SourceRecord.of(r.get("topic").asText(), r.get("partition").asInt(),
                r.get("offset").asLong(), r.get("timestamp").asLong(), bytes("{}"));
        byte[] written = DeadLetterContext.withSource(bytes(GOLDEN.get("host").asText()), record, GOLDEN.get("nowMillis").asLong());
        assertThat(new String(written, StandardCharsets.UTF_8)).isEqualTo(GOLDEN.get("written").asText());
    }

    @Test
    void aWindowStageDeadLetterGetsTheTimeOnly() {
        byte[] written = DeadLetterContext.withTime(bytes(GOLDEN.get("windowHost").asText()), GOLDEN.get("nowMillis").asLong());
        assertThat(new String(written, StandardCharsets.UTF_8)).isEqualTo(GOLDEN.get("windowWritten").asText());
    }

    @Test
    void aRecordThatDidNotComeFromKafkaSaysNoSource() {
        byte[] written = DeadLetterContext.withSource(bytes(GOLDEN.get("windowHost").asText()),
                SourceRecord.of(0, bytes("{}")), GOLDEN.get("nowMillis").asLong());
        assertThat(new String(written, StandardCharsets.UTF_8)).isEqualTo(GOLDEN.get("windowWritten").asText());
    }

    @Test
    void somethingThatIsNotAnObjectWithMembersIsLeftAsItIs() {
        for (String text : new String[] {"", "{}", "[1]", "\"x\""}) {
            assertThat(DeadLetterContext.withTime(bytes(text), 0L)).isEqualTo(bytes(text));
        }
    }

    @Test
    void timesAlwaysHaveMillisecondsAsJavaScriptWritesThem() {
        String written = new String(DeadLetterContext.withTime(bytes("{\"stage\":\"result\"}"), 1_700_000_000_000L), StandardCharsets.UTF_8);
        assertThat(written).isEqualTo("{\"stage\":\"result\",\"at\":\"2023-11-14T22:13:20.000Z\"}");
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static JsonNode golden() {
        Path file = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("../host/test/golden/dead-letter-context.json").normalize();
        try {
            return new ObjectMapper().readTree(Files.readString(file));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read " + file, e);
        }
    }
}
