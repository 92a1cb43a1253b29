package dev.flinkfn.runtime.sidecar;

import java.util.ArrayDeque;

/**
 * The last lines of a stream (the sidecar's stderr), bounded in lines and line length, so an error message can quote
 * why the sidecar failed without keeping everything a chatty function ever printed. Thread-safe: a drain thread
 * appends while the operator's thread reads.
 */
final class LineTail {

    private final int maxLines;
    private final int maxLineLength;
    private final ArrayDeque<String> lines;

    LineTail(int maxLines, int maxLineLength) {
        if (maxLines <= 0 || maxLineLength <= 0) {
            throw new IllegalArgumentException("maxLines and maxLineLength must be positive");
        }
        this.maxLines = maxLines;
        this.maxLineLength = maxLineLength;
        this.lines = new ArrayDeque<>(maxLines);
    }

    synchronized void add(String line) {
        if (lines.size() == maxLines) {
            lines.removeFirst();
        }
        lines.addLast(line.length() <= maxLineLength ? line : line.substring(0, maxLineLength) + " …");
    }

    /** The retained lines joined by newlines; empty if there were none. */
    synchronized String text() {
        return String.join("\n", lines);
    }

    synchronized boolean isEmpty() {
        return lines.isEmpty();
    }
}
