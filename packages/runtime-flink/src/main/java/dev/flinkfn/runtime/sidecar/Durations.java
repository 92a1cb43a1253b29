package dev.flinkfn.runtime.sidecar;

import java.time.Duration;

/** Formats timeouts for error messages the way people write them ("60 s", "500 ms"), not ISO-8601 ("PT1M"). */
final class Durations {

    private Durations() {}

    static String format(Duration duration) {
        long millis = duration.toMillis();
        return millis % 1000 == 0 ? (millis / 1000) + " s" : millis + " ms";
    }
}
