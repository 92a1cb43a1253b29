package dev.flinkfn.runtime.job;

import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.sidecar.SidecarClient;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import java.nio.file.Path;

/**
 * Opens the sidecar of one operator instance: fetches and verifies the artifact on the TaskManager (the same checks
 * as at submission, so a file swapped in between is refused), writes it where the sidecar can read it, then starts
 * or connects to the sidecar. One sidecar process per subtask, so parallelism spreads user code over event loops.
 */
public final class ArtifactSidecarFactory implements SidecarClientFactory {
    private static final long serialVersionUID = 1L;

    private final String artifactLocation;
    private final String artifactId;
    private final SidecarConfig config;

    public ArtifactSidecarFactory(String artifactLocation, String artifactId, SidecarConfig config) {
        this.artifactLocation = checkNotNull(artifactLocation);
        this.artifactId = checkNotNull(artifactId);
        this.config = checkNotNull(config);
    }

    @Override
    public SidecarClient create() throws Exception {
        Artifact artifact = Artifact.read(artifactLocation, artifactId);
        Path file = artifact.writeTo(Path.of(System.getProperty("java.io.tmpdir"), "flinkfn-artifacts"));
        return Sidecars.open(config, file, artifact.id());
    }
}
