package dev.flinkfn.runtime.operators;

import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.operators.ProcessingTimeService.ProcessingTimeCallback;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;

/**
 * What the flinkfn operators share: a sidecar client opened with the operator and closed with it, bounded waits for
 * its answers (a sidecar that stops answering fails the task), and the timer that enforces the bundle time bound.
 */
abstract class AbstractSidecarOperator<IN> extends AbstractStreamOperator<StageRecord>
        implements OneInputStreamOperator<IN, StageRecord>, ProcessingTimeCallback {

    private static final long serialVersionUID = 1L;

    // --- configuration -----------------------------------------------------------------------------------------

    protected final SidecarClientFactory clientFactory;
    protected final BundleOptions bundleOptions;

    // --- runtime -----------------------------------------------------------------------------------------------

    protected transient SidecarClient client;
    private transient boolean timerRegistered;

    AbstractSidecarOperator(SidecarClientFactory clientFactory, BundleOptions bundleOptions) {
        this.clientFactory = checkNotNull(clientFactory);
        this.bundleOptions = checkNotNull(bundleOptions);
    }

    @Override
    public void open() throws Exception {
        super.open();
        client = createClient();
        client.setMetricsListener(new HandlerMetrics(getMetricGroup()));
    }

    /** Overridable so operator tests can run without a Node process. */
    protected SidecarClient createClient() throws Exception {
        return clientFactory.create(getContainingTask().getEnvironment().getJobID().toHexString());
    }

    @Override
    public void close() throws Exception {
        try {
            if (client != null) {
                client.close();
            }
        } finally {
            client = null;
            super.close();
        }
    }

    /**
     * Runs {@link #onBundleTimer} when what started waiting at {@code since} has waited one bundle time bound, unless a
     * timer is already scheduled. That earlier timer may belong to a bundle sent meanwhile: {@link #onBundleTimer}
     * then schedules again from the waiting bundle's start, so no bundle waits longer than the bound.
     */
    protected final void scheduleBundleTimer(long since) {
        if (timerRegistered) {
            return;
        }
        timerRegistered = true;
        long now = getProcessingTimeService().getCurrentProcessingTime();
        getProcessingTimeService().registerTimer(Math.max(now, since + Math.max(1, bundleOptions.maxTime().toMillis())), this);
    }

    @Override
    public final void onProcessingTime(long time) throws Exception {
        timerRegistered = false;
        onBundleTimer(time);
    }

    /** The bundle time bound passed: send what has waited long enough. */
    protected abstract void onBundleTimer(long time) throws Exception;

    protected final <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(bundleOptions.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new TimeoutException("the sidecar did not answer within " + bundleOptions.requestTimeout()
                    + "; failing the task so that Flink restarts it from the last checkpoint");
        }
    }
}
