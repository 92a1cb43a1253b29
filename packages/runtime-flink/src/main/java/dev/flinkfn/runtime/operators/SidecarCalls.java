package dev.flinkfn.runtime.operators;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waiting for the sidecar from an operator: bounded, so a sidecar that stops answering fails the task. */
final class SidecarCalls {

    private SidecarCalls() {}

    static <T> T await(CompletableFuture<T> future, Duration timeout) throws Exception {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new TimeoutException("the sidecar did not answer within " + timeout
                    + "; failing the task so that Flink restarts it from the last checkpoint");
        }
    }
}
