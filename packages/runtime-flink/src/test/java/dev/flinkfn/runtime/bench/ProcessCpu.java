package dev.flinkfn.runtime.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of this JVM and of the child processes it has reaped (its sidecars, once they exited), from
 * {@code /proc/self/stat}: what a variant costs in CPU, which a loaded machine changes far less than its wall-clock
 * throughput. Linux only; elsewhere {@link #millis()} is -1.
 */
final class ProcessCpu {

    /** USER_HZ: the unit of /proc's CPU fields, 100 on every Linux architecture the JDK runs on. */
    private static final long TICKS_PER_SECOND = 100;

    private ProcessCpu() {}

    /** utime + stime + cutime + cstime of this process, in milliseconds; -1 without /proc. */
    static long millis() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = 0;
            for (int field = 14; field <= 17; field++) {
                ticks += Long.parseLong(fields[field - 3]);
            }
            return ticks * 1000 / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
