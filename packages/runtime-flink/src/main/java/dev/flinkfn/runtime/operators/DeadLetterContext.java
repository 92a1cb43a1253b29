package dev.flinkfn.runtime.operators;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Adds what only the job knows to a dead letter the host made: where its record was read ({@code source}: topic,
 * partition, offset, record timestamp) and when the dead letter was written ({@code at}, ISO 8601 in UTC with
 * milliseconds, as JavaScript's {@code toISOString}). The fields are the host's {@code DeadLetter.source} and
 * {@code DeadLetter.at} (packages/host/src/host.ts); both sides test against
 * {@code packages/host/test/golden/dead-letter-context.json}.
 *
 * <p>The host's JSON is extended as text, never parsed (the JVM does not parse user values): its closing brace is
 * replaced by the new members. Topic names need no escaping (Kafka allows only letters, digits, '.', '_' and '-').
 */
public final class DeadLetterContext {

    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private DeadLetterContext() {}

    /** The dead letter of a record read from Kafka, with its source and the time. */
    public static byte[] withSource(byte[] deadLetter, SourceRecord record, long nowMillis) {
        if (!record.hasSource()) {
            return withTime(deadLetter, nowMillis);
        }
        return append(deadLetter, ",\"source\":{\"topic\":\"" + record.topic + "\",\"partition\":" + record.partition
                + ",\"offset\":" + record.offset + ",\"timestamp\":" + record.timestamp + "},\"at\":\""
                + ISO_MILLIS.format(Instant.ofEpochMilli(nowMillis)) + "\"}");
    }

    /** A dead letter of no single record (a window's) with the time. */
    public static byte[] withTime(byte[] deadLetter, long nowMillis) {
        return append(deadLetter, ",\"at\":\"" + ISO_MILLIS.format(Instant.ofEpochMilli(nowMillis)) + "\"}");
    }

    private static byte[] append(byte[] deadLetter, String membersAndBrace) {
        int last = deadLetter.length - 1;
        // Not a JSON object with members: leave it as the host made it rather than write something unreadable.
        if (last < 1 || deadLetter[last] != '}' || deadLetter[last - 1] == '{') {
            return deadLetter;
        }
        byte[] tail = membersAndBrace.getBytes(StandardCharsets.UTF_8);
        byte[] extended = new byte[last + tail.length];
        System.arraycopy(deadLetter, 0, extended, 0, last);
        System.arraycopy(tail, 0, extended, last, tail.length);
        return extended;
    }
}
