package dev.flinkfn.runtime.operators;

import dev.flinkfn.runtime.sidecar.SidecarClient;
import java.io.Serializable;

/** Creates an operator's sidecar client in {@code open()}; tests pass a fake, the job a real sidecar. */
@FunctionalInterface
public interface SidecarClientFactory extends Serializable {
    SidecarClient create() throws Exception;
}
