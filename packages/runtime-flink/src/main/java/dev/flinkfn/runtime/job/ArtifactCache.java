package dev.flinkfn.runtime.job;

import static org.apache.flink.util.Preconditions.checkNotNull;
import static org.apache.flink.util.Preconditions.checkState;

import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.sidecar.LeftoverSweeper;
import dev.flinkfn.runtime.sidecar.OwnerMarker;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The artifact files on a TaskManager that its sidecars read, counted by the operator instances that use them.
 *
 * <p>Each cache writes into its own folder {@code <root>/tm-<pid>-*}, marked with the TaskManager process as its
 * {@link OwnerMarker}, so several TaskManagers on one host (and several job class loaders in one TaskManager, each
 * with its own cache) never share a file. {@link #acquire} writes an artifact on its first use and counts the users;
 * closing the last {@link Lease} deletes the file, and the folder with its marker when it holds nothing more. What a
 * SIGKILLed TaskManager left is swept when a cache creates its folder: folders whose owner is dead, and files in the
 * root itself (written by runtimes before these folders) older than {@link LeftoverSweeper#MARKERLESS_GRACE}.
 */
public final class ArtifactCache {

    private static final Logger LOG = LoggerFactory.getLogger(ArtifactCache.class);

    static final String FOLDER_PREFIX = "tm-";
    private static final String EXTENSION = ".flinkfn";

    private static ArtifactCache shared;

    private final Path root;
    /** Users per artifact id; guarded by this. */
    private final Map<String, Integer> users = new HashMap<>();
    /** This cache's folder while it holds an artifact, else null; guarded by this. */
    private Path folder;

    public ArtifactCache(Path root) {
        this.root = checkNotNull(root, "root").toAbsolutePath();
    }

    /** The cache of this class loader in {@code java.io.tmpdir/flinkfn-artifacts}. */
    public static synchronized ArtifactCache shared() {
        if (shared == null) {
            shared = new ArtifactCache(Path.of(System.getProperty("java.io.tmpdir"), "flinkfn-artifacts"));
        }
        return shared;
    }

    /** Writes the artifact for one more user (unless it is there already) and returns the user's lease on it. */
    public synchronized Lease acquire(Artifact artifact) throws IOException {
        checkNotNull(artifact, "artifact");
        if (folder == null) {
            sweep();
            folder = createOwnFolder();
        } else if (OwnerMarker.readFrom(folder).isEmpty()) {
            // something (a tmp cleaner) removed the folder under us: restore it rather than fail every restart
            Files.createDirectories(folder);
            OwnerMarker.current().writeTo(folder);
        }
        Path file;
        try {
            file = artifact.writeTo(folder); // writes nothing when the file is there already
        } catch (IOException | RuntimeException e) {
            releaseFolderIfUnused();
            throw e;
        }
        users.merge(artifact.id(), 1, Integer::sum);
        return new Lease(artifact.id(), file);
    }

    /** How many leases on {@code artifactId} are open. */
    synchronized int users(String artifactId) {
        return users.getOrDefault(artifactId, 0);
    }

    private synchronized void release(String artifactId, Path file) {
        int left = users.merge(artifactId, -1, Integer::sum);
        checkState(left >= 0, "artifact %s released more often than acquired", artifactId);
        if (left > 0) {
            return;
        }
        users.remove(artifactId);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.warn("Cannot delete the artifact file {}; it is swept after this TaskManager ends", file, e);
        }
        releaseFolderIfUnused();
    }

    private void releaseFolderIfUnused() {
        if (users.isEmpty() && folder != null) {
            LeftoverSweeper.deleteRecursively(folder);
            folder = null;
        }
    }

    private Path createOwnFolder() throws IOException {
        Files.createDirectories(root);
        OwnerMarker owner = OwnerMarker.current();
        Path created = Files.createTempDirectory(root, FOLDER_PREFIX + owner.pid() + "-");
        try {
            owner.writeTo(created);
        } catch (IOException e) {
            LeftoverSweeper.deleteRecursively(created);
            throw e;
        }
        return created;
    }

    /** Removes what dead TaskManagers left: their folders, and old files of runtimes from before owner folders. */
    private void sweep() {
        LeftoverSweeper.sweep(root, FOLDER_PREFIX);
        Instant before = Instant.now().minus(LeftoverSweeper.MARKERLESS_GRACE);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(root, "*.{flinkfn,tmp}")) {
            for (Path file : files) {
                BasicFileAttributes attributes =
                        Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (attributes.isRegularFile() && attributes.lastModifiedTime().toInstant().isBefore(before)) {
                    Files.deleteIfExists(file);
                    LOG.info("Removed the artifact file {} left by an earlier runtime", file);
                }
            }
        } catch (IOException e) {
            LOG.debug("Cannot sweep old artifact files in {}", root, e);
        }
    }

    /** One user's hold on an artifact file; closing it (once or more) gives the hold up. */
    public final class Lease implements AutoCloseable {
        private final String artifactId;
        private final Path file;
        private final AtomicBoolean closed = new AtomicBoolean();

        private Lease(String artifactId, Path file) {
            this.artifactId = artifactId;
            this.file = file;
        }

        /** The artifact's local file, for the sidecar. */
        public Path file() {
            return file;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                release(artifactId, file);
            }
        }
    }
}
