package dev.flinkfn.runtime.operators;

import java.io.Serializable;
import org.apache.flink.streaming.api.windowing.windows.TimeWindow;

/**
 * The slices of sliding event-time windows (the idea of Flink SQL's slicing windows, FLIP-145): time is cut into panes
 * of gcd(size, slide), aligned with the windows' offset, so that every window is a whole number of consecutive slices
 * and every element lies in exactly one slice. An accumulator per slice and key replaces one per window and key; a
 * window's accumulator is the merge of its slices'.
 */
public final class SlidingSlices implements Serializable {

    private static final long serialVersionUID = 1L;

    private final long size;
    private final long slide;
    private final long offset;
    private final long sliceSize;

    public SlidingSlices(long size, long slide, long offset) {
        if (size <= 0 || slide <= 0 || Math.abs(offset) >= slide) {
            throw new IllegalArgumentException("sliding windows need 0 < size, 0 < slide and |offset| < slide");
        }
        this.size = size;
        this.slide = slide;
        this.offset = offset;
        this.sliceSize = gcd(size, slide);
    }

    public long sliceSize() {
        return sliceSize;
    }

    /** The slice an element with this timestamp belongs to. */
    public TimeWindow sliceOf(long timestamp) {
        long start = TimeWindow.getWindowStartWithOffset(timestamp, offset, sliceSize);
        return new TimeWindow(start, start + sliceSize);
    }

    /**
     * The end of the earliest window that contains the slice: windows containing it end every {@code slide}, from this
     * to {@link #lastWindowEnd}. Greater than that when no window contains the slice (a gap when size < slide).
     */
    public long firstWindowEnd(TimeWindow slice) {
        long lastEnd = lastWindowEnd(slice);
        return lastEnd - Math.floorDiv(lastEnd - slice.getEnd(), slide) * slide;
    }

    /** The end of the latest window that contains the slice. */
    public long lastWindowEnd(TimeWindow slice) {
        return TimeWindow.getWindowStartWithOffset(slice.getStart(), offset, slide) + size;
    }

    /** The window that ends at {@code end}. */
    public TimeWindow windowEndingAt(long end) {
        return new TimeWindow(end - size, end);
    }

    /** The window after this one. */
    public TimeWindow next(TimeWindow window) {
        return new TimeWindow(window.getStart() + slide, window.getEnd() + slide);
    }

    public long slide() {
        return slide;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
