package dev.flinkfn.runtime.operators;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.io.Serializable;

/** Creates an operator's sidecar client in {@code open()}; tests pass a fake, the job a real sidecar. */
@FunctionalInterface
public interface SidecarClientFactory extends Serializable {
    SidecarClient create() throws Exception;

    /**
     * The client of an operator of job {@code jobId} (32 hex digits), so that the sidecar's handler log lines can name
     * the job; by default the same as {@link #create()}.
     */
    default SidecarClient create(String jobId) throws Exception {
        return create();
    }
}
