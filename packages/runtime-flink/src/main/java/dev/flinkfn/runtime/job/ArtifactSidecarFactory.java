package dev.flinkfn.runtime.job;

import static org.apache.flink.util.Preconditions.checkNotNull;

import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.operators.SidecarClientFactory;
import dev.flinkfn.runtime.sidecar.HandlerLogLine;
import dev.flinkfn.runtime.sidecar.SidecarClient;
import dev.flinkfn.runtime.sidecar.SidecarConfig;
import dev.flinkfn.runtime.sidecar.Sidecars;
import java.util.Map;

/**
 * Opens the sidecar of one operator instance: fetches and verifies the artifact on the TaskManager (the same checks
 * as at submission, so a file swapped in between is refused), writes it where the sidecar can read it, then starts
 * or connects to the sidecar, giving it the function's settings ({@link FunctionSettings}). One sidecar process per subtask, so parallelism spreads user code over event loops.
 *
 * <p>The file is held in the TaskManager's {@link ArtifactCache} for as long as the client is open, and deleted when
 * the last operator instance on the TaskManager that uses it closes its client.
 */
public final class ArtifactSidecarFactory implements SidecarClientFactory {
    private static final long serialVersionUID = 1L;

    private final String artifactLocation;
    private final String artifactId;
    private final SidecarConfig config;
    private final FunctionSettings settings;

    public ArtifactSidecarFactory(String artifactLocation, String artifactId, SidecarConfig config) {
        this(artifactLocation, artifactId, config, FunctionSettings.none());
    }

    public ArtifactSidecarFactory(String artifactLocation, String artifactId, SidecarConfig config,
            FunctionSettings settings) {
        this.artifactLocation = checkNotNull(artifactLocation);
        this.artifactId = checkNotNull(artifactId);
        this.config = checkNotNull(config);
        this.settings = checkNotNull(settings);
    }

    @Override
    public SidecarClient create() throws Exception {
        return open(null);
    }

    /** The sidecar's handler log lines name the job and the artifact's function. */
    @Override
    public SidecarClient create(String jobId) throws Exception {
        return open(jobId);
    }

    private SidecarClient open(String jobId) throws Exception {
        Artifact artifact = Artifact.read(artifactLocation, artifactId);
        // Read here, on the TaskManager at open(), and handed to the sidecar in HELLO: never part of the job graph.
        Map<String, String> values = settings.read();
        if (config.mode() == SidecarConfig.Mode.EXTERNAL) {
            return Sidecars.open(config, null, artifact.id(), values); // started with its own copy of the artifact
        }
        HandlerLogLine.Attribution attribution =
                jobId == null ? null : new HandlerLogLine.Attribution(jobId, artifact.manifest().name());
        ArtifactCache.Lease lease = ArtifactCache.shared().acquire(artifact);
        try {
            return new LeasedSidecarClient(
                    Sidecars.open(config, lease.file(), artifact.id(), values, attribution), lease);
        } catch (Exception | Error e) {
            lease.close();
            throw e;
        }
    }
}
