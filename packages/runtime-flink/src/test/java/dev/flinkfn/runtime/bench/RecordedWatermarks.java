package dev.flinkfn.runtime.bench;

import java.time.Duration;
import java.util.Arrays;
import org.apache.flink.api.common.eventtime.SerializableTimestampAssigner;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Flink's bounded out-of-orderness watermarks (periodic, {@code maxTimestamp − outOfOrderness − 1}, the same
 * arithmetic as {@code BoundedOutOfOrdernessWatermarks}) that also note when each new watermark was emitted
 * ({@link System#nanoTime()}), so the latency benchmark can measure from the watermark that closes a window to the
 * window's results in the sink. Process-wide (one job at a time, generator parallelism 1; the MiniCluster runs in
 * this JVM).
 */
final class RecordedWatermarks {

    private static final Object LOCK = new Object();
    private static long[] values = new long[1024];
    private static long[] emittedNanos = new long[1024];
    private static int count;

    private RecordedWatermarks() {}

    static void reset() {
        synchronized (LOCK) {
            count = 0;
        }
    }

    static <T> WatermarkStrategy<T> strategy(Duration outOfOrderness, SerializableTimestampAssigner<T> timestamps) {
        long ooo = outOfOrderness.toMillis();
        return WatermarkStrategy.<T>forGenerator(context -> new Generator<>(ooo)).withTimestampAssigner(timestamps);
    }

    /** {@link System#nanoTime()} at the emission of the first watermark {@code >= value}, or -1 if there was none. */
    static long emittedAt(long value) {
        synchronized (LOCK) {
            int i = Arrays.binarySearch(values, 0, count, value);
            if (i < 0) {
                i = -i - 1;
            }
            return i < count ? emittedNanos[i] : -1;
        }
    }

    private static void record(long value, long nanos) {
        synchronized (LOCK) {
            if (count > 0 && values[count - 1] >= value) {
                return;
            }
            if (count == values.length) {
                values = Arrays.copyOf(values, count * 2);
                emittedNanos = Arrays.copyOf(emittedNanos, count * 2);
            }
            values[count] = value;
            emittedNanos[count] = nanos;
            count++;
        }
    }

    static final class Generator<T> implements WatermarkGenerator<T> {
        private final long outOfOrdernessMs;
        private long maxTimestamp;
        private long lastEmitted = Long.MIN_VALUE;

        Generator(long outOfOrdernessMs) {
            this.outOfOrdernessMs = outOfOrdernessMs;
            this.maxTimestamp = Long.MIN_VALUE + outOfOrdernessMs + 1;
        }

        @Override
        public void onEvent(T event, long eventTimestamp, WatermarkOutput output) {
            maxTimestamp = Math.max(maxTimestamp, eventTimestamp);
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            long watermark = maxTimestamp - outOfOrdernessMs - 1;
            if (watermark > lastEmitted) {
                // noted before it leaves: downstream operators may act on it before emitWatermark returns
                lastEmitted = watermark;
                record(watermark, System.nanoTime());
            }
            output.emitWatermark(new Watermark(watermark));
        }
    }
}
