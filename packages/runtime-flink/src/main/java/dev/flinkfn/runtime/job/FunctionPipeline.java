package dev.flinkfn.runtime.job;

import dev.flinkfn.runtime.artifact.Manifest;
import dev.flinkfn.runtime.operators.BundleOptions;
import dev.flinkfn.runtime.operators.JsStageOperator;
import dev.flinkfn.runtime.operators.JsWindowOperator;
import dev.flinkfn.runtime.operators.PartitionWatermarkOperator;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.operators.SlidingSlices;
import dev.flinkfn.runtime.operators.SourceRecord;
import dev.flinkfn.runtime.operators.StageRecord;
import dev.flinkfn.runtime.operators.Tags;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.windowing.assigners.EventTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.ProcessingTimeSessionWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.SlidingProcessingTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingEventTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.TumblingProcessingTimeWindows;
import org.apache.flink.streaming.api.windowing.assigners.WindowAssigner;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * Builds a function's pipeline from its manifest, between a stream of raw source records and the streams that go to
 * its sinks: JS stage → (windowed: event-time watermarks → keyBy → window operator). Sources and sinks are plugged
 * in by the caller, so the job reads Kafka and the tests replay conformance cases through the same pipeline.
 */
public final class FunctionPipeline {

    /** What the function produces: sink records (by index), late events, dead letters. */
    public record Streams(DataStream<StageRecord> results, DataStream<byte[]> late, DataStream<byte[]> deadLetters) {}

    private FunctionPipeline() {}

    /**
     * @param records source records with their partitions and partition-assignment markers
     * @param watermarks how event-time watermarks are generated for the window stage; {@link #partitionWatermarks}
     *     in the job
     */
    public static Streams build(
            DataStream<SourceRecord> records,
            Manifest manifest,
            SidecarClientFactory sidecar,
            BundleOptions bundles,
            UnaryOperator<DataStream<StageRecord>> watermarks) {
        Manifest.Window window = manifest.window();
        boolean eventTime = window != null && window.isEventTime();
        Manifest.Async async = manifest.asyncOrDefaults();
        SingleOutputStreamOperator<StageRecord> staged = records
                .transform("js: handle " + manifest.name(), TypeInformation.of(StageRecord.class),
                        new JsStageOperator(sidecar, stageBundles(manifest, bundles), eventTime, async.ordered()))
                .uid("flinkfn-js-stage");
        DataStream<byte[]> stageDeadLetters = staged.getSideOutput(Tags.DEAD_LETTERS);
        if (window == null) {
            return new Streams(staged, null, stageDeadLetters);
        }
        DataStream<StageRecord> elements = eventTime ? watermarks.apply(staged) : staged;
        SingleOutputStreamOperator<StageRecord> windowed = elements
                .keyBy(record -> record.key, Types.STRING)
                .transform("js: window " + manifest.name(), TypeInformation.of(StageRecord.class),
                        new JsWindowOperator(
                                assigner(window),
                                window.allowedLatenessMs(),
                                window.isProcessFunction(),
                                manifest.sideOutputs().late() != null,
                                slices(window),
                                sidecar,
                                bundles.forWindows()))
                .uid("flinkfn-js-window");
        return new Streams(
                windowed,
                manifest.sideOutputs().late() != null ? windowed.getSideOutput(Tags.LATE) : null,
                stageDeadLetters.union(windowed.getSideOutput(Tags.DEAD_LETTERS)));
    }

    /** The stage's bundle options: {@link BundleOptions#forAsync} when there is a handle that may be async. */
    public static BundleOptions stageBundles(Manifest manifest, BundleOptions bundles) {
        if (!manifest.handle()) {
            return bundles;
        }
        Manifest.Async async = manifest.asyncOrDefaults();
        return bundles.forAsync(async.capacity(), async.timeoutMs());
    }

    /**
     * Bounded out-of-orderness watermarks per source partition, with idleness when the manifest declares it, chained to
     * the stage at the source's parallelism (see {@link PartitionWatermarkOperator}).
     *
     * @param eager emit after every element (conformance replays) instead of on Flink's periodic schedule (the job)
     */
    public static UnaryOperator<DataStream<StageRecord>> partitionWatermarks(Manifest.Window window, boolean eager) {
        long bound = nonNull(window.time().outOfOrdernessMs());
        long idleTimeout = nonNull(window.time().idleTimeoutMs());
        return stream -> stream
                .transform("watermarks per partition", TypeInformation.of(StageRecord.class),
                        new PartitionWatermarkOperator(bound, idleTimeout, eager))
                .uid("flinkfn-watermarks");
    }

    /**
     * The slices for state per slice instead of per window ({@link JsWindowOperator}): sliding event-time windows whose
     * accumulator merges; null for every other window (tumbling and session windows, processing time, {@code process},
     * an accumulator without {@code merge}), which keeps state per window. The rule's home is packages/sdk/src/slices.ts
     * (the sidecar reads it too); both sides test against packages/sdk/test/golden/sliced-windows.json.
     */
    public static SlidingSlices slices(Manifest.Window window) {
        Manifest.Assigner a = window.assigner();
        if (!"sliding".equals(a.kind()) || !window.isEventTime() || window.isProcessFunction() || !window.merges()) {
            return null;
        }
        return new SlidingSlices(a.sizeMs(), a.slideMs(), nonNull(a.offsetMs()));
    }

    /** Flink's own assigner for the manifest's window. */
    public static WindowAssigner<?, TimeWindow> assigner(Manifest.Window window) {
        Manifest.Assigner a = window.assigner();
        boolean eventTime = window.isEventTime();
        Duration offset = Duration.ofMillis(nonNull(a.offsetMs()));
        return switch (a.kind()) {
            case "tumbling" -> eventTime
                    ? TumblingEventTimeWindows.of(Duration.ofMillis(a.sizeMs()), offset)
                    : TumblingProcessingTimeWindows.of(Duration.ofMillis(a.sizeMs()), offset);
            case "sliding" -> eventTime
                    ? SlidingEventTimeWindows.of(Duration.ofMillis(a.sizeMs()), Duration.ofMillis(a.slideMs()), offset)
                    : SlidingProcessingTimeWindows.of(Duration.ofMillis(a.sizeMs()), Duration.ofMillis(a.slideMs()), offset);
            case "session" -> eventTime
                    ? EventTimeSessionWindows.withGap(Duration.ofMillis(a.gapMs()))
                    : ProcessingTimeSessionWindows.withGap(Duration.ofMillis(a.gapMs()));
            default -> throw new IllegalArgumentException("unknown window kind " + a.kind());
        };
    }

    private static long nonNull(Long value) {
        return value == null ? 0 : value;
    }
}
