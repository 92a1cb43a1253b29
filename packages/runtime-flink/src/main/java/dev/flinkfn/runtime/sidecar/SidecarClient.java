package dev.flinkfn.runtime.sidecar;

import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateGroup;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.AggregateResult;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.CombineGroup;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.FireRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeRequest;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MergeResult;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.MetricUpdate;
import dev.flinkfn.runtime.sidecar.SidecarProtocol.Output;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * An operator's connection to the sidecar that runs its function's JavaScript. Every call sends one request (one
 * bundle) right away and returns a future for its answer, so an operator can keep several bundles in flight and only
 * wait at a checkpoint or when too many are outstanding. Answers arrive in the order the requests were sent.
 *
 * <p>A future fails with a {@link SidecarException} when the sidecar could not handle the request, crashed, closed
 * the connection or did not answer in time; after a connection failure every later call fails at once, because the
 * operator has to fail its task and restore from a checkpoint anyway. Futures may be completed on the client's
 * reader thread: do not block in callbacks chained onto them.
 */
public interface SidecarClient extends AutoCloseable {

    /** Runs the function's per-record stage on source records; one list of outputs per record, in order. */
    CompletableFuture<List<List<Output>>> process(List<byte[]> records);

    /** Adds events to window accumulators; one result per group, in order. */
    CompletableFuture<List<AggregateResult>> aggregate(List<AggregateGroup> groups);

    /**
     * Adds events to accumulators that the sidecar keeps in numbered slots for this connection; one list of dead
     * letters per group, in order.
     */
    CompletableFuture<List<List<byte[]>>> combine(List<CombineGroup> groups);

    /** Takes back the accumulators the sidecar keeps in these slots, and frees them; one result per slot, in order. */
    CompletableFuture<List<AggregateResult>> take(List<Integer> slots);

    /** Merges the accumulators of session windows; one result per merge, in order. */
    CompletableFuture<List<MergeResult>> merge(List<MergeRequest> merges);

    /** Fires windows; one list of outputs per window, in order. */
    CompletableFuture<List<List<Output>>> fire(List<FireRequest> fires);

    /**
     * Where the metrics user code records (METRICS frames) go; called on the client's reader thread before the
     * future of the request they belong to completes. Without a listener they are dropped.
     */
    default void setMetricsListener(Consumer<List<MetricUpdate>> listener) {}

    /**
     * The sidecar may answer PROCESS requests in any order (a function with unordered async results): pair answers by
     * id. Called before the first request; without it an answer out of order breaks the connection.
     */
    default void answerInAnyOrder() {}

    /** Fails what is still pending, closes the connection and stops a sidecar process this client started. */
    @Override
    void close();
}
