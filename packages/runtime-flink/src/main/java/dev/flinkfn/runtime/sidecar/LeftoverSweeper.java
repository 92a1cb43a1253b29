package dev.flinkfn.runtime.sidecar;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes folders that their owner left behind: the sweep rule of {@code packages/sidecar/src/owner.ts}. A child
 * {@code <parent>/<prefix>*} that is a real directory (links are never followed) goes, with everything in it, when
 * its {@link OwnerMarker} names a dead process, or when it has no readable marker and was last modified more than
 * {@link #MARKERLESS_GRACE} ago. A folder whose owner is alive is never touched. Nothing here throws: what cannot be
 * read or removed now is left for the next sweep.
 */
public final class LeftoverSweeper {

    private static final Logger LOG = LoggerFactory.getLogger(LeftoverSweeper.class);

    /** A folder without a marker younger than this may be one whose marker is being written. */
    public static final Duration MARKERLESS_GRACE = Duration.ofMinutes(10);

    private LeftoverSweeper() {}

    /** Sweeps {@code parent} now; returns the folders removed. */
    public static List<Path> sweep(Path parent, String prefix) {
        return sweep(parent, prefix, Instant.now());
    }

    static List<Path> sweep(Path parent, String prefix, Instant now) {
        List<Path> removed = new ArrayList<>();
        try (DirectoryStream<Path> children = Files.newDirectoryStream(parent, prefix + "*")) {
            for (Path folder : children) {
                if (isAbandoned(folder, now) && deleteRecursively(folder)) {
                    removed.add(folder);
                }
            }
        } catch (IOException e) {
            LOG.debug("Cannot list {} for leftovers", parent, e);
        }
        if (!removed.isEmpty()) {
            LOG.info("Removed {} folder(s) whose owner is gone: {}", removed.size(), removed);
        }
        return removed;
    }

    private static boolean isAbandoned(Path folder, Instant now) {
        try {
            BasicFileAttributes attributes =
                    Files.readAttributes(folder, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attributes.isDirectory()) {
                return false;
            }
            Optional<OwnerMarker> owner = OwnerMarker.readFrom(folder);
            return owner.isPresent()
                    ? !owner.get().isAlive()
                    : attributes.lastModifiedTime().toInstant().plus(MARKERLESS_GRACE).isBefore(now);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Deletes a folder and everything in it without following links (a link is removed, not its target); false when
     * something could not be removed (another sweeper removing the same entries at once is not a failure).
     */
    public static boolean deleteRecursively(Path folder) {
        try {
            Files.walkFileTree(folder, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) {
                        return FileVisitResult.CONTINUE;
                    }
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path directory, IOException e) throws IOException {
                    if (e != null && !(e instanceof NoSuchFileException)) {
                        throw e;
                    }
                    Files.deleteIfExists(directory);
                    return FileVisitResult.CONTINUE;
                }
            });
            return true;
        } catch (NoSuchFileException e) {
            return true;
        } catch (IOException e) {
            LOG.debug("Cannot remove {}", folder, e);
            return false;
        }
    }
}
