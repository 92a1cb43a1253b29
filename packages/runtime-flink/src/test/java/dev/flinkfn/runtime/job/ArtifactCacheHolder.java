package dev.flinkfn.runtime.job;

import dev.flinkfn.runtime.artifact.Artifact;
import java.nio.file.Path;

/**
 * Stands in for a TaskManager in {@link ArtifactCacheTest}: a separate JVM that holds an artifact in a cache, prints
 * the file's path and waits to be killed. Arguments: cache root, artifact file.
 */
public final class ArtifactCacheHolder {
    public static void main(String[] args) throws Exception {
        ArtifactCache cache = new ArtifactCache(Path.of(args[0]));
        ArtifactCache.Lease lease = cache.acquire(Artifact.read(args[1], null));
        System.out.println("HOLDING " + lease.file());
        System.out.flush();
        Thread.sleep(600_000);
    }
}
