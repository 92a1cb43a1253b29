package dev.flinkfn.runtime.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The sweep rule of packages/sidecar/src/owner.ts, with real owner processes killed with SIGKILL. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class LeftoverSweeperTest {

    private static final String PREFIX = "flinkfn-sidecar-";

    @Test
    void removesTheFoldersOfKilledOwnersAndOldUnmarkedOnesAndKeepsLiveYoungAndForeignOnes(@TempDir Path parent)
            throws Exception {
        Process live = new ProcessBuilder("sleep", "600").start();
        Process doomed = new ProcessBuilder("sleep", "600").start();
        try {
            OwnerMarker liveOwner = OwnerMarker.of(live.pid());
            OwnerMarker doomedOwner = OwnerMarker.of(doomed.pid());
            Path liveFolder = folder(parent, PREFIX + "live", liveOwner);
            Path killedFolder = folder(parent, PREFIX + "killed", doomedOwner);
            Path reusedPid = folder(parent, PREFIX + "reused",
                    new OwnerMarker(liveOwner.pid(), liveOwner.startTicks() + 1, liveOwner.bootId()));
            Path young = folder(parent, PREFIX + "young", null);
            Path old = folder(parent, PREFIX + "old", null);
            Files.setLastModifiedTime(old, FileTime.from(
                    Instant.now().minus(LeftoverSweeper.MARKERLESS_GRACE).minus(Duration.ofMinutes(1))));
            Path foreign = folder(parent, "something-else", doomedOwner);
            Path target = folder(parent, "target", doomedOwner);
            Files.createSymbolicLink(parent.resolve(PREFIX + "link"), target);
            Files.writeString(parent.resolve(PREFIX + "file"), "a file, not a folder");
            OwnerMarkerTest.kill9(doomed);

            assertThat(LeftoverSweeper.sweep(parent, PREFIX)).containsExactlyInAnyOrder(killedFolder, reusedPid, old);

            assertThat(killedFolder).doesNotExist();
            assertThat(reusedPid).doesNotExist();
            assertThat(old).doesNotExist();
            assertThat(liveFolder.resolve("sidecar.sock")).exists();
            assertThat(young).exists();
            assertThat(foreign).exists();
            assertThat(target.resolve(OwnerMarker.FILE)).as("a link is not followed").exists();
            assertThat(parent.resolve(PREFIX + "file")).exists();
            assertThat(LeftoverSweeper.sweep(parent, PREFIX)).as("a second sweep finds nothing more").isEmpty();
            assertThat(LeftoverSweeper.sweep(parent.resolve("missing"), PREFIX)).isEmpty();
        } finally {
            live.destroyForcibly();
            doomed.destroyForcibly();
        }
    }

    private static Path folder(Path parent, String name, OwnerMarker owner) throws Exception {
        Path folder = Files.createDirectory(parent.resolve(name));
        if (owner != null) {
            owner.writeTo(folder);
        }
        Files.createDirectories(folder.resolve("modules"));
        Files.writeString(folder.resolve("modules/bundle.mjs"), "export default 1;");
        Files.writeString(folder.resolve("sidecar.sock"), "stands in for the socket");
        return folder;
    }
}
