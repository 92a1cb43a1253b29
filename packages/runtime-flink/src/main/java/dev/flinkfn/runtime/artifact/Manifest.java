package dev.flinkfn.runtime.artifact;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.io.Serializable;
import java.util.List;

/**
 * The function manifest written by {@code flinkfn build} (schema: packages/sdk/schema/manifest.schema.json).
 * Parsed strictly: an unknown property is an error, as in the schema. Durations are milliseconds.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record Manifest(
        int manifestVersion,
        int protocolVersion,
        String sdkVersion,
        String name,
        Source source,
        List<Sink> sinks,
        SideOutputs sideOutputs,
        boolean handle,
        Window window,
        Integer parallelism,
        List<Resource> resources,
        Bundle bundle,
        Lifetime lifetime,
        Async async,
        List<Setting> settings)
        implements Serializable {

    /** A manifest from before settings: {@code settings} absent, which means none. */
    public Manifest(int manifestVersion, int protocolVersion, String sdkVersion, String name, Source source,
            List<Sink> sinks, SideOutputs sideOutputs, boolean handle, Window window, Integer parallelism,
            List<Resource> resources, Bundle bundle, Lifetime lifetime, Async async) {
        this(manifestVersion, protocolVersion, sdkVersion, name, source, sinks, sideOutputs, handle, window,
                parallelism, resources, bundle, lifetime, async, null);
    }

    /** A manifest from before async handlers: {@code async} absent, which means the defaults. */
    public Manifest(int manifestVersion, int protocolVersion, String sdkVersion, String name, Source source,
            List<Sink> sinks, SideOutputs sideOutputs, boolean handle, Window window, Integer parallelism,
            List<Resource> resources, Bundle bundle, Lifetime lifetime) {
        this(manifestVersion, protocolVersion, sdkVersion, name, source, sinks, sideOutputs, handle, window,
                parallelism, resources, bundle, lifetime, null, null);
    }

    /** A manifest without deployment time limits. */
    public Manifest(int manifestVersion, int protocolVersion, String sdkVersion, String name, Source source,
            List<Sink> sinks, SideOutputs sideOutputs, boolean handle, Window window, Integer parallelism,
            List<Resource> resources, Bundle bundle) {
        this(manifestVersion, protocolVersion, sdkVersion, name, source, sinks, sideOutputs, handle, window,
                parallelism, resources, bundle, null, null, null);
    }

    /** How {@code handle} runs when it returns a Promise; {@link Async#DEFAULTS} when the manifest has none. */
    public Async asyncOrDefaults() {
        return async != null ? async : Async.DEFAULTS;
    }

    /**
     * The topic the function reads. {@code create} (null: must exist) is the deployer's business; {@code until}
     * {@code "latest"} makes the job bounded: it finishes at the offsets the partitions had when it started.
     */
    public record Source(String topic, String format, String startFrom, Create create, String until)
            implements Serializable {

        /** An unbounded source that must exist. */
        public Source(String topic, String format, String startFrom) {
            this(topic, format, startFrom, null, null);
        }

        public boolean isBounded() {
            return "latest".equals(until);
        }
    }

    /**
     * A declared setting: name, whether it is a secret, the default of a plain one (null: required). The values reach
     * the sidecar through {@code FunctionSettings}; the sidecar checks them against this list.
     */
    public record Setting(
            String name,
            boolean secret,
            @com.fasterxml.jackson.annotation.JsonProperty("default") String defaultValue,
            String description)
            implements Serializable {}

    /** Partitions of a source topic the deployer may create. */
    public record Create(int partitions) implements Serializable {}

    /** Deployment time limits, enforced by the flinkfn controller (null: none). */
    public record Lifetime(Long ttlMs, Long idleTimeoutMs) implements Serializable {}

    /**
     * Async {@code handle}: events in flight per subtask, the timeout of one event (attempts and backoffs included),
     * whether results keep input order, and retries ({@code null}: none). The defaults are the SDK's
     * {@code ASYNC_DEFAULTS} (a test compares them).
     */
    public record Async(int capacity, long timeoutMs, boolean ordered, Retry retry) implements Serializable {
        public static final Async DEFAULTS = new Async(100, 30_000, true, null);
    }

    /** Retries of errors marked retryable: backoff doubling from {@code backoffMs} up to {@code maxBackoffMs}. */
    public record Retry(int retries, long backoffMs, long maxBackoffMs) implements Serializable {}

    /** A named output topic. */
    public record Sink(String name, String topic, String lifecycle, int partitions) implements Serializable {}

    /** A topic the function creates for a side output. */
    public record Topic(String topic, String lifecycle, int partitions) implements Serializable {}

    /** Late-data ({@code null} when not declared) and dead-letter topics. */
    public record SideOutputs(Topic late, Topic deadLetter) implements Serializable {}

    /** The windowed part: assigner, time characteristic, lateness, and how results are computed. */
    public record Window(Assigner assigner, Time time, long allowedLatenessMs, String function, boolean merges)
            implements Serializable {

        public boolean isEventTime() {
            return "event".equals(time.kind());
        }

        public boolean isProcessFunction() {
            return "process".equals(function);
        }
    }

    /** {@code tumbling} (size, offset), {@code sliding} (size, slide, offset) or {@code session} (gap). */
    public record Assigner(String kind, Long sizeMs, Long slideMs, Long offsetMs, Long gapMs) implements Serializable {}

    /** {@code event} (out-of-orderness, idle timeout or null) or {@code processing}. */
    public record Time(String kind, Long outOfOrdernessMs, Long idleTimeoutMs) implements Serializable {}

    /** A resource a deployment touches. */
    public record Resource(String kind, String name, String role, boolean owned, String lifecycle)
            implements Serializable {}

    /** The bundled code's hash and size. */
    public record Bundle(String format, String sha256, long bytes, String entry) implements Serializable {}
}
