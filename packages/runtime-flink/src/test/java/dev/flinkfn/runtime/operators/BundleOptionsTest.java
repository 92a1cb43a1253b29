package dev.flinkfn.runtime.operators;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Bundles of an async stage are sized by the function's capacity (BundleOptions#forAsync). */
class BundleOptionsTest {

    @Test
    void asyncBundlesKeepEverySlotBusyWithAboutCapacityRecordsInTheSidecar() {
        for (int capacity : new int[] {1, 2, 3, 7, 8, 100, 999, 1_000, 5_000}) {
            BundleOptions async = BundleOptions.DEFAULTS.forAsync(capacity, 30_000);
            long held = (long) async.maxSize() * async.maxInFlight();
            assertTrue(held >= capacity + async.maxSize(), "capacity " + capacity + ": every slot busy with a bundle to spare, held " + held);
            assertTrue(held <= capacity + 2L * async.maxSize(), "capacity " + capacity + ": at most about capacity records wait, held " + held);
            assertTrue(async.maxSize() <= BundleOptions.DEFAULTS.maxSize(), "capacity " + capacity + ": no bundle larger than the default");
        }
        BundleOptions hundred = BundleOptions.DEFAULTS.forAsync(100, 30_000);
        assertEquals(25, hundred.maxSize());
        assertEquals(5, hundred.maxInFlight());
        assertEquals(1, BundleOptions.DEFAULTS.forAsync(1, 30_000).maxSize());
    }

    @Test
    void asyncRequestTimeoutAllowsEveryHeldRecordToWaitForASlotAndRunItsTimeout() {
        BundleOptions async = BundleOptions.DEFAULTS.forAsync(100, 30_000);
        // 125 records held for 100 slots: two rounds of the async timeout, plus one, on top of the default.
        assertEquals(BundleOptions.DEFAULTS.requestTimeout().plus(Duration.ofMillis(3 * 30_000)), async.requestTimeout());
    }
}
