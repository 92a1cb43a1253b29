package dev.flinkfn.runtime.job;

import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.flinkfn.runtime.sidecar.SidecarClient;
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

/** A sidecar client that holds its artifact file while it is open: closing it closes the client, then the lease. */
final class LeasedSidecarClient implements SidecarClient {

    private final SidecarClient client;
    private final ArtifactCache.Lease lease;

    LeasedSidecarClient(SidecarClient client, ArtifactCache.Lease lease) {
        this.client = checkNotNull(client, "client");
        this.lease = checkNotNull(lease, "lease");
    }

    @Override
    public CompletableFuture<List<List<Output>>> process(List<byte[]> records) {
        return client.process(records);
    }

    @Override
    public CompletableFuture<List<AggregateResult>> aggregate(List<AggregateGroup> groups) {
        return client.aggregate(groups);
    }

    @Override
    public CompletableFuture<List<List<byte[]>>> combine(List<CombineGroup> groups) {
        return client.combine(groups);
    }

    @Override
    public CompletableFuture<List<AggregateResult>> take(List<Integer> slots) {
        return client.take(slots);
    }

    @Override
    public CompletableFuture<List<MergeResult>> merge(List<MergeRequest> merges) {
        return client.merge(merges);
    }

    @Override
    public CompletableFuture<List<List<Output>>> fire(List<FireRequest> fires) {
        return client.fire(fires);
    }

    @Override
    public void setMetricsListener(Consumer<List<MetricUpdate>> listener) {
        client.setMetricsListener(listener);
    }

    @Override
    public void answerInAnyOrder() {
        client.answerInAnyOrder();
    }

    /** The sidecar stops first, so the file is not deleted under a process that still runs. */
    @Override
    public void close() {
        try {
            client.close();
        } finally {
            lease.close();
        }
    }
}
