package dev.flinkfn.runtime.operators;

import static org.apache.flink.util.Preconditions.checkArgument;

import java.io.Serializable;
import java.time.Duration;

/**
 * When a bundle of elements is sent to the sidecar: at {@code maxSize} elements, after {@code maxTime} (a few
 * milliseconds, not PyFlink's second), at a checkpoint barrier, on a watermark and at end of input. Up to
 * {@code maxInFlight} bundles of the stateless stage may be in flight at once, so the JVM and Node work in parallel.
 */
public record BundleOptions(int maxSize, Duration maxTime, int maxInFlight, Duration requestTimeout)
        implements Serializable {

    /**
     * 250 elements or 1 ms, measured (bench/LatencyBenchmark, stateless map at 90k records/s on 2 cores): 1,000/5 ms
     * gave a p99 of 21 ms, 500/1 ms 11 ms, 250/1 ms 8.4 ms, with throughput no lower (bench/ThroughputBenchmark).
     */
    public static final BundleOptions DEFAULTS =
            new BundleOptions(250, Duration.ofMillis(1), 4, Duration.ofSeconds(60));

    /**
     * The window operator's batches: at least 1,000 elements or 5 ms. Its AGGREGATE requests are synchronous (state
     * is read and written around them), so batch size decides its throughput (measured: 250/1 ms halved the sliding
     * average's), while the latency of a window result is set by the watermark, not by the batch.
     */
    public BundleOptions forWindows() {
        return new BundleOptions(Math.max(maxSize, 1_000), maxTime.compareTo(Duration.ofMillis(5)) < 0 ? Duration.ofMillis(5) : maxTime,
                maxInFlight, requestTimeout);
    }

    /**
     * The stage's options for a function whose {@code handle} may be async, sized by its {@code capacity} the way
     * Flink's AsyncWaitOperator bounds its queue: bundles of a quarter of the capacity (at most {@code maxSize}), and
     * as many in flight as fill the capacity plus one bundle, so every slot stays busy while a finished bundle's
     * answer travels back, yet no more than about {@code capacity} records wait in the sidecar. With 250-record bundles
     * 4 in flight held 1,000 records behind 100 slots: a record waited for 900 others, and the benchmark's p50 latency
     * was 538 ms against Java's 65 ms. The request timeout allows for every record of the bundles in flight waiting
     * its turn for a slot and then running for up to the async timeout (the sidecar ends each record by then, with a
     * dead letter if need be, so a longer wait still means a stuck sidecar).
     */
    public BundleOptions forAsync(int capacity, long timeoutMs) {
        int size = Math.max(1, Math.min(maxSize, (capacity + 3) / 4));
        int inFlight = (capacity + size - 1) / size + 1;
        long rounds = ((long) inFlight * size + capacity - 1) / capacity + 1;
        return new BundleOptions(size, maxTime, inFlight, requestTimeout.plusMillis(rounds * timeoutMs));
    }

    public BundleOptions {
        checkArgument(maxSize > 0, "maxSize must be positive");
        checkArgument(!maxTime.isNegative() && !maxTime.isZero(), "maxTime must be positive");
        checkArgument(maxInFlight > 0, "maxInFlight must be positive");
        checkArgument(!requestTimeout.isNegative() && !requestTimeout.isZero(), "requestTimeout must be positive");
    }
}
