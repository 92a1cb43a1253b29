package dev.flinkfn.runtime.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.flinkfn.runtime.artifact.Artifact;
import dev.flinkfn.runtime.sidecar.OwnerMarker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The artifact files on a TaskManager: counted per operator instance within a JVM, kept apart between JVMs, and swept
 * after a TaskManager JVM is killed with SIGKILL (real child JVMs stand in for TaskManagers).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ArtifactCacheTest {

    private static Path firstFile;
    private static Artifact first;
    private static Artifact second;

    @BeforeAll
    static void findBuiltArtifacts() throws Exception {
        Path repo = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("../..").normalize();
        Path cases = repo.resolve("packages/conformance/.flinkfn/cases");
        if (!Files.isDirectory(cases.resolve("001-tumbling-basic/.flinkfn/artifacts"))
                || !Files.isDirectory(cases.resolve("022-handle-throws-dead-letter/.flinkfn/artifacts"))) {
            Process build = new ProcessBuilder("node", "packages/conformance/dist/build-cases.js")
                    .directory(repo.toFile()).inheritIO().start();
            assertThat(build.waitFor()).isZero();
        }
        firstFile = newest(cases.resolve("001-tumbling-basic/.flinkfn/artifacts"));
        first = Artifact.read(firstFile.toString(), null);
        second = Artifact.read(newest(cases.resolve("022-handle-throws-dead-letter/.flinkfn/artifacts")).toString(), null);
    }

    @Test
    void theFileStaysWhileOneUserHoldsItAndGoesWithTheLastOne(@TempDir Path root) throws Exception {
        ArtifactCache cache = new ArtifactCache(root);
        ArtifactCache.Lease one = cache.acquire(first);
        ArtifactCache.Lease two = cache.acquire(first);
        ArtifactCache.Lease other = cache.acquire(second);
        assertThat(two.file()).isEqualTo(one.file());
        assertThat(Files.readAllBytes(one.file())).isEqualTo(first.bytes());
        Path folder = one.file().getParent();
        assertThat(folder.getParent()).isEqualTo(root);
        assertThat(OwnerMarker.readFrom(folder)).contains(OwnerMarker.current());

        one.close();
        one.close(); // a second close of the same lease is not another user leaving
        assertThat(cache.users(first.id())).isEqualTo(1);
        assertThat(two.file()).exists();

        two.close();
        assertThat(two.file()).doesNotExist();
        assertThat(other.file()).as("another artifact's users are counted apart").exists();

        other.close();
        assertThat(folder).as("the folder and its marker go with the last file").doesNotExist();
        assertThat(listing(root)).isEmpty();

        ArtifactCache.Lease again = cache.acquire(first);
        assertThat(Files.readAllBytes(again.file())).isEqualTo(first.bytes());
        again.close();
        assertThat(listing(root)).isEmpty();
    }

    @Test
    void aFolderRemovedUnderTheCacheIsRestoredByTheNextOpen(@TempDir Path root) throws Exception {
        ArtifactCache cache = new ArtifactCache(root);
        ArtifactCache.Lease held = cache.acquire(first);
        Path folder = held.file().getParent();
        dev.flinkfn.runtime.sidecar.LeftoverSweeper.deleteRecursively(folder); // a tmp cleaner
        try (ArtifactCache.Lease next = cache.acquire(first)) {
            assertThat(next.file()).isEqualTo(held.file());
            assertThat(Files.readAllBytes(next.file())).isEqualTo(first.bytes());
            assertThat(OwnerMarker.readFrom(folder)).contains(OwnerMarker.current());
        }
        held.close();
        assertThat(listing(root)).isEmpty();
    }

    @Test
    void concurrentOpensOfOneArtifactShareOneCompleteFile(@TempDir Path root) throws Exception {
        ArtifactCache cache = new ArtifactCache(root);
        int subtasks = 8;
        ExecutorService pool = Executors.newFixedThreadPool(subtasks);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<ArtifactCache.Lease>> opened = new ArrayList<>();
            for (int i = 0; i < subtasks; i++) {
                Callable<ArtifactCache.Lease> open = () -> {
                    start.await();
                    return cache.acquire(first);
                };
                opened.add(pool.submit(open));
            }
            start.countDown();
            List<ArtifactCache.Lease> leases = new ArrayList<>();
            for (Future<ArtifactCache.Lease> lease : opened) {
                leases.add(lease.get(30, TimeUnit.SECONDS));
            }
            assertThat(leases).extracting(ArtifactCache.Lease::file).containsOnly(leases.get(0).file());
            assertThat(cache.users(first.id())).isEqualTo(subtasks);
            assertThat(Files.readAllBytes(leases.get(0).file())).isEqualTo(first.bytes());

            List<Future<?>> closed = new ArrayList<>();
            for (ArtifactCache.Lease lease : leases.subList(1, subtasks)) {
                closed.add(pool.submit(lease::close));
            }
            for (Future<?> close : closed) {
                close.get(30, TimeUnit.SECONDS);
            }
            assertThat(leases.get(0).file()).exists();
            leases.get(0).close();
            assertThat(listing(root)).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void twoCachesOnOneRootNeverDeleteEachOthersFiles(@TempDir Path root) throws Exception {
        // Two TaskManagers on one host, or two job class loaders in one TaskManager.
        ArtifactCache a = new ArtifactCache(root);
        ArtifactCache b = new ArtifactCache(root);
        ArtifactCache.Lease inA = a.acquire(first);
        ArtifactCache.Lease inB = b.acquire(first);
        assertThat(inA.file()).isNotEqualTo(inB.file());
        inA.close();
        assertThat(inB.file()).exists();
        assertThat(Files.readAllBytes(inB.file())).isEqualTo(first.bytes());
        inB.close();
        assertThat(listing(root)).isEmpty();
    }

    @Test
    void whatASigkilledTaskManagerLeftIsSweptAndALiveOnesFilesAreKept(@TempDir Path root) throws Exception {
        Process killed = holder(root);
        Process live = holder(root);
        try {
            Path killedFile = holding(killed);
            Path liveFile = holding(live);
            assertThat(killedFile.getParent()).isNotEqualTo(liveFile.getParent());
            kill9(killed);
            assertThat(killedFile).as("SIGKILL leaves the files").exists();

            // A file of a runtime from before owner folders, old and young.
            Path oldLegacy = Files.write(root.resolve(first.id() + ".flinkfn"), first.bytes());
            Files.setLastModifiedTime(oldLegacy, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
            Path youngLegacy = Files.write(root.resolve(second.id() + ".flinkfn"), second.bytes());

            ArtifactCache cache = new ArtifactCache(root);
            try (ArtifactCache.Lease lease = cache.acquire(second)) {
                assertThat(killedFile.getParent()).as("the killed TaskManager's folder is swept").doesNotExist();
                assertThat(oldLegacy).doesNotExist();
                assertThat(youngLegacy).exists();
                assertThat(Files.readAllBytes(liveFile)).as("the live TaskManager's file is kept").isEqualTo(first.bytes());
                assertThat(lease.file()).exists();
            }
            assertThat(liveFile).exists();
        } finally {
            killed.destroyForcibly();
            live.destroyForcibly();
        }
    }

    @Test
    void theFactorysClientsHoldTheArtifactWhileOpenAndTheLastCloseDeletesIt() throws Exception {
        Path sidecar = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("../sidecar/bin/flinkfn-sidecar.js").normalize();
        ArtifactSidecarFactory factory = new ArtifactSidecarFactory(firstFile.toString(), first.id(),
                dev.flinkfn.runtime.sidecar.SidecarConfig.process(List.of("node", sidecar.toString())));
        ArtifactCache shared = ArtifactCache.shared();
        assertThat(shared.users(first.id())).as("no other test holds it").isZero();
        dev.flinkfn.runtime.sidecar.SidecarClient one = factory.create();
        dev.flinkfn.runtime.sidecar.SidecarClient two = factory.create();
        try {
            assertThat(shared.users(first.id())).isEqualTo(2);
            Path file = cachedFile(first.id());
            assertThat(Files.readAllBytes(file)).isEqualTo(first.bytes());
            one.close();
            assertThat(shared.users(first.id())).isEqualTo(1);
            assertThat(file).exists();
            assertThat(two.process(List.of("{\"id\":1,\"key\":\"a\",\"ts\":1}".getBytes(StandardCharsets.UTF_8)))
                    .get(30, TimeUnit.SECONDS)).hasSize(1);
            two.close();
            assertThat(shared.users(first.id())).isZero();
            assertThat(file).doesNotExist();
            assertThat(file.getParent()).doesNotExist();
        } finally {
            one.close();
            two.close();
        }
    }

    /** The file of this JVM's shared cache that holds {@code id}. */
    private static Path cachedFile(String id) throws Exception {
        Path root = Path.of(System.getProperty("java.io.tmpdir"), "flinkfn-artifacts");
        String ours = ArtifactCache.FOLDER_PREFIX + ProcessHandle.current().pid() + "-";
        try (Stream<Path> folders = Files.list(root)) {
            return folders.filter(f -> f.getFileName().toString().startsWith(ours))
                    .map(f -> f.resolve(id + ".flinkfn"))
                    .filter(Files::exists)
                    .findFirst().orElseThrow(() -> new AssertionError("no cached file of " + id + " in " + root));
        }
    }

    private static Process holder(Path root) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                ArtifactCacheHolder.class.getName(), root.toString(), firstFile.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
    }

    private static Path holding(Process holder) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null) {
            if (line.startsWith("HOLDING ")) {
                return Path.of(line.substring("HOLDING ".length()));
            }
        }
        throw new AssertionError("the holder JVM ended without holding the artifact (exit " + holder.waitFor() + ")");
    }

    private static void kill9(Process process) throws Exception {
        assertThat(new ProcessBuilder("kill", "-9", Long.toString(process.pid())).inheritIO().start().waitFor()).isZero();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    private static Path newest(Path directory) throws Exception {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.toString().endsWith(".flinkfn"))
                    .max((x, y) -> Long.compare(x.toFile().lastModified(), y.toFile().lastModified())).orElseThrow();
        }
    }

    private static List<Path> listing(Path root) throws Exception {
        try (Stream<Path> entries = Files.list(root)) {
            return entries.toList();
        }
    }
}
