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

    public static final BundleOptions DEFAULTS =
            new BundleOptions(1_000, Duration.ofMillis(5), 4, Duration.ofSeconds(60));

    public BundleOptions {
        checkArgument(maxSize > 0, "maxSize must be positive");
        checkArgument(!maxTime.isNegative() && !maxTime.isZero(), "maxTime must be positive");
        checkArgument(maxInFlight > 0, "maxInFlight must be positive");
        checkArgument(!requestTimeout.isNegative() && !requestTimeout.isZero(), "requestTimeout must be positive");
    }
}
